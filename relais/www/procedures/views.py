"""The procedures (démarches) pages: a person's procedures, one procedure with its state,
steps and checklist, the professional's and the organisation's lists, and the catalogue
with its printable easy-to-read guides."""

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import (
    Prefetch,
    Q,
    prefetch_related_objects,
)
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from relais.accounts.actors import actor_for, platform_actor
from relais.accounts.decorators import manager_required, pilot_required
from relais.consent.access import FileAccess, Professional
from relais.documents.models import Document, DocumentKind, category_of
from relais.persons.categories import Action, DataCategory
from relais.procedures import catalogue, services
from relais.procedures.checklist import Situation, contradicted, housing_status, situation_of
from relais.procedures.measures import (
    autonomy_by_period,
    completeness,
    completeness_day,
    document_category,
    handling_times,
    missing_in_plain_words,
)
from relais.procedures.models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    Procedure,
    ProcedureCategory,
    ProcedureQuerySet,
    ProcedureStatus,
    ProcedureStep,
    ProcedureTransition,
    ProcedureType,
    RequiredDocument,
)
from relais.www.forms import filters_query
from relais.www.persons.access import (
    access_file,
    professional_or_404,
    record_list_view,
    record_view,
)
from relais.www.persons.views import file_context
from relais.www.procedures import forms

PAGE_SIZE = 20
PROCEDURES = DataCategory.PROCEDURES


def _procedure(access: FileAccess, procedure_id: int) -> Procedure:
    procedure = get_object_or_404(
        Procedure.objects.select_related("procedure_type", "organisation"),
        pk=procedure_id,
        person=access.person,
    )
    procedure.person = access.person
    return procedure


def _status_badge(status: str) -> str:
    """The DSFR badge colour of a state: success for granted, error for refused…"""
    return {
        ProcedureStatus.GRANTED: "success",
        ProcedureStatus.REFUSED: "error",
        ProcedureStatus.MISSING_DOCUMENTS: "warning",
        ProcedureStatus.SUBMITTED: "info",
        ProcedureStatus.AWAITING: "info",
        ProcedureStatus.APPEAL: "new",
    }.get(ProcedureStatus(status), "")


def _annotate(procedure: Procedure, situation: Situation) -> Procedure:
    """What the lists show of each procedure, taken from its prefetched checklist; a
    procedure with no document to bring has no rate to show."""
    has_checklist = bool(procedure.checklist.all())
    procedure.measure = (  # type: ignore[attr-defined]
        completeness(procedure, situation=situation) if has_checklist else None
    )
    procedure.badge = _status_badge(procedure.status)  # type: ignore[attr-defined]
    return procedure


def _step_initial(step: ProcedureStep | None) -> dict[str, Any]:
    """A step already recorded is corrected from what was recorded."""
    if step is None:
        return {}
    return {"autonomy": step.autonomy, "reason": step.reason, "done_on": step.done_on}


def _situation(access: FileAccess, items: list[RequiredDocument]) -> Situation:
    """What the checklists may use of the file: only what the reader may read."""
    return situation_of(
        access.person.nationality,
        lambda: housing_status(access.person.pk),
        readable=access.readable_categories(),
        conditions=[item.condition for item in items],
    )


def _with_checklist(procedures: ProcedureQuerySet) -> ProcedureQuerySet:
    return procedures.select_related("procedure_type", "organisation").prefetch_related(
        "checklist__document"
    )


# A person's procedures.


def _types() -> list[ProcedureType]:
    return list(
        ProcedureType.objects.active()
        .only("pk", "title", "organisme", "category")
        .order_by("category", "title")
    )


def _person_context(access: FileAccess, open_form: forms.OpenForm | None) -> dict[str, object]:
    rows = list(
        _with_checklist(Procedure.objects.for_person(access.person.pk)).order_by(
            "-requested_on", "-pk"
        )
    )
    situation = _situation(access, [item for p in rows for item in p.checklist.all()])
    procedures = [_annotate(p, situation) for p in rows]
    points = autonomy_by_period(access.person.pk, months=12)
    periods = [
        {
            "point": point,
            # The study's concern: the share of the steps done in place of the person,
            # rounded to the nearest, not down, which would always flatter it.
            "for_person_share": round(point.for_person * 100 / point.total)
            if point.total
            else None,
        }
        for point in points
    ]
    return file_context(access, PROCEDURES) | {
        "open_procedures": [p for p in procedures if p.status in OPEN_STATUSES],
        "closed_procedures": [p for p in procedures if p.status not in OPEN_STATUSES],
        "periods": periods,
        "autonomy_recorded": any(point.total for point in points),
        "open_form": open_form,
    }


def person_procedures(request: HttpRequest, person_id: int) -> HttpResponse:
    _, access = access_file(request, person_id, PROCEDURES)
    record_view(request, access, PROCEDURES)
    open_form = forms.OpenForm(types=_types()) if access.can(Action.EDIT, PROCEDURES) else None
    return render(request, "procedures/person.html", _person_context(access, open_form))


@require_POST
def procedure_open(request: HttpRequest, person_id: int) -> HttpResponse:
    _, access = access_file(request, person_id, PROCEDURES, Action.EDIT)
    form = forms.OpenForm(request.POST, types=_types())
    if form.is_valid():
        try:
            procedure = services.procedure_open(
                person=access.person,
                procedure_type=form.cleaned_data["procedure_type"],
                organisation=request.membership.organisation,  # type: ignore[attr-defined]
                due_on=form.cleaned_data["due_on"],
                by=actor_for(request),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"La démarche « {procedure} » est ouverte.")
            return redirect("procedures:detail", person_id=person_id, procedure_id=procedure.pk)
    # The refused form comes back on the page of the person's procedures: a read too.
    record_view(request, access, PROCEDURES)
    context = _person_context(access, form) | {"form": form}
    return render(request, "procedures/person.html", context, status=400)


# One procedure.


def _document_categories(access: FileAccess) -> list[str]:
    return [c for c in (DataCategory.DOCUMENTS, DataCategory.HEALTH) if access.can(Action.VIEW, c)]


def _may_handle(access: FileAccess, item: RequiredDocument) -> bool:
    """A checklist line is linked, unlinked or marked « non concerné(e) » only by someone
    who may read both its kind of document and the document linked to it: marking it
    detaches that document."""
    return access.can(Action.VIEW, category_of(item.kind)) and (
        item.attached is None or access.can(Action.VIEW, item.attached.category)
    )


def _linkable(item: RequiredDocument, by_kind: dict[str, list[Document]]) -> list[Document]:
    """The documents a checklist line may take: its own kind, and the « autre pièce »
    documents, which the service accepts for any line."""
    others = by_kind.get(DocumentKind.OTHER, []) if item.kind != DocumentKind.OTHER else []
    return by_kind.get(item.kind, []) + others


def _appeal(transitions: list[ProcedureTransition]) -> dict[str, Any] | None:
    """The procedure's last appeal, from its history: the move that lodged it and, once
    the organisme answered, the move that ended it (its outcome, on its own day)."""
    lodged = [
        index
        for index, transition in enumerate(transitions)
        if transition.to_status == ProcedureStatus.APPEAL
    ]
    if not lodged:
        return None
    later = transitions[lodged[-1] + 1 :]
    return {"lodged": transitions[lodged[-1]], "outcome": later[0] if later else None}


def _detail_context(
    access: FileAccess, procedure: Procedure, bound: dict[str, Form] | None = None
) -> dict[str, Any]:
    """Everything the procedure's page shows; `bound` holds a refused form, by prefix, so
    that it comes back with its errors in place of the empty one."""
    bound = bound or {}
    can_edit = access.can(Action.EDIT, PROCEDURES)
    prefetch_related_objects(
        [procedure],
        Prefetch(
            "checklist",
            queryset=RequiredDocument.objects.select_related(
                "document"
            ).with_not_concerned_choice(),
        ),
    )
    checklist = list(procedure.checklist.all())
    situation = _situation(access, checklist)
    measure = completeness(procedure, situation=situation)
    missing = {item.pk for item in measure.missing}
    expired = {item.pk for item in measure.expired}
    not_needed = {item.pk for item in measure.not_needed}
    conditional = {item.pk for item in measure.conditional}
    others_of = {
        item.pk: [other for other in unit if other != item]
        for unit in measure.alternatives
        for item in unit
    }

    readable = _document_categories(access)
    documents_by_kind: dict[str, list[Document]] = {}
    if can_edit and readable and checklist:
        for document in (
            Document.objects.filter(
                person=access.person,
                kind__in={item.kind for item in checklist} | {DocumentKind.OTHER},
            )
            .present()
            .in_categories(readable)
            .order_by("kind", "-issued_on", "-pk")
        ):
            documents_by_kind.setdefault(document.kind, []).append(document)
    lines = []
    # The categories of the person's documents this page shows: of each line it shows,
    # and of the documents it offers to link.
    shown_categories: set[str] = set()
    for item in checklist:
        # Decided by the linked document's own category, as « Ce qui manque » decides it:
        # an « autre pièce » may stand on a health line. A line outside the reader's
        # access tells nothing, not even its kind, which may say the person's health.
        if not access.can(Action.VIEW, document_category(item)):
            lines.append({"item": item, "readable": False})
            continue
        linkable = can_edit and _may_handle(access, item)
        prefix = f"piece-{item.pk}"
        offered = _linkable(item, documents_by_kind) if linkable else []
        # A line tells something of the person in its category even with no document:
        # « certificat médical, si vous avez une maladie longue » and whether it is
        # missing, or that the person is not concerned by it.
        shown_categories.add(document_category(item))
        shown_categories.update(document.category for document in offered)
        lines.append(
            {
                "item": item,
                "readable": True,
                "document": item.attached,
                # Linked since the day the list is judged on: it counts from its own day.
                "later": item.attached is not None and not item.attached.existed_on(measure.day),
                "state": "non_concerne"
                if item.not_applicable
                else "pas_necessaire"
                if item.pk in not_needed
                else "selon_situation"
                if item.pk in conditional
                else "expiree"
                if item.pk in expired
                else "manquante"
                if item.pk in missing
                else "valide",
                "form": bound.get(prefix)
                or forms.LinkForm(
                    prefix=prefix,
                    documents=offered,
                    line=item,
                    day=measure.day,
                    initial={"document": item.attached.pk if item.attached else None},
                ),
                "linkable": linkable,
                # Why the line is not needed: the file says so, or another of its group is
                # valid.
                "from_file": contradicted(item.condition, situation),
                # The other lines of its group the reader may read, one of which is enough.
                "alternatives": [
                    other
                    for other in others_of.get(item.pk, [])
                    if access.can(Action.VIEW, document_category(other))
                ],
                "not_applicable_form": bound.get(f"non-concerne-{item.pk}"),
            }
        )

    done = {step.step_index: step for step in procedure.steps_done.all()}
    steps = [
        {
            "index": index,
            "text": text,
            "done": done.get(index),
            "form": bound.get(f"etape-{index}")
            or forms.StepForm(
                prefix=f"etape-{index}",
                number=index + 1,
                initial=_step_initial(done.get(index)),
            ),
        }
        for index, text in enumerate(procedure.steps)
    ]
    allowed = procedure.allowed_transitions()
    moves = [s for s in allowed if s not in DECIDED_STATUSES]
    transitions = list(procedure.transitions.all())
    return file_context(access, PROCEDURES) | {
        "procedure": procedure,
        "badge": _status_badge(procedure.status),
        "transitions": transitions,
        "appeal": _appeal(transitions),
        "steps": steps,
        "checklist": lines,
        "measure": measure,
        "missing": missing_in_plain_words(measure, readable_categories=readable),
        "checking_day": measure.day,
        "move_form": bound.get("etat") or forms.MoveForm(prefix="etat", allowed=moves),
        "move_choices": [(s.value, s.label) for s in ProcedureStatus if s in moves],
        "grant_form": (bound.get("accord") or forms.GrantForm(prefix="accord"))
        if ProcedureStatus.GRANTED in allowed
        else None,
        "refusal_form": (bound.get("refus") or forms.RefusalForm(prefix="refus"))
        if ProcedureStatus.REFUSED in allowed
        else None,
        "dates_form": bound.get("dates")
        or forms.DatesForm(
            prefix="dates",
            initial={"requested_on": procedure.requested_on, "due_on": procedure.due_on},
        ),
        "documents_readable": bool(readable),
        "documents_categories": sorted(shown_categories),
        "can_upload": access.can(Action.EDIT, DataCategory.DOCUMENTS),
    }


def _detail_page(
    request: HttpRequest,
    pro: Professional,
    access: FileAccess,
    procedure: Procedure,
    bound: dict[str, Form] | None = None,
    *,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The procedure's page, journalled as a read of the procedures and of the categories
    of the checklist lines it shows and of the documents it offers — after a refused form
    too, which shows the file again."""
    context = _detail_context(access, procedure, bound) | (extra or {})
    for category in (PROCEDURES, *context["documents_categories"]):
        record_view(request, access, category)
    return render(request, "procedures/detail.html", context, status=status)


def procedure_detail(request: HttpRequest, person_id: int, procedure_id: int) -> HttpResponse:
    pro, access = access_file(request, person_id, PROCEDURES)
    return _detail_page(request, pro, access, _procedure(access, procedure_id))


def _refused(
    request: HttpRequest,
    pro: Professional,
    access: FileAccess,
    procedure: Procedure,
    prefix: str,
    form: Form,
    heading: str,
) -> HttpResponse:
    """The page again with the refused form in place of its empty one, and at the top the
    summary of its errors under `heading`, which says what was not recorded. As `form`,
    it also gives the page's title its « Erreur — »."""
    refused = {"heading": heading, "anchor": f"{prefix}-erreurs"}
    return _detail_page(
        request,
        pro,
        access,
        procedure,
        {prefix: form},
        status=400,
        extra={"form": form, "refused": refused},
    )


def _add_errors(form: Form, error: ValidationError) -> None:
    """The service's messages on the form's fields when it names them, above the form
    otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def _attempt(form: Form, call: Callable[[], object]) -> bool:
    """Run the service; a refusal becomes the form's error and nothing is changed."""
    try:
        call()
    except ValidationError as error:
        _add_errors(form, error)
        return False
    return True


def _back(procedure: Procedure) -> HttpResponse:
    return redirect("procedures:detail", person_id=procedure.person_id, procedure_id=procedure.pk)


def _incomplete_deposit(
    request: HttpRequest, access: FileAccess, procedure: Procedure, form: forms.MoveForm
) -> HttpResponse | None:
    """A deposit with papers still missing on its day is asked to be confirmed first,
    naming them: the organisme may refuse an incomplete file. Nothing is recorded until
    « Déposer quand même » sends the move again, confirmed. None when nothing is missing."""
    prefetch_related_objects(
        [procedure],
        Prefetch("checklist", queryset=RequiredDocument.objects.select_related("document")),
    )
    checklist = list(procedure.checklist.all())
    on = form.cleaned_data["on"]
    measure = completeness(procedure, on=on, situation=_situation(access, checklist))
    if measure.is_complete:
        return None
    readable = _document_categories(access)
    # The page names the missing papers it may name: a read of their categories.
    named = {document_category(item) for item in (*measure.missing, *measure.expired)}
    for category in (PROCEDURES, *sorted(named & set(readable))):
        record_view(request, access, category)
    context = file_context(access, PROCEDURES)
    context |= {
        "title": f"Dépôt d'un dossier incomplet — {context['title']}",
        "procedure": procedure,
        "measure": measure,
        "missing": missing_in_plain_words(measure, readable_categories=readable),
        "to_status": ProcedureStatus.SUBMITTED.value,
        "on": on,
        "comment": form.cleaned_data["comment"],
    }
    return render(request, "procedures/confirm_deposit.html", context)


_UNRECORDED = {
    "etat": "Le changement d'état n'est pas enregistré",
    "accord": "L'accord n'est pas enregistré",
    "refus": "Le refus n'est pas enregistré",
}


@require_POST
def procedure_transition(request: HttpRequest, person_id: int, procedure_id: int) -> HttpResponse:
    pro, access = access_file(request, person_id, PROCEDURES, Action.EDIT)
    procedure = _procedure(access, procedure_id)
    allowed = procedure.allowed_transitions()
    chosen = request.POST.get("formulaire")
    form: Form
    fields: dict[str, Any]
    if chosen == "accord" and ProcedureStatus.GRANTED in allowed:
        form = forms.GrantForm(request.POST, prefix="accord")
        valid = form.is_valid()
        fields = {"to_status": ProcedureStatus.GRANTED}
        if valid:
            fields |= {
                "amount_granted": form.cleaned_data["amount_granted"],
                "rights_start_on": form.cleaned_data["rights_start_on"],
            }
    elif chosen == "refus" and ProcedureStatus.REFUSED in allowed:
        form = forms.RefusalForm(request.POST, prefix="refus")
        valid = form.is_valid()
        fields = {"to_status": ProcedureStatus.REFUSED}
        if valid:
            fields["refusal_reason"] = form.cleaned_data["refusal_reason"]
    else:
        chosen = "etat"
        form = forms.MoveForm(
            request.POST, prefix="etat", allowed=[s for s in allowed if s not in DECIDED_STATUSES]
        )
        valid = form.is_valid()
        fields = {"to_status": form.cleaned_data.get("to_status")} if valid else {}
        if (
            valid
            and fields["to_status"] == ProcedureStatus.SUBMITTED
            and not form.cleaned_data["confirmed"]
        ):
            confirmation = _incomplete_deposit(request, access, procedure, form)
            if confirmation is not None:
                return confirmation
    if valid and _attempt(
        form,
        lambda: services.procedure_transition(
            procedure=procedure,
            on=form.cleaned_data["on"],
            comment=form.cleaned_data["comment"],
            by=actor_for(request),
            **fields,
        ),
    ):
        label = ProcedureStatus(fields["to_status"]).label
        messages.success(request, f"La démarche est passée à l'état « {label} ».")
        return _back(procedure)
    return _refused(
        request, pro, access, _procedure(access, procedure_id), chosen, form, _UNRECORDED[chosen]
    )


@require_POST
def procedure_step(
    request: HttpRequest, person_id: int, procedure_id: int, step_index: int
) -> HttpResponse:
    pro, access = access_file(request, person_id, PROCEDURES, Action.EDIT)
    procedure = _procedure(access, procedure_id)
    if step_index >= len(procedure.steps):
        raise Http404("Étape introuvable.")
    prefix = f"etape-{step_index}"
    form = forms.StepForm(request.POST, prefix=prefix, number=step_index + 1)
    if form.is_valid() and _attempt(
        form,
        lambda: services.procedure_step_record(
            procedure=procedure,
            step_index=step_index,
            autonomy=form.cleaned_data["autonomy"],
            reason=form.cleaned_data["reason"],
            done_on=form.cleaned_data["done_on"],
            by=actor_for(request),
        ),
    ):
        messages.success(request, f"L'étape {step_index + 1} est enregistrée.")
        return _back(procedure)
    return _refused(
        request,
        pro,
        access,
        procedure,
        prefix,
        form,
        f"L'étape {step_index + 1} n'est pas enregistrée",
    )


def _requirement(procedure: Procedure, requirement_id: int) -> RequiredDocument:
    item = get_object_or_404(
        RequiredDocument.objects.select_related("document"),
        pk=requirement_id,
        procedure=procedure,
    )
    item.procedure = procedure
    return item


@require_POST
def checklist_link(
    request: HttpRequest, person_id: int, procedure_id: int, requirement_id: int
) -> HttpResponse:
    pro, access = access_file(request, person_id, PROCEDURES, Action.EDIT)
    procedure = _procedure(access, procedure_id)
    item = _requirement(procedure, requirement_id)
    if not _may_handle(access, item):
        raise Http404("Pièce introuvable.")
    documents = (
        Document.objects.filter(person=access.person, kind__in=[item.kind, DocumentKind.OTHER])
        .present()
        .in_categories(_document_categories(access))
        .order_by("-pk")
    )
    prefix = f"piece-{item.pk}"
    form = forms.LinkForm(
        request.POST,
        prefix=prefix,
        documents=documents,
        line=item,
        day=completeness_day(procedure),
    )
    if form.is_valid() and _attempt(
        form,
        lambda: services.checklist_link(
            item=item, document=form.cleaned_data["document"], by=actor_for(request)
        ),
    ):
        if form.cleaned_data["document"] is None:
            messages.success(request, f"La pièce « {item} » est détachée de la démarche.")
        else:
            messages.success(request, f"La pièce « {item} » est rattachée à la démarche.")
        return _back(procedure)
    heading = f"La pièce pour « {item} » n'est pas enregistrée"
    return _refused(request, pro, access, procedure, prefix, form, heading)


@require_POST
def checklist_not_applicable(
    request: HttpRequest, person_id: int, procedure_id: int, requirement_id: int
) -> HttpResponse:
    pro, access = access_file(request, person_id, PROCEDURES, Action.EDIT)
    procedure = _procedure(access, procedure_id)
    item = _requirement(procedure, requirement_id)
    if not _may_handle(access, item):
        raise Http404("Pièce introuvable.")
    form = forms.NotApplicableForm(request.POST)
    if form.is_valid() and _attempt(
        form,
        lambda: services.checklist_mark_not_applicable(
            item=item, not_applicable=form.cleaned_data["not_applicable"], by=actor_for(request)
        ),
    ):
        messages.success(request, f"La liste des pièces est mise à jour : « {item} ».")
        return _back(procedure)
    heading = f"La liste des pièces n'est pas mise à jour pour « {item} »"
    return _refused(request, pro, access, procedure, f"non-concerne-{item.pk}", form, heading)


@require_POST
def procedure_update(request: HttpRequest, person_id: int, procedure_id: int) -> HttpResponse:
    pro, access = access_file(request, person_id, PROCEDURES, Action.EDIT)
    procedure = _procedure(access, procedure_id)
    form = forms.DatesForm(request.POST, prefix="dates")
    if form.is_valid() and _attempt(
        form,
        lambda: services.procedure_update(
            procedure=procedure, by=actor_for(request), **form.cleaned_data
        ),
    ):
        messages.success(request, "Les dates de la démarche sont enregistrées.")
        return _back(procedure)
    return _refused(
        request,
        pro,
        access,
        _procedure(access, procedure_id),
        "dates",
        form,
        "Les dates ne sont pas enregistrées",
    )


# Lists across files.


def _filtered(
    pro: Professional, procedures: ProcedureQuerySet, form: forms.FilterForm
) -> ProcedureQuerySet:
    if not form.is_valid():
        return procedures.none()
    data = form.cleaned_data
    if data["etat"] == "ouvertes":
        procedures = procedures.open()
    elif data["etat"]:
        procedures = procedures.filter(status=data["etat"])
    if data["echeance"] is not None:
        procedures = procedures.due_within(data["echeance"])
    if data["pieces_manquantes"]:
        procedures = procedures.with_missing_documents(pro)
    if data["attente"] is not None:
        procedures = procedures.waiting_longer_than(data["attente"])
    return procedures


def _row_situation(procedure: Procedure) -> Situation:
    """A list row's situation, from what its own query read of the file under the rule."""
    readable = [
        category
        for category, flag in (
            (DataCategory.IDENTITY, procedure.identity_readable),  # type: ignore[attr-defined]
            (DataCategory.HOUSING, procedure.housing_readable),  # type: ignore[attr-defined]
        )
        if flag
    ]
    return situation_of(
        procedure.person.nationality,
        lambda: procedure.housing_status,  # type: ignore[attr-defined]
        readable=readable,
        conditions=[item.condition for item in procedure.checklist.all()],
    )


def _page(
    pro: Professional, procedures: ProcedureQuerySet, form: forms.FilterForm
) -> dict[str, object]:
    """One page of the list, with no COUNT(*): one row more tells whether a next page
    exists. Each row reads, in the list's query, the parts of the file its checklist may
    use that the professional may read."""
    page = (form.cleaned_data.get("page") if form.is_valid() else None) or 1
    rows = list(
        _with_checklist(procedures.select_related("person"))
        .with_situation(pro)
        .deadlines_first()[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    return {
        "procedures": [_annotate(p, _row_situation(p)) for p in rows[:PAGE_SIZE]],
        "form": form,
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        # The filters in force, the default ones included.
        "query": filters_query(form.data),
    }


def _filter_form(request: HttpRequest, default_status: str) -> forms.FilterForm:
    """The filters are always bound: without a query string, the list's default ones."""
    return forms.FilterForm(request.GET or {"etat": default_status})


def mine(request: HttpRequest) -> HttpResponse:
    """The procedures of the persons the professional may see; by default those in
    progress, the nearest deadline still to meet first."""
    pro = professional_or_404(request)
    form = _filter_form(request, "ouvertes")
    procedures = _filtered(pro, Procedure.objects.visible_to_professional(pro), form)
    context = _page(pro, procedures, form) | {"title": "Mes démarches", "mine": True}
    _record_list(request, pro, context, "mes_demarches")
    return render(request, "procedures/list.html", context)


@manager_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    """Every procedure the organisation tracks that the manager may see under the rule,
    with the median times to handle and to decide over the filtered procedures."""
    pro = professional_or_404(request)
    form = _filter_form(request, "")
    procedures = _filtered(
        pro,
        Procedure.objects.visible_to_professional(pro).of_organisation(pro.organisation_id),
        form,
    )
    context = _page(pro, procedures, form) | {
        "title": "Démarches suivies par la structure",
        "mine": False,
        "times": handling_times(procedures),
    }
    _record_list(request, pro, context, "demarches_structure")
    return render(request, "procedures/list.html", context)


def _record_list(
    request: HttpRequest, pro: Professional, context: dict[str, object], listing: str
) -> None:
    """The list shows each file's procedures: the journal says so, file by file."""
    shown = cast("list[Procedure]", context["procedures"])
    record_list_view(request, pro, [(p.person, PROCEDURES) for p in shown], listing)


# The catalogue.


def catalogue_list(request: HttpRequest) -> HttpResponse:
    form = forms.CatalogueSearchForm(request.GET or None)
    entries = ProcedureType.objects.active().only(
        "slug", "title", "organisme", "category", "summary", "verified_on"
    )
    searched = False
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            entries = entries.filter(
                Q(title__icontains=query)
                | Q(organisme__icontains=query)
                | Q(summary__icontains=query)
            )
        if form.cleaned_data["theme"]:
            entries = entries.filter(category=form.cleaned_data["theme"])
        searched = bool(query or form.cleaned_data["theme"])
    grouped: dict[str, list[ProcedureType]] = {}
    for entry in entries.order_by("category", "title"):
        grouped.setdefault(entry.category, []).append(entry)
    themes = [(c.value, c.label, grouped[c.value]) for c in ProcedureCategory if c in grouped]
    context = {
        "title": "Catalogue des démarches",
        "form": form,
        "themes": themes,
        "searched": searched,
    }
    return render(request, "procedures/catalogue.html", context)


@pilot_required
def catalogue_withdrawn(request: HttpRequest) -> HttpResponse:
    """The entries no longer offered, for the pilot to bring one back."""
    grouped: dict[str, list[ProcedureType]] = {}
    for entry in (
        ProcedureType.objects.filter(is_active=False)
        .only("slug", "title", "organisme", "category")
        .order_by("category", "title")
    ):
        grouped.setdefault(entry.category, []).append(entry)
    themes = [(c.value, c.label, grouped[c.value]) for c in ProcedureCategory if c in grouped]
    context = {"title": "Démarches retirées du catalogue", "themes": themes}
    return render(request, "procedures/catalogue_withdrawn.html", context)


EntryPage = Callable[[HttpRequest, ProcedureType], HttpResponse]


def _catalogue_page(request: HttpRequest, slug: str, page: EntryPage) -> HttpResponse:
    entry = get_object_or_404(ProcedureType, slug=slug)
    if entry.is_active:
        return page(request, entry)
    return _withdrawn_page(request, entry, page)


@pilot_required
def _withdrawn_page(request: HttpRequest, entry: ProcedureType, page: EntryPage) -> HttpResponse:
    """A withdrawn entry is no longer offered: only the pilot, who may bring it back,
    still opens its pages."""
    return page(request, entry)


def documents_to_bring(entry: ProcedureType) -> list[dict[str, str]]:
    return [
        {"label": DocumentKind(line["kind"]).label, "condition": line.get("condition", "")}
        for line in entry.required_documents
    ]


def _entry_page(request: HttpRequest, entry: ProcedureType) -> HttpResponse:
    context = {
        "title": entry.title,
        "entry": entry,
        "category_label": ProcedureCategory(entry.category).label,
        "documents": documents_to_bring(entry),
    }
    return render(request, "procedures/entry.html", context)


def _guide_page(request: HttpRequest, entry: ProcedureType) -> HttpResponse:
    """The easy-to-read guide to print for the person: no personal data in it."""
    context = {
        "title": f"Guide à imprimer : {entry.title}",
        "entry": entry,
        "documents": documents_to_bring(entry),
    }
    return render(request, "procedures/guide.html", context)


def catalogue_entry(request: HttpRequest, slug: str) -> HttpResponse:
    return _catalogue_page(request, slug, _entry_page)


def catalogue_guide(request: HttpRequest, slug: str) -> HttpResponse:
    return _catalogue_page(request, slug, _guide_page)


@pilot_required
@require_http_methods(["GET", "POST"])
def catalogue_edit(request: HttpRequest, slug: str) -> HttpResponse:
    entry = get_object_or_404(ProcedureType, slug=slug)
    initial = {
        "title": entry.title,
        "summary": entry.summary,
        "steps": "\n".join(entry.steps),
        "info_url": entry.info_url,
        "online_url": entry.online_url,
        "processing_days": entry.processing_days,
        "recurrence_months": entry.recurrence_months,
        "benefit": entry.benefit,
        "verified_on": entry.verified_on,
        "is_active": entry.is_active,
    }
    form = forms.CatalogueEntryForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and _attempt(
            form,
            lambda: catalogue.procedure_type_update(
                procedure_type=entry, by=platform_actor(request), **form.cleaned_data
            ),
        )
    ):
        messages.success(request, "La fiche du catalogue est enregistrée.")
        return redirect("procedures:catalogue_entry", slug=entry.slug)
    context = {"title": f"Modifier « {entry.title} »", "entry": entry, "form": form}
    status = 400 if request.method == "POST" else 200
    return render(request, "procedures/catalogue_edit.html", context, status=status)


@pilot_required
def catalogue_toml(request: HttpRequest, slug: str) -> HttpResponse:
    entry = get_object_or_404(ProcedureType, slug=slug)
    response = HttpResponse(catalogue.catalogue_dump(entry), content_type="application/toml")
    response["Content-Disposition"] = f'attachment; filename="{entry.slug}.toml"'
    return response
