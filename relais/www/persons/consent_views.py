from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from relais.accounts.actors import actor_for
from relais.accounts.decorators import recent_second_factor_required
from relais.consent.access import FileAccess, Professional, file_access
from relais.consent.models import Block, Consent, ConsentMethod
from relais.consent.services import (
    block_add,
    block_lift,
    blocked_colleagues,
    break_glass_open,
    break_glass_preference_set,
    break_glass_unmatched,
    consent_code_check,
    consent_code_send,
    consent_grant,
    consent_revoke,
)
from relais.organisations.models import Organisation
from relais.persons.categories import Action, DataCategory
from relais.persons.services import duplicates_of
from relais.www.durations import said
from relais.www.forms import posted_id
from relais.www.organisation_choices import organisation_choices, searched
from relais.www.persons.access import access_file, professional_or_404, record_view
from relais.www.persons.forms import BreakGlassForm, ConsentForm
from relais.www.persons.views import file_context
from relais.www.templatetags.dates import date as date_format

BREAK_GLASS_IMPOSSIBLE = (
    "Aucun accès exceptionnel n'est possible pour cette identité : aucun dossier ne correspond "
    "exactement, ou la personne l'a refusé. Vérifiez l'orthographe et la date de naissance, ou "
    "créez un dossier avec son accord."
)

CODE_REFUSED = "Ce code ne correspond pas ou a expiré : envoyez-en un autre."


def _agreements_access(request: HttpRequest, person_id: int) -> tuple[Professional, FileAccess]:
    """Changing the person's agreements (consents, blocks, break-glass preference) takes
    the right to write their identity: 404 otherwise, and always under break-glass, which
    only reads."""
    pro, access = access_file(request, person_id, DataCategory.IDENTITY, Action.EDIT)
    if access.break_glass is not None:
        raise Http404("Dossier introuvable.")
    return pro, access


def _opens_to(consent: Consent, pro: Professional) -> bool:
    """Whether a live consent opens the file to the professional, as the access rule
    reads it: given to their organisation, or to them."""
    return consent.organisation_id == pro.organisation_id and consent.professional_id in (
        None,
        pro.user_id,
    )


def _closes_file(access: FileAccess, pro: Professional, consent: Consent) -> bool:
    """Whether withdrawing `consent` closes the file to the professional: it is the only
    live consent that opens it to them. Nothing else keeps these pages open: being a
    referent opens nothing by itself, and a break-glass grant only reads the file, for a
    few hours, without its agreements."""
    return [c.pk for c in access.live_consents if _opens_to(c, pro)] == [consent.pk]


def _confirm_closing(
    request: HttpRequest,
    pro: Professional,
    access: FileAccess,
    *,
    action: str,
    organisation_id: int | None = None,
    whole_organisation: bool = True,
) -> HttpResponse:
    """Before an act in the person's name that closes the file to the professional (a
    block of their organisation, the withdrawal of their last consent), a page that says
    so and asks again: nobody it shuts out could undo it."""
    record_view(request, access, DataCategory.IDENTITY)
    context = file_context(access, "consentements") | {
        "action": action,
        "organisation_id": organisation_id,
        "whole_organisation": whole_organisation,
        "organisation_name": pro.organisation_label,
    }
    return render(request, "persons/closing_confirm.html", context)


@require_http_methods(["GET", "POST"])
def consents(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's consents, blocks and break-glass preference, and recording a new
    consent with the person present."""
    pro, access = access_file(request, person_id, DataCategory.IDENTITY)
    if access.break_glass is not None:
        raise Http404("Dossier introuvable.")
    person = access.person
    if request.method == "POST" and not access.can(Action.EDIT, DataCategory.IDENTITY):
        raise Http404("Dossier introuvable.")  # as _agreements_access, on the access in hand
    # The acting organisation first, then those that follow the person or were searched.
    search, query = searched(request)
    granting = request.method == "POST" and not search.is_bound
    organisations, found = organisation_choices(
        person,
        query,
        request.POST.get("organisation"),
        first=[(pro.organisation_id, pro.organisation_label)],
    )
    form = ConsentForm(request.POST if granting else None, organisations=organisations)
    if granting and form.is_valid():
        data = form.cleaned_data
        if data["method"] == ConsentMethod.CODE and not consent_code_check(
            person=person, session=request.session, code=data["code"]
        ):
            form.add_error("code", CODE_REFUSED)
        else:
            try:
                consent_grant(
                    person=person,
                    organisation_id=data["organisation"],
                    professional_id=None,
                    categories=data["categories"],
                    purpose=data["purpose"],
                    duration=data["duration"],
                    method=data["method"],
                    recorded_by_id=pro.user_id,
                    by=actor_for(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Le consentement est enregistré.")
                return redirect("persons:consents", person_id=person.pk)
    record_view(request, access, DataCategory.IDENTITY)
    blocks = list(
        Block.objects.active().filter(person=person).select_related("organisation", "professional")
    )
    blocked_organisations = {block.organisation_id for block in blocks if block.organisation_id}
    # The organisations the person may block: not those blocked already, and the acting
    # one last, named as such, rather than first as in the list of consents.
    block_choices = [
        (pk, name)
        for pk, name in organisations
        if pk not in blocked_organisations and pk != pro.organisation_id
    ] + [(pro.organisation_id, f"{pro.organisation_label} (votre structure)")]
    context = file_context(access, "consentements") | {
        "form": form,
        "consents": Consent.objects.filter(person=person)
        .select_related("organisation", "professional")
        .order_by("-starts_at"),
        "blocks": blocks,
        "blocked_organisations": blocked_organisations,
        "blocked_professionals": {
            block.professional_id for block in blocks if block.professional_id
        },
        "block_choices": block_choices,
        "blocked_colleagues": blocked_colleagues(
            professional_ids=[block.professional_id or 0 for block in blocks],
            organisation_id=pro.organisation_id,
        ),
        "organisations": organisations,
        "search": search,
        "query": query,
        "found": found,
        "can_change": access.can(Action.EDIT, DataCategory.IDENTITY),
    }
    refused = granting or (search.is_bound and not query)
    return render(request, "persons/consents.html", context, status=400 if refused else 200)


@require_POST
def send_code(request: HttpRequest, person_id: int) -> HttpResponse:
    _, access = _agreements_access(request, person_id)
    try:
        consent_code_send(person=access.person, session=request.session, by=actor_for(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "Un code a été envoyé par SMS à la personne. Il est valable "
            f"{said(settings.RELAIS_CONSENT_CODE_VALIDITY)}.",
        )
    return redirect("persons:consents", person_id=person_id)


@require_POST
def revoke(request: HttpRequest, person_id: int, consent_id: int) -> HttpResponse:
    """Withdraw a consent in the person's name. When it is the professional's last way into
    the file, only once a page has said so, and then back to the list of persons: the file
    no longer opens to them."""
    pro, access = _agreements_access(request, person_id)
    consent = get_object_or_404(Consent, pk=consent_id, person=access.person)
    closing = _closes_file(access, pro, consent)
    if closing and request.POST.get("confirme") != "oui":
        return _confirm_closing(
            request,
            pro,
            access,
            action=reverse("persons:consent_revoke", args=[person_id, consent_id]),
            whole_organisation=not any(
                c.organisation_id == pro.organisation_id and c.pk != consent.pk
                for c in access.live_consents
            ),
        )
    try:
        consent_revoke(consent=consent, by=actor_for(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if closing:
            messages.success(
                request,
                f"Le consentement est retiré : le dossier n° {person_id} ne s'ouvre plus pour "
                "vous. Seule la personne peut vous le rouvrir, par un nouvel accord.",
            )
            return redirect("persons:list")
        messages.success(request, "Le consentement est retiré : l'accès s'arrête immédiatement.")
    return redirect("persons:consents", person_id=person_id)


def attestation(request: HttpRequest, person_id: int, consent_id: int) -> HttpResponse:
    _, access = access_file(request, person_id, DataCategory.IDENTITY)
    if access.break_glass is not None:  # break-glass reads the file, not its agreements
        raise Http404("Dossier introuvable.")
    consent = get_object_or_404(
        Consent.objects.select_related("organisation", "recorded_by"),
        pk=consent_id,
        person=access.person,
    )
    record_view(request, access, DataCategory.IDENTITY)
    return render(
        request,
        "persons/attestation.html",
        {"title": "Attestation de consentement", "person": access.person, "consent": consent},
    )


@require_POST
def blocks(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person, present, blocks (or unblocks) an organisation or a professional. A
    block of the professional's own organisation closes the file to all of it: it is made
    only once a page has said so, and leads back to the list of persons."""
    pro, access = _agreements_access(request, person_id)
    person = access.person
    if "lever" in request.POST:
        block = get_object_or_404(
            Block.objects.active(), pk=posted_id(request.POST["lever"]), person=person
        )
        code = request.POST.get("code", "").strip()
        confirmed = bool(code) and consent_code_check(
            person=person, session=request.session, code=code
        )
        if code and not confirmed:
            messages.error(request, CODE_REFUSED)
            return redirect("persons:consents", person_id=person_id)
        try:
            block_lift(block=block, by=actor_for(request), confirmed_by_code=confirmed)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Le blocage est levé.")
        return redirect("persons:consents", person_id=person_id)
    organisation_id = posted_id(request.POST.get("organisation", ""))
    if organisation_id is None or not Organisation.objects.filter(pk=organisation_id).exists():
        messages.error(request, "Choisissez la structure à bloquer.")
        return redirect("persons:consents", person_id=person_id)
    closing = organisation_id == pro.organisation_id
    if closing and request.POST.get("confirme") != "oui":
        return _confirm_closing(
            request,
            pro,
            access,
            action=reverse("persons:blocks", args=[person_id]),
            organisation_id=organisation_id,
        )
    try:
        block_add(
            person=person,
            organisation_id=organisation_id,
            professional_id=None,
            by=actor_for(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("persons:consents", person_id=person_id)
    if closing:
        messages.success(
            request,
            f"Le blocage est enregistré : le dossier n° {person_id} ne s'ouvre plus pour votre "
            "structure. Seule la personne peut lever ce blocage.",
        )
        return redirect("persons:list")
    messages.success(request, "Cette structure ne pourra plus ouvrir le dossier.")
    return redirect("persons:consents", person_id=person_id)


@require_POST
def break_glass_preference(request: HttpRequest, person_id: int) -> HttpResponse:
    _, access = _agreements_access(request, person_id)
    answer = request.POST.get("refuse")
    if answer not in ("oui", "non"):
        messages.error(request, "Indiquez si la personne refuse les accès exceptionnels.")
        return redirect("persons:consents", person_id=person_id)
    refuses = answer == "oui"
    try:
        break_glass_preference_set(person=access.person, refuses=refuses, by=actor_for(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("persons:consents", person_id=person_id)
    messages.success(
        request,
        "La personne refuse désormais les accès exceptionnels."
        if refuses
        else "La personne accepte les accès exceptionnels en cas de nécessité.",
    )
    return redirect("persons:consents", person_id=person_id)


def _until(moment: datetime) -> str:
    """When a break-glass ends, after « jusqu' »: « à 00:43 » today, « au 2 décembre à
    00:43 » on another day, in the local time zone."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return f"à {local:%H:%M}"
    return f"au {date_format(local, 'j F')} à {local:%H:%M}"


def _consented(pro: Professional, person_id: int) -> bool:
    """Whether a live consent opens the file to the professional, break-glass aside."""
    try:
        return file_access(pro, person_id).break_glass is None
    except Http404:
        return False


@require_http_methods(["GET", "POST"])
@recent_second_factor_required
def break_glass(request: HttpRequest) -> HttpResponse:
    """Open, read-only and for 4 hours, the file of a person who is present but has given
    no consent to this organisation. The person's exact identity is required: no list of
    other organisations' files is ever shown."""
    pro = professional_or_404(request)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        matches = list(
            duplicates_of(
                birth_name=data["birth_name"],
                usage_name="",
                first_names=data["first_names"],
                birth_date=data["birth_date"],
            )[:2]
        )
        grant = None
        if len(matches) == 1 and _consented(pro, matches[0].pk):
            # No exceptional access, nor its alarm to the person and the managers, for a
            # file the person's accord already opens.
            messages.info(
                request,
                "La personne a donné son accord à votre structure : son dossier s'ouvre "
                "normalement, sans accès exceptionnel.",
            )
            return redirect("persons:file", person_id=matches[0].pk)
        if len(matches) == 1:
            try:
                grant = break_glass_open(
                    person=matches[0], pro=pro, reason=data["reason"], by=actor_for(request)
                )
            except ValidationError as error:
                if "reason" in getattr(error, "error_dict", {}):
                    form.add_error("reason", error.error_dict["reason"])
        if grant is None and not form.errors:
            # One message whether no file matches or the person refused, and one journal
            # row: neither the form nor the manager's journal tells whether this person
            # has a file on Relais.
            if len(matches) != 1:
                break_glass_unmatched(reason=data["reason"], by=actor_for(request))
            form.add_error(None, BREAK_GLASS_IMPOSSIBLE)
        if grant is not None:
            messages.warning(
                request,
                f"Accès exceptionnel ouvert en lecture jusqu'{_until(grant.expires_at)}. "
                "La personne et votre responsable en sont informés.",
            )
            return redirect("persons:file", person_id=grant.person_id)
    return render(
        request,
        "persons/break_glass.html",
        {"title": "Accès exceptionnel", "form": form},
        status=400 if form.is_bound else 200,
    )
