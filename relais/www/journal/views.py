from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from relais.accounts.decorators import organisation_optional
from relais.accounts.models import User
from relais.audit.actions import PLATFORM_ACTIONS
from relais.audit.models import AuditEvent, AuditEventQuerySet
from relais.audit.trimming import journal_kept_months
from relais.organisations.models import Membership, Organisation
from relais.www.forms import posted_id
from relais.www.journal.details import describe
from relais.www.journal.forms import JournalFilterForm

PAGE_SIZE = 50


def _scopes_for_manager(organisation_id: int) -> list[AuditEventQuerySet]:
    """The organisation's events, and the events of its current members acting for no
    organisation (logins, second factor) since they joined it: never their acts for
    another organisation, for the whole platform (a pilot who is also a member), what they
    did before joining (at a former employer), nor what former members do after leaving."""
    members = Membership.objects.active().filter(organisation_id=organisation_id)
    since_joining = members.filter(user_id=OuterRef("actor_id"), started_on__lte=OuterRef("day"))
    return [
        AuditEvent.objects.filter(organisation_id=organisation_id),
        AuditEvent.objects.filter(
            organisation_id__isnull=True, actor_id__in=members.values("user_id")
        )
        .alias(day=TruncDate("created_at"))
        .filter(Exists(since_joining))
        .exclude(action__in=PLATFORM_ACTIONS),
    ]


def _names(users: QuerySet[User]) -> list[tuple[int, str]]:
    rows = users.order_by("last_name", "first_name").values_list("pk", "last_name", "first_name")
    return [(pk, f"{last} {first}") for pk, last, first in rows]


def _members(organisation_id: int) -> list[tuple[int, str]]:
    """Everyone who belongs or belonged to the organisation, to filter its journal by."""
    return _names(User.objects.filter(memberships__organisation_id=organisation_id).distinct())


def _newest(scopes: list[AuditEventQuerySet], size: int) -> AuditEventQuerySet:
    """The rows of all the scopes together, to be read `size` at most and newest first, in
    one query. Each scope is read newest first along its own index and stops after `size`
    rows: read as one OR, the organisation's whole journal (a row for every file opened)
    was read and sorted to show fifty rows."""
    if len(scopes) <= 1:
        return scopes[0] if scopes else AuditEvent.objects.none()
    # Each scope's statement is the ORM's own, its values passed as parameters; a derived
    # table lets each keep its ORDER BY and LIMIT inside the UNION ALL.
    quote = connection.ops.quote_name
    parts, params = [], []
    for number, scope in enumerate(scopes):
        sql, scope_params = scope.newest_first().values("seq")[:size].query.sql_with_params()
        parts.append(f"SELECT {quote('seq')} FROM ({sql}) {quote(f'scope_{number}')}")  # noqa: S608
        params.extend(scope_params)
    newest = RawSQL(" UNION ALL ".join(parts), params)  # noqa: S611
    return AuditEvent.objects.filter(seq__in=newest)


def _day_bounds(day: object, *, end: bool) -> datetime:
    moment = datetime.combine(day, time.min)  # type: ignore[call-overload]
    if end:
        moment += timedelta(days=1)
    return timezone.make_aware(moment)


def _scope_label(
    membership: Membership | None,
    organisations: list[tuple[int, str]] | None,
    form: JournalFilterForm,
) -> str:
    """Whose rows the page shows: the manager's organisation; for the pilot, the
    organisation whose journal was opened, else the whole platform (whatever organisation
    the pilot acts for, its rows are not the only ones shown)."""
    if membership is not None:
        return str(membership.organisation.name)
    if (
        organisations
        and form.is_bound
        and form.is_valid()
        and form.cleaned_data.get("organisation")
    ):
        return organisations[0][1]
    return "plateforme"


@organisation_optional
def journal(request: HttpRequest) -> HttpResponse:
    membership = getattr(request, "membership", None)
    manager = membership is not None and membership.is_manager
    if manager:
        scopes = _scopes_for_manager(membership.organisation_id)
        actors = _members(membership.organisation_id)
        organisations = None
    elif request.user.is_superuser:
        scopes = [AuditEvent.objects.all()]
        # Never every organisation nor every user of the platform: the pilot opens one's
        # journal from the list of organisations, and the filters offer that one, to be
        # lifted, and its members; the platform's journal offers the user chosen there
        # before the organisation was lifted.
        chosen = request.GET.get("organisation")
        organisations = (
            list(Organisation.objects.filter(pk=posted_id(chosen)).values_list("pk", "name"))
            if chosen
            else None
        )
        if organisations:
            actors = _members(organisations[0][0])
        else:
            chosen_actor = posted_id(request.GET.get("actor"))
            actors = _names(User.objects.filter(pk=chosen_actor)) if chosen_actor else []
    else:
        raise PermissionDenied("Réservé au responsable de la structure et au pilotage.")

    form = JournalFilterForm(
        request.GET or None,
        actors=actors,
        organisations=organisations,
        members_offered=manager or bool(organisations),
    )
    conditions = Q()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("actor"):
            conditions &= Q(actor_id=data["actor"])
        if data.get("action"):
            conditions &= Q(action=data["action"])
        if data.get("organisation"):
            conditions &= Q(organisation_id=data["organisation"])
        if data.get("start"):
            conditions &= Q(created_at__gte=_day_bounds(data["start"], end=False))
        if data.get("end"):
            conditions &= Q(created_at__lt=_day_bounds(data["end"], end=True))
    elif form.is_bound:
        scopes = []

    # Keyset pagination, as the file's access history pages: no COUNT(*) over a journal of
    # millions of rows. The page starts below row `before` inside each scope, for each to
    # stop after a page: the rows given are then paged from their newest.
    before = posted_id(request.GET.get("avant"))
    if before is not None:
        conditions &= Q(seq__lt=before)
    rows = _newest([scope.filter(conditions) for scope in scopes], PAGE_SIZE + 1)
    page = rows.page_before(None, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("avant", None)
    context = {
        "title": "Journal des accès",
        "form": form,
        "rows": list(zip(page.events, describe(page.events), strict=True)),
        "next_before": page.older,
        "not_the_newest": before is not None,
        "query": query.urlencode(),
        "scope": _scope_label(membership if manager else None, organisations, form),
        "pilot": not manager,
        "kept_months": journal_kept_months(),
    }
    return render(request, "journal/list.html", context)
