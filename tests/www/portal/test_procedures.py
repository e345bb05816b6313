"""« Mes démarches » and the home page tell the person the truth about their procedures:
a step to do only while there is one, what happens while the organisme studies the
request, and the papers missing counted as the professional's page counts them."""

import html
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.portal.sessions import PERSON_ACTOR_LABEL
from relais.procedures.catalogue import load_catalogue
from relais.procedures.models import ProcedureStatus, ProcedureType
from relais.procedures.services import procedure_open
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.portability.builders import pdf_bytes
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person
from tests.procedures.factories import DocumentFactory, ProcedureFactory, ProcedureTypeFactory
from tests.www.procedures.conftest import actor_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def referent():
    return MembershipFactory()


@pytest.fixture
def person(referent):
    person = PersonFactory(first_names="Nadia")
    ConsentFactory(person=person, organisation=referent.organisation)
    return person


@pytest.fixture
def person_client(person):
    return log_in_person(Client(), PersonAccountFactory(person=person))


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def _item(page: str, title: str) -> str:
    """The part of « Mes démarches » about one procedure."""
    start = page.index(title)
    end = page.find('<h2 class="fr-h4"', start)
    return page[start:end] if end != -1 else page[start:]


# While the organisme studies the request, there is no step to do.

FIRST_STEP = "Indiquez les ressources de votre foyer sur le site de la CAF."


def _waiting(person, referent, status, **fields):
    long_ago = timezone.localdate() - timedelta(days=20)
    return ProcedureFactory(
        person=person,
        organisation=referent.organisation,
        procedure_type=ProcedureTypeFactory(
            title="Demander la prime d'activité",
            steps=[FIRST_STEP, "Envoyez la demande."],
            **fields,
        ),
        status=status,
        requested_on=long_ago,
        taken_on=long_ago,
        submitted_on=long_ago,
    )


@pytest.mark.parametrize("status", [ProcedureStatus.SUBMITTED, ProcedureStatus.AWAITING])
def test_a_submitted_procedure_has_no_next_step_but_says_what_happens(
    person, referent, person_client, status
):
    _waiting(person, referent, status, processing_days=30)

    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "prime d'activité")

    assert "Prochaine étape" not in page
    assert FIRST_STEP not in page
    assert "Et maintenant ?" in page
    assert "L'organisme étudie votre demande." in page
    assert "Vous n'avez rien à faire pour le moment." in page
    assert "En général, la réponse arrive en 30 jours." in page


def test_an_appeal_says_the_organisme_studies_it(person, referent, person_client):
    _waiting(person, referent, ProcedureStatus.APPEAL, processing_days=30)

    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "prime d'activité")

    assert FIRST_STEP not in page
    assert "L'organisme étudie votre contestation." in page
    assert "réponse arrive en" not in page


def test_a_request_sent_without_every_paper_says_so_without_a_list_to_do(
    person, referent, person_client
):
    procedure = _waiting(person, referent, ProcedureStatus.AWAITING)
    procedure.checklist.create(kind="rib")

    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "prime d'activité")

    assert "La demande est partie sans tous les papiers." in page
    assert "Ce qui manque" not in page


def test_a_procedure_to_do_still_shows_its_next_step(person, referent, person_client):
    ProcedureFactory(
        person=person,
        organisation=referent.organisation,
        procedure_type=ProcedureTypeFactory(
            title="Demander la prime d'activité", steps=[FIRST_STEP, "Envoyez la demande."]
        ),
        status=ProcedureStatus.IN_PROGRESS,
    )

    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "prime d'activité")

    assert "Prochaine étape :" in page
    assert FIRST_STEP in page
    assert "Et maintenant ?" not in page


def test_what_happens_now_is_said_in_english_and_arabic(person, referent, person_client):
    _waiting(person, referent, ProcedureStatus.AWAITING, processing_days=2)

    person_client.post(reverse("portal:language"), {"language": "en"})
    english = text_of(person_client.get(reverse("portal:procedures")))
    person_client.post(reverse("portal:language"), {"language": "ar"})
    arabic = text_of(person_client.get(reverse("portal:procedures")))

    assert "What happens now?" in english
    assert "You have nothing to do for now." in english
    assert "The answer usually comes in 2 days." in english
    assert "عادةً يصل الرد خلال يومين (2)." in arabic


# What is missing, said once, in the person's words.


def _to_do(person, referent, papers, title="Faire ou refaire sa carte d'identité"):
    procedure = ProcedureFactory(
        person=person,
        organisation=referent.organisation,
        procedure_type=ProcedureTypeFactory(title=title),
        status=ProcedureStatus.IN_PROGRESS,
    )
    for paper in papers:
        procedure.checklist.create(**paper)
    return procedure


def test_papers_of_a_situation_are_said_apart_and_not_counted(person, referent, person_client):
    _to_do(
        person,
        referent,
        [
            {"kind": "photo_identite", "condition": "de moins de 6 mois"},
            {"kind": "passeport", "condition": "si vous en avez un", "conditional": True},
            {
                "kind": "acte_naissance",
                "condition": "seulement si la mairie vous le demande",
                "conditional": True,
            },
        ],
    )

    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "carte d'identité")
    home = text_of(person_client.get(reverse("portal:home")))

    missing = page[page.index("Ce qui manque :") : page.index("Selon votre situation")]
    assert page.count("Ce qui manque") == 1
    assert "Il manque" not in page
    assert 'Photo d\'identité : <span lang="fr" dir="ltr">de moins de 6 mois</span>' in missing
    assert "Passeport" not in missing
    assert "Selon votre situation, il faut peut-être aussi :" in page
    assert '<span lang="fr" dir="ltr">Si vous en avez un</span> : Passeport' in page
    assert (
        '<span lang="fr" dir="ltr">Seulement si la mairie vous le demande</span> : '
        "Acte de naissance" in page
    )
    assert "il manque 1 papier" in home


def test_one_of_two_papers_is_said_once_with_each_choice(person, referent, person_client):
    _to_do(
        person,
        referent,
        [
            {
                "kind": "cni",
                "condition": "si vous êtes de nationalité française",
                "group": "identite",
            },
            {
                "kind": "titre_sejour",
                "condition": "si vous n'êtes pas de nationalité française : il doit vous "
                "permettre de travailler",
                "group": "identite",
            },
            {"kind": "rib"},
        ],
        title="S'inscrire à France Travail",
    )

    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "France Travail")
    home = text_of(person_client.get(reverse("portal:home")))

    assert page.count("Un seul de ces papiers suffit :") == 1
    choices = page[page.index("Un seul de ces papiers suffit :") :]
    choices = choices[: choices.index("</ul>")]
    assert choices.count("<li>") == 2
    assert "Carte d'identité : " in choices and "Titre de séjour : " in choices
    assert "<li>RIB (coordonnées de banque)</li>" in page
    assert "il manque 2 papiers" in home


def test_a_condition_is_not_put_in_brackets(person, referent, person_client):
    _to_do(
        person,
        referent,
        [{"kind": "justificatif_ressources", "condition": "pour une autre ressource (pension)"}],
    )

    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "carte d'identité")

    assert (
        'Justificatif de revenus : <span lang="fr" dir="ltr">pour une autre ressource '
        "(pension)</span>" in page
    )
    assert "))" not in page


def test_a_choice_of_papers_is_said_in_english(person, referent, person_client):
    _to_do(
        person,
        referent,
        [
            {"kind": "cni", "group": "identite"},
            {"kind": "passeport", "group": "identite"},
            {"kind": "passeport", "condition": "si vous en avez un", "conditional": True},
        ],
    )
    person_client.post(reverse("portal:language"), {"language": "en"})

    page = text_of(person_client.get(reverse("portal:procedures")))

    assert "Only one of these documents is needed:" in page
    assert "Depending on your situation, you may also need:" in page
    assert '<span lang="fr" dir="ltr">Si vous en avez un</span>: Passport' in page


# The papers already in « Mes papiers » are not missing.


def test_the_papers_in_the_file_are_not_said_missing(person, referent, person_client):
    load_catalogue()
    card = DocumentFactory(person=person, kind="cni", title="carte recto verso")
    DocumentFactory(person=person, kind="attestation_domiciliation")
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureType.objects.get(slug="carte-identite"),
        organisation=referent.organisation,
        by=actor_of(referent),
    )

    home = text_of(person_client.get(reverse("portal:home")))
    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "carte d'identité")
    professional = text_of(
        log_in(Client(), referent.user, referent).get(
            reverse("procedures:detail", args=[person.pk, procedure.pk])
        )
    )

    assert "il manque 1 papier" in home
    missing = page[page.index("Ce qui manque :") : page.index("Selon votre situation")]
    assert "Photo d'identité" in missing
    assert "Carte d'identité" not in missing
    assert "domiciliation" not in missing
    assert "Carte d'identité" not in page[page.index("Selon votre situation") :]
    assert "50 % des pièces réunies</strong> (1 sur 2" in professional
    assert "Carte nationale d'identité — carte recto verso" in professional
    assert f'<option value="{card.pk}" selected>' in professional


def test_a_paper_the_person_adds_joins_the_procedure_that_asks_for_it(
    person, referent, person_client
):
    procedure = _to_do(person, referent, [{"kind": "rib"}, {"kind": "photo_identite"}])
    handle = io.BytesIO(pdf_bytes())
    handle.name = "rib.pdf"

    response = person_client.post(reverse("portal:document_add"), {"kind": "rib", "files": handle})

    assert response.status_code == 302
    assert procedure.checklist.get(kind="rib").document.kind == "rib"
    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "carte d'identité")
    assert "RIB" not in page
    assert "Photo d'identité" in page
    event = AuditEvent.objects.get(action=AuditAction.PROCEDURE_DOCUMENT_LINKED)
    assert (event.actor_label, event.details["automatique"]) == (PERSON_ACTOR_LABEL, True)


def test_an_other_paper_is_named_by_what_the_catalogue_says_it_is(person, referent, person_client):
    _to_do(
        person,
        referent,
        [
            {"kind": "autre", "condition": "le timbre fiscal"},
            {
                "kind": "autre",
                "condition": "le récépissé de déclaration de vol, en cas de vol",
                "conditional": True,
            },
        ],
    )

    page = _item(text_of(person_client.get(reverse("portal:procedures"))), "carte d'identité")

    assert '<li><span lang="fr" dir="ltr">Le timbre fiscal</span></li>' in page
    assert (
        '<li><span lang="fr" dir="ltr">Le récépissé de déclaration de vol, en cas de vol</span>'
        "</li>" in page
    )
    assert "Autre papier" not in page
