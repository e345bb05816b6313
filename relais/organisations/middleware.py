from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from relais.accounts.sessions import MEMBERSHIP_ID
from relais.organisations.models import Membership


class ActingOrganisationMiddleware:
    """Every professional acts for one organisation at a time, chosen after login and
    checked on every request: a deactivated membership ends the session at once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        request.membership = None  # type: ignore[attr-defined]
        user = request.user
        if not user.is_authenticated or not user.is_verified():  # type: ignore[union-attr]
            return None
        membership_id = request.session.get(MEMBERSHIP_ID)
        if membership_id is not None:
            membership = (
                Membership.objects.select_related("organisation")
                .filter(pk=membership_id, user_id=user.pk)
                .first()
            )
            if membership is None or not membership.is_active_on(timezone.localdate()):
                logout(request)
                messages.warning(
                    request,
                    "Votre accès à cette structure a été désactivé. "
                    "Adressez-vous au responsable de la structure.",
                )
                return redirect(settings.LOGIN_URL)
            request.membership = membership  # type: ignore[attr-defined]
            return None
        if getattr(view_func, "organisation_optional", False) or getattr(
            view_func, "second_factor_exempt", False
        ):
            return None
        if user.is_superuser:
            return None
        return redirect("accounts:choose_organisation")
