import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.middleware import get_user as cached_user
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from relais.accounts.actors import actor_for, client_ip
from relais.accounts.decorators import page_to_come_back_to, with_next
from relais.accounts.models import User
from relais.accounts.services import actor_of, has_second_factor
from relais.accounts.sessions import LOGIN_AT, SECURITY_STAMP, SEEN_AT, seconds_since
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record

# Rewriting the session on every request would cost a write per page; a minute of
# imprecision on the idle timeout does not matter.
_SEEN_AT_RESOLUTION = 60

SESSION_EXPIRED = "Votre session a expiré. Reconnectez-vous pour continuer."
NOT_SAVED_SESSION_EXPIRED = (
    "Votre session a expiré : ce que vous veniez d'envoyer n'a pas été enregistré. "
    "Reconnectez-vous, puis saisissez-le de nouveau."
)
NOT_SAVED_LOGGED_OUT = (
    "Ce que vous veniez d'envoyer n'a pas été enregistré : vous n'étiez plus connecté(e). "
    "Reconnectez-vous, puis saisissez-le de nouveau."
)


class VerifiedSessionMiddleware:
    """Tells whether the session passed the second factor (`request.user.is_verified()`),
    in place of django-otp's middleware, which reads the device on every request.

    The session keeps the user's security stamp from login, then from the moment of
    verification; while the stamp is unchanged, the verification stands without a query.
    Once it has changed, the device is read again: a verified session whose device is gone
    (its second factor was reset) ends, and so does a session that has not passed its
    second factor yet, so that a new factor is enrolled only after the password is typed
    again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = SimpleLazyObject(lambda: self._verify(request))  # type: ignore[assignment]
        return self.get_response(request)

    @staticmethod
    def _verify(request: HttpRequest) -> Any:
        # Django empties a session whose password hash no longer matches (changed in
        # another session) before answering anonymous: the account it held is read first.
        held = request.session.get(SESSION_KEY)
        # Once read, the request holds the user itself rather than lazy wrappers, which
        # every later attribute access would otherwise go through.
        user = cached_user(request)
        request.user = user
        verified = False
        user.otp_device = None
        if user.is_authenticated:
            stamp = request.session.get(SECURITY_STAMP)
            device_id = request.session.get(DEVICE_ID_SESSION_KEY)
            if device_id and stamp == user.security_stamp:
                verified = True
            elif device_id:
                device = Device.from_persistent_id(device_id, for_verify=False)
                if device is not None and device.user_id == user.pk and device.confirmed:
                    verified = True
                    user.otp_device = device
                    request.session[SECURITY_STAMP] = user.security_stamp
                else:
                    user = _end_session(request)
            elif stamp is not None and stamp != user.security_stamp:
                user = _end_session(request)
        elif held is not None:
            user = _end_lost_session(request, held)
        user.is_verified = lambda: verified
        return user


def _end_session(request: HttpRequest) -> Any:
    return _ended(
        request,
        actor_for(request),
        "Votre session a pris fin après un changement sur votre compte. "
        "Reconnectez-vous pour continuer.",
    )


def _end_lost_session(request: HttpRequest, held: str) -> Any:
    """A session that held an account Django now reads as anonymous: an account
    deactivated when its last membership ended (Django keeps such a session, silently), or
    whose password was changed in another session (Django empties it, silently). It ends
    here, journaled under the account it held."""
    account = User.objects.filter(pk=held).first()
    ip_address = client_ip(request)
    by = actor_of(account, ip_address=ip_address) if account else Actor(ip_address=ip_address)
    if account is not None and account.is_active:
        return _ended(
            request,
            by,
            "Votre session a pris fin après un changement sur votre compte. "
            "Reconnectez-vous pour continuer.",
        )
    return _ended(
        request,
        by,
        "Votre accès à cette structure a été désactivé. "
        "Adressez-vous au responsable de la structure.",
        level=messages.WARNING,
    )


def _ended(request: HttpRequest, by: Actor, message: str, *, level: int = messages.INFO) -> Any:
    audit_record(action=AuditAction.SESSION_EXPIRED, by=by)
    logout(request)
    messages.add_message(request, level, message)
    user = request.user
    user.otp_device = None  # type: ignore[union-attr]
    return user


class SessionTimeoutMiddleware:
    """Idle timeout and absolute lifetime of a professional's session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            idle = seconds_since(request.session, SEEN_AT)
            lifetime = seconds_since(request.session, LOGIN_AT)
            if (
                idle is None
                or lifetime is None
                or idle > settings.RELAIS_IDLE_TIMEOUT.total_seconds()
                or lifetime > settings.RELAIS_ABSOLUTE_TIMEOUT.total_seconds()
            ):
                audit_record(action=AuditAction.SESSION_EXPIRED, by=actor_for(request))
                logout(request)
                if request.method == "GET":
                    messages.info(request, SESSION_EXPIRED)
                else:
                    messages.warning(request, NOT_SAVED_SESSION_EXPIRED)
                return _to_login(request)
            if idle > _SEEN_AT_RESOLUTION:
                request.session[SEEN_AT] = time.time()
        return self.get_response(request)


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's, except for a form sent without a session (ended, lost, or its cookie
    gone): back to the page that held the form, saying that what was sent is lost."""

    def handle_no_permission(self, request: HttpRequest, view_func: Any) -> HttpResponseRedirect:
        if request.method == "GET":
            return super().handle_no_permission(request, view_func)
        messages.warning(request, NOT_SAVED_LOGGED_OUT)
        return _to_login(request)


def _to_login(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        with_next(reverse(settings.LOGIN_URL), page_to_come_back_to(request))
    )


class SecondFactorRequiredMiddleware:
    """Until the second factor is verified in this session, a professional reaches only
    the login and second-factor pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or getattr(view_func, "second_factor_exempt", False):
            return None
        if user.is_verified():  # type: ignore[union-attr]
            return None
        if has_second_factor(user):  # type: ignore[arg-type]
            return redirect("accounts:second_factor")
        return redirect("accounts:second_factor_setup")
