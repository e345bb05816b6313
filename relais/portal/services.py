"""Writes on the person's account: opening, identifiers, logins, restoring access (the
login codes themselves are made and sent by relais.portal.codes).

Every secret (login code, card code, password) is stored as a keyed digest or a Django
password hash, never in clear. Login functions answer the same way whether or not an
account matches what was typed, so that the login pages tell nobody who has an account.
"""

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal, cast

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
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from relais.accounts import throttling
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from relais.notifications.sms import SmsError, send_sms
from relais.persons.models import Person
from relais.persons.normalisation import ascii_digits
from relais.persons.services import contact_record
from relais.persons.validators import french_number, mobile_number
from relais.portal import throttling as sending
from relais.portal.codes import (
    ACCOUNT_OBJECT_TYPE,
    code_reserve,
    code_send,
    digest,
    invitation_message,
)
from relais.portal.models import (
    CodeChannel,
    CodePurpose,
    LoginCode,
    PersonAccount,
    RecoveryCode,
)
from relais.portal.tasks import send_login_code

logger = logging.getLogger(__name__)

# No 0/O, 1/I/L: the card is read aloud and copied by hand.
CARD_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CARD_COMPACT = re.compile(r"^RL([0-9A-Z]{4})([0-9A-Z]{4})$")
_RECOVERY_DIGITS = 8

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


def _login_locked() -> str:
    minutes = int(settings.RELAIS_LOGIN_LOCKOUT.total_seconds() // 60)
    return ngettext(
        "Trop d'essais. Attendez %(count)d minute. Vous pouvez aussi demander de l'aide "
        "à la personne qui vous accompagne.",
        "Trop d'essais. Attendez %(count)d minutes. Vous pouvez aussi demander de l'aide "
        "à la personne qui vous accompagne.",
        minutes,
    ) % {"count": minutes}


def _sending_limited(wait: int) -> str:
    """Said in hours for a limit counted per hour or per day, in minutes otherwise."""
    if wait % 3600 == 0:
        hours = wait // 3600
        return ngettext(
            "Trop de codes ont été demandés. Attendez %(count)d heure avant de redemander "
            "un code. Vous pouvez aussi utiliser votre carte Relais.",
            "Trop de codes ont été demandés. Attendez %(count)d heures avant de redemander "
            "un code. Vous pouvez aussi utiliser votre carte Relais.",
            hours,
        ) % {"count": hours}
    minutes = wait // 60
    return ngettext(
        "Trop de codes ont été demandés. Attendez %(count)d minute avant de redemander "
        "un code. Vous pouvez aussi utiliser votre carte Relais.",
        "Trop de codes ont été demandés. Attendez %(count)d minutes avant de redemander "
        "un code. Vous pouvez aussi utiliser votre carte Relais.",
        minutes,
    ) % {"count": minutes}


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


def normalise_phone(value: str) -> str:
    """A mobile number in E.164 form (French numbers, overseas included, may be typed
    without their country code)."""
    mobile = mobile_number(value)
    if mobile is not None:
        return mobile
    if french_number(value) is None:
        raise ValidationError("Ce numéro de téléphone n'est pas valide.")
    raise ValidationError("Ce numéro n'est pas un numéro de portable : il ne reçoit pas de SMS.")


def _code_digits(value: str) -> str:
    """The digits of a code as typed, spaces and dashes left out."""
    return re.sub(r"[^0-9]", "", ascii_digits(value))


def normalise_card_identifier(value: str) -> str | None:
    compact = re.sub(r"[^0-9A-Za-z]", "", ascii_digits(value)).upper()
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
        PersonAccount.objects.login_allowed()
        .select_related("person")
        .filter(**{field: identifier.value})
        .first()
    )


PASSWORD_TOO_LIKE_NAME = _("Votre mot de passe ressemble trop à votre nom ou à votre e-mail.")


def validate_person_password(password: str, person: Person) -> None:
    try:
        # The validators read the attributes they are given; a Person has them.
        validate_password(
            password, user=cast(Any, person), password_validators=_PASSWORD_VALIDATORS
        )
    except ValidationError as refused:
        # Django's message names the attribute matched (« birth name key »).
        raise ValidationError(
            [
                ValidationError(PASSWORD_TOO_LIKE_NAME, code=error.code)
                if error.code == "password_too_similar"
                else error
                for error in refused.error_list
            ]
        ) from None


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
        RecoveryCode(account=account, digest=digest("recovery", str(account.pk), code))
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
        object_type=ACCOUNT_OBJECT_TYPE,
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


IDENTITY_DOCUMENTS = {
    "cni": "Carte nationale d'identité",
    "passeport": "Passeport",
    "titre_sejour": "Titre de séjour",
    "recepisse": "Récépissé de demande de titre de séjour ou d'asile",
    "permis": "Permis de conduire",
    "autre": "Autre pièce avec photo",
}


def _check_identity(*, identity_checked: bool, identity_document: str) -> None:
    """What the office must do before opening the space or changing how the person logs
    in: whoever controls the phone, the e-mail or the card controls the person's space."""
    if not identity_checked:
        raise ValidationError("Vérifiez d'abord l'identité de la personne, avec une pièce.")
    if identity_document not in IDENTITY_DOCUMENTS:
        raise ValidationError("Choisissez la pièce d'identité présentée.")


def _check_reason(reason: str, *, missing: str) -> None:
    """A change to a space already opened says why, in the journal the person reads."""
    if not reason.strip():
        raise ValidationError(missing)


def person_account_open(
    *,
    person: Person,
    phone: str = "",
    email: str = "",
    password: str = "",
    identity_checked: bool,
    identity_document: str,
    reason: str = "",
    by: Actor,
) -> tuple[PersonAccount, list[str]]:
    """Open the person's space, with the person present and their identity checked: the
    space shows the whole file to whoever holds its card, phone or password. Returns the
    account and the card's recovery codes, in clear, to be printed once and never shown
    again. The journal keeps the type of the document shown, never its number.

    Reopening a closed space also needs a reason, as restoring access does: the space may
    hold years of the person's file."""
    _check_identity(identity_checked=identity_checked, identity_document=identity_document)
    phone_value = normalise_phone(phone) if phone else None
    email_value = email.strip().lower() or None
    if password:
        validate_person_password(password, person)
    with transaction.atomic():
        # The page read the file while it was active: a file merged or archived since
        # (both close its space) gets none.
        if not Person.objects.lock_if_active(person.pk):
            raise ValidationError(
                "Ce dossier n'est plus actif : son espace personnel ne peut pas être ouvert."
            )
        account = PersonAccount.objects.select_for_update().filter(person=person).first()
        if account is not None and account.is_active:
            raise ValidationError("Cette personne a déjà un espace personnel.")
        _check_identifiers_free(phone=phone_value, email=email_value, account=account)
        reopened = account is not None
        if account is None:
            account = PersonAccount(person=person)
        else:
            _check_reason(reason, missing="Écrivez pourquoi l'espace est rouvert.")
            # A new card, and no session of the old space survives.
            account.security_stamp += 1
            account.closed_at = None
        account.card_identifier = _new_card_identifier()
        account.phone = phone_value
        account.email = email_value
        account.password = make_password(password) if password else ""
        account.is_active = True
        account.opened_at = timezone.now()
        account.opened_by_label = (
            f"{by.label} ({by.organisation_label})" if by.organisation_label else by.label
        )[:200]
        account.full_clean()
        account.save()
        codes = _new_recovery_codes(account)
        details: dict[str, str | int | bool | None] = {
            "phone": bool(phone_value),
            "email": bool(email_value),
            "identity_document": IDENTITY_DOCUMENTS[identity_document],
        }
        if reopened:
            details["reopened"] = True
        _record(
            AuditAction.PERSON_ACCOUNT_OPENED,
            account=account,
            by=by,
            reason=reason.strip() if reopened else "",
            details=details,
        )
        _record(AuditAction.PERSON_CARD_PRINTED, account=account, by=by)
        if password:
            _record(AuditAction.PERSON_PASSWORD_SET, account=account, by=by)
    return account, codes


IDENTIFIERS_CHANGED_MESSAGE = (
    "Relais : le téléphone ou l'e-mail de votre espace a été changé au guichet. "
    "Si ce n'est pas vous, parlez-en à votre accompagnant(e)."
)
# Only characters of the GSM alphabet: the message stays in plain SMS.
PASSWORD_CHANGED_MESSAGE = (
    "Relais : le mot de passe de votre espace a changé. "  # noqa: S105 (a message)
    "Si ce n'est pas vous, allez voir la personne qui vous accompagne."
)


def _tell_contacts(*, phone: str | None, email: str | None, body: str) -> None:
    """Warn the person of a change to their space on the phone and the address given, so
    that a change they did not ask for does not go unnoticed. Sent right after the commit
    rather than through the task queue, so that the number never waits in the queue's
    table; best effort: the change is made, a failure is logged without the number."""
    if phone:
        try:
            send_sms(to=phone, body=body)
        except SmsError as error:
            logger.warning("Avertissement par SMS impossible : %s", type(error).__name__)
    if email:
        try:
            send_mail("Votre espace Relais", body, None, [email])
        except OSError as error:
            logger.warning("Avertissement par courriel impossible : %s", type(error).__name__)


def person_account_update(
    *,
    account: PersonAccount,
    phone: str = "",
    email: str = "",
    identity_checked: bool,
    identity_document: str,
    reason: str,
    by: Actor,
) -> PersonAccount:
    """Change the phone and e-mail the space is reached by, with the person present and
    their identity checked. Every session of the person ends, codes sent to the former
    numbers stop working, and the former phone and e-mail are told."""
    _check_identity(identity_checked=identity_checked, identity_document=identity_document)
    _check_reason(reason, missing="Écrivez pourquoi les identifiants changent.")
    phone_value = normalise_phone(phone) if phone else None
    email_value = email.strip().lower() or None
    with transaction.atomic():
        account = (
            PersonAccount.objects.select_for_update().select_related("person").get(pk=account.pk)
        )
        if not account.is_active:
            raise ValidationError("Cet espace personnel est fermé.")
        _check_identifiers_free(phone=phone_value, email=email_value, account=account)
        former_phone, former_email = account.phone, account.email
        changed = {"phone": former_phone != phone_value, "email": former_email != email_value}
        if not any(changed.values()):
            return account
        account.phone = phone_value
        account.email = email_value
        account.security_stamp += 1
        account.full_clean()
        account.save(update_fields=["phone", "email", "security_stamp"])
        account.codes.filter(used_at__isnull=True).update(used_at=timezone.now())
        _record(
            AuditAction.PERSON_ACCOUNT_UPDATED,
            account=account,
            by=by,
            reason=reason.strip(),
            details={f"{field}_changed": value for field, value in changed.items()}
            | {"identity_document": IDENTITY_DOCUMENTS[identity_document]},
        )
        transaction.on_commit(
            lambda: _tell_contacts(
                phone=former_phone, email=former_email, body=IDENTIFIERS_CHANGED_MESSAGE
            )
        )
    return account


def person_account_close(*, account: PersonAccount, by: Actor, reason: str = "") -> None:
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
        _record(AuditAction.PERSON_ACCOUNT_CLOSED, account=account, by=by, reason=reason)


def person_account_close_merged(*, absorbed: Person, by: Actor) -> None:
    """When a duplicate file is merged into the file kept, its space is closed rather than
    moved onto the file kept: the merge is decided from the files, without the person
    there, and a wrong merge must not let one person's card open another person's file.
    The person's space is opened again on the file kept, at the office, identity checked.
    Called inside the merge's transaction."""
    account = PersonAccount.objects.active().filter(person=absorbed).first()
    if account is not None:
        person_account_close(
            account=account, by=by, reason="Dossier fusionné avec un autre dossier."
        )


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
    _check_identity(identity_checked=identity_checked, identity_document=identity_document)
    _check_reason(reason, missing="Écrivez pourquoi l'accès est rétabli.")
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


def _check_current_password(account: PersonAccount, *, stored: str, typed: str, by: Actor) -> None:
    """The password the person replaces, typed again: counted like a login, so that an
    open session does not allow more guesses than the login page."""
    key = _account_key(account)
    attempt = _attempt(key=key, by=by)
    if not check_password(typed, stored):
        with transaction.atomic():
            error = _failed(attempt=attempt, account=account, method="mot de passe actuel", by=by)
        raise error
    _forget_failures(key, by)


def person_password_set(
    *, account: PersonAccount, password: str, current_password: str = "", by: Actor
) -> PersonAccount:
    """The person chooses or changes their password from their own space. Replacing one
    asks for it first: a session left open on a shared phone must not be enough to take
    the space over. Every other session of the person ends (the caller keeps its own, see
    sessions.person_session_keep) and the person is told by SMS or e-mail. Returns the
    account, its security stamp raised."""
    stored = PersonAccount.objects.values_list("password", flat=True).get(pk=account.pk)
    # The new password is judged first: a right current password sent with a refused new
    # one must not count as a failure.
    validate_person_password(password, account.person)
    if stored:
        _check_current_password(account, stored=stored, typed=current_password, by=by)
    with transaction.atomic():
        account = (
            PersonAccount.objects.select_for_update().select_related("person").get(pk=account.pk)
        )
        if account.password != stored:
            # Changed by another session since it was checked: checked again on the retry.
            raise LoginRefused(LOGIN_REFUSED)
        account.password = make_password(password)
        account.security_stamp += 1
        account.save(update_fields=["password", "security_stamp"])
        _record(AuditAction.PERSON_PASSWORD_SET, account=account, by=by)
        phone, email = account.phone, account.email
        transaction.on_commit(
            lambda: _tell_contacts(phone=phone, email=email, body=PASSWORD_CHANGED_MESSAGE)
        )
    return account


def _code_channel(parsed: Identifier, account: PersonAccount | None) -> str:
    """A code goes by e-mail to an address typed, or for a card whose space has no phone;
    by SMS otherwise."""
    if parsed.kind == "email" or (
        parsed.kind == "card" and account is not None and not account.phone
    ):
        return CodeChannel.EMAIL
    return CodeChannel.SMS


def login_code_send(*, identifier: str, by: Actor) -> None:
    """Ask for a login code for the account the identifier names.

    Only the limits counted on what was typed (identifier and IP address, whether or not
    an account exists) answer with an error. Past them, the request does the same work
    whether or not an account has this identifier, has a phone or address for the
    channel, or has reached its own sending limit: it looks the account up and queues one
    task (relais.portal.tasks.send_login_code), given the account's id (None when there is
    none), the channel, and the visitor as the journal names them (`by`'s label and
    address). The task locks the account, reserves and journals the code, then draws and
    sends it: neither the time that takes, nor the provider's failure, nor the account's
    limit tells the visitor whether an account has this identifier."""
    parsed = parse_identifier(identifier)
    if parsed is None:
        raise ValidationError(
            _("Tapez votre numéro de portable, votre adresse e-mail ou le numéro de votre carte.")
        )
    wait = sending.code_request_wait(identifier=parsed.value, ip_address=by.ip_address)
    if wait is not None:
        raise ValidationError(_sending_limited(wait))
    account = account_for(parsed)
    send_login_code.enqueue(
        account_id=account.pk if account is not None else None,
        channel=_code_channel(parsed, account),
        actor_label=by.label,
        ip_address=by.ip_address,
    )


def person_invitation_send(*, account: PersonAccount, by: Actor) -> None:
    """The professional sends the person a code by SMS to finish opening the space
    themself, from their own phone. Sent during the request: the professional is told at
    once if the message could not leave."""
    account = PersonAccount.objects.select_related("person").get(pk=account.pk)
    if not account.is_active:
        raise ValidationError("Cet espace personnel est fermé.")
    if not account.phone:
        raise ValidationError("Enregistrez d'abord un numéro de portable pour cet espace.")
    with transaction.atomic():
        login_code = code_reserve(
            account,
            purpose=CodePurpose.INVITATION,
            channel=CodeChannel.SMS,
            validity=settings.RELAIS_PORTAL_INVITATION_VALIDITY,
        )
    if login_code is None:
        raise ValidationError(
            "Trop de codes ont été envoyés à cette personne. Réessayez dans 15 minutes."
        )
    code_send(login_code, to=account.phone, message=invitation_message)
    with transaction.atomic():
        _record(
            AuditAction.PERSON_LOGIN_CODE_SENT,
            account=account,
            by=by,
            details={"channel": CodeChannel.SMS, "purpose": CodePurpose.INVITATION},
        )


def _throttle_key(value: str) -> str:
    # Kept apart from the professionals' counters, which are keyed by e-mail address.
    return f"personne:{value}"


def _account_key(account: PersonAccount) -> str:
    """The current password typed again in an open session is counted per account. A login
    is counted per identifier typed, known or not: counted per account, a lockout on one
    identifier would show that another one opens the same space."""
    return f"personne-compte:{account.pk}"


def _attempt(*, key: str, by: Actor) -> throttling.Attempt:
    """Count the attempt under `key` before it is checked, so that guesses sent in
    parallel cannot all be checked; LoginRefused when the count is past the limit."""
    attempt = throttling.login_attempt(identifier=key, ip_address=by.ip_address)
    if not attempt.allowed:
        raise LoginRefused(_login_locked())
    return attempt


def _failed(
    *, attempt: throttling.Attempt, account: PersonAccount | None, method: str, by: Actor
) -> LoginRefused:
    """Record a failed attempt, already counted; return the error to raise."""
    if account is not None:
        _record(AuditAction.PERSON_LOGIN_FAILED, account=account, by=by, details={"method": method})
    else:
        audit_record(
            action=AuditAction.PERSON_LOGIN_FAILED,
            by=by,
            object_type=ACCOUNT_OBJECT_TYPE,
            details={"method": method, "known": False},
        )
    return LoginRefused(_login_locked() if attempt.last else LOGIN_REFUSED)


def _forget_failures(key: str, by: Actor) -> None:
    throttling.login_succeeded(identifier=key, ip_address=by.ip_address)


def _succeeded(account: PersonAccount, *, method: str, by: Actor) -> None:
    account.last_login_at = timezone.now()
    account.save(update_fields=["last_login_at"])
    contact_record(account.person_id)
    _record(AuditAction.PERSON_LOGIN, account=account, by=by, details={"method": method})


def person_login_with_code(
    *, identifier: str, code: str, purpose: str = CodePurpose.LOGIN, by: Actor
) -> PersonAccount:
    """Check a code sent by SMS or e-mail: ten minutes (an invitation: longer), five
    attempts, single use."""
    parsed = parse_identifier(identifier)
    key = _throttle_key(parsed.value if parsed else identifier.strip().lower())
    account = account_for(parsed) if parsed else None
    attempt = _attempt(key=key, by=by)
    digits = _code_digits(code)
    method = "code" if purpose == CodePurpose.LOGIN else "invitation"
    with transaction.atomic():
        login_code = (
            LoginCode.objects.select_for_update()
            .filter(account=account)
            .usable(purpose)
            .sent()
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
            login_code.digest, digest(purpose, str(login_code.account_id), digits)
        )
        if login_code is not None and account is not None and matches:
            login_code.used_at = timezone.now()
            login_code.save(update_fields=["used_at"])
            _succeeded(account, method=method, by=by)
        elif login_code is not None:
            login_code.attempts = F("attempts") + 1
            login_code.save(update_fields=["attempts"])
    if account is None or not matches:
        raise _failed(attempt=attempt, account=account, method=method, by=by)
    _forget_failures(key, by)
    return account


def person_login_with_password(*, identifier: str, password: str, by: Actor) -> PersonAccount:
    parsed = parse_identifier(identifier)
    key = _throttle_key(parsed.value if parsed else identifier.strip().lower())
    account = account_for(parsed) if parsed else None
    attempt = _attempt(key=key, by=by)
    if account is not None and account.password:
        valid = check_password(password, account.password)
    else:
        # Hash anyway: the answer takes as long whether or not the account exists.
        make_password(password)
        valid = False
    if account is None or not valid:
        with transaction.atomic():
            error = _failed(attempt=attempt, account=account, method="mot de passe", by=by)
        raise error
    with transaction.atomic():
        _succeeded(account, method="mot de passe", by=by)
    _forget_failures(key, by)
    return account


def person_login_with_card(*, card_identifier: str, recovery_code: str, by: Actor) -> CardLogin:
    """Log in with the carte Relais: its identifier and one of its single-use codes."""
    card = normalise_card_identifier(card_identifier)
    key = _throttle_key(card or card_identifier.strip().lower())
    account = account_for(Identifier("card", card)) if card else None
    attempt = _attempt(key=key, by=by)
    digits = _code_digits(recovery_code)
    with transaction.atomic():
        used = (
            RecoveryCode.objects.select_for_update()
            .filter(
                account=account,
                used_at__isnull=True,
                digest=digest("recovery", str(account.pk), digits),
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
            error = _failed(attempt=attempt, account=account, method="carte", by=by)
        raise error
    _forget_failures(key, by)
    return CardLogin(account=account, codes_left=codes_left)


def person_logout(*, account: PersonAccount, by: Actor) -> None:
    with transaction.atomic():
        _record(AuditAction.PERSON_LOGOUT, account=account, by=by)
