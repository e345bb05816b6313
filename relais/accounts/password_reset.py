"""The link a professional who forgot their password receives by e-mail to choose a new one.

Its secret is Django's password reset token, computed from the account as it is: nothing
about it is stored. It stops working once a new password is set (the link has served),
once the account logs in, when its security stamp is raised (second factor reset,
membership ended), when the account is deactivated, and after PASSWORD_RESET_VALIDITY.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import base36_to_int, int_to_base36

from relais.accounts.models import User
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record

logger = logging.getLogger(__name__)

PASSWORD_RESET_VALIDITY = timedelta(hours=1)


class _LinkTokens(PasswordResetTokenGenerator):
    key_salt = "relais.accounts.password_reset"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        state = f"{user.security_stamp}{user.is_active}"
        return super()._make_hash_value(user, timestamp) + state

    def check_token(self, user: User | None, token: str | None) -> bool:
        # Django's own limit (PASSWORD_RESET_TIMEOUT, three days) is checked too.
        if not super().check_token(user, token) or token is None:
            return False
        issued = base36_to_int(token.split("-")[0])
        return self._num_seconds(self._now()) - issued <= PASSWORD_RESET_VALIDITY.total_seconds()


_tokens = _LinkTokens()


def may_receive_link() -> QuerySet[User]:
    """The accounts that may choose a new password by e-mail: active, and a member of an
    organisation today (an account whose memberships have all ended has nothing left to
    log in to)."""
    today = timezone.localdate()
    # One filter() call: both conditions hold for the same membership.
    return User.objects.filter(
        Q(memberships__started_on__lte=today),
        Q(memberships__ended_on__isnull=True) | Q(memberships__ended_on__gt=today),
        is_active=True,
    )


def link_token(user: User) -> str:
    """The secret of the link, made of the account's id and Django's token."""
    return f"{int_to_base36(user.pk)}-{_tokens.make_token(user)}"


def link_holder(token: str, *, lock: bool = False) -> User | None:
    """The account a link was sent to, while the link works; None otherwise. Locked until
    commit with `lock`, so that a link sent twice at once sets one password only."""
    uid, _, secret = token.partition("-")
    try:
        user_id = base36_to_int(uid)
    except ValueError:
        return None
    holders = may_receive_link().filter(pk=user_id)
    if lock:
        holders = holders.select_for_update(of=("self",))
    user = holders.first()
    if user is None or not _tokens.check_token(user, secret):
        return None
    return user


class PasswordResetLinkNotSent(Exception):
    """The mail server could not be reached or refused the message. Unlike smtplib's own
    errors, it names no address: a failed task's traceback is kept in the task queue's
    table and written to the worker's log."""


def reset_link_send(*, user_id: int | None, ip_address: str) -> bool:
    """Send a password reset link to the account, as asked from `ip_address`, and journal
    it; True when it left. Nothing is sent when no account may receive one (None: none had
    the address typed)."""
    if user_id is None:
        return False
    user = may_receive_link().filter(pk=user_id).first()
    if user is None:
        return False
    # Before the token: the moment stated is never later than the link's end.
    until = timezone.localtime() + PASSWORD_RESET_VALIDITY
    link = settings.RELAIS_PUBLIC_URL + reverse(
        "accounts:password_reset_confirm", args=[link_token(user)]
    )
    # The body names no one: the address it goes to is the account's.
    try:
        send_mail(
            subject="Choisir un nouveau mot de passe Relais",
            message=(
                "Bonjour,\n\n"
                "Un nouveau mot de passe a été demandé pour votre compte Relais.\n\n"
                f"Pour le choisir, ouvrez ce lien avant le {until:%d/%m/%Y} à {until:%H:%M} :\n"
                f"{link}\n\n"
                "Ce lien ne sert qu'une fois. Vous vous connecterez ensuite avec votre "
                "nouveau mot de passe, puis votre second facteur, comme d'habitude. Si vous "
                "avez aussi perdu votre téléphone ou votre clé de sécurité et vos codes de "
                "secours, le responsable de votre structure peut réinitialiser votre second "
                "facteur.\n\n"
                "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe actuel "
                "reste valable.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    except OSError as error:
        logger.warning(
            "Lien de mot de passe du compte %s non envoyé : %s", user.pk, type(error).__name__
        )
        raise PasswordResetLinkNotSent(
            f"Lien de mot de passe du compte {user.pk} non envoyé ({type(error).__name__})."
        ) from None
    # Journaled once sent: the journal says a link left, not that one was asked for.
    audit_record(
        action=AuditAction.PASSWORD_RESET_REQUESTED,
        by=Actor(user_id=user.pk, label=user.get_full_name(), ip_address=ip_address),
    )
    return True
