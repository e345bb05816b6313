"""View decorators that compose the professional's access rules.

Deny by default: every view needs a logged-in user with a verified second factor acting
for an organisation, unless a decorator here (or Django's `login_not_required`) opts out.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from relais.accounts.sessions import SECOND_FACTOR_AT, seconds_since

View = Callable[..., HttpResponse]

NOT_SAVED_SECOND_FACTOR = (
    "Pour cette action, confirmez d'abord votre identité avec votre code : ce que vous "
    "veniez d'envoyer n'a pas été enregistré. Vous le saisirez de nouveau ensuite."
)


def second_factor_exempt(view: View) -> View:
    """For the login and second-factor pages themselves."""
    view.second_factor_exempt = True  # type: ignore[attr-defined]
    return view


def organisation_optional(view: View) -> View:
    """For pages a professional may reach before choosing an acting organisation."""
    view.organisation_optional = True  # type: ignore[attr-defined]
    return view


def charter_exempt(view: View) -> View:
    """For the charte d'usages page itself, reached before the charter is accepted."""
    view.charter_exempt = True  # type: ignore[attr-defined]
    return view


def second_factor_is_recent(request: HttpRequest) -> bool:
    elapsed = seconds_since(request.session, SECOND_FACTOR_AT)
    return elapsed is not None and elapsed <= settings.RELAIS_RECENT_SECOND_FACTOR.total_seconds()


def page_to_come_back_to(request: HttpRequest) -> str:
    """The page to send the user back to once a check made on the way is passed: the page
    asked for or, for a form sent (POST), the page that held it, read from the same-site
    Referer; "" when there is none (the caller's default page then)."""
    if request.method == "GET":
        return request.get_full_path()
    # A redirect cannot replay a POST (its URL answers GET with 405): come back to the
    # page that held the form, where what was sent can be entered again.
    referer = request.META.get("HTTP_REFERER", "")
    same_site = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return urlsplit(referer).path if same_site else ""


def with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def ask_second_factor_again(request: HttpRequest) -> HttpResponse:
    """Send to the second factor, then back to the page asked for (or to the one that held
    the form, for a POST)."""
    if request.method == "GET":
        messages.info(
            request, "Pour cette action, confirmez d'abord votre identité avec votre code."
        )
    else:
        messages.warning(request, NOT_SAVED_SECOND_FACTOR)
    return redirect(with_next(reverse("accounts:second_factor"), page_to_come_back_to(request)))


def recent_second_factor_required(view: View) -> View:
    """Sensitive actions (export, break-glass, resets) re-ask the second factor when the
    last check is older than RELAIS_RECENT_SECOND_FACTOR."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not second_factor_is_recent(request):
            return ask_second_factor_again(request)
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = getattr(request, "membership", None)
        if membership is None or not membership.is_manager:
            raise PermissionDenied("Réservé au responsable de la structure.")
        return view(request, *args, **kwargs)

    return wrapper


def pilot_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied("Réservé au pilotage de la plateforme.")
        return view(request, *args, **kwargs)

    return organisation_optional(wrapper)
