"""« Mes démarches » and the home page tell the person the truth about their procedures:
a step to do only while there is one, what happens while the organisme studies the
request, and the papers missing counted as the professional's page counts them."""

import html
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.procedures.models import ProcedureStatus
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person
from tests.procedures.factories import ProcedureFactory, ProcedureTypeFactory

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
    end = page.find("</li>", start)
    return page[start:end]


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
