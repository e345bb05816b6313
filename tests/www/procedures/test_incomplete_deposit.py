"""« Passer à « Déposée » » with papers still missing asks first: a second step names the
missing papers, with « Déposer quand même » and « Compléter d'abord ». Nothing is recorded
until the deposit is confirmed; a complete file is deposited at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.documents.models import DocumentKind
from relais.procedures.models import ProcedureStatus
from relais.procedures.services import procedure_open, procedure_transition
from tests.procedures.factories import DocumentFactory, ProcedureTypeFactory
from tests.www.procedures.conftest import actor_of
from tests.www.procedures.test_procedure_pages import (
    _cni,
    _detail,
    _proof_of_address,
    _state,
    _url,
    _viewed,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _deposit(client, procedure, **extra):
    data = {"formulaire": "etat", "etat-to_status": "deposee", "etat-on": TODAY.isoformat()}
    return client.post(_url("transition", procedure), data | extra)


@pytest.fixture
def in_progress(procedure):
    procedure_transition(procedure=procedure, to_status="en_cours", by=SYSTEM)
    return procedure


def test_it_asks_before_depositing_a_file_with_papers_missing(referent_client, in_progress):
    before = _state(in_progress)

    response = _deposit(referent_client, in_progress, **{"etat-comment": "Envoyé en ligne."})

    assert response.status_code == 200
    text = response.content.decode()
    assert "déposer un dossier incomplet ?" in text
    assert f"Il manque des pièces au {TODAY:%d/%m/%Y}" in text
    assert "Pièces valables : 0 sur 2 (0 %)." in text
    assert "<li>Carte nationale d&#x27;identité.</li>" in text
    assert "<li>Justificatif de domicile.</li>" in text
    assert ">Déposer quand même</button>" in text
    back = f"{_detail(in_progress)}#titre-pieces"
    assert f'<a class="fr-btn fr-btn--secondary" href="{back}">Compléter d\'abord</a>' in text
    # The confirmation carries the move as it was asked.
    for name, value in (
        ("etat-to_status", "deposee"),
        ("etat-on", TODAY.isoformat()),
        ("etat-comment", "Envoyé en ligne."),
        ("etat-confirmed", "True"),
    ):
        assert f'<input type="hidden" name="{name}" value="{value}">' in text
    assert "<title>Dépôt d&#x27;un dossier incomplet — Démarches — dossier n° " in text
    assert _state(in_progress) == before


def test_the_confirmed_deposit_is_recorded_and_journaled_as_today(referent_client, in_progress):
    response = _deposit(
        referent_client,
        in_progress,
        **{"etat-comment": "Envoyé en ligne.", "etat-confirmed": "True"},
    )

    assert response.status_code == 302
    in_progress.refresh_from_db()
    assert in_progress.status == ProcedureStatus.SUBMITTED
    assert in_progress.submitted_on == TODAY
    move = in_progress.transitions.order_by("-pk").first()
    assert (move.to_status, move.on) == (ProcedureStatus.SUBMITTED, TODAY)
    assert move.comment.startswith("Envoyé en ligne.\nPièces valables au dépôt : 0 sur 2 (0 %)")
    event = AuditEvent.objects.filter(action=AuditAction.PROCEDURE_TRANSITION).latest("seq")
    assert event.details["vers"] == "deposee"
    assert event.details["date"] == TODAY.isoformat()
    assert event.details["completude"] == 0
    assert timezone.localdate(event.created_at) == TODAY


def test_a_complete_file_is_deposited_at_once(referent_client, in_progress, person):
    item = _cni(in_progress)
    item.document = DocumentFactory(person=person, kind=DocumentKind.CNI)
    item.save()
    address = _proof_of_address(in_progress)
    address.not_applicable = True
    address.save()

    response = _deposit(referent_client, in_progress)

    assert response.status_code == 302
    in_progress.refresh_from_db()
    assert in_progress.status == ProcedureStatus.SUBMITTED


def test_other_moves_are_never_asked_to_be_confirmed(referent_client, in_progress):
    response = referent_client.post(
        _url("transition", in_progress),
        {"formulaire": "etat", "etat-to_status": "abandonnee", "etat-on": TODAY.isoformat()},
    )

    assert response.status_code == 302
    in_progress.refresh_from_db()
    assert in_progress.status == ProcedureStatus.ABANDONED


def test_the_question_journals_the_read_of_what_it_names(
    referent_client, in_progress, person, referent
):
    _deposit(referent_client, in_progress)

    assert _viewed(person, referent) == ["demarches", "documents"]


def test_a_confirmed_deposit_refused_comes_back_on_the_summary(referent_client, in_progress):
    """Confirmed, the deposit may still be refused (dated before the request): the page of
    the procedure says why at its top, and nothing is recorded."""
    before = _state(in_progress)
    day_before = in_progress.requested_on - timedelta(days=1)

    response = _deposit(
        referent_client,
        in_progress,
        **{"etat-on": day_before.isoformat(), "etat-confirmed": "True"},
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="formulaire-refuse"' in text
    assert "La date ne peut pas être avant la demande" in text
    assert _state(in_progress) == before


QUERIES = 14


@pytest.mark.parametrize("size", [1, 6])
def test_it_pins_the_queries_of_the_question(
    referent_client, person, referent, size, django_assert_num_queries
):
    pieces = [{"kind": kind, "condition": ""} for kind in list(DocumentKind.values)[:size]]
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(required_documents=pieces),
        organisation=referent.organisation,
        by=actor_of(referent),
    )
    procedure_transition(procedure=procedure, to_status="en_cours", by=SYSTEM)
    _deposit(referent_client, procedure)

    with django_assert_num_queries(QUERIES):
        response = _deposit(referent_client, procedure)

    text = response.content.decode()
    start = text.index("Il manque des pièces au")
    missing = text[start : text.index("</ul>", start)]
    assert missing.count("<li>") == size
