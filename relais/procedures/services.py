"""Writes on persons' procedures. Each function runs in one transaction and writes its
journal row in it; bad input raises a French ValidationError and changes nothing.

Recurring procedures (the catalogue's `recurrence_mois`): the next deadline is set on the
procedure itself (`next_due_on`), and the daily task opens the next occurrence from it.
- On submission, the next deadline is the current deadline plus the recurrence (a quarterly
  declaration keeps its calendar whatever the day it was sent), or the submission day plus
  the recurrence when the procedure had no deadline. Declarations are never "granted":
  submitting them is what counts.
- On a grant with a rights start date, the rights run from that date: the renewal is due
  the recurrence after it, which replaces the deadline set on submission.
- On a refusal or an abandonment, there is nothing to renew: the next deadline is cleared
  (an appeal that ends in a grant sets it again).
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from relais.documents.models import Document, DocumentKind
from relais.organisations.models import Organisation
from relais.persons.categories import DataCategory
from relais.persons.models import Person, PersonStatus
from relais.persons.services import contact_record
from relais.procedures.measures import add_months, completeness
from relais.procedures.models import (
    BEFORE_SUBMISSION,
    TRANSITIONS,
    Autonomy,
    Procedure,
    ProcedureStatus,
    ProcedureStep,
    ProcedureTransition,
    ProcedureType,
    RequiredDocument,
)

S = ProcedureStatus
REASON_MIN_LENGTH = 10
# A second send of the opening form within this time is taken for a double click.
REOPEN_GUARD = timedelta(minutes=5)
UPDATABLE_FIELDS = frozenset({"requested_on", "due_on", "next_due_on"})


def _record(
    action: AuditAction,
    *,
    procedure: Procedure,
    by: Actor,
    details: dict[str, str | int | bool | None],
    object_type: str = "demarche",
    object_id: int | None = None,
) -> None:
    """One journal row on the person's file; details hold slugs, ids and states only."""
    audit_record(
        action=action,
        by=by,
        person_id=procedure.person_id,
        person_label=procedure.person.journal_label,
        category=DataCategory.PROCEDURES,
        object_type=object_type,
        object_id=object_id if object_id is not None else procedure.pk,
        details={"demarche": procedure.procedure_type.slug, **details},
    )


def _touch(person_id: int, by: Actor) -> None:
    """A professional's work on a procedure is a contact, which keeps the file active
    (retention counts from the last contact); the daily tasks are not."""
    if by.user_id is not None:
        contact_record(person_id)


def _not_in_future(day: date, label: str, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: f"{label} ne peut pas être dans le futur."})


def _due_after_request(requested_on: date, due_on: date | None) -> None:
    if due_on is not None and due_on < requested_on:
        raise ValidationError(
            {
                "due_on": "L'échéance ne peut pas être avant la demande, faite le "
                f"{requested_on:%d/%m/%Y}."
            }
        )


def _open(
    *,
    person: Person,
    procedure_type: ProcedureType,
    organisation: Organisation,
    by: Actor,
    requested_on: date | None,
    due_on: date | None,
    previous: Procedure | None,
    action: AuditAction,
) -> Procedure:
    if not procedure_type.is_active:
        raise ValidationError(
            "Cette démarche n'est plus proposée dans le catalogue : choisissez-en une autre."
        )
    if person.status != PersonStatus.ACTIVE:
        raise ValidationError("Ce dossier n'est plus actif : on ne peut pas y ouvrir de démarche.")
    requested_on = requested_on or timezone.localdate()
    _not_in_future(requested_on, "La date de la demande", "requested_on")
    procedure = Procedure(
        person=person,
        procedure_type=procedure_type,
        type_version=procedure_type.version,
        steps=list(procedure_type.steps),
        organisation=organisation,
        status=S.NOT_STARTED,
        requested_on=requested_on,
        due_on=due_on,
        previous=previous,
        created_by_id=by.user_id,
    )
    procedure.full_clean()
    with transaction.atomic():
        procedure.save()
        RequiredDocument.objects.bulk_create(
            RequiredDocument(
                procedure=procedure,
                kind=piece["kind"],
                condition=piece.get("condition", ""),
                group=piece.get("group", ""),
                conditional=piece.get("conditional", False),
                someone_else=piece.get("someone_else", False),
                fresh_months=piece.get("fresh_months"),
            )
            for piece in procedure_type.required_documents
        )
        ProcedureTransition.objects.create(
            procedure=procedure,
            from_status="",
            to_status=S.NOT_STARTED,
            on=requested_on,
            at=procedure.created_at,
            actor_id=by.user_id,
            actor_label=by.label[:200],
            organisation_label=by.organisation_label[:200],
        )
        _touch(person.pk, by)
        _record(
            action,
            procedure=procedure,
            by=by,
            details={
                "version": procedure_type.version,
                "precedente": previous.pk if previous else None,
            },
        )
        checklist_fill(person=person, by=by, procedure=procedure)
    return procedure


def procedure_open(
    *,
    person: Person,
    procedure_type: ProcedureType,
    organisation: Organisation,
    by: Actor,
    requested_on: date | None = None,
    due_on: date | None = None,
) -> Procedure:
    """Open a procedure for the person, with the checklist and the steps of the
    catalogue's current version."""
    # Not in `_open`: a recurring procedure's next occurrence may open after its deadline
    # passed (the daily task catches up), and must still be opened.
    _due_after_request(requested_on or timezone.localdate(), due_on)
    with transaction.atomic():
        # The person's row is locked so that of two sends of the form at once, the second
        # waits for the first to commit, then finds the procedure it opened.
        list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk"))
        if Procedure.objects.filter(
            person_id=person.pk,
            procedure_type_id=procedure_type.pk,
            organisation_id=organisation.pk,
            status=S.NOT_STARTED,
            created_at__gte=timezone.now() - REOPEN_GUARD,
        ).exists():
            raise ValidationError(
                "Cette démarche vient d'être ouverte. Elle est dans la liste des démarches en "
                "cours de la personne."
            )
        return _open(
            person=person,
            procedure_type=procedure_type,
            organisation=organisation,
            by=by,
            requested_on=requested_on,
            due_on=due_on,
            previous=None,
            action=AuditAction.PROCEDURE_OPENED,
        )


def procedure_open_next(*, previous: Procedure, by: Actor, today: date | None = None) -> Procedure:
    """Open the next occurrence of a recurring procedure, due on its next deadline."""
    return _open(
        person=previous.person,
        procedure_type=previous.procedure_type,
        organisation=previous.organisation,
        by=by,
        requested_on=today or timezone.localdate(),
        due_on=previous.next_due_on,
        previous=previous,
        action=AuditAction.PROCEDURE_RECURRED,
    )


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError("Le montant accordé doit être un nombre, en euros.") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError("Le montant accordé doit être un nombre positif, en euros.")
    return amount


def _next_due_on(procedure: Procedure, to_status: str, on: date) -> date | None:
    months = procedure.procedure_type.recurrence_months
    if not months:
        return procedure.next_due_on
    if to_status == S.SUBMITTED:
        return add_months(procedure.due_on or on, months)
    if to_status == S.GRANTED:
        if procedure.rights_start_on is not None:
            return add_months(procedure.rights_start_on, months)
        return procedure.next_due_on or add_months(procedure.submitted_on or on, months)
    if to_status in (S.REFUSED, S.ABANDONED):
        return None
    return procedure.next_due_on


def _not_before_last_move(procedure: Procedure, on: date) -> None:
    """A move is not dated before the days the earlier moves recorded: the procedure's
    dates and its history stay in the order things happened."""
    recorded = [
        (day, label)
        for day, label in (
            (procedure.taken_on, "la prise en charge"),
            (procedure.submitted_on, "le dépôt"),
            (procedure.decided_on, "la décision"),
        )
        if day is not None
    ]
    last_move = procedure.transitions.exclude(from_status="").order_by("-on", "-pk").first()
    if last_move is not None:
        recorded.append((last_move.on, f"le passage à « {last_move.get_to_status_display()} »"))
    if not recorded:
        return
    last_day, label = max(recorded, key=lambda recorded_day: recorded_day[0])
    if on < last_day:
        raise ValidationError(
            f"La date ne peut pas être avant le {last_day:%d/%m/%Y}, date déjà notée pour {label}."
        )


def procedure_transition(
    *,
    procedure: Procedure,
    to_status: str,
    by: Actor,
    on: date | None = None,
    comment: str = "",
    amount_granted: Any = None,
    rights_start_on: date | None = None,
    refusal_reason: str = "",
) -> Procedure:
    """Move the procedure along the state machine (TRANSITIONS) and log the move.

    A move to « déposée » with an incomplete checklist is allowed (the organisme may take
    the rest later) and the log says how complete it was."""
    on = on or timezone.localdate()
    comment = comment.strip()
    refusal_reason = refusal_reason.strip()
    with transaction.atomic():
        # Two people may act on the same procedure at once: the row is locked, and the
        # move is checked against its committed state.
        procedure.refresh_from_db(from_queryset=Procedure.objects.select_for_update())
        from_status = procedure.status
        if to_status not in S.values:
            raise ValidationError(f"« {to_status} » n'est pas un état de démarche.")
        if to_status not in TRANSITIONS[from_status]:
            raise ValidationError(
                f"Une démarche « {S(from_status).label} » ne peut pas passer à "
                f"« {S(to_status).label} »."
            )
        _not_in_future(on, "La date", "on")
        if on < procedure.requested_on:
            raise ValidationError(
                f"La date ne peut pas être avant la demande, faite le "
                f"{procedure.requested_on:%d/%m/%Y}."
            )
        amount = _amount(amount_granted)
        if to_status != S.GRANTED and (amount is not None or rights_start_on is not None):
            raise ValidationError(
                "Le montant et la date d'ouverture des droits se notent quand la démarche "
                "est accordée."
            )
        if to_status != S.REFUSED and refusal_reason:
            raise ValidationError("Le motif du refus se note quand la démarche est refusée.")
        if to_status == S.REFUSED and not refusal_reason:
            raise ValidationError(
                "Notez le motif du refus, tel qu'il est écrit dans la décision : il servira "
                "pour un recours."
            )
        _not_before_last_move(procedure, on)

        details: dict[str, str | int | bool | None] = {
            "de": from_status,
            "vers": to_status,
            "date": on.isoformat(),
        }
        if to_status == S.IN_PROGRESS and procedure.taken_on is None:
            procedure.taken_on = on
        if to_status == S.SUBMITTED:
            procedure.submitted_on = on
            checklist = completeness(procedure, on=on)
            details["completude"] = checklist.rate
            state = (
                "dossier complet"
                if checklist.is_complete
                else f"dossier incomplet, il manque {checklist.total - checklist.satisfied} "
                "pièce(s)"
            )
            completeness_note = (
                f"Pièces valables au dépôt : {checklist.satisfied} sur {checklist.total} "
                f"({checklist.rate} %), {state}."
            )
            comment = f"{comment}\n{completeness_note}" if comment else completeness_note
        if to_status in (S.GRANTED, S.REFUSED) and procedure.decided_on is None:
            # The organisme's first decision: its time to decide counts from the
            # submission to it. An appeal's outcome is dated by its own move in the log.
            procedure.decided_on = on
        if to_status == S.GRANTED:
            procedure.amount_granted = amount
            procedure.rights_start_on = rights_start_on
            # Granted after an appeal: the refusal no longer stands. Its reason stays in
            # the log, written with the refusal.
            procedure.refusal_reason = ""
        if to_status == S.REFUSED:
            procedure.refusal_reason = refusal_reason
            reason_note = f"Motif du refus : {refusal_reason}"
            comment = f"{comment}\n{reason_note}" if comment else reason_note
        procedure.next_due_on = _next_due_on(procedure, to_status, on)
        procedure.status = to_status
        procedure.updated_at = timezone.now()
        procedure.full_clean()
        procedure.save()
        transition = ProcedureTransition.objects.create(
            procedure=procedure,
            from_status=from_status,
            to_status=to_status,
            on=on,
            at=procedure.updated_at,
            actor_id=by.user_id,
            actor_label=by.label[:200],
            organisation_label=by.organisation_label[:200],
            comment=comment,
        )
        _touch(procedure.person_id, by)
        _record(
            AuditAction.PROCEDURE_TRANSITION,
            procedure=procedure,
            by=by,
            details=details | {"transition": transition.pk},
        )
    return procedure


def procedure_step_record(
    *,
    procedure: Procedure,
    step_index: int,
    autonomy: str,
    by: Actor,
    reason: str = "",
    done_on: date | None = None,
) -> ProcedureStep:
    """Record how one step of the procedure was done; recording it again updates it."""
    steps = procedure.steps
    if not 0 <= step_index < len(steps):
        raise ValidationError(f"Cette démarche compte {len(steps)} étapes : l'étape n'existe pas.")
    if autonomy not in Autonomy.values:
        raise ValidationError("Choisissez comment l'étape a été faite.")
    reason = reason.strip()
    if autonomy == Autonomy.FOR_PERSON and len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            {
                "reason": "Expliquez en une phrase pourquoi l'étape a été faite à la place de "
                f"la personne ({REASON_MIN_LENGTH} caractères au moins)."
            }
        )
    done_on = done_on or timezone.localdate()
    _not_in_future(done_on, "La date de l'étape", "done_on")
    with transaction.atomic():
        # A double click sends the same step twice at once: the procedure's row is locked
        # so that the second request waits, then finds the first one's step and corrects
        # it. Where rows cannot be locked (SQLite), the unique constraint still stops the
        # second insert, and the professional gets a sentence instead of an error page.
        procedure.refresh_from_db(from_queryset=Procedure.objects.select_for_update())
        if done_on < procedure.requested_on:
            raise ValidationError(
                {
                    "done_on": "L'étape ne peut pas être faite avant la demande, faite le "
                    f"{procedure.requested_on:%d/%m/%Y}."
                }
            )
        step = ProcedureStep.objects.filter(procedure=procedure, step_index=step_index).first()
        updated = step is not None
        step = step or ProcedureStep(procedure=procedure, step_index=step_index)
        step.autonomy = autonomy
        step.reason = reason if autonomy == Autonomy.FOR_PERSON else ""
        step.done_on = done_on
        step.actor_label = by.label[:200]
        step.full_clean()
        try:
            with transaction.atomic():
                step.save()
        except IntegrityError:
            raise ValidationError(
                f"L'étape {step_index + 1} vient d'être enregistrée par ailleurs : "
                "rechargez la page pour voir ce qui a été noté."
            ) from None
        _touch(procedure.person_id, by)
        _record(
            AuditAction.PROCEDURE_STEP_RECORDED,
            procedure=procedure,
            by=by,
            details={"etape": step_index + 1, "autonomie": autonomy, "modifiee": updated},
        )
    return step


def checklist_link(
    *, item: RequiredDocument, document: Document | None, by: Actor
) -> RequiredDocument:
    """Attach a document of the person's vault to a checklist line, or detach it (None)."""
    procedure = item.procedure
    if document is None:
        if item.document_id is None:
            return item
        unlinked_id = item.document_id
        with transaction.atomic():
            item.document = None
            item.save(update_fields=["document"])
            _record(
                AuditAction.PROCEDURE_DOCUMENT_UNLINKED,
                procedure=procedure,
                by=by,
                details={"type": item.kind, "piece": unlinked_id},
            )
        return item
    if document.person_id != procedure.person_id:
        raise ValidationError("Cette pièce n'est pas dans le dossier de cette personne.")
    if document.deleted_at is not None:
        raise ValidationError("Cette pièce a été supprimée : choisissez-en une autre.")
    if document.kind not in (item.kind, DocumentKind.OTHER):
        raise ValidationError(
            f"Cette pièce est : « {document.get_kind_display()} ». "
            f"Il faut ici : « {item.get_kind_display()} »."
        )
    with transaction.atomic():
        item.document = document
        # Bringing the document says the person is concerned after all.
        item.not_applicable = False
        item.concerned = item.conditional
        item.save(update_fields=["document", "not_applicable", "concerned"])
        _record(
            AuditAction.PROCEDURE_DOCUMENT_LINKED,
            procedure=procedure,
            by=by,
            details={"type": item.kind, "piece": document.pk},
        )
    return item


def checklist_fill(
    *, person: Person, by: Actor, procedure: Procedure | None = None
) -> list[RequiredDocument]:
    """Attach to the lines with no document (or a deleted one) of the person's procedures
    still gathering their papers — or of `procedure` alone — the person's document of the
    kind each asks, when exactly one is valid today for the line, as its freshness rule
    judges it (`RequiredDocument.accepts`): a paper already in the file is not
    missing. Journalled as a link, marked automatic; the professional sees it and may
    change it. Only the lines `RequiredDocumentQuerySet.fillable` names."""
    today = timezone.localdate()
    procedures = Procedure.objects.filter(person_id=person.pk, status__in=BEFORE_SUBMISSION)
    if procedure is not None:
        procedures = procedures.filter(pk=procedure.pk)
    lines = list(
        RequiredDocument.objects.filter(procedure__in=procedures)
        .fillable()
        .select_related("document", "procedure__procedure_type", "procedure__person")
    )
    if not lines:
        return []
    present: dict[str, list[Document]] = {}
    for document in Document.objects.filter(
        person_id=person.pk, kind__in={line.kind for line in lines}
    ).present():
        present.setdefault(document.kind, []).append(document)
    filled = []
    for line in lines:
        # Valid for the line: a freshness rule may take a paper past its own validity.
        valid = [
            document for document in present.get(line.kind, []) if line.accepts(document, today)
        ]
        if len(valid) == 1:
            line.document = valid[0]
            filled.append(line)
    if not filled:
        return []
    with transaction.atomic():
        RequiredDocument.objects.bulk_update(filled, ["document"])
        for line in filled:
            _record(
                AuditAction.PROCEDURE_DOCUMENT_LINKED,
                procedure=line.procedure,
                by=by,
                details={"type": line.kind, "piece": line.document_id, "automatique": True},
            )
    return filled


def checklist_mark_not_applicable(
    *, item: RequiredDocument, not_applicable: bool, by: Actor
) -> RequiredDocument:
    """Say that the person is not concerned by a document, or that they are: a document
    asked only in a situation then counts. Only the lines
    `RequiredDocumentQuerySet.open_to_not_concerned` names are marked; a line marked before
    that may still be put back."""
    with transaction.atomic():
        # Two colleagues may mark the last two papers of a group at once: the procedure's
        # row is locked, as its moves and steps lock it, and the second check reads what
        # the first committed.
        list(Procedure.objects.select_for_update().filter(pk=item.procedure_id).values_list("pk"))
        item.refresh_from_db()
        if (
            not item.not_applicable
            and not RequiredDocument.objects.filter(pk=item.pk).open_to_not_concerned().exists()
        ):
            raise ValidationError(_always_asked(item))
        concerned = item.conditional and not not_applicable
        if (item.not_applicable, item.concerned) == (not_applicable, concerned):
            return item
        item.not_applicable = not_applicable
        item.concerned = concerned
        if not_applicable:
            item.document = None
        item.save(update_fields=["not_applicable", "concerned", "document"])
        _record(
            AuditAction.PROCEDURE_UPDATED,
            procedure=item.procedure,
            by=by,
            object_type="piece_demandee",
            object_id=item.pk,
            details={"type": item.kind, "non_concernee": not_applicable},
        )
    return item


def _always_asked(item: RequiredDocument) -> str:
    """Why the person cannot be said not concerned by the line."""
    detail = f", {item.condition}," if item.condition else ""
    if item.someone_else:
        return (
            f"Cette pièce{detail} est celle d'une autre personne et elle est demandée dans "
            "tous les cas : elle ne peut pas être marquée « non concerné(e) »."
        )
    if item.group and not item.conditional:
        return (
            "Une des pièces de ce choix est demandée dans tous les cas, et les autres sont "
            "marquées « non concerné(e) » : celle-ci ne peut pas l'être aussi."
        )
    return (
        f"Cette pièce{detail} est demandée dans tous les cas : elle ne peut pas être "
        "marquée « non concerné(e) »."
    )


def _request_before_what_followed(procedure: Procedure, requested_on: date) -> None:
    """The request comes before all the procedure recorded since: its taking in charge,
    its submission, every change of state and every step done."""
    first_move = procedure.transitions.exclude(from_status="").order_by("on", "pk").first()
    first_step = procedure.steps_done.order_by("done_on", "step_index").first()
    recorded: list[tuple[date | None, str]] = [
        (procedure.taken_on, "sa prise en charge"),
        (procedure.submitted_on, "son dépôt"),
    ]
    if first_move is not None:
        recorded.append((first_move.on, f"son passage à « {first_move.get_to_status_display()} »"))
    if first_step is not None:
        recorded.append((first_step.done_on, f"l'étape {first_step.step_index + 1}"))
    dated = [(day, label) for day, label in recorded if day is not None]
    if not dated:
        return
    first_day, label = min(dated, key=lambda recorded_day: recorded_day[0])
    if requested_on > first_day:
        raise ValidationError(
            {
                "requested_on": f"La demande ne peut pas être datée d'après {label}, notée le "
                f"{first_day:%d/%m/%Y}."
            }
        )


def procedure_update(*, procedure: Procedure, by: Actor, **fields: date | None) -> Procedure:
    """Correct the request date, the deadline or the next deadline."""
    unknown = sorted(set(fields) - UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"Champs non modifiables : {', '.join(unknown)}.")
    if "requested_on" in fields:
        requested_on = fields["requested_on"]
        if requested_on is None:
            raise ValidationError({"requested_on": "La date de la demande est obligatoire."})
        if requested_on > timezone.localdate():
            raise ValidationError(
                {"requested_on": "La date de la demande ne peut pas être dans le futur."}
            )
    with transaction.atomic():
        # A colleague may move the procedure or record a step meanwhile: the row is locked,
        # as they lock it, and the correction is checked against its committed state.
        procedure.refresh_from_db(from_queryset=Procedure.objects.select_for_update())
        changed = {
            field: value for field, value in fields.items() if getattr(procedure, field) != value
        }
        if not changed:
            return procedure
        new_request_day = changed.get("requested_on")
        if new_request_day is not None:
            _request_before_what_followed(procedure, new_request_day)
        if {"requested_on", "due_on"} & set(changed):
            _due_after_request(
                fields.get("requested_on") or procedure.requested_on,
                fields.get("due_on", procedure.due_on),
            )
        for field, value in changed.items():
            setattr(procedure, field, value)
        saved = [*changed, "updated_at"]
        if "due_on" in changed:
            # The reminder sent was for the former deadline: the new one gets its own.
            procedure.reminder_sent_at = None
            saved.append("reminder_sent_at")
        procedure.updated_at = timezone.now()
        procedure.full_clean()
        procedure.save(update_fields=saved)
        if "requested_on" in changed:
            # The opening's line of the history is dated by the request it records.
            procedure.transitions.filter(from_status="").update(on=procedure.requested_on)
        _touch(procedure.person_id, by)
        _record(
            AuditAction.PROCEDURE_UPDATED,
            procedure=procedure,
            by=by,
            details={
                field: value.isoformat() if value is not None else None
                for field, value in changed.items()
            },
        )
    return procedure
