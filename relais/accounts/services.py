"""Writes about accounts and their second factors. Each call is one transaction with its
journal row."""

import base64
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.accounts import throttling
from relais.accounts.models import User, WebAuthnDevice
from relais.accounts.password_reset import link_holder, may_receive_link
from relais.accounts.tasks import send_password_reset_link
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Application d'authentification"
RECOVERY_DEVICE_NAME = "Codes de secours"


def actor_of(user: User, *, ip_address: str = "") -> Actor:
    return Actor(user_id=user.pk, label=user.get_full_name(), ip_address=ip_address)


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None
    locked: bool


def _failure_actor(identifier: str, ip_address: str) -> Actor:
    known = (
        User.objects.filter(email=identifier.strip().lower())
        .only("pk", "first_name", "last_name")
        .first()
    )
    if known is None:
        return Actor(label="Identifiant inconnu", ip_address=ip_address)
    return actor_of(known, ip_address=ip_address)


def password_check(*, identifier: str, password: str, ip_address: str) -> PasswordCheck:
    """Check an e-mail and password, counting attempts and locking out repeated failures.

    A locked identifier is refused even with the right password, and the answer is the
    same whether or not an account exists.
    """

    def authenticated() -> User | None:
        user = authenticate(username=identifier.strip().lower(), password=password)
        return user if isinstance(user, User) else None

    return _counted_password_check(identifier, ip_address, authenticated)


def deactivated_account_password_check(
    *, user: User, password: str, ip_address: str
) -> PasswordCheck:
    """The same check for a deactivated account, which Django's authentication refuses:
    its owner proves it is theirs before an invitation reactivates it."""
    return _counted_password_check(
        user.email,
        ip_address,
        lambda: user if not user.is_active and user.check_password(password) else None,
    )


def current_password_check(*, user: User, password: str, ip_address: str) -> PasswordCheck:
    """The same check for the password a logged-in professional types again to change
    it: a session left open must not let its password be guessed without limit."""
    return _counted_password_check(
        user.email, ip_address, lambda: user if user.check_password(password) else None
    )


def _counted_password_check(
    identifier: str, ip_address: str, check: Callable[[], User | None]
) -> PasswordCheck:
    attempt = throttling.login_attempt(identifier=identifier, ip_address=ip_address)
    if not attempt.allowed:
        # The lockout was journaled once, by the failure that started it.
        return PasswordCheck(user=None, locked=True)
    user = check()
    if user is not None:
        throttling.login_succeeded(identifier=identifier, ip_address=ip_address)
        return PasswordCheck(user=user, locked=False)
    by = _failure_actor(identifier, ip_address)
    with transaction.atomic():
        audit_record(action=AuditAction.LOGIN_FAILED, by=by)
        if attempt.last:
            audit_record(action=AuditAction.LOCKOUT, by=by)
    return PasswordCheck(user=None, locked=attempt.last)


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """Return the user's pending (unconfirmed) authenticator, creating it if needed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode()


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def totp_enrolment_confirm(
    *, user: User, device: TOTPDevice, token: str, by: Actor
) -> list[str] | None:
    """Confirm a pending authenticator with a first code from it.

    Returns fresh recovery codes, to show once, or None when the code is wrong.
    """
    if device.user_id != user.pk or device.confirmed:
        return None
    if not device.verify_token(token.replace(" ", "")):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit_record(action=AuditAction.SECOND_FACTOR_ENROLLED, by=by, details={"type": "totp"})
        audit_record(action=AuditAction.RECOVERY_CODES_GENERATED, by=by)
    return codes


def recovery_codes_regenerate(*, user: User, by: Actor) -> list[str]:
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(action=AuditAction.RECOVERY_CODES_GENERATED, by=by)
    return codes


def has_second_factor(user: User) -> bool:
    return bool(
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnDevice.objects.filter(user=user, confirmed=True).exists()
    )


def has_another_second_factor(user: User, device: TOTPDevice | WebAuthnDevice) -> bool:
    """Whether an app or a key other than this one logs the user in."""
    apps = TOTPDevice.objects.filter(user=user, confirmed=True)
    keys = WebAuthnDevice.objects.filter(user=user, confirmed=True)
    if isinstance(device, WebAuthnDevice):
        keys = keys.exclude(pk=device.pk)
    else:
        apps = apps.exclude(pk=device.pk)
    return bool(apps.exists() or keys.exists())


def with_second_factor(user_ids: Iterable[int]) -> set[int]:
    """Those of these users who have a second factor to reset: two queries for a team."""
    ids = list(user_ids)
    return {
        *TOTPDevice.objects.filter(user_id__in=ids, confirmed=True).values_list(
            "user_id", flat=True
        ),
        *WebAuthnDevice.objects.filter(user_id__in=ids, confirmed=True).values_list(
            "user_id", flat=True
        ),
    }


@dataclass(frozen=True)
class SecondFactorCheck:
    device: TOTPDevice | StaticDevice | None
    locked: bool


def second_factor_check(*, user: User, token: str, by: Actor) -> SecondFactorCheck:
    """Check a typed code: digits against the user's authenticators, anything else (a
    recovery code has dashes) against the recovery codes.

    The attempt is counted first, so that codes sent in parallel cannot all be tried; a
    used recovery code is consumed.
    """
    attempt = throttling.second_factor_attempt(user.pk)
    if not attempt.allowed:
        return SecondFactorCheck(device=None, locked=True)
    cleaned = token.strip().replace(" ", "").lower()
    if cleaned.isdigit():
        for device in TOTPDevice.objects.filter(user=user, confirmed=True):
            if device.verify_token(cleaned):
                throttling.second_factor_succeeded(user.pk)
                audit_record(
                    action=AuditAction.SECOND_FACTOR_VERIFIED, by=by, details={"type": "totp"}
                )
                return SecondFactorCheck(device=device, locked=False)
    else:
        for recovery in StaticDevice.objects.filter(user=user, confirmed=True):
            if recovery.verify_token(cleaned):
                throttling.second_factor_succeeded(user.pk)
                with transaction.atomic():
                    audit_record(action=AuditAction.RECOVERY_CODE_USED, by=by)
                    audit_record(
                        action=AuditAction.SECOND_FACTOR_VERIFIED,
                        by=by,
                        details={"type": "recours"},
                    )
                return SecondFactorCheck(device=recovery, locked=False)
    with transaction.atomic():
        audit_record(action=AuditAction.SECOND_FACTOR_FAILED, by=by)
        if attempt.last:
            audit_record(action=AuditAction.LOCKOUT, by=by, details={"type": "second_facteur"})
    return SecondFactorCheck(device=None, locked=attempt.last)


def security_stamp_raise(*user_ids: int) -> None:
    """End what sessions of these users hold as verified (second factor, acting
    organisation): the next request checks again against the database."""
    User.objects.filter(pk__in=user_ids).update(security_stamp=F("security_stamp") + 1)


def second_factor_reset(*, member: User, organisation_id: int, by: Actor) -> None:
    """A manager removes every second factor of a member, who must enrol again at next
    request: their current sessions lose their verification at once."""
    with transaction.atomic():
        security_stamp_raise(member.pk)
        TOTPDevice.objects.filter(user=member).delete()
        StaticDevice.objects.filter(user=member).delete()
        WebAuthnDevice.objects.filter(user=member).delete()
        audit_record(
            action=AuditAction.SECOND_FACTOR_RESET,
            by=by,
            object_type="utilisateur",
            object_id=member.pk,
            details={"membre": member.get_full_name(), "structure_id": organisation_id},
        )


LAST_SECOND_FACTOR = (
    "Ce second facteur est le seul avec lequel vous pouvez vous connecter : rien n'a été "
    "retiré. Ajoutez d'abord une autre application ou une autre clé, puis retirez celui-ci."
)
SECOND_FACTOR_ALREADY_REMOVED = "Ce second facteur a déjà été retiré."


def second_factor_remove(*, user: User, device: TOTPDevice | WebAuthnDevice, by: Actor) -> None:
    """A professional removes one of their authenticator apps or security keys (lost, or
    replaced). The last one is refused: recovery codes alone do not log in, and with no
    app nor key left, the password alone would enrol a new one (views.second_factor_setup).
    The sessions verified with the device removed lose their verification."""
    with transaction.atomic():
        # Two removals at once, of the last two devices, must not both see the other one.
        User.objects.select_for_update().only("pk").get(pk=user.pk)
        own = type(device).objects.filter(user=user, confirmed=True, pk=device.pk)
        if not own.exists():
            raise ValidationError(SECOND_FACTOR_ALREADY_REMOVED, code="gone")
        if not has_another_second_factor(user, device):
            raise ValidationError(LAST_SECOND_FACTOR, code="last")
        own.delete()
        security_stamp_raise(user.pk)
        kind = "cle_securite" if isinstance(device, WebAuthnDevice) else "totp"
        audit_record(
            action=AuditAction.SECOND_FACTOR_REMOVED,
            by=by,
            details={"type": kind, "nom": device.name},
        )


def account_names_change(*, user: User, first_name: str, last_name: str, by: Actor) -> bool:
    """Correct a professional's names (the pilot does it in the administration); the
    journal keeps the names before and after, since its rows name their authors as they
    were called then. False when nothing changed: no row then."""
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        before = current.get_full_name()
        if (current.first_name, current.last_name) == (first_name, last_name):
            return False
        current.first_name, current.last_name = first_name, last_name
        current.save(update_fields=["first_name", "last_name"])
        audit_record(
            action=AuditAction.ADMIN_CHANGE,
            by=by,
            object_type="utilisateur",
            object_id=user.pk,
            details={"avant": before, "apres": current.get_full_name()},
        )
    user.first_name, user.last_name = first_name, last_name
    return True


def demo_totp_device_ensure(*, user: User) -> TOTPDevice:
    """Give a demo professional the shared, documented demo authenticator."""
    if not settings.RELAIS_DEMO_MODE or not settings.RELAIS_DEMO_TOTP_SECRET:
        raise RuntimeError("Le second facteur partagé n'existe qu'en mode démonstration.")
    key = base64.b32decode(settings.RELAIS_DEMO_TOTP_SECRET).hex()
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, name="Démonstration", defaults={"key": key, "confirmed": True}
    )
    return device


def password_change(*, user: User, new_password: str, by: Actor) -> None:
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(action=AuditAction.PASSWORD_CHANGED, by=by)


def password_reset_request(*, email: str, ip_address: str) -> None:
    """Ask for a link to choose a new password, sent to `email` if an account that may
    receive one has it (password_reset.may_receive_link).

    The visitor is told the same whatever happens here, and the request does the same
    work whether or not such an account exists: it counts the request, looks the account
    up and queues one task (tasks.send_password_reset_link), given the account's id (None
    when there is none), which journals and sends the link. Past the limits on the address
    or on the client's IP address, nothing is looked up nor sent."""
    email = email.strip().lower()
    if not throttling.password_reset_request_allowed(email=email, ip_address=ip_address):
        return
    user_id = may_receive_link().filter(email=email).values_list("pk", flat=True).first()
    send_password_reset_link.enqueue(user_id=user_id, ip_address=ip_address)


LINK_EXPIRED = "Ce lien ne fonctionne plus : demandez-en un nouveau."


def password_reset(*, token: str, new_password: str, ip_address: str) -> User:
    """Set the new password chosen through a reset link. Every session of the account
    ends (the password and the security stamp change), the link with them; the account's
    failed logins are forgotten, the owner having proved they hold its mailbox. Nothing
    logs in: the new password is typed on the login page, then the second factor."""
    with transaction.atomic():
        user = link_holder(token, lock=True)
        if user is None:
            raise ValidationError(LINK_EXPIRED, code="link_expired")
        validate_password(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        security_stamp_raise(user.pk)
        audit_record(action=AuditAction.PASSWORD_RESET, by=actor_of(user, ip_address=ip_address))
    throttling.clear_account(user.email)
    return user


# How the journal's row of a reset says the password was chosen (« Par : … »).
THROUGH_INVITATION = "lien d'invitation"


def password_reset_through_invitation(*, user: User, new_password: str, ip_address: str) -> User:
    """Set the new password a deactivated member who forgot theirs chooses on the page of
    an invitation that reactivates the account (a reset link is never sent to an account
    without a membership). The invitation, received in the account's mailbox, proves it is
    theirs as a reset link does: journaled and done as a reset, every other session ends
    and the failed logins are forgotten; the second factor is asked as at every login.
    Returns the account with its new security stamp, for the session that goes on."""
    with transaction.atomic():
        validate_password(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        security_stamp_raise(user.pk)
        audit_record(
            action=AuditAction.PASSWORD_RESET,
            by=actor_of(user, ip_address=ip_address),
            details={"method": THROUGH_INVITATION},
        )
    user.refresh_from_db(fields=["security_stamp"])
    throttling.clear_account(user.email)
    return user
