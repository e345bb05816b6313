"""Writes on the person's account: opening, identifiers, codes, logins, restoring access.

Every secret (login code, card code, password) is stored as a keyed digest or a Django
password hash, never in clear. Login functions answer the same way whether or not an
account matches what was typed, so that the login pages tell nobody who has an account.
"""

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast

import phonenumbers
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    UserAttributeSimilarityValidator,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from relais.accounts import throttling
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from relais.notifications.sms import SmsError, send_sms
from relais.persons.models import Person
from relais.portal import throttling as sending
from relais.portal.models import (
    CodeChannel,
    CodePurpose,
    LoginCode,
    PersonAccount,
    RecoveryCode,
)

logger = logging.getLogger(__name__)

# No 0/O, 1/I/L: the card is read aloud and copied by hand.
CARD_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CARD_COMPACT = re.compile(r"^RL([0-9A-Z]{4})([0-9A-Z]{4})$")
_RECOVERY_DIGITS = 8
_OBJECT_TYPE = "espace personnel"

# The persons' own rule for passwords. The professionals' zxcvbn score of 3 refuses
# almost every password a person with little reading or digital practice can remember
# and type on a phone; for them a long enough, uncommon password, unrelated to their
# name, is the realistic bar, and the login throttling guards against guessing.
_PASSWORD_VALIDATORS: list[Any] = [
    MinimumLengthValidator(min_length=8),
    CommonPasswordValidator(),
    UserAttributeSimilarityValidator(
        # The normalised keys catch a name typed without its accents.
        user_attributes=(
            "first_names",
            "birth_name",
            "usage_name",
            "first_names_key",
            "birth_name_key",
            "usage_name_key",
            "email",
        )
    ),
]

LOGIN_REFUSED = _("Ce que vous avez tapé ne marche pas. Vérifiez et essayez encore.")
LOGIN_LOCKED = _(
    "Trop d'essais. Attendez 15 minutes. Vous pouvez aussi demander de l'aide "
    "à la personne qui vous accompagne."
)
SENDING_LIMITED = _(
    "Trop de codes ont été demandés. Attendez 15 minutes avant de redemander un code. "
    "Vous pouvez aussi utiliser votre carte Relais."
)
SENDING_FAILED = _("Le message n'a pas pu partir. Réessayez dans quelques minutes.")


class LoginRefused(ValidationError):
    """The login did not succeed; the message is safe to show (it reveals no account)."""


@dataclass(frozen=True)
class Identifier:
    kind: Literal["phone", "email", "card"]
    value: str


@dataclass(frozen=True)
class CardLogin:
    account: PersonAccount
    codes_left: int


def _digest(purpose: str, *parts: str) -> str:
    return salted_hmac(f"relais.portal.{purpose}", ":".join(parts), algorithm="sha256").hexdigest()


def normalise_phone(value: str) -> str:
    """A mobile number in E.164 form (French numbers may be typed without +33)."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException as error:
        raise ValidationError("Ce numéro de téléphone n'est pas valide.") from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Ce numéro de téléphone n'est pas valide.")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            "Ce numéro n'est pas un numéro de portable : il ne reçoit pas de SMS."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_card_identifier(value: str) -> str | None:
    compact = re.sub(r"[^0-9A-Za-z]", "", value).upper()
    match = _CARD_COMPACT.match(compact)
    return f"RL-{match[1]}-{match[2]}" if match else None


def parse_identifier(value: str) -> Identifier | None:
    """What a person typed to say who they are: phone, e-mail or card identifier."""
    value = value.strip()
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError:
            return None
        return Identifier("email", value.lower())
    card = normalise_card_identifier(value)
    if card is not None:
        return Identifier("card", card)
    try:
        return Identifier("phone", normalise_phone(value))
    except ValidationError:
        return None


def account_for(identifier: Identifier) -> PersonAccount | None:
    field = {"phone": "phone", "email": "email", "card": "card_identifier"}[identifier.kind]
    return (
        PersonAccount.objects.active()
        .select_related("person")
        .filter(**{field: identifier.value})
        .first()
    )


def validate_person_password(password: str, person: Person) -> None:
    # The validators read the attributes they are given; a Person has them.
    validate_password(password, user=cast(Any, person), password_validators=_PASSWORD_VALIDATORS)


def _new_card_identifier() -> str:
    while True:
        chars = "".join(secrets.choice(CARD_ALPHABET) for _ in range(8))
        identifier = f"RL-{chars[:4]}-{chars[4:]}"
        if not PersonAccount.objects.filter(card_identifier=identifier).exists():
            return identifier


def format_recovery_code(code: str) -> str:
    return f"{code[:4]} {code[4:]}"


def _new_recovery_codes(account: PersonAccount) -> list[str]:
    """Replace the card's codes; return the new ones, in clear, to be printed once."""
    account.recovery_codes.all().delete()
    codes = [
        f"{secrets.randbelow(10**_RECOVERY_DIGITS):0{_RECOVERY_DIGITS}d}"
        for _ in range(settings.RELAIS_PORTAL_RECOVERY_CODES)
    ]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(account=account, digest=_digest("recovery", str(account.pk), code))
        for code in codes
    )
    return [format_recovery_code(code) for code in codes]


def _record(
    action: AuditAction,
    *,
    account: PersonAccount,
    by: Actor,
    reason: str = "",
    details: dict[str, str | int | bool | None] | None = None,
) -> None:
    audit_record(
        action=action,
        by=by,
        person_id=account.person_id,
        person_label=account.person.journal_label,
        object_type=_OBJECT_TYPE,
        object_id=account.pk,
        reason=reason,
        details=details,
    )


def _check_identifiers_free(
    *, phone: str | None, email: str | None, account: PersonAccount | None
) -> None:
    others = PersonAccount.objects.all()
    if account is not None:
        others = others.exclude(pk=account.pk)
    errors: dict[str, str] = {}
    if phone and others.filter(phone=phone).exists():
        errors["phone"] = "Ce numéro est déjà celui d'un autre espace personnel."
    if email and others.filter(email=email).exists():
        errors["email"] = "Cette adresse est déjà celle d'un autre espace personnel."
    if errors:
        raise ValidationError(errors)


def person_account_open(
    *, person: Person, phone: str = "", email: str = "", password: str = "", by: Actor
) -> tuple[PersonAccount, list[str]]:
    """Open the person's space, with the person present. Returns the account and the
    card's recovery codes, in clear, to be printed once and never shown again."""
    phone_value = normalise_phone(phone) if phone else None
    email_value = email.strip().lower() or None
    if password:
        validate_person_password(password, person)
    with transaction.atomic():
        account = PersonAccount.objects.select_for_update().filter(person=person).first()
        if account is not None and account.is_active:
            raise ValidationError("Cette personne a déjà un espace personnel.")
        _check_identifiers_free(phone=phone_value, email=email_value, account=account)
        if account is None:
            account = PersonAccount(person=person)
        else:
            # Reopening a closed space: a new card, and no session of the old one survives.
            account.security_stamp += 1
            account.closed_at = None
        account.card_identifier = _new_card_identifier()
        account.phone = phone_value
        account.email = email_value
        account.password = make_password(password) if password else ""
        account.is_active = True
        account.opened_at = timezone.now()
        account.opened_by_label = f"{by.label} ({by.organisation_label})"[:200]
        account.full_clean()
        account.save()
        codes = _new_recovery_codes(account)
        _record(
            AuditAction.PERSON_ACCOUNT_OPENED,
            account=account,
            by=by,
            details={"phone": bool(phone_value), "email": bool(email_value)},
        )
        _record(AuditAction.PERSON_CARD_PRINTED, account=account, by=by)
        if password:
            _record(AuditAction.PERSON_PASSWORD_SET, account=account, by=by)
    return account, codes


def person_account_update(
    *, account: PersonAccount, phone: str = "", email: str = "", by: Actor
) -> PersonAccount:
    phone_value = normalise_phone(phone) if phone else None
    email_value = email.strip().lower() or None
    with transaction.atomic():
        account = (
            PersonAccount.objects.select_for_update().select_related("person").get(pk=account.pk)
        )
        if not account.is_active:
            raise ValidationError("Cet espace personnel est fermé.")
        _check_identifiers_free(phone=phone_value, email=email_value, account=account)
        changed = {
            "phone": account.phone != phone_value,
            "email": account.email != email_value,
        }
        if not any(changed.values()):
            return account
        account.phone = phone_value
        account.email = email_value
        account.full_clean()
        account.save(update_fields=["phone", "email"])
        # Codes already sent went to the old numbers: they stop working.
        account.codes.filter(used_at__isnull=True).update(used_at=timezone.now())
        _record(
            AuditAction.PERSON_ACCOUNT_UPDATED,
            account=account,
            by=by,
            details={f"{field}_changed": value for field, value in changed.items()},
        )
    return account


def person_account_close(*, account: PersonAccount, by: Actor) -> None:
    """Close the space: every session ends, the identifiers are freed, codes erased."""
    with transaction.atomic():
        account = (
            PersonAccount.objects.select_for_update().select_related("person").get(pk=account.pk)
        )
        if not account.is_active:
            raise ValidationError("Cet espace personnel est déjà fermé.")
        account.is_active = False
        account.closed_at = timezone.now()
        account.phone = None
        account.email = None
        account.password = ""
        account.security_stamp += 1
        account.full_clean()
        account.save()
        account.codes.all().delete()
        account.recovery_codes.all().delete()
        _record(AuditAction.PERSON_ACCOUNT_CLOSED, account=account, by=by)


IDENTITY_DOCUMENTS = {
    "cni": "Carte nationale d'identité",
    "passeport": "Passeport",
    "titre_sejour": "Titre de séjour",
    "recepisse": "Récépissé de demande de titre de séjour ou d'asile",
    "permis": "Permis de conduire",
    "autre": "Autre pièce avec photo",
}


def person_account_recover(
    *,
    account: PersonAccount,
    identity_checked: bool,
    identity_document: str,
    reason: str,
    new_card: bool,
    password: str = "",
    by: Actor,
) -> list[str]:
    """Restore access at the office, once the professional has checked the person's
    identity. Every other session of the person ends. Returns the new card codes (empty
    when only the password changes)."""
    if not identity_checked:
        raise ValidationError("Vérifiez d'abord l'identité de la personne, avec une pièce.")
    if identity_document not in IDENTITY_DOCUMENTS:
        raise ValidationError("Choisissez la pièce d'identité présentée.")
    if not reason.strip():
        raise ValidationError("Écrivez pourquoi l'accès est rétabli.")
    if not new_card and not password:
        raise ValidationError(
            "Choisissez une nouvelle carte, un nouveau mot de passe, ou les deux."
        )
    if password:
        validate_person_password(password, account.person)
    with transaction.atomic():
        account = (
            PersonAccount.objects.select_for_update().select_related("person").get(pk=account.pk)
        )
        if not account.is_active:
            raise ValidationError("Cet espace personnel est fermé : ouvrez-le à nouveau.")
        account.security_stamp = F("security_stamp") + 1
        update_fields = ["security_stamp"]
        if password:
            account.password = make_password(password)
            update_fields.append("password")
        account.save(update_fields=update_fields)
        account.refresh_from_db(fields=["security_stamp"])
        account.codes.filter(used_at__isnull=True).update(used_at=timezone.now())
        codes = _new_recovery_codes(account) if new_card else []
        _record(
            AuditAction.PERSON_ACCOUNT_RECOVERED,
            account=account,
            by=by,
            reason=reason.strip(),
            details={
                "identity_document": IDENTITY_DOCUMENTS[identity_document],
                "new_card": new_card,
                "new_password": bool(password),
            },
        )
        if new_card:
            _record(AuditAction.PERSON_CARD_PRINTED, account=account, by=by)
        if password:
            _record(AuditAction.PERSON_PASSWORD_SET, account=account, by=by)
    return codes


def person_password_set(*, account: PersonAccount, password: str, by: Actor) -> None:
    """The person chooses (or changes) their password from their own space."""
    validate_person_password(password, account.person)
    with transaction.atomic():
        account.password = make_password(password)
        account.save(update_fields=["password"])
        _record(AuditAction.PERSON_PASSWORD_SET, account=account, by=by)


def _sending_allowed(account: PersonAccount) -> bool:
    now = timezone.now()
    recent = account.codes.filter(created_at__gte=now - timedelta(days=1)).values_list(
        "created_at", flat=True
    )
    times = list(recent)
    last_quarter = [t for t in times if t >= now - timedelta(minutes=15)]
    return (
        len(times) < settings.RELAIS_PORTAL_CODES_PER_DAY
        and len(last_quarter) < settings.RELAIS_PORTAL_CODES_PER_15_MIN
    )


def _issue_code(
    account: PersonAccount,
    *,
    purpose: str,
    channel: str,
    to: str,
    validity: timedelta,
    message: Callable[[str], str],
    limit_error: ValidationError,
    by: Actor,
) -> None:
    """Create a code, send it, then journal the sending. The message goes out between two
    short transactions: the database is not held while the provider answers (SQLite has
    a single writer)."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        # Locking the account serialises two requests for it, so that the limit holds.
        PersonAccount.objects.select_for_update().filter(pk=account.pk).first()
        if not _sending_allowed(account):
            raise limit_error
        now = timezone.now()
        login_code = LoginCode.objects.create(
            account=account,
            purpose=purpose,
            channel=channel,
            digest=_digest(purpose, str(account.pk), code),
            created_at=now,
            expires_at=now + validity,
        )
    try:
        _deliver(channel=channel, to=to, body=message(code))
    except ValidationError:
        login_code.delete()
        raise
    with transaction.atomic():
        _record(
            AuditAction.PERSON_LOGIN_CODE_SENT,
            account=account,
            by=by,
            details={"channel": channel, "purpose": purpose},
        )


def login_code_message(code: str) -> str:
    minutes = int(settings.RELAIS_PORTAL_CODE_VALIDITY.total_seconds() // 60)
    return f"Votre code Relais : {code}. Il est valable {minutes} minutes. Ne le donnez à personne."


def invitation_message(code: str) -> str:
    # Only characters of the GSM alphabet ("ê" is not): the message stays in plain SMS.
    return (
        "Relais : votre espace personnel est ouvert. Pour l'activer, allez sur "
        f"{settings.RELAIS_PUBLIC_URL}{reverse('portal:activate')} et tapez le code {code}. "
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


def login_code_send(*, identifier: str, by: Actor) -> None:
    """Send a login code to the phone or e-mail address of the account the identifier
    names. Unknown identifiers get the same answer, and count the same way."""
    parsed = parse_identifier(identifier)
    if parsed is None:
        raise ValidationError(
            _("Tapez votre numéro de portable, votre adresse e-mail ou le numéro de votre carte.")
        )
    if not sending.code_request_allowed(identifier=parsed.value, ip_address=by.ip_address):
        raise ValidationError(SENDING_LIMITED)
    account = account_for(parsed)
    if account is None:
        return
    if parsed.kind == "email" or (parsed.kind == "card" and not account.phone):
        channel, to = CodeChannel.EMAIL, account.email
    else:
        channel, to = CodeChannel.SMS, account.phone
    if not to:
        return
    _issue_code(
        account,
        purpose=CodePurpose.LOGIN,
        channel=channel,
        to=to,
        validity=settings.RELAIS_PORTAL_CODE_VALIDITY,
        message=login_code_message,
        limit_error=ValidationError(SENDING_LIMITED),
        by=by,
    )


def person_invitation_send(*, account: PersonAccount, by: Actor) -> None:
    """The professional sends the person a code by SMS to finish opening the space
    themself, from their own phone."""
    account = PersonAccount.objects.select_related("person").get(pk=account.pk)
    if not account.is_active:
        raise ValidationError("Cet espace personnel est fermé.")
    if not account.phone:
        raise ValidationError("Enregistrez d'abord un numéro de portable pour cet espace.")
    _issue_code(
        account,
        purpose=CodePurpose.INVITATION,
        channel=CodeChannel.SMS,
        to=account.phone,
        validity=settings.RELAIS_PORTAL_INVITATION_VALIDITY,
        message=invitation_message,
        limit_error=ValidationError(
            "Trop de codes ont été envoyés à cette personne. Réessayez dans 15 minutes."
        ),
        by=by,
    )


def _throttle_key(value: str) -> str:
    # Kept apart from the professionals' counters, which are keyed by e-mail address.
    return f"personne:{value}"


def _refuse_if_locked(key: str, by: Actor) -> None:
    if throttling.is_locked(identifier=key, ip_address=by.ip_address):
        raise LoginRefused(LOGIN_LOCKED)


def _failed(*, key: str, account: PersonAccount | None, method: str, by: Actor) -> LoginRefused:
    """Count and record a failed attempt; return the error to raise."""
    if account is not None:
        _record(AuditAction.PERSON_LOGIN_FAILED, account=account, by=by, details={"method": method})
    else:
        audit_record(
            action=AuditAction.PERSON_LOGIN_FAILED,
            by=by,
            object_type=_OBJECT_TYPE,
            details={"method": method, "known": False},
        )
    locked = throttling.record_failure(identifier=key, ip_address=by.ip_address)
    return LoginRefused(LOGIN_LOCKED if locked else LOGIN_REFUSED)


def _succeeded(account: PersonAccount, *, method: str, by: Actor) -> None:
    account.last_login_at = timezone.now()
    account.save(update_fields=["last_login_at"])
    _record(AuditAction.PERSON_LOGIN, account=account, by=by, details={"method": method})


def person_login_with_code(
    *, identifier: str, code: str, purpose: str = CodePurpose.LOGIN, by: Actor
) -> PersonAccount:
    """Check a code sent by SMS or e-mail: ten minutes (an invitation: longer), five
    attempts, single use."""
    parsed = parse_identifier(identifier)
    key = _throttle_key(parsed.value if parsed else identifier.strip().lower())
    _refuse_if_locked(key, by)
    digits = re.sub(r"\D", "", code)
    method = "code" if purpose == CodePurpose.LOGIN else "invitation"
    with transaction.atomic():
        account = account_for(parsed) if parsed else None
        login_code = (
            LoginCode.objects.select_for_update()
            .filter(account=account)
            .usable(purpose)
            .order_by("-created_at")
            .first()
            if account is not None
            else None
        )
        if (
            login_code is not None
            and login_code.attempts >= settings.RELAIS_PORTAL_CODE_MAX_ATTEMPTS
        ):
            login_code = None
        matches = login_code is not None and secrets.compare_digest(
            login_code.digest, _digest(purpose, str(login_code.account_id), digits)
        )
        if login_code is not None and account is not None and matches:
            login_code.used_at = timezone.now()
            login_code.save(update_fields=["used_at"])
            _succeeded(account, method=method, by=by)
        elif login_code is not None:
            login_code.attempts = F("attempts") + 1
            login_code.save(update_fields=["attempts"])
    if account is None or not matches:
        raise _failed(key=key, account=account, method=method, by=by)
    throttling.clear_account(key)
    return account


def person_login_with_password(*, identifier: str, password: str, by: Actor) -> PersonAccount:
    parsed = parse_identifier(identifier)
    key = _throttle_key(parsed.value if parsed else identifier.strip().lower())
    _refuse_if_locked(key, by)
    account = account_for(parsed) if parsed else None
    if account is not None and account.password:
        valid = check_password(password, account.password)
    else:
        # Hash anyway: the answer takes as long whether or not the account exists.
        make_password(password)
        valid = False
    if account is None or not valid:
        with transaction.atomic():
            error = _failed(key=key, account=account, method="mot de passe", by=by)
        raise error
    with transaction.atomic():
        _succeeded(account, method="mot de passe", by=by)
    throttling.clear_account(key)
    return account


def person_login_with_card(*, card_identifier: str, recovery_code: str, by: Actor) -> CardLogin:
    """Log in with the carte Relais: its identifier and one of its single-use codes."""
    card = normalise_card_identifier(card_identifier)
    key = _throttle_key(card or card_identifier.strip().lower())
    _refuse_if_locked(key, by)
    digits = re.sub(r"\D", "", recovery_code)
    with transaction.atomic():
        account = account_for(Identifier("card", card)) if card else None
        used = (
            RecoveryCode.objects.select_for_update()
            .filter(
                account=account,
                used_at__isnull=True,
                digest=_digest("recovery", str(account.pk), digits),
            )
            .first()
            if account is not None and len(digits) == _RECOVERY_DIGITS
            else None
        )
        if account is not None and used is not None:
            used.used_at = timezone.now()
            used.save(update_fields=["used_at"])
            _record(AuditAction.PERSON_RECOVERY_CODE_USED, account=account, by=by)
            _succeeded(account, method="carte", by=by)
            codes_left = account.recovery_codes.filter(used_at__isnull=True).count()
    if account is None or used is None:
        with transaction.atomic():
            error = _failed(key=key, account=account, method="carte", by=by)
        raise error
    throttling.clear_account(key)
    return CardLogin(account=account, codes_left=codes_left)


def person_logout(*, account: PersonAccount, by: Actor) -> None:
    with transaction.atomic():
        _record(AuditAction.PERSON_LOGOUT, account=account, by=by)


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
