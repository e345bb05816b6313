from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from relais.accounts.actors import actor_for
from relais.accounts.sessions import MEMBERSHIP_ID, MEMBERSHIP_SNAPSHOT
from relais.audit.actions import AuditAction
from relais.audit.services import audit_record
from relais.organisations.models import Membership, Organisation
from relais.organisations.services import organisation_switch


def _snapshot(membership: Membership) -> dict[str, Any]:
    organisation = membership.organisation
    return {
        "id": membership.pk,
        "user": membership.user_id,
        "organisation": [organisation.pk, organisation.name, organisation.kind],
        "role": membership.role,
        "profession": membership.profession,
        "period": [membership.started_on.isoformat(), _iso(membership.ended_on)],
        "stamp": membership.user.security_stamp,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _from_snapshot(snapshot: dict[str, Any]) -> Membership:
    organisation_id, name, kind = snapshot["organisation"]
    started_on, ended_on = snapshot["period"]
    return Membership(
        pk=snapshot["id"],
        user_id=snapshot["user"],
        organisation=Organisation(pk=organisation_id, name=name, kind=kind),
        role=snapshot["role"],
        profession=snapshot["profession"],
        started_on=date.fromisoformat(started_on),
        ended_on=date.fromisoformat(ended_on) if ended_on else None,
    )


def _acting_membership(request: HttpRequest, membership_id: int) -> Membership | None:
    """The membership the session acts through. Kept in the session while the user's
    security stamp is unchanged (ending a membership raises it), read from the database
    otherwise."""
    user = request.user
    snapshot = request.session.get(MEMBERSHIP_SNAPSHOT)
    if (
        snapshot is not None
        and snapshot["id"] == membership_id
        and snapshot["user"] == user.pk
        and snapshot["stamp"] == user.security_stamp  # type: ignore[union-attr]
    ):
        return _from_snapshot(snapshot)
    membership = (
        Membership.objects.select_related("organisation")
        .filter(pk=membership_id, user_id=user.pk)
        .first()
    )
    if membership is not None:
        membership.user = user  # type: ignore[assignment]
        request.session[MEMBERSHIP_SNAPSHOT] = _snapshot(membership)
    return membership


def sole_active_membership(user: Any) -> Membership | None:
    """The user's active membership when they have exactly one: nothing to choose then."""
    memberships = list(
        Membership.objects.active().filter(user_id=user.pk).select_related("organisation")[:2]
    )
    return memberships[0] if len(memberships) == 1 else None


def act_for(request: HttpRequest, membership: Membership) -> None:
    """Make the session act through `membership`, journaled as a change of organisation."""
    previous_id = request.session.get(MEMBERSHIP_ID)
    previous = (
        Membership.objects.select_related("organisation").filter(pk=previous_id).first()
        if previous_id
        else None
    )
    request.session[MEMBERSHIP_ID] = membership.pk
    request.membership = membership  # type: ignore[attr-defined]
    organisation_switch(membership=membership, previous=previous, by=actor_for(request))


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
            membership = _acting_membership(request, membership_id)
            if membership is None or not membership.is_active_on(timezone.localdate()):
                audit_record(action=AuditAction.SESSION_EXPIRED, by=actor_for(request))
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
        # Left without one when a page other than « Continuer » followed the second factor
        # (a menu link under the new recovery codes).
        membership = sole_active_membership(user)
        if membership is not None:
            act_for(request, membership)
            return None
        return redirect("accounts:choose_organisation")
