from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from relais.consent.charter import current_version, has_accepted

ACCEPTED_VERSION = "relais_charter_version"


class CharterAcceptanceMiddleware:
    """A professional acting for an organisation accepts the current charte d'usages
    before reaching any file. The accepted version is remembered in the session, so the
    check costs no query once done."""

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
        if request.session.get(ACCEPTED_VERSION) == version.pk:
            return None
        if has_accepted(request.user.pk, version):
            request.session[ACCEPTED_VERSION] = version.pk
            return None
        target = reverse("consent:charter")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
