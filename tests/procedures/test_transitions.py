import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.procedures.models import TRANSITIONS, ProcedureStatus, ProcedureTransition
from relais.procedures.services import procedure_open, procedure_transition
from tests.procedures.factories import DocumentFactory, ProcedureFactory, ProcedureTypeFactory

pytestmark = pytest.mark.django_db

S = ProcedureStatus
REQUESTED = datetime.date(2025, 3, 3)
TAKEN = datetime.date(2025, 3, 5)
SUBMITTED = datetime.date(2025, 3, 20)
DECIDED = datetime.date(2025, 4, 18)
AFTER = datetime.date(2025, 5, 2)

ALLOWED = sorted((source, target) for source, targets in TRANSITIONS.items() for target in targets)
FORBIDDEN = sorted(
    (source, target)
    for source in TRANSITIONS
    for target in S.values
    if target not in TRANSITIONS[source]
)
# Statuses a procedure can only have once submitted (then decided, for the last two).
_SUBMITTED_STATES = {S.SUBMITTED, S.AWAITING, S.GRANTED, S.REFUSED, S.APPEAL}
_DECIDED_STATES = {S.GRANTED, S.REFUSED, S.APPEAL}


def _procedure_in(status: str, **fields):
    """A procedure in `status` with the dates a real one would have by then."""
    dates = {"requested_on": REQUESTED, "taken_on": TAKEN if status != S.NOT_STARTED else None}
    if status in _SUBMITTED_STATES:
        dates["submitted_on"] = SUBMITTED
    if status in _DECIDED_STATES:
        dates["decided_on"] = DECIDED
    if status in (S.REFUSED, S.APPEAL):
        fields.setdefault("refusal_reason", "Ressources trop élevées.")
    return ProcedureFactory(status=status, **dates, **fields)


def _arguments(target: str) -> dict:
    return {"refusal_reason": "Ressources trop élevées."} if target == S.REFUSED else {}


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_it_makes_every_allowed_move(actor, source, target):
    procedure = _procedure_in(source)

    moved = procedure_transition(
        procedure=procedure, to_status=target, by=actor, on=AFTER, **_arguments(target)
    )

    assert moved.status == target
    procedure.refresh_from_db()
    assert procedure.status == target
    log = ProcedureTransition.objects.get(procedure=procedure)
    assert (log.from_status, log.to_status) == (source, target)
    assert (log.actor_id, log.actor_label) == (actor.user_id, actor.label)
    assert log.organisation_label == actor.organisation_label
    event = AuditEvent.objects.get(action=AuditAction.PROCEDURE_TRANSITION)
    assert (event.details["de"], event.details["vers"]) == (source, target)
    assert (event.person_id, event.category) == (procedure.person_id, "demarches")


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_it_refuses_every_other_move(actor, source, target):
    procedure = _procedure_in(source)

    with pytest.raises(ValidationError) as raised:
        procedure_transition(
            procedure=procedure, to_status=target, by=actor, on=AFTER, **_arguments(target)
        )

    assert raised.value.messages == [
        f"Une démarche « {S(source).label} » ne peut pas passer à « {S(target).label} »."
    ]
    procedure.refresh_from_db()
    assert procedure.status == source
    assert not ProcedureTransition.objects.filter(procedure=procedure).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_TRANSITION).exists()


def test_it_refuses_an_unknown_state(actor):
    with pytest.raises(ValidationError, match="n'est pas un état de démarche"):
        procedure_transition(procedure=_procedure_in(S.NOT_STARTED), to_status="perdue", by=actor)


def test_it_dates_the_taking_in_charge_once(actor):
    procedure = _procedure_in(S.NOT_STARTED)

    procedure_transition(procedure=procedure, to_status=S.IN_PROGRESS, by=actor, on=TAKEN)
    procedure_transition(procedure=procedure, to_status=S.MISSING_DOCUMENTS, by=actor, on=AFTER)
    procedure_transition(procedure=procedure, to_status=S.IN_PROGRESS, by=actor, on=AFTER)

    procedure.refresh_from_db()
    assert procedure.taken_on == TAKEN
    assert list(procedure.transitions.values_list("to_status", flat=True)) == [
        S.IN_PROGRESS,
        S.MISSING_DOCUMENTS,
        S.IN_PROGRESS,
    ]


def test_it_dates_the_submission_and_the_decision(actor):
    procedure = _procedure_in(S.IN_PROGRESS)

    procedure_transition(procedure=procedure, to_status=S.SUBMITTED, by=actor, on=SUBMITTED)
    procedure_transition(procedure=procedure, to_status=S.AWAITING, by=actor, on=SUBMITTED)
    procedure_transition(
        procedure=procedure,
        to_status=S.GRANTED,
        by=actor,
        on=DECIDED,
        amount_granted="607.75",
        rights_start_on=datetime.date(2025, 4, 1),
    )

    procedure.refresh_from_db()
    assert (procedure.submitted_on, procedure.decided_on) == (SUBMITTED, DECIDED)
    assert procedure.amount_granted == Decimal("607.75")
    assert procedure.rights_start_on == datetime.date(2025, 4, 1)
    assert (procedure.handling_days, procedure.decision_days) == (17, 29)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.NOT_STARTED, S.ABANDONED),
        (S.IN_PROGRESS, S.MISSING_DOCUMENTS),
        (S.MISSING_DOCUMENTS, S.IN_PROGRESS),
        (S.SUBMITTED, S.AWAITING),
        (S.REFUSED, S.APPEAL),
    ],
)
def test_a_move_that_sets_no_date_of_the_procedure_keeps_its_day(actor, source, target):
    procedure = _procedure_in(source)

    procedure_transition(procedure=procedure, to_status=target, by=actor, on=AFTER)

    assert procedure.transitions.get().on == AFTER
    event = AuditEvent.objects.get(action=AuditAction.PROCEDURE_TRANSITION)
    assert (event.details["vers"], event.details["date"]) == (target, "2025-05-02")


def test_it_refuses_a_move_dated_before_the_last_move(actor):
    procedure = _procedure_in(S.IN_PROGRESS)
    procedure_transition(procedure=procedure, to_status=S.MISSING_DOCUMENTS, by=actor, on=AFTER)

    with pytest.raises(
        ValidationError,
        match="avant le 02/05/2025, date déjà notée pour le passage à « Pièces manquantes »",
    ):
        procedure_transition(procedure=procedure, to_status=S.IN_PROGRESS, by=actor, on=DECIDED)

    procedure.refresh_from_db()
    assert procedure.status == S.MISSING_DOCUMENTS
    assert procedure.transitions.count() == 1


def test_it_refuses_a_date_in_the_future(actor):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    with pytest.raises(ValidationError, match="ne peut pas être dans le futur"):
        procedure_transition(
            procedure=_procedure_in(S.IN_PROGRESS), to_status=S.SUBMITTED, by=actor, on=tomorrow
        )


def test_it_refuses_a_decision_dated_before_the_submission(actor):
    with pytest.raises(ValidationError, match="avant le 20/03/2025, date déjà notée pour le dépôt"):
        procedure_transition(
            procedure=_procedure_in(S.SUBMITTED), to_status=S.GRANTED, by=actor, on=TAKEN
        )


@pytest.mark.parametrize(
    ("on", "refusal"),
    [
        (datetime.date(2025, 3, 1), "avant la demande, faite le 03/03/2025"),
        (datetime.date(2025, 3, 4), "avant le 05/03/2025, date déjà notée pour la prise"),
    ],
    ids=["avant-la-demande", "avant-la-prise-en-charge"],
)
def test_it_refuses_a_submission_dated_before_an_earlier_step(actor, on, refusal):
    procedure = _procedure_in(S.IN_PROGRESS)

    with pytest.raises(ValidationError, match=refusal):
        procedure_transition(procedure=procedure, to_status=S.SUBMITTED, by=actor, on=on)

    procedure.refresh_from_db()
    assert (procedure.status, procedure.submitted_on) == (S.IN_PROGRESS, None)


@pytest.mark.parametrize("target", [S.GRANTED, S.REFUSED, S.ABANDONED])
def test_it_refuses_an_appeal_outcome_dated_before_the_refusal(actor, target):
    procedure = _procedure_in(S.APPEAL)

    with pytest.raises(ValidationError, match="avant le 18/04/2025, date déjà notée pour la déc"):
        procedure_transition(
            procedure=procedure,
            to_status=target,
            by=actor,
            on=DECIDED - datetime.timedelta(days=1),
            **_arguments(target),
        )

    procedure.refresh_from_db()
    assert (procedure.status, procedure.decided_on) == (S.APPEAL, DECIDED)
    assert not ProcedureTransition.objects.filter(procedure=procedure).exists()


def test_a_grant_after_an_appeal_keeps_the_first_decision_and_clears_the_refusal(actor):
    procedure = _procedure_in(S.AWAITING)
    procedure_transition(
        procedure=procedure,
        to_status=S.REFUSED,
        by=actor,
        on=DECIDED,
        refusal_reason="Ressources supérieures au plafond.",
        comment="Reçu par courrier.",
    )
    procedure_transition(procedure=procedure, to_status=S.APPEAL, by=actor, on=DECIDED)

    procedure_transition(procedure=procedure, to_status=S.GRANTED, by=actor, on=AFTER)

    procedure.refresh_from_db()
    # The organisme's time to decide runs to its first decision; the appeal's outcome is
    # dated by its own move.
    assert (procedure.status, procedure.decided_on, procedure.refusal_reason) == (
        S.GRANTED,
        DECIDED,
        "",
    )
    assert procedure.decision_days == (DECIDED - SUBMITTED).days
    assert procedure.transitions.get(from_status=S.APPEAL).on == AFTER
    assert procedure.transitions.get(to_status=S.REFUSED).comment == (
        "Reçu par courrier.\nMotif du refus : Ressources supérieures au plafond."
    )


def test_a_refusal_needs_its_reason(actor):
    procedure = _procedure_in(S.AWAITING)

    with pytest.raises(ValidationError, match="Notez le motif du refus"):
        procedure_transition(
            procedure=procedure, to_status=S.REFUSED, by=actor, on=DECIDED, refusal_reason="  "
        )

    procedure_transition(
        procedure=procedure,
        to_status=S.REFUSED,
        by=actor,
        on=DECIDED,
        refusal_reason="Ressources supérieures au plafond.",
    )
    procedure.refresh_from_db()
    assert (procedure.status, procedure.decided_on) == (S.REFUSED, DECIDED)
    assert procedure.refusal_reason == "Ressources supérieures au plafond."


@pytest.mark.parametrize(
    "arguments",
    [
        {"amount_granted": "100"},
        {"rights_start_on": DECIDED},
        {"refusal_reason": "Sans objet."},
    ],
)
def test_it_refuses_decision_details_on_another_move(actor, arguments):
    with pytest.raises(ValidationError):
        procedure_transition(
            procedure=_procedure_in(S.SUBMITTED), to_status=S.AWAITING, by=actor, **arguments
        )


@pytest.mark.parametrize("amount", ["-1", "beaucoup", "NaN"])
def test_it_refuses_a_wrong_amount(actor, amount):
    with pytest.raises(ValidationError, match="Le montant accordé doit être un nombre"):
        procedure_transition(
            procedure=_procedure_in(S.SUBMITTED),
            to_status=S.GRANTED,
            by=actor,
            on=DECIDED,
            amount_granted=amount,
        )


def test_a_failed_move_leaves_no_trace(actor):
    procedure = _procedure_in(S.AWAITING)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError):
        procedure_transition(procedure=procedure, to_status=S.REFUSED, by=actor, on=DECIDED)

    assert AuditEvent.objects.count() == events
    assert not ProcedureTransition.objects.exists()


def test_a_submission_with_missing_documents_is_logged_with_its_completeness(
    actor, person, organisation
):
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(
            required_documents=[{"kind": "cni", "condition": ""}, {"kind": "rib", "condition": ""}]
        ),
        organisation=organisation,
        by=actor,
        requested_on=REQUESTED,
    )
    procedure.checklist.filter(kind="cni").update(document=DocumentFactory(person=person))
    procedure_transition(procedure=procedure, to_status=S.IN_PROGRESS, by=actor, on=TAKEN)

    procedure_transition(
        procedure=procedure, to_status=S.SUBMITTED, by=actor, on=SUBMITTED, comment="Par courrier."
    )

    log = procedure.transitions.get(to_status=S.SUBMITTED)
    assert log.comment == (
        "Par courrier.\nPièces valables au dépôt : 1 sur 2 (50 %), dossier incomplet, il manque "
        "1 pièce(s)."
    )
    event = AuditEvent.objects.filter(action=AuditAction.PROCEDURE_TRANSITION).last()
    assert event.details["completude"] == 50


def test_it_works_on_the_stored_state_not_a_stale_copy(actor):
    procedure = _procedure_in(S.NOT_STARTED)
    stale = type(procedure).objects.get(pk=procedure.pk)
    procedure_transition(procedure=procedure, to_status=S.ABANDONED, by=actor)

    with pytest.raises(ValidationError, match="« Abandonnée » ne peut pas passer à « En cours »"):
        procedure_transition(procedure=stale, to_status=S.IN_PROGRESS, by=actor)


# Recurring procedures


@pytest.fixture
def quarterly():
    return ProcedureTypeFactory(recurring=True)


def test_a_submitted_declaration_is_due_again_after_the_recurrence(actor, quarterly):
    procedure = _procedure_in(
        S.IN_PROGRESS, procedure_type=quarterly, due_on=datetime.date(2025, 3, 31)
    )

    procedure_transition(procedure=procedure, to_status=S.SUBMITTED, by=actor, on=SUBMITTED)

    procedure.refresh_from_db()
    assert procedure.next_due_on == datetime.date(2025, 6, 30)


def test_without_a_deadline_the_recurrence_counts_from_the_submission(actor, quarterly):
    procedure = _procedure_in(S.IN_PROGRESS, procedure_type=quarterly)

    procedure_transition(procedure=procedure, to_status=S.SUBMITTED, by=actor, on=SUBMITTED)

    procedure.refresh_from_db()
    assert procedure.next_due_on == datetime.date(2025, 6, 20)


def test_a_grant_counts_the_recurrence_from_the_rights_start(actor):
    yearly = ProcedureTypeFactory(recurrence_months=12)
    procedure = _procedure_in(S.SUBMITTED, procedure_type=yearly, next_due_on=AFTER)

    procedure_transition(
        procedure=procedure,
        to_status=S.GRANTED,
        by=actor,
        on=DECIDED,
        rights_start_on=datetime.date(2025, 1, 31),
    )

    procedure.refresh_from_db()
    assert procedure.next_due_on == datetime.date(2026, 1, 31)


def test_a_refusal_leaves_nothing_to_renew(actor, quarterly):
    procedure = _procedure_in(S.SUBMITTED, procedure_type=quarterly, next_due_on=AFTER)

    procedure_transition(
        procedure=procedure, to_status=S.REFUSED, by=actor, on=DECIDED, refusal_reason="Hors délai."
    )

    procedure.refresh_from_db()
    assert procedure.next_due_on is None


def test_a_procedure_that_does_not_recur_has_no_next_deadline(actor):
    procedure = _procedure_in(S.IN_PROGRESS)

    procedure_transition(procedure=procedure, to_status=S.SUBMITTED, by=actor, on=SUBMITTED)

    procedure.refresh_from_db()
    assert procedure.next_due_on is None


@pytest.mark.parametrize(("trait", "target"), [("submitted", S.AWAITING), ("granted", None)])
def test_the_factory_traits_make_consistent_procedures(actor, trait, target):
    procedure = ProcedureFactory(**{trait: True}, requested_on=REQUESTED)
    procedure.full_clean()

    if target:
        procedure_transition(procedure=procedure, to_status=target, by=actor, on=AFTER)
    assert procedure.handling_days == 0
