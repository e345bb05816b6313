from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from relais.accounts.decorators import page_to_come_back_to, with_next
from relais.consent.charter import current_version, has_accepted
from relais.consent.models import CharterVersion
from relais.organisations.models import Membership

ACCEPTED_VERSION = "relais_charter_version"


def accepted_mark(version: CharterVersion, membership: Membership) -> list[object]:
    """What the session remembers once the charter is accepted for the acting membership:
    the version and the kind and profession whose rights were accepted (a list, as the
    session stores it)."""
    return [version.pk, membership.organisation.kind, membership.profession]


class CharterAcceptanceMiddleware:
    """A professional acting for an organisation accepts the current charte d'usages, as
    it applies to their profession in that kind of organisation, before reaching any file.
    The acceptance is remembered in the session, so the check costs no query once done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if getattr(request, "membership", None) is None:
            return None
        if any(
            getattr(view_func, marker, False)
            for marker in ("organisation_optional", "second_factor_exempt", "charter_exempt")
        ):
            return None
        version = current_version()
        # The rest of the request (the access rule) reads the charter under this version.
        request.charter_version = version  # type: ignore[attr-defined]
        membership = request.membership  # type: ignore[attr-defined]
        mark = accepted_mark(version, membership)
        if request.session.get(ACCEPTED_VERSION) == mark:
            return None
        if has_accepted(
            request.user.pk, version, membership.organisation.kind, membership.profession
        ):
            request.session[ACCEPTED_VERSION] = mark
            return None
        # Back to the page asked for, or to the one that held a form sent when a new
        # version was published: the professional finds it again once the charter is accepted.
        return redirect(with_next(reverse("consent:charter"), page_to_come_back_to(request)))
