"""Sending SMS through a small, swappable backend.

Bodies never carry personal data: a code, or "you have a new message". The backend is
chosen by RELAIS_SMS_BACKEND (a dotted path); production plugs a provider's HTTP API
(BrevoBackend).
"""

import http.client
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sms:
    to: str
    body: str


class SmsError(Exception):
    """The provider did not accept the message."""


class SmsBackend(Protocol):
    def send(self, message: Sms) -> None: ...


def masked(number: str) -> str:
    return f"…{number[-2:]}"


class ConsoleBackend:
    """Development: prints the message (the number is masked in the log)."""

    def send(self, message: Sms) -> None:
        logger.warning("SMS vers %s : %s", masked(message.to), message.body)


class FileBackend:
    """Development: appends each message to RELAIS_SMS_FILE (under var/), the number
    masked, so that codes can be read without a phone."""

    def send(self, message: Sms) -> None:
        path = Path(settings.RELAIS_SMS_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = timezone.localtime().isoformat(timespec="seconds")
        with path.open("a", encoding="utf-8") as log:
            log.write(f"{stamp} {masked(message.to)} {message.body}\n")


outbox: list[Sms] = []


class LocmemBackend:
    """Tests: keeps messages in `outbox`."""

    def send(self, message: Sms) -> None:
        outbox.append(message)


# Backends that send nothing to a phone: config.settings.prod refuses to start with them.
DEVELOPMENT_BACKENDS = (ConsoleBackend, FileBackend, LocmemBackend)


class BrevoBackend:
    """Brevo's transactional SMS API (RELAIS_SMS_API_URL, RELAIS_SMS_API_KEY,
    RELAIS_SMS_SENDER). The recipient is sent without the leading "+", as Brevo asks."""

    def send(self, message: Sms) -> None:
        if not settings.RELAIS_SMS_API_KEY:
            raise SmsError("RELAIS_SMS_API_KEY est vide : impossible d'envoyer des SMS.")
        payload = {
            "type": "transactional",
            "sender": settings.RELAIS_SMS_SENDER,
            "recipient": message.to.removeprefix("+"),
            "content": message.body,
        }
        request = urllib.request.Request(  # noqa: S310 (the URL is a setting, https in production)
            settings.RELAIS_SMS_API_URL,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "api-key": settings.RELAIS_SMS_API_KEY,
                "accept": "application/json",
                "content-type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.RELAIS_SMS_TIMEOUT
            ) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise SmsError(
                f"Le fournisseur de SMS a refusé l'envoi (HTTP {error.code})."
            ) from error
        except (OSError, http.client.HTTPException) as error:
            # Unreachable, too slow, or hanging up or answering garbage once connected
            # (urllib leaves the last two as http.client's own exceptions).
            raise SmsError(
                f"Le fournisseur de SMS ne répond pas ({type(error).__name__})."
            ) from error
        if not 200 <= status < 300:
            raise SmsError(f"Le fournisseur de SMS a refusé l'envoi (HTTP {status}).")


def send_sms(*, to: str, body: str) -> None:
    backend: SmsBackend = import_string(settings.RELAIS_SMS_BACKEND)()
    backend.send(Sms(to=to, body=body))
