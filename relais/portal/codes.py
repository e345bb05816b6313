"""One-time login codes: made, kept as keyed digests, and sent by SMS or e-mail.

A code exists in clear only in the message that carries it. A record is first reserved
(under the account's sending limit), then the code is drawn, its digest stored, and the
message sent: for a login, all three by a task given the account's id, the channel and the
visitor to journal, never the code, so that no code ever waits in the task queue.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from relais.notifications.sms import SmsError, send_sms
from relais.portal.models import CodeChannel, CodePurpose, LoginCode, PersonAccount

logger = logging.getLogger(__name__)

# How the journal names the person's space.
ACCOUNT_OBJECT_TYPE = "espace personnel"

SENDING_FAILED = "Le message n'a pas pu partir. Réessayez dans quelques minutes."


def digest(purpose: str, *parts: str) -> str:
    return salted_hmac(f"relais.portal.{purpose}", ":".join(parts), algorithm="sha256").hexdigest()


def _sending_allowed(account: PersonAccount) -> bool:
    now = timezone.now()
    times = list(
        account.codes.filter(created_at__gte=now - timedelta(days=1)).values_list(
            "created_at", flat=True
        )
    )
    last_quarter = [t for t in times if t >= now - timedelta(minutes=15)]
    return (
        len(times) < settings.RELAIS_PORTAL_CODES_PER_DAY
        and len(last_quarter) < settings.RELAIS_PORTAL_CODES_PER_15_MIN
    )


def code_reserve(
    account: PersonAccount, *, purpose: str, channel: str, validity: timedelta
) -> LoginCode | None:
    """A code record, not yet drawn nor sent; None when the account's sending limit is
    reached. Called inside a transaction: locking the account serialises two sendings for
    it, so that the limit holds."""
    PersonAccount.objects.select_for_update().filter(pk=account.pk).first()
    if not _sending_allowed(account):
        return None
    now = timezone.now()
    return LoginCode.objects.create(
        account=account,
        purpose=purpose,
        channel=channel,
        digest="",
        created_at=now,
        expires_at=now + validity,
    )


def login_code_message(code: str) -> str:
    minutes = int(settings.RELAIS_PORTAL_CODE_VALIDITY.total_seconds() // 60)
    return f"Votre code Relais : {code}. Il est valable {minutes} minutes. Ne le donnez à personne."


def invitation_message(code: str) -> str:
    # Only characters of the GSM alphabet ("ê" is not), and short enough to stay one SMS
    # of 160 characters with an address of up to 60.
    return (
        "Relais : votre espace est ouvert. Activez-le sur "
        f"{settings.RELAIS_PUBLIC_URL}{reverse('portal:activate')} avec le code {code}. "
        "Ne le donnez à personne."
    )


def _deliver(*, channel: str, to: str, body: str) -> None:
    try:
        if channel == CodeChannel.SMS:
            send_sms(to=to, body=body)
        else:
            send_mail("Votre code Relais", body, None, [to])
    except (SmsError, OSError) as error:
        logger.warning(
            "Envoi d'un code de l'espace personnel impossible : %s", type(error).__name__
        )
        raise ValidationError(SENDING_FAILED) from error


def code_send(login_code: LoginCode, *, to: str, message: Callable[[str], str]) -> None:
    """Draw the code, store its digest, send it. The message leaves outside any
    transaction: the database is not held while the provider answers (SQLite has a single
    writer). A message that cannot leave erases its record, so that it does not count
    against the sending limits; ValidationError(SENDING_FAILED) then."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    login_code.digest = digest(login_code.purpose, str(login_code.account_id), code)
    login_code.save(update_fields=["digest"])
    try:
        _deliver(channel=login_code.channel, to=to, body=message(code))
    except ValidationError:
        login_code.delete()
        raise


def login_code_deliver(*, account_id: int | None, channel: str, by: Actor) -> bool:
    """Reserve, journal, draw and send the login code the visitor `by` asked for on the
    login page, to the account's phone or address for `channel`; True when it left.
    Nothing is sent (the person asks again, or uses their card) when no account matched
    what was typed, when the space is closed, its file archived or its phone or address
    for the channel removed since, or when the account's sending limit is reached; the
    journal says a code was sent only when one was reserved. Reserved here rather than
    during the request, the code's validity runs from its sending, however long the task
    waited in the queue."""
    if account_id is None:
        return False
    with transaction.atomic():
        # Locked before its phone and address are read: a change made at the office
        # meanwhile is waited for, and the code goes to the new phone, not the old one.
        account = (
            PersonAccount.objects.login_allowed()
            .select_for_update(of=("self",))
            .select_related("person")
            .filter(pk=account_id)
            .first()
        )
        if account is None:
            return False
        to = account.phone if channel == CodeChannel.SMS else account.email
        if not to:
            return False
        login_code = code_reserve(
            account,
            purpose=CodePurpose.LOGIN,
            channel=channel,
            validity=settings.RELAIS_PORTAL_CODE_VALIDITY,
        )
        if login_code is None:
            return False
        audit_record(
            action=AuditAction.PERSON_LOGIN_CODE_SENT,
            by=by,
            person_id=account.person_id,
            person_label=account.person.journal_label,
            object_type=ACCOUNT_OBJECT_TYPE,
            object_id=account.pk,
            details={"channel": channel, "purpose": CodePurpose.LOGIN},
        )
    try:
        code_send(login_code, to=to, message=login_code_message)
    except ValidationError:
        return False
    return True


def purge_spent_codes() -> int:
    """Erase spent login codes (expired or used). They are kept one day, since the daily
    sending limit counts them; the journal keeps the trace."""
    now = timezone.now()
    deleted, _ = (
        LoginCode.objects.filter(created_at__lt=now - timedelta(days=1))
        .filter(Q(expires_at__lt=now) | Q(used_at__isnull=False))
        .delete()
    )
    return deleted
