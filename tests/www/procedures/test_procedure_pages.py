"""A person's procedures through the professional's pages: the tab, opening one from the
catalogue, its detail with the state machine, steps and checklist; who may see and do
what under the access rule; refused input that changes nothing; the journal."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_publish, default_matrix
from relais.documents.models import DocumentKind
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from relais.procedures.models import (
    Autonomy,
    Procedure,
    ProcedureStatus,
    ProcedureStep,
    ProcedureTransition,
    RequiredDocument,
)
from relais.procedures.services import (
    procedure_open,
    procedure_step_record,
    procedure_transition,
    procedure_update,
)
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import BreakGlassGrantFactory, ConsentFactory, PersonFactory
from tests.procedures.factories import DocumentFactory, ProcedureTypeFactory
from tests.www.procedures.conftest import actor_of

pytestmark = pytest.mark.django_db

ALL_BUT_PROCEDURES = [c for c in DataCategory.values if c != DataCategory.PROCEDURES]


def _tab(person):
    return reverse("procedures:person", args=[person.pk])


def _detail(procedure):
    return reverse("procedures:detail", args=[procedure.person_id, procedure.pk])


def _url(name, procedure, *extra):
    return reverse(f"procedures:{name}", args=[procedure.person_id, procedure.pk, *extra])


def _state(procedure):
    """Everything a refused POST must leave as it was."""
    procedure.refresh_from_db()
    return {
        "procedure": {
            field.name: getattr(procedure, field.name) for field in Procedure._meta.concrete_fields
        },
        "checklist": list(
            RequiredDocument.objects.filter(procedure=procedure)
            .order_by("pk")
            .values_list("document_id", "not_applicable")
        ),
        "steps": ProcedureStep.objects.filter(procedure=procedure).count(),
        "transitions": ProcedureTransition.objects.filter(procedure=procedure).count(),
        "writes": AuditEvent.objects.filter(person_id=procedure.person_id)
        .exclude(action=AuditAction.SECTION_VIEWED)
        .count(),
    }


def _cni(procedure):
    return procedure.checklist.get(kind=DocumentKind.CNI)


def _proof_of_address(procedure):
    return procedure.checklist.get(kind=DocumentKind.PROOF_OF_ADDRESS)


def _asked_if_hosted(procedure, *, concerned=False):
    """The proof of address « si vous êtes hébergé » asked only in that situation, as the
    catalogue says it with `selon_situation`; `concerned` when the person is said so."""
    procedure.checklist.filter(kind=DocumentKind.PROOF_OF_ADDRESS).update(
        conditional=True, concerned=concerned
    )
    return _proof_of_address(procedure)


def _submitted(procedure):
    procedure_transition(procedure=procedure, to_status="en_cours", by=SYSTEM)
    procedure_transition(procedure=procedure, to_status="deposee", by=SYSTEM)
    return procedure


# The person's tab.


def test_it_lists_the_open_and_closed_procedures_with_state_due_date_and_rate(
    referent_client, person, procedure, referent
):
    procedure.due_on = date(2027, 1, 31)
    procedure.save()
    closed = ProcedureTypeFactory(title="Demander la prime d'activité")
    done = procedure_open(
        person=person,
        procedure_type=closed,
        organisation=referent.organisation,
        by=actor_of(referent),
    )
    procedure_transition(procedure=done, to_status=ProcedureStatus.ABANDONED, by=SYSTEM)

    response = referent_client.get(_tab(person))

    text = response.content.decode()
    assert response.status_code == 200
    assert "Demander la complémentaire santé solidaire" in text
    assert "31/01/2027" in text
    assert "0 %" in text
    assert "(0 sur 2)" in text
    assert text.index("Demander la complémentaire") < text.index("Terminées")
    assert text.index("Terminées") < text.index("Demander la prime d&#x27;activité")
    assert "fr-badge" in text and "Abandonnée" in text
    assert 'aria-current="page">Démarches</a>' in text


def test_it_offers_the_catalogue_grouped_by_theme(referent_client, person):
    ProcedureTypeFactory(title="Demander une carte d'identité", category="papiers")
    ProcedureTypeFactory(title="Demander l'APL", category="logement")
    ProcedureTypeFactory(title="Une démarche retirée", inactive=True)

    text = referent_client.get(_tab(person)).content.decode()

    assert '<optgroup label="Papiers">' in text
    assert '<optgroup label="Logement">' in text
    assert text.index('label="Papiers"') < text.index("Demander une carte d&#x27;identité")
    assert "Une démarche retirée" not in text


def test_it_opens_a_procedure_with_the_catalogue_checklist(
    referent_client, person, procedure_type, referent
):
    response = referent_client.post(
        reverse("procedures:open", args=[person.pk]),
        {"procedure_type": procedure_type.pk, "due_on": "2027-02-01"},
    )

    procedure = Procedure.objects.get()
    assert response.status_code == 302
    assert response.url == _detail(procedure)
    assert procedure.organisation_id == referent.organisation_id
    assert procedure.due_on == date(2027, 2, 1)
    assert sorted(procedure.checklist.values_list("kind", flat=True)) == [
        "cni",
        "justificatif_domicile",
    ]
    event = AuditEvent.objects.get(action=AuditAction.PROCEDURE_OPENED)
    assert (event.person_id, event.actor_id) == (person.pk, referent.user_id)


@pytest.mark.parametrize(
    "data",
    [{}, {"procedure_type": "999999"}, {"procedure_type": "abc"}],
    ids=["rien", "inconnue", "pas-un-nombre"],
)
def test_it_refuses_to_open_without_a_catalogue_entry(referent_client, person, data):
    ProcedureTypeFactory()

    response = referent_client.post(reverse("procedures:open", args=[person.pk]), data)

    assert response.status_code == 400
    assert "fr-error-text" in response.content.decode()
    assert not Procedure.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_OPENED).exists()


def test_it_rounds_the_share_done_in_place_of_the_person_to_the_nearest(
    referent_client, person, procedure, referent
):
    by = actor_of(referent)
    for step in (0, 1):
        procedure_step_record(
            procedure=procedure,
            step_index=step,
            autonomy=Autonomy.FOR_PERSON,
            reason="La personne n'a pas d'adresse électronique.",
            by=by,
        )
    procedure_step_record(procedure=procedure, step_index=2, autonomy=Autonomy.WITH_PERSON, by=by)

    text = referent_client.get(_tab(person)).content.decode()

    assert "67 %" in text[text.index("Autonomie dans les démarches") :]


def test_it_refuses_a_withdrawn_catalogue_entry(referent_client, person):
    withdrawn = ProcedureTypeFactory(inactive=True)

    response = referent_client.post(
        reverse("procedures:open", args=[person.pk]), {"procedure_type": withdrawn.pk}
    )

    assert response.status_code == 400
    assert not Procedure.objects.exists()


def test_it_shows_the_autonomy_measure_month_by_month(referent_client, person, procedure, referent):
    today = timezone.localdate()
    by = actor_of(referent)
    procedure_step_record(procedure=procedure, step_index=0, autonomy=Autonomy.WITH_PERSON, by=by)
    procedure_step_record(
        procedure=procedure,
        step_index=1,
        autonomy=Autonomy.FOR_PERSON,
        reason="La personne n'a pas d'adresse électronique.",
        by=by,
    )
    procedure_step_record(procedure=procedure, step_index=2, autonomy=Autonomy.PERSON_ALONE, by=by)

    text = referent_client.get(_tab(person)).content.decode()

    month = text[text.index("Autonomie dans les démarches") :]
    assert "Part faite à la place" in month
    row = month[month.index(f"{today:%Y}</th>") - 40 :]
    assert "<td>1</td><td>1</td><td>1</td>" in row
    assert "33 %" in row


# The procedure's page.


def test_it_shows_the_dates_the_log_the_steps_and_the_checklist(referent_client, procedure, person):
    response = referent_client.get(_detail(procedure))

    text = response.content.decode()
    assert response.status_code == 200
    for expected in (
        "Demandée le",
        "Prise en charge le",
        "Délai de décision",
        "Historique de la démarche",
        "Préparez vos papiers : la liste est plus bas.",
        "Carte nationale d&#x27;identité",
        "si vous êtes hébergé",
        "<li>Carte nationale d&#x27;identité.</li>",
        reverse("documents:list", args=[person.pk]),
        "Passer à « En cours »",
        "Enregistrer l'étape 3",
    ):
        assert expected in text, expected
    assert "Enregistrer l&#x27;accord" not in text


def test_it_moves_the_procedure_and_logs_the_move(referent_client, procedure, referent):
    response = referent_client.post(
        _url("transition", procedure),
        {
            "formulaire": "etat",
            "etat-to_status": "en_cours",
            "etat-on": timezone.localdate().isoformat(),
            "etat-comment": "Premier rendez-vous.",
        },
    )

    assert response.status_code == 302
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.IN_PROGRESS
    assert procedure.taken_on == timezone.localdate()
    text = referent_client.get(_detail(procedure)).content.decode()
    assert "À faire → En cours" in text
    assert "Premier rendez-vous." in text
    assert referent.organisation.name in text
    assert AuditEvent.objects.filter(
        action=AuditAction.PROCEDURE_TRANSITION, person_id=procedure.person_id
    ).exists()


def test_it_records_a_grant_with_its_amount_and_start_date(referent_client, procedure):
    _submitted(procedure)
    today = timezone.localdate()

    response = referent_client.post(
        _url("transition", procedure),
        {
            "formulaire": "accord",
            "accord-on": today.isoformat(),
            "accord-amount_granted": "245.50",
            "accord-rights_start_on": today.isoformat(),
        },
    )

    assert response.status_code == 302
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.GRANTED
    assert str(procedure.amount_granted) == "245.50"
    assert procedure.rights_start_on == today
    assert procedure.decided_on == today


def test_the_history_shows_the_day_of_each_move_and_when_it_was_noted(referent_client, procedure):
    procedure_update(procedure=procedure, requested_on=date(2025, 3, 3), by=SYSTEM)
    procedure_transition(procedure=procedure, to_status="en_cours", on=date(2025, 3, 5), by=SYSTEM)
    procedure_transition(
        procedure=procedure, to_status="pieces_manquantes", on=date(2025, 3, 12), by=SYSTEM
    )
    noted = timezone.localtime(procedure.transitions.last().at)

    text = referent_client.get(_detail(procedure)).content.decode()

    history = text[text.index('id="titre-historique"') :]
    for day in ("03/03/2025", "05/03/2025", "12/03/2025"):
        assert day in history
    assert f"noté le {noted:%d/%m/%Y à %H:%M}" in history


def test_it_tells_the_outcome_of_an_appeal_beside_the_first_decision(referent_client, procedure):
    procedure_update(procedure=procedure, requested_on=date(2025, 3, 3), by=SYSTEM)
    for to_status, on, fields in (
        ("en_cours", date(2025, 3, 5), {}),
        ("deposee", date(2025, 3, 20), {}),
        ("refusee", date(2025, 4, 18), {"refusal_reason": "Ressources trop élevées."}),
        ("recours", date(2025, 4, 25), {}),
        ("accordee", date(2025, 6, 2), {}),
    ):
        procedure_transition(procedure=procedure, to_status=to_status, on=on, by=SYSTEM, **fields)

    text = referent_client.get(_detail(procedure)).content.decode()

    dates = text[text.index('id="titre-dates"') : text.index('id="titre-pieces"')]
    assert "<dt>Décision le</dt><dd>18/04/2025 (décision contestée par un recours)</dd>" in dates
    assert "<dt>Recours</dt><dd>formé le 25/04/2025 — issue : accordée le 02/06/2025</dd>" in (
        dates
    )
    assert "29 jours (du dépôt à la décision, avant le recours)" in dates


def test_it_tells_an_appeal_still_waiting(referent_client, procedure):
    procedure_update(procedure=procedure, requested_on=date(2025, 3, 3), by=SYSTEM)
    for to_status, on, fields in (
        ("en_cours", date(2025, 3, 5), {}),
        ("deposee", date(2025, 3, 20), {}),
        ("refusee", date(2025, 4, 18), {"refusal_reason": "Ressources trop élevées."}),
        ("recours", date(2025, 4, 25), {}),
    ):
        procedure_transition(procedure=procedure, to_status=to_status, on=on, by=SYSTEM, **fields)

    text = referent_client.get(_detail(procedure)).content.decode()

    assert "<dt>Recours</dt><dd>formé le 25/04/2025 — pas encore de réponse</dd>" in text


def test_it_records_a_refusal_with_its_reason(referent_client, procedure):
    _submitted(procedure)

    response = referent_client.post(
        _url("transition", procedure),
        {
            "formulaire": "refus",
            "refus-on": timezone.localdate().isoformat(),
            "refus-refusal_reason": "Ressources supérieures au plafond.",
        },
    )

    assert response.status_code == 302
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.REFUSED
    assert procedure.refusal_reason == "Ressources supérieures au plafond."


TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()
BAD_TRANSITIONS = {
    "etat-inconnu": {"formulaire": "etat", "etat-to_status": "envolee", "etat-on": "2026-01-01"},
    "etat-interdit": {"formulaire": "etat", "etat-to_status": "accordee", "etat-on": "2026-01-01"},
    "sans-date": {"formulaire": "etat", "etat-to_status": "abandonnee", "etat-on": ""},
    "date-future": {"formulaire": "etat", "etat-to_status": "abandonnee", "etat-on": TOMORROW},
    "date-avant-demande": {
        "formulaire": "etat",
        "etat-to_status": "abandonnee",
        "etat-on": "2000-01-01",
    },
    "refus-sans-motif": {"formulaire": "refus", "refus-on": "2026-01-01"},
    "accord-montant-negatif": {
        "formulaire": "accord",
        "accord-on": "2026-01-01",
        "accord-amount_granted": "-3",
    },
    "accord-montant-texte": {
        "formulaire": "accord",
        "accord-on": "2026-01-01",
        "accord-amount_granted": "beaucoup",
    },
}


@pytest.mark.parametrize("case", BAD_TRANSITIONS)
def test_it_refuses_a_bad_move_and_changes_nothing(referent_client, procedure, case):
    if case.startswith(("refus", "accord")):
        _submitted(procedure)
    before = _state(procedure)
    data = dict(BAD_TRANSITIONS[case])
    for key, value in data.items():
        if value == "2026-01-01":
            data[key] = timezone.localdate().isoformat()

    response = referent_client.post(_url("transition", procedure), data)

    assert response.status_code == 400
    text = response.content.decode()
    assert "fr-error-text" in text or "fr-alert--error" in text
    assert _state(procedure) == before


def test_it_refuses_a_decision_before_the_procedure_is_submitted(referent_client, procedure):
    before = _state(procedure)

    response = referent_client.post(
        _url("transition", procedure),
        {
            "formulaire": "refus",
            "refus-on": timezone.localdate().isoformat(),
            "refus-refusal_reason": "Dossier incomplet.",
        },
    )

    assert response.status_code == 400
    assert _state(procedure) == before


def test_it_records_how_a_step_was_done(referent_client, procedure):
    response = referent_client.post(
        _url("step", procedure, 1),
        {
            "etape-1-autonomy": "pour",
            "etape-1-reason": "La personne ne sait pas encore utiliser un ordinateur.",
            "etape-1-done_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 302
    step = ProcedureStep.objects.get()
    assert (step.step_index, step.autonomy) == (1, Autonomy.FOR_PERSON)
    assert AuditEvent.objects.filter(action=AuditAction.PROCEDURE_STEP_RECORDED).exists()
    text = referent_client.get(_detail(procedure)).content.decode()
    assert "À la place de la personne" in text
    assert "La personne ne sait pas encore utiliser un ordinateur." in text


@pytest.mark.parametrize(
    "data",
    [
        {"etape-0-autonomy": "pour", "etape-0-reason": "", "etape-0-done_on": "2026-01-01"},
        {"etape-0-autonomy": "pour", "etape-0-reason": "Pressé", "etape-0-done_on": "2026-01-01"},
        {"etape-0-autonomy": "peut-etre", "etape-0-done_on": "2026-01-01"},
        {"etape-0-autonomy": "avec", "etape-0-done_on": TOMORROW},
        {},
    ],
    ids=["sans-raison", "raison-trop-courte", "mode-inconnu", "date-future", "vide"],
)
def test_it_refuses_a_step_without_what_it_needs(referent_client, procedure, data):
    data = {
        key: (timezone.localdate().isoformat() if value == "2026-01-01" else value)
        for key, value in data.items()
    }
    before = _state(procedure)

    response = referent_client.post(_url("step", procedure, 0), data)

    assert response.status_code == 400
    assert "fr-error-text" in response.content.decode()
    assert _state(procedure) == before


def test_it_refuses_a_step_done_before_the_request(referent_client, procedure):
    before = _state(procedure)
    day_before = procedure.requested_on - timedelta(days=1)

    response = referent_client.post(
        _url("step", procedure, 0),
        {"etape-0-autonomy": "avec", "etape-0-done_on": day_before.isoformat()},
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "L&#x27;étape ne peut pas être faite avant la demande" in text
    assert "fr-error-text" in text
    assert _state(procedure) == before


def test_it_answers_404_for_a_step_the_catalogue_entry_does_not_have(referent_client, procedure):
    response = referent_client.post(
        _url("step", procedure, 3), {"etape-3-autonomy": "avec", "etape-3-done_on": "2026-01-01"}
    )

    assert response.status_code == 404
    assert not ProcedureStep.objects.exists()


def test_it_links_a_document_and_the_rate_moves(referent_client, procedure, person):
    card = DocumentFactory(person=person, kind=DocumentKind.CNI, title="recto verso")
    assert "0 % des pièces réunies" in referent_client.get(_detail(procedure)).content.decode()

    response = referent_client.post(
        _url("link", procedure, _cni(procedure).pk),
        {f"piece-{_cni(procedure).pk}-document": card.pk},
    )

    assert response.status_code == 302
    assert _cni(procedure).document_id == card.pk
    text = referent_client.get(_detail(procedure)).content.decode()
    assert "50 % des pièces réunies" in text
    assert "recto verso" in text
    assert AuditEvent.objects.filter(action=AuditAction.PROCEDURE_DOCUMENT_LINKED).exists()


def test_it_unlinks_a_document(referent_client, procedure, person):
    card = DocumentFactory(person=person, kind=DocumentKind.CNI)
    item = _cni(procedure)
    item.document = card
    item.save()

    response = referent_client.post(
        _url("link", procedure, item.pk), {f"piece-{item.pk}-document": ""}
    )

    assert response.status_code == 302
    assert _cni(procedure).document_id is None
    assert AuditEvent.objects.filter(action=AuditAction.PROCEDURE_DOCUMENT_UNLINKED).exists()


def test_it_shows_an_expired_document_as_expired(referent_client, procedure, person):
    old = DocumentFactory(
        person=person,
        kind=DocumentKind.CNI,
        issued_on=date(2010, 1, 1),
        expires_on=timezone.localdate() - timedelta(days=3),
    )
    item = _cni(procedure)
    item.document = old
    item.save()

    text = referent_client.get(_detail(procedure)).content.decode()

    assert "fr-badge--error" in text and ">expirée<" in text
    assert "Carte nationale d&#x27;identité : plus valable depuis le" in text


def test_a_deleted_document_is_no_attachment(referent_client, procedure, person):
    card = DocumentFactory(person=person, kind=DocumentKind.CNI, title="recto verso")
    item = _cni(procedure)
    item.document = card
    item.save()
    card.deleted_at = timezone.now()
    card.save()

    text = referent_client.get(_detail(procedure)).content.decode()

    assert "recto verso" not in text
    assert "0 % des pièces réunies" in text
    row = text[text.index("<td>Carte nationale d&#x27;identité") :]
    row = row[: row.index("</tr>")]
    assert "<td>aucune</td>" in " ".join(row.split())
    assert ">manquante<" in row
    assert f'value="{card.pk}"' not in text


@pytest.mark.parametrize("which", ["autre-personne", "autre-type", "supprimee", "inconnue"])
def test_it_refuses_to_link_a_document_it_does_not_offer(referent_client, procedure, person, which):
    document = {
        "autre-personne": lambda: DocumentFactory(kind=DocumentKind.CNI),
        "autre-type": lambda: DocumentFactory(person=person, kind=DocumentKind.RIB),
        "supprimee": lambda: DocumentFactory(
            person=person, kind=DocumentKind.CNI, deleted_at=timezone.now()
        ),
        "inconnue": lambda: type("Absente", (), {"pk": 999999})(),
    }[which]()
    item = _cni(procedure)
    before = _state(procedure)

    response = referent_client.post(
        _url("link", procedure, item.pk), {f"piece-{item.pk}-document": document.pk}
    )

    assert response.status_code == 400
    assert "fr-error-text" in response.content.decode()
    assert _state(procedure) == before


def test_it_keeps_health_documents_out_without_the_health_category(
    referent_client, person, referent
):
    medical = ProcedureTypeFactory(
        required_documents=[{"kind": DocumentKind.MEDICAL_CERTIFICATE.value, "condition": ""}]
    )
    procedure = procedure_open(
        person=person,
        procedure_type=medical,
        organisation=referent.organisation,
        by=actor_of(referent),
    )
    certificate = DocumentFactory(person=person, kind=DocumentKind.MEDICAL_CERTIFICATE)
    item = procedure.checklist.get()
    before = _state(procedure)

    page = referent_client.get(_detail(procedure)).content.decode()
    response = referent_client.post(
        _url("link", procedure, item.pk), {f"piece-{item.pk}-document": certificate.pk}
    )

    assert f"piece-{item.pk}-document" not in page
    assert response.status_code == 404
    assert _state(procedure) == before


def _health_procedure(person, referent, *, linked=None):
    """A procedure whose one line asks for a medical certificate « si vous avez une
    maladie longue », with `linked` attached to it."""
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(
            required_documents=[
                {
                    "kind": DocumentKind.MEDICAL_CERTIFICATE.value,
                    "condition": "si vous avez une maladie longue",
                }
            ]
        ),
        organisation=referent.organisation,
        by=actor_of(referent),
    )
    if linked is not None:
        RequiredDocument.objects.filter(procedure=procedure).update(document=linked)
    return procedure


@pytest.fixture
def mjpm(referent):
    """A colleague whose charter lets them read HEALTH (default charter)."""
    return MembershipFactory(organisation=referent.organisation, profession=Profession.MJPM)


@pytest.fixture
def health_without_documents(referent, django_capture_on_commit_callbacks):
    """A professional who may read HEALTH but not the other documents."""
    levels = default_matrix()
    for category, level in (
        (DataCategory.PROCEDURES, Level.WRITE),
        (DataCategory.HEALTH, Level.READ),
        (DataCategory.DOCUMENTS, Level.NONE),
    ):
        levels[(OrganisationKind.CCAS, Profession.NURSE, category)] = level
    # The charter read so far is cached until the publication commits.
    with django_capture_on_commit_callbacks(execute=True):
        charter_publish(levels=levels, summary="Santé sans les autres pièces.", by=SYSTEM)
    return MembershipFactory(organisation=referent.organisation, profession=Profession.NURSE)


def test_it_keeps_a_health_document_attached_without_the_health_category(
    referent_client, person, referent
):
    certificate = DocumentFactory(person=person, kind=DocumentKind.MEDICAL_CERTIFICATE)
    procedure = _health_procedure(person, referent, linked=certificate)
    item = procedure.checklist.get()
    before = _state(procedure)

    page = referent_client.get(_detail(procedure)).content.decode()
    marked = referent_client.post(
        _url("not_applicable", procedure, item.pk), {"not_applicable": "oui"}
    )

    assert _url("not_applicable", procedure, item.pk) not in page
    assert marked.status_code == 404
    assert _state(procedure) == before
    assert procedure.checklist.get().document_id == certificate.pk


def test_it_lets_a_health_reader_mark_a_health_line_not_applicable(person, referent, mjpm):
    certificate = DocumentFactory(person=person, kind=DocumentKind.MEDICAL_CERTIFICATE)
    procedure = _health_procedure(person, referent, linked=certificate)
    procedure.checklist.update(conditional=True)
    item = procedure.checklist.get()
    client = log_in(Client(), mjpm.user, mjpm)

    page = client.get(_detail(procedure)).content.decode()
    marked = client.post(_url("not_applicable", procedure, item.pk), {"not_applicable": "oui"})

    assert _url("not_applicable", procedure, item.pk) in page
    assert marked.status_code == 302
    assert procedure.checklist.get().not_applicable


@pytest.mark.parametrize("not_applicable", [False, True], ids=["manquante", "non-concerne"])
def test_it_journals_the_read_of_health_for_a_health_line_shown_without_a_document(
    person, referent, mjpm, not_applicable
):
    """« Certificat médical, si vous avez une maladie longue », missing or not concerned,
    says something of the person's health, with no document linked."""
    procedure = _health_procedure(person, referent)
    procedure.checklist.update(not_applicable=not_applicable)

    page = log_in(Client(), mjpm.user, mjpm).get(_detail(procedure)).content.decode()

    assert "Certificat médical" in _checklist_table(page)
    assert _viewed(person, mjpm) == ["demarches", "sante"]


def _checklist_table(page):
    return page[page.index('id="titre-pieces"') : page.index('id="titre-etapes"')]


def test_it_does_not_tell_what_is_missing_in_health_without_the_health_category(
    referent_client, person, referent, mjpm
):
    expired = DocumentFactory(
        person=person,
        kind=DocumentKind.MEDICAL_CERTIFICATE,
        issued_on=date(2024, 1, 10),
        expires_on=date(2025, 1, 9),
    )
    procedure = _health_procedure(person, referent, linked=expired)
    _health_procedure(person, referent)
    lacking = Procedure.objects.exclude(pk=procedure.pk).get()

    page = referent_client.get(_detail(procedure)).content.decode()
    lacking_page = referent_client.get(_detail(lacking)).content.decode()
    health_reader = log_in(Client(), mjpm.user, mjpm).get(_detail(procedure)).content.decode()

    assert "Une pièce de santé est à vérifier." in page
    assert "10 janvier 2025" not in page
    assert "plus valable" not in page
    assert "Une pièce de santé est à vérifier." in lacking_page
    assert "Certificat médical" not in lacking_page
    for shown in (_checklist_table(page), _checklist_table(lacking_page)):
        assert "Pièce non consultable avec votre accès" in shown
        for hidden in ("Certificat médical", "maladie longue", "expirée", "valide", "manquante"):
            assert hidden not in shown
        assert "une pièce est rattachée" not in shown
    assert "Certificat médical" in _checklist_table(health_reader)
    assert 'fr-badge--error">expirée' in _checklist_table(health_reader)
    assert "Certificat médical : plus valable depuis le 10 janvier 2025" in health_reader


def test_it_shows_a_document_by_its_own_category(
    health_without_documents, referent_client, person, referent
):
    other = DocumentFactory(person=person, kind=DocumentKind.OTHER, title="lettre du médecin")
    procedure = _health_procedure(person, referent, linked=other)
    item = procedure.checklist.get()
    client = log_in(Client(), health_without_documents.user, health_without_documents)
    before = _state(procedure)

    with_documents = referent_client.get(_detail(procedure)).content.decode()
    with_health_only = client.get(_detail(procedure)).content.decode()
    unlinked = client.post(_url("link", procedure, item.pk), {f"piece-{item.pk}-document": ""})
    marked = client.post(_url("not_applicable", procedure, item.pk), {"not_applicable": "oui"})

    assert "lettre du médecin" in with_documents
    assert "lettre du médecin" not in with_health_only
    assert "Pièce non consultable avec votre accès" in with_health_only
    assert "Certificat médical" in with_documents
    assert f"piece-{item.pk}-document" not in with_health_only
    assert (unlinked.status_code, marked.status_code) == (404, 404)
    assert _state(procedure) == before
    assert _viewed(person, referent) == ["demarches", "documents"]
    assert _viewed(person, health_without_documents) == ["demarches"]


def test_it_marks_a_conditional_document_not_applicable_and_back(referent_client, procedure):
    item = _asked_if_hosted(procedure, concerned=True)

    first = referent_client.post(
        _url("not_applicable", procedure, item.pk), {"not_applicable": "oui"}
    )

    assert first.status_code == 302
    assert _proof_of_address(procedure).not_applicable
    assert "0 % des pièces réunies" in referent_client.get(_detail(procedure)).content.decode()
    assert "(0 sur 1" in referent_client.get(_detail(procedure)).content.decode()

    referent_client.post(_url("not_applicable", procedure, item.pk), {"not_applicable": "non"})

    assert not _proof_of_address(procedure).not_applicable


def _with_a_passport_if_any(procedure):
    return RequiredDocument.objects.create(
        procedure=procedure,
        kind=DocumentKind.PASSPORT,
        condition="si vous en avez un",
        conditional=True,
    )


def test_a_document_of_a_situation_counts_once_the_person_is_said_concerned(
    referent_client, procedure
):
    passport = _with_a_passport_if_any(procedure)
    unknown = referent_client.get(_detail(procedure)).content.decode()

    referent_client.post(_url("not_applicable", procedure, passport.pk), {"not_applicable": "non"})
    concerned = referent_client.get(_detail(procedure)).content.decode()
    referent_client.post(_url("not_applicable", procedure, passport.pk), {"not_applicable": "oui"})
    not_concerned = referent_client.get(_detail(procedure)).content.decode()

    assert "(0 sur 2" in unknown
    assert ">selon la situation<" in unknown
    assert "Selon la situation de la personne, peut-être : passeport." in unknown
    assert "La personne est concernée<span" in unknown and "Non concerné(e)<span" in unknown
    assert "(0 sur 3" in concerned
    assert "<li>Passeport.</li>" in concerned
    assert 'La personne est concernée<span class="fr-sr-only"> par Passeport' not in concerned
    assert "(0 sur 2" in not_concerned
    row = RequiredDocument.objects.get(pk=passport.pk)
    assert (row.not_applicable, row.concerned) == (True, False)
    events = AuditEvent.objects.filter(action=AuditAction.PROCEDURE_UPDATED).order_by("seq")
    assert [event.details["non_concernee"] for event in events] == [False, True]


def test_linking_a_document_of_a_situation_says_the_person_is_concerned(
    referent_client, procedure, person
):
    passport = _with_a_passport_if_any(procedure)
    document = DocumentFactory(person=person, kind=DocumentKind.PASSPORT)

    referent_client.post(
        _url("link", procedure, passport.pk), {f"piece-{passport.pk}-document": document.pk}
    )

    assert RequiredDocument.objects.get(pk=passport.pk).concerned
    assert "(1 sur 3" in referent_client.get(_detail(procedure)).content.decode()


def test_it_offers_no_not_concerned_for_a_freshness_rule(referent_client, procedure):
    _asked_if_hosted(procedure)
    photo = RequiredDocument.objects.create(
        procedure=procedure, kind=DocumentKind.PHOTO, condition="de moins de 6 mois", fresh_months=6
    )
    before = _state(procedure)

    page = referent_client.get(_detail(procedure)).content.decode()
    response = referent_client.post(
        _url("not_applicable", procedure, photo.pk), {"not_applicable": "oui"}, follow=True
    )

    assert "de moins de 6 mois" in page
    assert 'Non concerné(e)<span class="fr-sr-only"> par Photo d&#x27;identité' not in page
    assert 'Non concerné(e)<span class="fr-sr-only"> par Justificatif de domicile' in page
    assert "fr-alert--error" in response.content.decode()
    assert _state(procedure) == before


def _not_concerned_button(kind_label):
    return f'Non concerné(e)<span class="fr-sr-only"> par {kind_label}'


def test_it_offers_not_concerned_only_for_a_paper_some_situations_need(referent_client, procedure):
    """The catalogue's words may only say which paper: « le numéro unique de votre demande »,
    « celui de vos parents » are asked of everyone; « après la naissance, celui du bébé »
    is asked in a situation."""
    number = RequiredDocument.objects.create(
        procedure=procedure, kind=DocumentKind.OTHER, condition="le numéro unique de votre demande"
    )
    parents = RequiredDocument.objects.create(
        procedure=procedure,
        kind=DocumentKind.TAX_NOTICE,
        condition="celui de vos parents",
        someone_else=True,
    )
    RequiredDocument.objects.create(
        procedure=procedure,
        kind=DocumentKind.BIRTH_CERTIFICATE,
        condition="après la naissance, celui du bébé",
        conditional=True,
        someone_else=True,
    )
    before = _state(procedure)

    page = referent_client.get(_detail(procedure)).content.decode()
    refused = [
        referent_client.post(
            _url("not_applicable", procedure, line.pk), {"not_applicable": "oui"}, follow=True
        ).content.decode()
        for line in (number, parents)
    ]

    assert _not_concerned_button("Autre pièce") not in page
    assert _not_concerned_button("Avis d&#x27;imposition") not in page
    assert _not_concerned_button("Acte de naissance") in page
    assert (
        "Cette pièce, le numéro unique de votre demande, est demandée dans tous les cas"
        in refused[0]
    )
    assert "Cette pièce, celui de vos parents, est celle d&#x27;une autre personne" in refused[1]
    assert _state(procedure) == before


def test_it_keeps_one_paper_of_a_group_asked(referent_client, procedure):
    """The identity card « if French » or the residence permit « if not French »: the
    person may be said not concerned by one of them, never by both."""
    lines = [
        RequiredDocument.objects.create(
            procedure=procedure, kind=kind, condition=condition, group="identite"
        )
        for kind, condition in (
            (DocumentKind.PASSPORT, "si vous êtes de nationalité française"),
            (DocumentKind.RESIDENCE_PERMIT, "si vous n'êtes pas de nationalité française"),
        )
    ]

    referent_client.post(_url("not_applicable", procedure, lines[0].pk), {"not_applicable": "oui"})
    before = _state(procedure)
    page = referent_client.get(_detail(procedure)).content.decode()
    refused = referent_client.post(
        _url("not_applicable", procedure, lines[1].pk), {"not_applicable": "oui"}, follow=True
    )

    assert RequiredDocument.objects.get(pk=lines[0].pk).not_applicable
    assert _not_concerned_button("Titre de séjour") not in page
    assert "Une des pièces de ce choix est demandée dans tous les cas" in refused.content.decode()
    assert _state(procedure) == before


@pytest.mark.parametrize("value", ["oui", "peut-etre"])
def test_it_refuses_not_applicable_on_a_document_always_required(referent_client, procedure, value):
    item = _cni(procedure)
    before = _state(procedure)

    response = referent_client.post(
        _url("not_applicable", procedure, item.pk), {"not_applicable": value}, follow=True
    )

    assert "fr-alert--error" in response.content.decode()
    assert _state(procedure) == before


def test_it_corrects_the_dates(referent_client, procedure):
    yesterday = timezone.localdate() - timedelta(days=1)

    response = referent_client.post(
        _url("update", procedure),
        {"dates-requested_on": yesterday.isoformat(), "dates-due_on": "2027-03-31"},
    )

    assert response.status_code == 302
    procedure.refresh_from_db()
    assert (procedure.requested_on, procedure.due_on) == (yesterday, date(2027, 3, 31))
    assert AuditEvent.objects.filter(action=AuditAction.PROCEDURE_UPDATED).exists()


@pytest.mark.parametrize(
    "data",
    [{"dates-requested_on": ""}, {"dates-requested_on": TOMORROW}, {"dates-due_on": "31/02/2027"}],
    ids=["sans-demande", "demande-future", "echeance-invalide"],
)
def test_it_refuses_bad_dates_and_changes_nothing(referent_client, procedure, data):
    before = _state(procedure)

    response = referent_client.post(_url("update", procedure), data)

    assert response.status_code == 400
    assert "fr-error-text" in response.content.decode()
    assert _state(procedure) == before


def test_it_refuses_a_due_date_before_the_request(referent_client, procedure):
    before = _state(procedure)

    response = referent_client.post(
        _url("update", procedure),
        {
            "dates-requested_on": procedure.requested_on.isoformat(),
            "dates-due_on": (procedure.requested_on - timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 400
    assert "L&#x27;échéance ne peut pas être avant la demande" in response.content.decode()
    assert _state(procedure) == before


def test_it_refuses_a_request_date_after_the_submission(referent_client, procedure):
    procedure.requested_on = timezone.localdate() - timedelta(days=10)
    procedure.save()
    procedure_transition(
        procedure=procedure,
        to_status="en_cours",
        on=timezone.localdate() - timedelta(days=5),
        by=SYSTEM,
    )
    before = _state(procedure)

    response = referent_client.post(
        _url("update", procedure), {"dates-requested_on": timezone.localdate().isoformat()}
    )

    assert response.status_code == 400
    assert "prise en charge" in response.content.decode()
    assert _state(procedure) == before


def test_it_refuses_a_request_date_after_a_step_done_on_the_field(referent_client, procedure):
    two_days_ago = timezone.localdate() - timedelta(days=2)
    procedure.requested_on = two_days_ago
    procedure.save()
    procedure_step_record(
        procedure=procedure, step_index=0, autonomy="avec", done_on=two_days_ago, by=SYSTEM
    )
    before = _state(procedure)

    response = referent_client.post(
        _url("update", procedure), {"dates-requested_on": timezone.localdate().isoformat()}
    )

    assert response.status_code == 400
    text = response.content.decode()
    field = text[text.index('for="id_dates-requested_on"') : text.index('for="id_dates-due_on"')]
    assert "La demande ne peut pas être datée d&#x27;après l&#x27;étape 1" in field
    assert "fr-error-text" in field
    assert _state(procedure) == before


def test_it_refuses_a_post_without_the_csrf_token(referent, procedure):
    client = log_in(Client(enforce_csrf_checks=True), referent.user, referent)
    before = _state(procedure)

    response = client.post(
        _url("transition", procedure),
        {"formulaire": "etat", "etat-to_status": "en_cours", "etat-on": "2026-01-01"},
    )

    assert response.status_code == 403
    assert _state(procedure) == before


# Who may see and do what.


def _every_person_url(procedure):
    item = _cni(procedure)
    return {
        "get": [_tab(procedure.person), _detail(procedure)],
        "post": [
            reverse("procedures:open", args=[procedure.person_id]),
            _url("transition", procedure),
            _url("update", procedure),
            _url("step", procedure, 0),
            _url("link", procedure, item.pk),
            _url("not_applicable", procedure, item.pk),
        ],
    }


def _valid_posts(procedure, procedure_type, document):
    today = timezone.localdate().isoformat()
    item = _cni(procedure)
    return {
        reverse("procedures:open", args=[procedure.person_id]): {
            "procedure_type": procedure_type.pk
        },
        _url("transition", procedure): {
            "formulaire": "etat",
            "etat-to_status": "en_cours",
            "etat-on": today,
        },
        _url("update", procedure): {"dates-requested_on": today},
        _url("step", procedure, 0): {"etape-0-autonomy": "avec", "etape-0-done_on": today},
        _url("link", procedure, item.pk): {f"piece-{item.pk}-document": document.pk},
        _url("not_applicable", procedure, _proof_of_address(procedure).pk): {
            "not_applicable": "oui"
        },
    }


def _viewed(person, membership):
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.SECTION_VIEWED, person_id=person.pk, actor_id=membership.user_id
        )
        .order_by("seq")
        .values_list("category", flat=True)
    )


def test_it_journals_each_read_of_the_procedures(referent_client, procedure, person, referent):
    referent_client.get(_tab(person))
    referent_client.get(_detail(procedure))

    # The detail shows the checklist's lines (which documents are missing): a read of the
    # documents too, even with none in the file.
    assert _viewed(person, referent) == ["demarches", "demarches", "documents"]


def test_it_journals_the_read_of_the_documents_the_checklist_shows(
    referent_client, procedure, person, referent
):
    DocumentFactory(person=person, kind=DocumentKind.CNI)

    referent_client.get(_detail(procedure))

    assert _viewed(person, referent) == ["demarches", "documents"]


def test_it_journals_the_read_behind_a_refused_form(referent_client, procedure, person, referent):
    DocumentFactory(person=person, kind=DocumentKind.CNI)

    step = referent_client.post(_url("step", procedure, 0), {"etape-0-autonomy": "peut-etre"})
    dates = referent_client.post(_url("update", procedure), {"dates-requested_on": ""})
    opened = referent_client.post(reverse("procedures:open", args=[person.pk]), {})

    assert step.status_code == dates.status_code == opened.status_code == 400
    assert _viewed(person, referent) == [
        "demarches",
        "documents",
        "demarches",
        "documents",
        "demarches",
    ]


def test_it_answers_404_when_the_consent_leaves_out_the_procedures(procedure, person):
    elsewhere = MembershipFactory()
    ConsentFactory(
        person=person, organisation=elsewhere.organisation, categories=ALL_BUT_PROCEDURES
    )
    client = log_in(Client(), elsewhere.user, elsewhere)
    before = _state(procedure)
    urls = _every_person_url(procedure)

    file_page = client.get(reverse("persons:file", args=[person.pk])).content.decode()

    assert _tab(person) not in file_page
    for url in urls["get"] + urls["post"]:
        assert client.get(url).status_code in {404, 405}, url
    for url, data in _valid_posts(
        procedure, procedure.procedure_type, DocumentFactory(person=person)
    ).items():
        assert client.post(url, data).status_code == 404, url
    assert _state(procedure) == before
    assert not AuditEvent.objects.filter(
        actor_id=elsewhere.user_id, category=DataCategory.PROCEDURES
    ).exists()


@pytest.fixture
def reader():
    """A professional whose charter gives READ on procedures (and documents)."""
    levels = default_matrix()
    for category in (DataCategory.PROCEDURES, DataCategory.DOCUMENTS):
        levels[(OrganisationKind.CCAS, Profession.CESF, category)] = Level.READ
    charter_publish(levels=levels, summary="Démarches en lecture pour les CESF.", by=SYSTEM)
    return MembershipFactory(profession=Profession.CESF)


def test_it_lets_a_reader_see_but_not_change(reader, procedure, person):
    ConsentFactory(person=person, organisation=reader.organisation)
    client = log_in(Client(), reader.user, reader)
    document = DocumentFactory(person=person, kind=DocumentKind.CNI)
    before = _state(procedure)

    tab = client.get(_tab(person))
    detail = client.get(_detail(procedure))

    assert tab.status_code == detail.status_code == 200
    assert "Ouvrir la démarche" not in tab.content.decode()
    assert "<form" not in detail.content.decode().split("<main")[1]
    for url, data in _valid_posts(procedure, procedure.procedure_type, document).items():
        assert client.post(url, data).status_code == 404, url
    assert _state(procedure) == before


def test_it_answers_404_to_an_outsider_everywhere(outsider_client, procedure, person):
    before = _state(procedure)
    urls = _every_person_url(procedure)

    for url in urls["get"]:
        assert outsider_client.get(url).status_code == 404, url
    for url, data in _valid_posts(
        procedure, procedure.procedure_type, DocumentFactory(person=person)
    ).items():
        assert outsider_client.post(url, data).status_code == 404, url
    assert _state(procedure) == before
    assert not AuditEvent.objects.filter(
        person_id=person.pk, action=AuditAction.SECTION_VIEWED
    ).exists()


def test_it_answers_404_for_a_procedure_of_another_person(referent_client, procedure, referent):
    other = PersonFactory()
    ConsentFactory(person=other, organisation=referent.organisation)

    response = referent_client.get(reverse("procedures:detail", args=[other.pk, procedure.pk]))

    assert response.status_code == 404


def test_it_opens_the_procedures_read_only_under_break_glass(procedure, person):
    membership = MembershipFactory()
    BreakGlassGrantFactory(
        person=person, professional=membership.user, organisation=membership.organisation
    )
    client = log_in(Client(), membership.user, membership)
    before = _state(procedure)

    detail = client.get(_detail(procedure))

    assert detail.status_code == 200
    text = detail.content.decode()
    assert "Accès exceptionnel, en lecture seule" in text
    assert "Passer à" not in text
    for url, data in _valid_posts(
        procedure, procedure.procedure_type, DocumentFactory(person=person)
    ).items():
        assert client.post(url, data).status_code == 404, url
    assert _state(procedure) == before
    viewed = AuditEvent.objects.filter(
        action=AuditAction.SECTION_VIEWED, actor_id=membership.user_id, category="demarches"
    ).get()
    assert (
        viewed.reason == "La personne est hospitalisée et son logement doit être protégé d'urgence."
    )


# Query counts: the same whatever the number of procedures, on SQLite and PostgreSQL alike.

QUERIES = {"tab": 13, "detail": 17}


def _pinned(page):
    return QUERIES[page]


@pytest.mark.parametrize("size", [5, 15])
def test_it_pins_the_queries_of_the_tab(
    referent_client, person, referent, size, django_assert_num_queries
):
    for _ in range(size):
        opened = procedure_open(
            person=person,
            procedure_type=ProcedureTypeFactory(),
            organisation=referent.organisation,
            by=actor_of(referent),
        )
        procedure_step_record(procedure=opened, step_index=0, autonomy="avec", by=SYSTEM)
        item = _cni(opened)
        item.document = DocumentFactory(person=person)
        item.save()
    referent_client.get(_tab(person))

    with django_assert_num_queries(_pinned("tab")):
        response = referent_client.get(_tab(person))

    assert response.content.decode().count("50 %") == size


@pytest.mark.parametrize("size", [1, 6])
def test_it_pins_the_queries_of_the_detail(
    referent_client, person, referent, size, django_assert_num_queries
):
    steps = [f"Étape numéro {n}." for n in range(size + 1)]
    pieces = [{"kind": kind, "condition": ""} for kind in list(DocumentKind.values)[:size]]
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(steps=steps, required_documents=pieces),
        organisation=referent.organisation,
        by=actor_of(referent),
    )
    for index, item in enumerate(procedure.checklist.all()):
        item.document = DocumentFactory(person=person, kind=item.kind)
        item.save()
        procedure_step_record(procedure=procedure, step_index=index, autonomy="seule", by=SYSTEM)
        procedure_transition(
            procedure=procedure,
            to_status="en_cours" if index % 2 == 0 else "pieces_manquantes",
            by=SYSTEM,
        )
    referent_client.get(_detail(procedure))

    with django_assert_num_queries(_pinned("detail")):
        response = referent_client.get(_detail(procedure))

    assert response.content.decode().count('fr-badge--success">valide') == size


def test_one_paper_of_a_group_of_three_is_enough(referent_client, procedure, person):
    for kind in (DocumentKind.PASSPORT, DocumentKind.RESIDENCE_PERMIT):
        RequiredDocument.objects.create(procedure=procedure, kind=kind, group="identite")
    RequiredDocument.objects.filter(pk=_cni(procedure).pk).update(
        group="identite", document=DocumentFactory(person=person, kind=DocumentKind.CNI)
    )

    text = referent_client.get(_detail(procedure)).content.decode()

    assert "ou passeport ou titre de séjour : une de ces pièces suffit" in text
    assert text.count("une autre pièce suffit") == 2
    assert "(1 sur 2" in text
