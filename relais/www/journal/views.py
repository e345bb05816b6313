from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from relais.accounts.decorators import organisation_optional
from relais.accounts.models import User
from relais.audit.models import AuditEvent, AuditEventQuerySet
from relais.organisations.models import Membership, Organisation
from relais.www.forms import posted_id
from relais.www.journal.forms import JournalFilterForm

PAGE_SIZE = 50


def _events_for_manager(organisation_id: int) -> AuditEventQuerySet:
    """The organisation's events, and the events of its current members acting for no
    organisation (logins, second factor), never their acts for another organisation nor
    what former members do after leaving."""
    member_ids = (
        Membership.objects.active().filter(organisation_id=organisation_id).values("user_id")
    )
    return AuditEvent.objects.filter(
        Q(organisation_id=organisation_id)
        | Q(organisation_id__isnull=True, actor_id__in=member_ids)
    )


def _day_bounds(day: object, *, end: bool) -> datetime:
    moment = datetime.combine(day, time.min)  # type: ignore[call-overload]
    if end:
        moment += timedelta(days=1)
    return timezone.make_aware(moment)


@organisation_optional
def journal(request: HttpRequest) -> HttpResponse:
    membership = getattr(request, "membership", None)
    is_pilot = request.user.is_superuser
    if membership is not None and membership.is_manager:
        events = _events_for_manager(membership.organisation_id)
        actors = list(
            User.objects.filter(memberships__organisation_id=membership.organisation_id)
            .distinct()
            .order_by("last_name", "first_name")
            .values_list("pk", "last_name", "first_name")
        )
        organisations = None
    elif is_pilot:
        events = AuditEvent.objects.all()
        actors = []
        organisations = list(Organisation.objects.order_by("name").values_list("pk", "name"))
    else:
        raise PermissionDenied("Réservé au responsable de la structure et au pilotage.")

    form = JournalFilterForm(
        request.GET or None,
        actors=[(pk, f"{last} {first}") for pk, last, first in actors],
        organisations=organisations,
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("actor"):
            events = events.filter(actor_id=data["actor"])
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("organisation"):
            events = events.filter(organisation_id=data["organisation"])
        if data.get("start"):
            events = events.filter(created_at__gte=_day_bounds(data["start"], end=False))
        if data.get("end"):
            events = events.filter(created_at__lt=_day_bounds(data["end"], end=True))
    elif form.is_bound:
        events = events.none()

    # Keyset pagination: no COUNT(*) over a journal of millions of rows.
    before = posted_id(request.GET.get("avant"))
    if before is not None:
        events = events.filter(seq__lt=before)
    page = list(events.newest_first()[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("avant", None)
    context = {
        "title": "Journal des accès",
        "form": form,
        "events": page,
        "next_before": page[-1].seq if has_more else None,
        "query": query.urlencode(),
        "scope": "plateforme" if membership is None else membership.organisation.name,
    }
    return render(request, "journal/list.html", context)
