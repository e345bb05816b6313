"""Markers of the person's pages.

The person's pages are outside the professionals' rules (login, second factor, acting
organisation, charter): a person has none of those. They have their own: a live person
session, set by relais.portal.middleware.PersonSessionMiddleware.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from relais.accounts.decorators import (
    charter_exempt,
    organisation_optional,
    page_to_come_back_to,
    second_factor_exempt,
    with_next,
)
from relais.www.next_page import same_site_path

View = Callable[..., HttpResponse]

NOT_SAVED_LOGGED_OUT = _(
    "Vous n'êtes plus connecté à votre espace. Ce que vous venez d'envoyer n'est pas "
    "enregistré. Connectez-vous, puis recommencez."
)

# A file sent just after the login would leave the login page on the screen, as if the
# login had failed: the person comes back to the page that offers it instead.
_COME_BACK_TO_INSTEAD = {"document_download": "portal:documents"}


def portal_public(view: View) -> View:
    """For the person's login pages: no session of any kind needed."""
    return charter_exempt(organisation_optional(second_factor_exempt(login_not_required(view))))


def page_in_space(request: HttpRequest, candidate: str) -> str:
    """The page of the person's space to come back to after logging in, from `candidate`
    (a `next`): a page of the space on this site that needs the person logged in; "" for
    anything else (another site, a professional's page, the login pages, the logout, the
    home page itself), so that the person lands on the home page."""
    path = same_site_path(request, candidate)
    home = reverse("portal:home")
    if path is None or not path.startswith(home):
        return ""
    # Resolving the path also refuses what a browser would turn into another page
    # ("/mon-espace/../", "%2e%2e").
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return ""
    if not getattr(match.func, "needs_person", False):
        return ""
    if match.url_name in _COME_BACK_TO_INSTEAD:
        path = reverse(_COME_BACK_TO_INSTEAD[match.url_name])
    return "" if path == home else path


def person_required(view: View) -> View:
    """For the person's own pages: a logged-in person, or to the login page, then back to
    the page asked for (for a form sent, the page that held it).

    The pages are never kept in the browser's cache, so that the back button of a shared
    computer does not show them after logout.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "person_account", None) is None:
            # A form sent after the session ended: the idle timeout says so itself; any
            # other end (a logout in another tab, identifiers changed at the office) here.
            if request.method == "POST" and not getattr(request, "person_session_expired", False):
                messages.warning(request, NOT_SAVED_LOGGED_OUT)
            next_page = page_in_space(request, page_to_come_back_to(request))
            return redirect(with_next(reverse("portal:login"), next_page))
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    wrapper.needs_person = True  # type: ignore[attr-defined]
    return portal_public(wrapper)
