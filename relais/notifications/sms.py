"""Sending SMS through a small, swappable backend.

Bodies never carry personal data: a code, or "you have a new message". The backend is
chosen by RELAIS_SMS_BACKEND (a dotted path); production plugs a provider's HTTP API.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sms:
    to: str
    body: str


class SmsBackend(Protocol):
    def send(self, message: Sms) -> None: ...


class ConsoleBackend:
    """Development: prints the message (the number is masked in the log)."""

    def send(self, message: Sms) -> None:
        logger.warning("SMS vers …%s : %s", message.to[-2:], message.body)


outbox: list[Sms] = []


class LocmemBackend:
    """Tests: keeps messages in `outbox`."""

    def send(self, message: Sms) -> None:
        outbox.append(message)


def send_sms(*, to: str, body: str) -> None:
    backend: SmsBackend = import_string(settings.RELAIS_SMS_BACKEND)()
    backend.send(Sms(to=to, body=body))
