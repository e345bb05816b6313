import datetime
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.documents.models import DocumentKind
from relais.persons.models import Person, PersonStatus
from relais.procedures.catalogue import procedure_type_update
from relais.procedures.models import (
    Autonomy,
    Procedure,
    ProcedureStatus,
    ProcedureStep,
    ProcedureTransition,
    RequiredDocument,
)
from relais.procedures.services import (
    checklist_fill,
    checklist_link,
    checklist_mark_not_applicable,
    procedure_open,
    procedure_step_record,
    procedure_transition,
    procedure_update,
)
from tests.concurrency import meanwhile, needs_row_locks
from tests.persons.factories import PersonFactory
from tests.procedures.factories import DocumentFactory, ProcedureFactory, ProcedureTypeFactory

pytestmark = pytest.mark.django_db

REQUESTED = datetime.date(2025, 3, 3)


def _events(action):
    return AuditEvent.objects.filter(action=action)


@pytest.fixture
def procedure(actor, person, organisation):
    return procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(),
        organisation=organisation,
        by=actor,
        requested_on=REQUESTED,
    )


def test_it_opens_a_procedure_with_its_checklist(actor, person, organisation, member):
    procedure_type = ProcedureTypeFactory(slug="rsa-demande", version=3)

    procedure = procedure_open(
        person=person,
        procedure_type=procedure_type,
        organisation=organisation,
        by=actor,
        requested_on=REQUESTED,
        due_on=datetime.date(2025, 4, 1),
    )

    procedure.refresh_from_db()
    assert (procedure.status, procedure.type_version) == (ProcedureStatus.NOT_STARTED, 3)
    assert (procedure.requested_on, procedure.due_on) == (REQUESTED, datetime.date(2025, 4, 1))
    assert procedure.created_by_id == member.user_id
    assert list(procedure.checklist.values_list("kind", "condition", "document")) == [
        ("cni", "", None),
        ("justificatif_domicile", "si vous êtes hébergé", None),
    ]
    first = procedure.transitions.get()
    assert (first.from_status, first.to_status, first.actor_label) == ("", "a_faire", actor.label)
    event = _events(AuditAction.PROCEDURE_OPENED).get()
    assert (event.person_id, event.category, event.object_id) == (
        person.pk,
        "demarches",
        str(procedure.pk),
    )
    assert event.details == {"demarche": "rsa-demande", "version": 3, "precedente": None}


def test_it_opens_a_procedure_requested_today_by_default(actor, person, organisation):
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(),
        organisation=organisation,
        by=actor,
    )

    assert procedure.requested_on == timezone.localdate()


def test_it_keeps_the_file_active(actor, person, organisation):
    person.last_contact_at = timezone.now() - datetime.timedelta(days=400)
    person.save()

    procedure_open(
        person=person, procedure_type=ProcedureTypeFactory(), organisation=organisation, by=actor
    )

    person.refresh_from_db()
    assert timezone.now() - person.last_contact_at < datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("procedure_type", "person_status", "requested_on", "message"),
    [
        ({"inactive": True}, PersonStatus.ACTIVE, None, "n'est plus proposée dans le catalogue"),
        ({}, PersonStatus.ARCHIVED, None, "Ce dossier n'est plus actif"),
        ({}, PersonStatus.ACTIVE, "tomorrow", "ne peut pas être dans le futur"),
    ],
)
def test_it_refuses_to_open(
    actor, organisation, procedure_type, person_status, requested_on, message
):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError, match=message):
        procedure_open(
            person=PersonFactory(status=person_status),
            procedure_type=ProcedureTypeFactory(**procedure_type),
            organisation=organisation,
            by=actor,
            requested_on=tomorrow if requested_on else None,
        )

    assert not RequiredDocument.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_same_procedure_sent_twice_is_opened_once(actor, person, organisation):
    procedure_type = ProcedureTypeFactory()
    first = procedure_open(
        person=person, procedure_type=procedure_type, organisation=organisation, by=actor
    )
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError, match="Cette démarche vient d'être ouverte"):
        procedure_open(
            person=person, procedure_type=procedure_type, organisation=organisation, by=actor
        )

    assert list(Procedure.objects.all()) == [first]
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "earlier",
    [
        {"created_at": timezone.now() - datetime.timedelta(minutes=6)},
        {"status": ProcedureStatus.IN_PROGRESS},
        {"organisation": None},
        {"procedure_type": None},
    ],
    ids=["ouverte-plus-tot", "deja-commencee", "autre-structure", "autre-demarche"],
)
def test_it_opens_a_procedure_like_one_not_just_opened(actor, person, organisation, earlier):
    procedure_type = ProcedureTypeFactory()
    fields = {"person": person, "procedure_type": procedure_type, "organisation": organisation}
    fields |= {field: value for field, value in earlier.items() if value is not None}
    for field in (field for field, value in earlier.items() if value is None):
        del fields[field]
    ProcedureFactory(**fields)

    procedure_open(
        person=person, procedure_type=procedure_type, organisation=organisation, by=actor
    )

    assert Procedure.objects.count() == 2


@needs_row_locks
def test_two_sends_at_once_open_the_procedure_once(transactional_db, actor, person, organisation):
    """The first send holds the person's row and inserts the procedure; the second waits
    for it, then finds that procedure and is refused."""
    procedure_type = ProcedureTypeFactory()

    def first_send():
        Person.objects.select_for_update().get(pk=person.pk)
        Procedure.objects.create(
            person=person,
            procedure_type=procedure_type,
            organisation=organisation,
            requested_on=timezone.localdate(),
        )

    with (
        meanwhile(first_send),
        pytest.raises(ValidationError, match="Cette démarche vient d'être ouverte"),
    ):
        procedure_open(
            person=person, procedure_type=procedure_type, organisation=organisation, by=actor
        )

    assert Procedure.objects.count() == 1


# Steps and autonomy


def test_it_records_how_a_step_was_done(actor, procedure):
    step = procedure_step_record(
        procedure=procedure,
        step_index=1,
        autonomy=Autonomy.WITH_PERSON,
        by=actor,
        done_on=datetime.date(2025, 3, 4),
    )

    assert (step.step_index, step.autonomy, step.reason) == (1, "avec", "")
    assert (step.done_on, step.actor_label) == (datetime.date(2025, 3, 4), actor.label)
    event = _events(AuditAction.PROCEDURE_STEP_RECORDED).get()
    assert event.details == {
        "demarche": procedure.procedure_type.slug,
        "etape": 2,
        "autonomie": "avec",
        "modifiee": False,
    }


def test_recording_a_step_again_updates_it(actor, procedure):
    procedure_step_record(
        procedure=procedure,
        step_index=0,
        autonomy="pour",
        by=actor,
        reason="La personne ne lit pas le français.",
    )

    procedure_step_record(
        procedure=procedure, step_index=0, autonomy="seule", by=actor, reason="Ignorée."
    )

    step = ProcedureStep.objects.get(procedure=procedure)
    assert (step.autonomy, step.reason) == ("seule", "")
    assert _events(AuditAction.PROCEDURE_STEP_RECORDED).last().details["modifiee"] is True


def test_a_catalogue_edit_leaves_the_steps_of_an_open_procedure_as_they_were(actor, procedure):
    shown = list(procedure.procedure_type.steps)
    procedure_step_record(procedure=procedure, step_index=2, autonomy="seule", by=actor)

    procedure_type_update(
        procedure_type=procedure.procedure_type,
        by=actor,
        steps=["Prenez rendez-vous avec votre accompagnant(e).", *shown[1:]],
    )

    procedure.refresh_from_db()
    assert procedure.steps == shown
    recorded = ProcedureStep.objects.get(procedure=procedure)
    assert procedure.steps[recorded.step_index] == "Remplissez le formulaire en ligne."


def test_it_records_the_steps_of_the_procedure_not_of_the_entry(actor, procedure):
    procedure_type_update(
        procedure_type=procedure.procedure_type,
        by=actor,
        steps=[*procedure.procedure_type.steps, "Attendez la réponse."],
    )

    with pytest.raises(ValidationError, match="Cette démarche compte 3 étapes"):
        procedure_step_record(procedure=procedure, step_index=3, autonomy="avec", by=actor)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"step_index": 3, "autonomy": "avec"}, "Cette démarche compte 3 étapes"),
        ({"step_index": -1, "autonomy": "avec"}, "Cette démarche compte 3 étapes"),
        ({"step_index": 0, "autonomy": "parfois"}, "Choisissez comment l'étape a été faite"),
        ({"step_index": 0, "autonomy": "pour"}, "pourquoi l'étape a été faite à la place"),
        ({"step_index": 0, "autonomy": "pour", "reason": " Pressé.  "}, "10 caractères au moins"),
    ],
)
def test_it_refuses_a_wrong_step(actor, procedure, arguments, message):
    with pytest.raises(ValidationError, match=message):
        procedure_step_record(procedure=procedure, by=actor, **arguments)

    assert not ProcedureStep.objects.exists()
    assert not _events(AuditAction.PROCEDURE_STEP_RECORDED).exists()


def test_it_refuses_a_step_done_in_the_future(actor, procedure):
    with pytest.raises(ValidationError, match="ne peut pas être dans le futur"):
        procedure_step_record(
            procedure=procedure,
            step_index=0,
            autonomy="seule",
            by=actor,
            done_on=timezone.localdate() + datetime.timedelta(days=1),
        )


def test_it_refuses_a_step_done_before_the_request(actor, procedure):
    with pytest.raises(ValidationError) as raised:
        procedure_step_record(
            procedure=procedure,
            step_index=0,
            autonomy="seule",
            by=actor,
            done_on=REQUESTED - datetime.timedelta(days=1),
        )

    assert raised.value.message_dict == {
        "done_on": ["L'étape ne peut pas être faite avant la demande, faite le 03/03/2025."]
    }
    assert not ProcedureStep.objects.exists()
    assert not _events(AuditAction.PROCEDURE_STEP_RECORDED).exists()


def test_a_step_recorded_elsewhere_at_the_same_moment_is_a_french_error(actor, procedure):
    """Where rows cannot be locked, two clicks may both find no step and both insert it:
    the second insert is told apart from a crash."""
    real_full_clean = ProcedureStep.full_clean

    def other_click_lands(step, *args, **kwargs):
        real_full_clean(step, *args, **kwargs)
        ProcedureStep.objects.create(
            procedure_id=step.procedure_id,
            step_index=step.step_index,
            autonomy=Autonomy.WITH_PERSON,
            done_on=REQUESTED,
            actor_label="Même personne, autre clic",
        )

    with (
        patch.object(ProcedureStep, "full_clean", other_click_lands),
        pytest.raises(ValidationError, match="L'étape 1 vient d'être enregistrée par ailleurs"),
    ):
        procedure_step_record(procedure=procedure, step_index=0, autonomy="seule", by=actor)

    assert not _events(AuditAction.PROCEDURE_STEP_RECORDED).exists()


@needs_row_locks
def test_a_double_click_corrects_the_step_the_first_click_recorded(
    transactional_db, actor, procedure
):
    """The first click holds the procedure's row and inserts the step; the second waits
    for it, then finds that step and corrects it instead of inserting it again."""

    def first_click():
        Procedure.objects.select_for_update().get(pk=procedure.pk)
        ProcedureStep.objects.create(
            procedure=procedure,
            step_index=0,
            autonomy="avec",
            done_on=REQUESTED,
            actor_label="Premier clic",
        )

    with meanwhile(first_click):
        step = procedure_step_record(procedure=procedure, step_index=0, autonomy="seule", by=actor)

    assert ProcedureStep.objects.get(procedure=procedure) == step
    assert (step.autonomy, step.actor_label) == ("seule", actor.label)
    assert _events(AuditAction.PROCEDURE_STEP_RECORDED).get().details["modifiee"] is True


# Checklist


def _item(procedure, kind=DocumentKind.CNI):
    return procedure.checklist.get(kind=kind)


def test_it_links_a_document_of_the_person(actor, procedure):
    document = DocumentFactory(person=procedure.person, kind=DocumentKind.CNI)

    item = checklist_link(item=_item(procedure), document=document, by=actor)

    item.refresh_from_db()
    assert item.document == document
    event = _events(AuditAction.PROCEDURE_DOCUMENT_LINKED).get()
    assert event.details == {
        "demarche": procedure.procedure_type.slug,
        "type": "cni",
        "piece": document.pk,
    }


def test_it_accepts_a_document_of_kind_other(actor, procedure):
    document = DocumentFactory(person=procedure.person, kind=DocumentKind.OTHER)

    assert checklist_link(item=_item(procedure), document=document, by=actor).document == document


def test_it_unlinks_a_document(actor, procedure):
    document = DocumentFactory(person=procedure.person)
    item = checklist_link(item=_item(procedure), document=document, by=actor)

    checklist_link(item=item, document=None, by=actor)

    item.refresh_from_db()
    assert item.document is None
    assert _events(AuditAction.PROCEDURE_DOCUMENT_UNLINKED).get().details["piece"] == document.pk


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"person": "other"}, "n'est pas dans le dossier de cette personne"),
        ({"deleted": True}, "Cette pièce a été supprimée"),
        ({"kind": DocumentKind.RIB}, "Cette pièce est : « RIB ». Il faut ici : « Carte nationale"),
    ],
)
def test_it_refuses_a_wrong_document(actor, procedure, document, message):
    person = PersonFactory() if document.pop("person", None) else procedure.person
    deleted_at = timezone.now() if document.pop("deleted", False) else None
    wrong = DocumentFactory(person=person, deleted_at=deleted_at, **document)

    with pytest.raises(ValidationError, match=message):
        checklist_link(item=_item(procedure), document=wrong, by=actor)

    assert _item(procedure).document is None
    assert not _events(AuditAction.PROCEDURE_DOCUMENT_LINKED).exists()


def test_a_conditional_document_can_be_marked_not_applicable(actor, procedure):
    procedure.checklist.filter(kind=DocumentKind.PROOF_OF_ADDRESS).update(conditional=True)
    item = _item(procedure, DocumentKind.PROOF_OF_ADDRESS)
    checklist_link(
        item=item, document=DocumentFactory(person=procedure.person, kind="autre"), by=actor
    )

    checklist_mark_not_applicable(item=item, not_applicable=True, by=actor)

    item.refresh_from_db()
    assert (item.not_applicable, item.document) == (True, None)
    event = _events(AuditAction.PROCEDURE_UPDATED).get()
    assert event.details["non_concernee"] is True


def test_a_document_always_required_cannot_be_marked_not_applicable(actor, procedure):
    with pytest.raises(ValidationError, match="demandée dans tous les cas"):
        checklist_mark_not_applicable(item=_item(procedure), not_applicable=True, by=actor)

    assert not _events(AuditAction.PROCEDURE_UPDATED).exists()


# Corrections


def test_it_corrects_the_dates(actor, procedure):
    procedure_update(
        procedure=procedure,
        by=actor,
        requested_on=datetime.date(2025, 3, 1),
        due_on=datetime.date(2025, 5, 31),
    )

    procedure.refresh_from_db()
    assert (procedure.requested_on, procedure.due_on) == (
        datetime.date(2025, 3, 1),
        datetime.date(2025, 5, 31),
    )
    event = _events(AuditAction.PROCEDURE_UPDATED).get()
    assert event.details == {
        "demarche": procedure.procedure_type.slug,
        "requested_on": "2025-03-01",
        "due_on": "2025-05-31",
    }


def test_a_correction_that_changes_nothing_is_not_journaled(actor, procedure):
    procedure_update(procedure=procedure, by=actor, requested_on=REQUESTED)

    assert not _events(AuditAction.PROCEDURE_UPDATED).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"requested_on": None}, "La date de la demande est obligatoire"),
        ({"requested_on": datetime.date(2999, 1, 1)}, "ne peut pas être dans le futur"),
        (
            {"requested_on": datetime.date(2025, 3, 10)},
            "La demande ne peut pas être datée d'après sa prise en charge, notée le 05/03/2025",
        ),
    ],
)
def test_it_refuses_a_wrong_correction(actor, fields, message):
    procedure = ProcedureFactory(
        requested_on=REQUESTED,
        taken_on=datetime.date(2025, 3, 5),
        status=ProcedureStatus.IN_PROGRESS,
    )

    with pytest.raises(ValidationError, match=message):
        procedure_update(procedure=procedure, by=actor, **fields)

    procedure.refresh_from_db()
    assert procedure.requested_on == REQUESTED
    assert not _events(AuditAction.PROCEDURE_UPDATED).exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"due_on": datetime.date(2025, 3, 2)},
        {"requested_on": datetime.date(2025, 3, 3), "due_on": datetime.date(2025, 2, 1)},
    ],
    ids=["echeance-avant-la-demande", "les-deux-dates"],
)
def test_it_refuses_a_due_date_before_the_request(actor, procedure, fields):
    with pytest.raises(ValidationError) as raised:
        procedure_update(procedure=procedure, by=actor, **fields)

    assert raised.value.message_dict == {
        "due_on": ["L'échéance ne peut pas être avant la demande, faite le 03/03/2025."]
    }
    procedure.refresh_from_db()
    assert procedure.due_on is None
    assert not _events(AuditAction.PROCEDURE_UPDATED).exists()


def test_it_refuses_a_request_date_moved_after_the_due_date(actor, procedure):
    procedure_update(procedure=procedure, by=actor, due_on=datetime.date(2025, 3, 10))

    with pytest.raises(ValidationError, match="L'échéance ne peut pas être avant la demande"):
        procedure_update(procedure=procedure, by=actor, requested_on=datetime.date(2025, 3, 11))

    procedure.refresh_from_db()
    assert procedure.requested_on == REQUESTED


def test_it_accepts_a_due_date_on_the_request_day(actor, procedure):
    procedure_update(procedure=procedure, by=actor, due_on=REQUESTED)

    procedure.refresh_from_db()
    assert procedure.due_on == REQUESTED


def test_it_refuses_to_open_with_a_due_date_before_the_request(actor, person, organisation):
    with pytest.raises(ValidationError, match="L'échéance ne peut pas être avant la demande"):
        procedure_open(
            person=person,
            procedure_type=ProcedureTypeFactory(),
            organisation=organisation,
            by=actor,
            requested_on=REQUESTED,
            due_on=REQUESTED - datetime.timedelta(days=1),
        )

    assert not Procedure.objects.exists()


def test_the_opening_is_dated_by_the_request_and_follows_its_correction(actor, procedure):
    opening = procedure.transitions.get()
    assert opening.on == REQUESTED

    procedure_update(procedure=procedure, by=actor, requested_on=datetime.date(2025, 3, 1))

    opening.refresh_from_db()
    assert opening.on == datetime.date(2025, 3, 1)


def test_it_refuses_a_request_date_after_a_move_that_sets_no_date(actor, procedure):
    procedure_transition(
        procedure=procedure,
        to_status=ProcedureStatus.ABANDONED,
        by=actor,
        on=datetime.date(2025, 3, 6),
    )

    with pytest.raises(ValidationError) as raised:
        procedure_update(procedure=procedure, by=actor, requested_on=datetime.date(2025, 3, 7))

    assert raised.value.message_dict == {
        "requested_on": [
            "La demande ne peut pas être datée d'après son passage à « Abandonnée », notée "
            "le 06/03/2025."
        ]
    }


def test_it_refuses_a_request_date_after_a_step_done(actor, procedure):
    procedure_step_record(
        procedure=procedure,
        step_index=1,
        autonomy=Autonomy.WITH_PERSON,
        by=actor,
        done_on=datetime.date(2025, 3, 6),
    )

    with pytest.raises(ValidationError) as raised:
        procedure_update(procedure=procedure, by=actor, requested_on=datetime.date(2025, 3, 7))

    assert raised.value.message_dict == {
        "requested_on": [
            "La demande ne peut pas être datée d'après l'étape 2, notée le 06/03/2025."
        ]
    }
    procedure.refresh_from_db()
    assert procedure.requested_on == REQUESTED
    assert not _events(AuditAction.PROCEDURE_UPDATED).exists()


def test_a_correction_is_checked_against_a_colleagues_move_made_since(actor, procedure):
    """The page was read before a colleague recorded the submission: the correction that
    would date the request after it is refused, not saved, nor a database error."""
    stale = Procedure.objects.get(pk=procedure.pk)
    procedure_transition(
        procedure=procedure,
        to_status=ProcedureStatus.IN_PROGRESS,
        by=actor,
        on=datetime.date(2025, 3, 5),
    )
    procedure_transition(
        procedure=procedure,
        to_status=ProcedureStatus.SUBMITTED,
        by=actor,
        on=datetime.date(2025, 3, 6),
    )

    with pytest.raises(ValidationError) as raised:
        procedure_update(procedure=stale, by=actor, requested_on=datetime.date(2025, 3, 10))

    assert list(raised.value.message_dict) == ["requested_on"]
    assert "d'après sa prise en charge" in raised.value.messages[0]
    procedure.refresh_from_db()
    assert (procedure.requested_on, procedure.status) == (REQUESTED, ProcedureStatus.SUBMITTED)
    assert not _events(AuditAction.PROCEDURE_UPDATED).exists()


@needs_row_locks
def test_a_correction_waits_for_a_colleagues_move_in_progress(transactional_db, actor, procedure):
    """The colleague's move holds the procedure's row: the correction waits for it to
    commit, then is checked against the taking in charge it recorded."""

    def colleague_moves():
        procedure_transition(
            procedure=Procedure.objects.get(pk=procedure.pk),
            to_status=ProcedureStatus.IN_PROGRESS,
            by=actor,
            on=datetime.date(2025, 3, 5),
        )

    with meanwhile(colleague_moves), pytest.raises(ValidationError, match="prise en charge"):
        procedure_update(procedure=procedure, by=actor, requested_on=datetime.date(2025, 3, 10))

    procedure.refresh_from_db()
    assert (procedure.requested_on, procedure.taken_on) == (REQUESTED, datetime.date(2025, 3, 5))


@needs_row_locks
def test_two_colleagues_cannot_mark_both_papers_of_a_group_at_once(
    transactional_db, actor, procedure
):
    """One marks the passport « non concerné(e) » while the other marks the residence
    permit: the second waits for the first to commit, then finds the permit the last paper
    of the group still asked."""
    passport, permit = (
        RequiredDocument.objects.create(procedure=procedure, kind=kind, group="identite")
        for kind in (DocumentKind.PASSPORT, DocumentKind.RESIDENCE_PERMIT)
    )

    def colleague_marks_the_passport():
        checklist_mark_not_applicable(
            item=RequiredDocument.objects.get(pk=passport.pk), not_applicable=True, by=actor
        )

    with (
        meanwhile(colleague_marks_the_passport),
        pytest.raises(ValidationError, match="Une des pièces de ce choix"),
    ):
        checklist_mark_not_applicable(item=permit, not_applicable=True, by=actor)

    assert list(
        RequiredDocument.objects.filter(pk__in=[passport.pk, permit.pk])
        .order_by("pk")
        .values_list("not_applicable", flat=True)
    ) == [True, False]


def test_only_dates_can_be_corrected(actor, procedure):
    with pytest.raises(TypeError):
        procedure_update(procedure=procedure, by=actor, status=ProcedureStatus.GRANTED)


# The journal row is part of the change


class JournalDown(Exception):
    pass


def test_a_procedure_is_not_opened_without_its_journal_row(actor, person, organisation):
    with (
        patch("relais.procedures.services.audit_record", side_effect=JournalDown),
        pytest.raises(JournalDown),
    ):
        procedure_open(
            person=person,
            procedure_type=ProcedureTypeFactory(),
            organisation=organisation,
            by=actor,
        )

    assert not Procedure.objects.exists()
    assert not RequiredDocument.objects.exists()
    assert not ProcedureTransition.objects.exists()


def test_a_move_is_not_made_without_its_journal_row(actor, procedure):
    with (
        patch("relais.procedures.services.audit_record", side_effect=JournalDown),
        pytest.raises(JournalDown),
    ):
        procedure_transition(procedure=procedure, to_status=ProcedureStatus.IN_PROGRESS, by=actor)

    procedure.refresh_from_db()
    assert (procedure.status, procedure.taken_on) == (ProcedureStatus.NOT_STARTED, None)
    assert procedure.transitions.count() == 1


def test_a_step_is_not_recorded_without_its_journal_row(actor, procedure):
    with (
        patch("relais.procedures.services.audit_record", side_effect=JournalDown),
        pytest.raises(JournalDown),
    ):
        procedure_step_record(procedure=procedure, step_index=0, autonomy="seule", by=actor)

    assert not ProcedureStep.objects.exists()


# The person's papers already in the file join the lines that ask for them.

TODAY = timezone.localdate()


def _papers(person):
    """A valid identity card and domiciliation, an expired passport, a deleted photo,
    two proofs of address, and a tax notice."""
    return {
        "cni": DocumentFactory(person=person, kind="cni"),
        "attestation_domiciliation": DocumentFactory(
            person=person, kind="attestation_domiciliation"
        ),
        "passeport": DocumentFactory(
            person=person, kind="passeport", expires_on=TODAY - datetime.timedelta(days=1)
        ),
        "photo_identite": DocumentFactory(
            person=person, kind="photo_identite", deleted_at=timezone.now()
        ),
        "justificatif_domicile": [
            DocumentFactory(person=person, kind="justificatif_domicile") for _ in range(2)
        ],
        "avis_imposition": DocumentFactory(person=person, kind="avis_imposition"),
        "autre": DocumentFactory(person=person, kind="autre"),
    }


def _lines(*pieces):
    return [{"kind": kind, "condition": "", **marks} for kind, marks in pieces]


def test_opening_attaches_the_one_valid_paper_of_each_kind(actor, person, organisation):
    papers = _papers(person)
    procedure_type = ProcedureTypeFactory(
        required_documents=_lines(
            ("cni", {"conditional": True, "condition": "l'ancienne carte, si vous la renouvelez"}),
            ("attestation_domiciliation", {"group": "adresse"}),
            ("justificatif_domicile", {"group": "adresse"}),
            ("passeport", {}),
            ("photo_identite", {}),
            ("autre", {}),
            ("avis_imposition", {"someone_else": True}),
        )
    )

    procedure = procedure_open(
        person=person, procedure_type=procedure_type, organisation=organisation, by=actor
    )

    attached = dict(procedure.checklist.values_list("kind", "document_id"))
    assert attached == {
        "cni": papers["cni"].pk,
        "attestation_domiciliation": papers["attestation_domiciliation"].pk,
        # Two fit: the professional chooses.
        "justificatif_domicile": None,
        "passeport": None,
        "photo_identite": None,
        "autre": None,
        # The parents' tax notice is not the person's.
        "avis_imposition": None,
    }
    events = _events(AuditAction.PROCEDURE_DOCUMENT_LINKED).order_by("seq")
    assert [(e.details["type"], e.details["automatique"]) for e in events] == [
        ("cni", True),
        ("attestation_domiciliation", True),
    ]
    assert {e.actor_id for e in events} == {actor.user_id}
    # A paper of a situation taken from the file says nothing of the situation.
    assert not procedure.checklist.get(kind="cni").concerned


def test_a_kind_asked_by_two_lines_is_left_to_the_professional(actor, person, organisation):
    DocumentFactory(person=person, kind="cni")
    procedure_type = ProcedureTypeFactory(
        required_documents=_lines(("cni", {}), ("cni", {"condition": "celle de votre parent"}))
    )

    procedure = procedure_open(
        person=person, procedure_type=procedure_type, organisation=organisation, by=actor
    )

    assert list(procedure.checklist.values_list("document_id", flat=True)) == [None, None]


def test_a_paper_added_joins_the_procedures_still_gathering_theirs(actor, person, organisation):
    gathering, submitted = (
        procedure_open(
            person=person,
            procedure_type=ProcedureTypeFactory(
                required_documents=_lines(("cni", {}), ("rib", {}), ("avis_imposition", {}))
            ),
            organisation=organisation,
            by=actor,
        )
        for _ in range(2)
    )
    Procedure.objects.filter(pk=submitted.pk).update(
        status=ProcedureStatus.SUBMITTED, submitted_on=TODAY
    )
    rib = DocumentFactory(person=person, kind="rib")
    gathering.checklist.filter(kind="rib").update(document=rib)
    old_notice = DocumentFactory(person=person, kind="avis_imposition", deleted_at=timezone.now())
    gathering.checklist.filter(kind="avis_imposition").update(document=old_notice)
    card, notice = (
        DocumentFactory(person=person, kind=kind) for kind in ("cni", "avis_imposition")
    )
    DocumentFactory(person=person, kind="rib")

    filled = checklist_fill(person=person, by=actor)

    assert {line.kind for line in filled} == {"cni", "avis_imposition"}
    assert dict(gathering.checklist.values_list("kind", "document_id")) == {
        "cni": card.pk,
        # Linked already: a second RIB changes nothing.
        "rib": rib.pk,
        # Its paper deleted: the new one takes its place.
        "avis_imposition": notice.pk,
    }
    # Submitted: its checklist is what the organisme received.
    assert set(submitted.checklist.values_list("document_id", flat=True)) == {None}
