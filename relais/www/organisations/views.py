from dataclasses import replace

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relais.accounts.actors import actor_for, platform_actor
from relais.accounts.decorators import (
    manager_required,
    pilot_required,
    recent_second_factor_required,
)
from relais.accounts.services import has_second_factor, with_second_factor
from relais.audit.context import Actor
from relais.organisations.models import Invitation, Membership, Organisation
from relais.organisations.services import (
    SECOND_FACTOR_ALREADY_RESET,
    invitation_create,
    invitation_revoke,
    membership_deactivate,
    membership_second_factor_reset,
    membership_update,
    organisation_create,
    referent_links_of,
)
from relais.www.durations import said
from relais.www.forms import filters_query
from relais.www.organisations.forms import (
    InvitationForm,
    MemberRightsForm,
    OrganisationForm,
    PilotSearchForm,
)


def _get_member_for_manager(
    request: HttpRequest, membership_id: int, *, current: bool = False
) -> Membership:
    """A membership of the manager's acting organisation, or 404; with `current`, only a
    current one: a former member, who may work elsewhere now, is out of their hands."""
    memberships = Membership.objects.active() if current else Membership.objects.all()
    return get_object_or_404(
        memberships.select_related("user", "organisation"),
        pk=membership_id,
        organisation_id=request.membership.organisation_id,  # type: ignore[attr-defined]
    )


def _team_context(organisation: Organisation) -> dict[str, object]:
    memberships = list(
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "-started_on")
    )
    today = timezone.localdate()
    active = [m for m in memberships if m.is_active_on(today)]
    former = [m for m in memberships if not m.is_active_on(today)]
    invitations = list(
        Invitation.objects.pending().filter(organisation=organisation).order_by("-created_at")
    )
    # A former member is offered one new invitation, on their latest membership (the order
    # puts it first): none once back in the team, and none while one waits to be accepted.
    back = {m.user_id for m in active}
    invited = {invitation.email for invitation in invitations}
    latest: dict[int, Membership] = {}
    for membership in former:
        if membership.user_id not in back:
            latest.setdefault(membership.user_id, membership)
    return {
        "organisation": organisation,
        "active_members": active,
        "with_second_factor": with_second_factor(m.user_id for m in active),
        "former_members": former,
        "reinvitable": {m.pk for m in latest.values() if m.user.email.lower() not in invited},
        "reinvitation_pending": {m.pk for m in latest.values() if m.user.email.lower() in invited},
        "invitations": invitations,
    }


def _pilot_for(request: HttpRequest, organisation: Organisation) -> Actor:
    """The pilot acting on one organisation's team: journaled under that organisation,
    whose manager reads it, never under one the pilot may be a member of."""
    return replace(
        platform_actor(request),
        organisation_id=organisation.pk,
        organisation_label=organisation.name,
    )


def _refuse(form: Form, error: ValidationError) -> None:
    """Show a service's refusal under the fields it names. A field's own « unique »
    message replaces the model's, which Django words technically (« Un objet Structure
    avec ce champ SIRET existe déjà. »)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        field = form.fields.get(name)
        if field is None:
            form.add_error(None, errors)
            continue
        unique = field.error_messages.get("unique")
        form.add_error(
            name,
            [
                ValidationError(unique, code="unique") if unique and e.code == "unique" else e
                for e in errors
            ],
        )


def _invite(
    request: HttpRequest, organisation: Organisation, form: InvitationForm, *, by: Actor
) -> bool:
    try:
        invitation_create(
            organisation=organisation,
            invited_by=request.user,  # type: ignore[arg-type]
            by=by,
            **form.cleaned_data,
        )
    except ValidationError as error:
        _refuse(form, error)
        return False
    messages.success(
        request,
        f"Invitation envoyée à {form.cleaned_data['email']}. Le lien est valable "
        f"{said(settings.RELAIS_INVITATION_VALIDITY)}.",
    )
    return True


@manager_required
def members(request: HttpRequest) -> HttpResponse:
    organisation = request.membership.organisation  # type: ignore[attr-defined]
    context = _team_context(organisation) | {"title": "Équipe", "form": InvitationForm()}
    return render(request, "organisations/members.html", context)


@manager_required
@require_GET
def reinvite(request: HttpRequest, membership_id: int) -> HttpResponse:
    """A former member's access comes back the way anyone's begins, through an
    invitation: the team page with the form filled in as they left, to check and send."""
    membership = _get_member_for_manager(request, membership_id)
    if membership.is_active_on(timezone.localdate()):
        raise Http404
    user = membership.user
    form = InvitationForm(
        initial={
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": membership.role,
            "profession": membership.profession,
        }
    )
    context = _team_context(membership.organisation) | {
        "title": f"Réinviter {user.get_full_name()}",
        "form": form,
        "reinvited": membership,
    }
    return render(request, "organisations/members.html", context)


@manager_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    organisation = request.membership.organisation  # type: ignore[attr-defined]
    form = InvitationForm(request.POST)
    if form.is_valid() and _invite(request, organisation, form, by=actor_for(request)):
        return redirect("organisations:members")
    context = _team_context(organisation) | {"title": "Équipe", "form": form}
    return render(request, "organisations/members.html", context, status=400)


@manager_required
@require_http_methods(["GET", "POST"])
def edit_member(request: HttpRequest, membership_id: int) -> HttpResponse:
    """A member's role and profession, which decide their rights under the charter."""
    membership = _get_member_for_manager(request, membership_id, current=True)
    form = MemberRightsForm(
        request.POST if request.method == "POST" else None,
        initial={"role": membership.role, "profession": membership.profession},
    )
    if form.is_valid():
        try:
            changed = membership_update(
                membership=membership, by=actor_for(request), **form.cleaned_data
            )
        except ValidationError as error:
            _refuse(form, error)
        else:
            return _member_updated(request, membership, changed=changed)
    context = {
        "title": f"Modifier {membership.user.get_full_name()}",
        "membership": membership,
        "form": form,
    }
    return render(
        request, "organisations/member_edit.html", context, status=400 if form.is_bound else 200
    )


def _member_updated(request: HttpRequest, membership: Membership, *, changed: bool) -> HttpResponse:
    name = membership.user.get_full_name()
    if not changed:
        messages.info(request, f"Rien n'a changé : {name} a déjà ce rôle et cette profession.")
        return redirect("organisations:members")
    messages.success(
        request,
        f"Le rôle et la profession de {name} sont modifiés : {membership.get_role_display()}, "
        f"{membership.profession_label}. Ses nouveaux droits s'appliquent dès sa prochaine "
        "action sur Relais.",
    )
    if membership.user_id == request.user.pk and not membership.is_manager:
        # The team page is the managers' own: one who has just left the role goes home.
        return redirect("www:home")
    return redirect("organisations:members")


# The field only the confirmation page's « Confirmer » sends.
CONFIRMATION_FIELD = "confirme"


def _confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get(CONFIRMATION_FIELD) == "oui"


def _ask_confirmation(
    request: HttpRequest, template: str, membership: Membership, **extra: object
) -> HttpResponse:
    """The page naming the colleague and what the action does to them. A POST that did
    not come from its « Confirmer » (a page left open before, a replayed request) is
    answered with it, and nothing is done."""
    context = {
        "membership": membership,
        "confirmation_field": CONFIRMATION_FIELD,
        "unconfirmed": request.method == "POST",
        **extra,
    }
    return render(request, template, context, status=400 if request.method == "POST" else 200)


@manager_required
@require_http_methods(["GET", "POST"])
def deactivate(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Asked on a page of its own, then confirmed: it closes the colleague's sessions and
    their access to the organisation's files, too much for one stray click."""
    confirmed = _confirmed(request)
    # A confirmation sent twice still reaches the service, which says it is done already.
    membership = _get_member_for_manager(request, membership_id, current=not confirmed)
    if not confirmed:
        # A count, not the files' names: the page is about the colleague, not the persons.
        return _ask_confirmation(
            request,
            "organisations/deactivate_confirm.html",
            membership,
            followed=referent_links_of(membership).count(),
        )
    try:
        followed = membership_deactivate(membership=membership, by=actor_for(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        name = membership.user.get_full_name()
        no_longer_referent = (
            f" {name} n'est plus référent(e) de {followed} dossier{pluralize(followed)}."
            if followed
            else ""
        )
        messages.success(
            request,
            f"{name} n'a plus accès à la structure. Ses sessions en cours sont fermées."
            + no_longer_referent,
        )
    return redirect("organisations:members")


@manager_required
@require_http_methods(["GET", "POST"])
@recent_second_factor_required
def reset_second_factor(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Asked, then confirmed, like a deactivation: it closes the colleague's sessions."""
    membership = _get_member_for_manager(request, membership_id, current=True)
    if membership.user.is_superuser:
        # The pilot holds the whole platform: no organisation's manager lowers its guard.
        messages.error(
            request,
            "Le second facteur d'un compte de pilotage ne se réinitialise pas depuis une "
            "structure : adressez-vous à l'exploitant de la plateforme.",
        )
        return redirect("organisations:members")
    if not _confirmed(request):
        if not has_second_factor(membership.user):
            # Nothing to confirm: said as the service says it to a confirmation sent again.
            name = membership.user.get_full_name()
            messages.error(request, SECOND_FACTOR_ALREADY_RESET.format(name=name))
            return redirect("organisations:members")
        return _ask_confirmation(
            request, "organisations/second_factor_reset_confirm.html", membership
        )
    try:
        membership_second_factor_reset(membership=membership, by=actor_for(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Le second facteur de {membership.user.get_full_name()} est réinitialisé : "
            "un nouveau lui sera demandé à sa prochaine connexion.",
        )
    return redirect("organisations:members")


@manager_required
@require_POST
def revoke_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    # Any invitation of the organisation, pending or not: one accepted since the page was
    # shown is refused with its reason rather than as a page not found.
    invitation = get_object_or_404(
        Invitation,
        pk=invitation_id,
        organisation_id=request.membership.organisation_id,  # type: ignore[attr-defined]
    )
    _revoke(request, invitation, by=actor_for(request))
    return redirect("organisations:members")


def _revoke(request: HttpRequest, invitation: Invitation, *, by: Actor) -> None:
    try:
        invitation_revoke(invitation=invitation, by=by)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "L'invitation est annulée.")


# Organisations per page of the pilot's list.
PILOT_PAGE_SIZE = 50


def _searched_organisations(form: PilotSearchForm) -> QuerySet[Organisation]:
    data = form.cleaned_data
    organisations = Organisation.objects.all()
    if data["departement"]:
        organisations = organisations.filter(departement=data["departement"])
    query = data["q"].strip()
    if query:
        matches = Q(name__icontains=query) | Q(commune_name__icontains=query)
        digits = query.replace(" ", "")
        if digits.isdigit():
            matches |= Q(siret__startswith=digits)
        organisations = organisations.filter(matches)
    return organisations


@pilot_required
def pilot_list(request: HttpRequest) -> HttpResponse:
    """The platform's organisations, a page at a time, searched by name, town or SIRET
    and by département; each with its active members, counted for that page only."""
    departements = list(
        Organisation.objects.order_by("departement")
        .values_list("departement", flat=True)
        .distinct()
    )
    form = PilotSearchForm(request.GET, departements=departements)
    rows: list[Organisation] = []
    page = 1
    if form.is_valid():
        page = form.cleaned_data["page"] or 1
        rows = list(
            _searched_organisations(form).order_by("departement", "name", "pk")[
                (page - 1) * PILOT_PAGE_SIZE : page * PILOT_PAGE_SIZE + 1
            ]
        )
    organisations = rows[:PILOT_PAGE_SIZE]
    counts = dict(
        Membership.objects.active()
        .filter(organisation__in=organisations)
        .order_by()
        .values("organisation_id")
        .annotate(count=Count("pk"))
        .values_list("organisation_id", "count")
    )
    for organisation in organisations:
        organisation.member_count = counts.get(organisation.pk, 0)  # type: ignore[attr-defined]
    context = {
        "title": "Structures",
        "form": form,
        "organisations": organisations,
        "page": page,
        "has_next": len(rows) > PILOT_PAGE_SIZE,
        "query": filters_query(form.data),
    }
    return render(request, "organisations/pilot_list.html", context)


@pilot_required
@require_http_methods(["GET", "POST"])
def pilot_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            organisation = organisation_create(by=platform_actor(request), **form.cleaned_data)
        except ValidationError as error:
            _refuse(form, error)
        else:
            messages.success(request, f"La structure {organisation.name} est créée.")
            return redirect("organisations:pilot_detail", organisation_id=organisation.pk)
    return render(
        request,
        "organisations/pilot_create.html",
        {"title": "Nouvelle structure", "form": form},
        status=400 if form.is_bound else 200,
    )


@pilot_required
@require_http_methods(["GET", "POST"])
def pilot_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    form = InvitationForm(
        request.POST if request.method == "POST" else None, initial={"role": "responsable"}
    )
    if form.is_valid() and _invite(
        request, organisation, form, by=_pilot_for(request, organisation)
    ):
        return redirect("organisations:pilot_detail", organisation_id=organisation.pk)
    context = _team_context(organisation) | {"title": organisation.name, "form": form}
    return render(
        request, "organisations/pilot_detail.html", context, status=400 if form.is_bound else 200
    )


@pilot_required
@require_POST
def pilot_revoke_invitation(
    request: HttpRequest, organisation_id: int, invitation_id: int
) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation.objects.select_related("organisation"),
        pk=invitation_id,
        organisation_id=organisation_id,
    )
    _revoke(request, invitation, by=_pilot_for(request, invitation.organisation))
    return redirect("organisations:pilot_detail", organisation_id=organisation_id)
