"""Markers of the person's pages.

The person's pages are outside the professionals' rules (login, second factor, acting
organisation, charter): a person has none of those. They have their own: a live person
session, set by relais.portal.middleware.PersonSessionMiddleware.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers

from relais.accounts.decorators import charter_exempt, organisation_optional, second_factor_exempt

View = Callable[..., HttpResponse]


def portal_public(view: View) -> View:
    """For the person's login pages: no session of any kind needed."""
    return charter_exempt(organisation_optional(second_factor_exempt(login_not_required(view))))


def person_required(view: View) -> View:
    """For the person's own pages: a logged-in person, or back to the login page.

    The pages are never kept in the browser's cache, so that the back button of a shared
    computer does not show them after logout.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "person_account", None) is None:
            return redirect("portal:login")
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return portal_public(wrapper)
