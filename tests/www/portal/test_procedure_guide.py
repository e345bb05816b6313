"""The easy-to-read guide of each of the person's procedures, in their own space: the
catalogue's guide, in French, reached from « Mes démarches »; nobody else's procedure."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.persons.categories import DataCategory
from relais.portal.sessions import PERSON_ACTOR_LABEL
from relais.www.portal.i18n import LANGUAGE_COOKIE
from tests.persons.factories import PersonFactory
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person
from tests.procedures.factories import ProcedureFactory, ProcedureTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return PersonFactory(first_names="Nadia")


@pytest.fixture
def person_client(person):
    return log_in_person(Client(), PersonAccountFactory(person=person))


@pytest.fixture
def procedure(person):
    return ProcedureFactory(
        person=person,
        procedure_type=ProcedureTypeFactory(
            title="Demander la prime d'activité",
            summary="Un complément de revenu pour les personnes qui travaillent.",
            steps=["Préparez vos papiers.", "Allez sur le site de la CAF."],
        ),
    )


def guide_url(procedure) -> str:
    return reverse("portal:procedure_guide", args=[procedure.pk])


def test_it_links_each_procedure_to_its_guide(person_client, procedure):
    page = person_client.get(reverse("portal:procedures")).content.decode()

    assert guide_url(procedure) in page
    assert "Le guide facile à lire" in page


def test_it_shows_the_catalogue_guide_in_the_persons_space(person_client, procedure):
    response = person_client.get(guide_url(procedure))

    assert response.status_code == 200
    used = {template.name for template in response.templates}
    assert {"portal/base.html", "procedures/_guide.html", "procedures/_guide_style.html"} <= used
    page = html.unescape(response.content.decode())
    assert "Demander la prime d'activité" in page
    assert "Un complément de revenu pour les personnes qui travaillent." in page
    assert "<li>Allez sur le site de la CAF.</li>" in page
    assert "Retour à mes démarches" in page
    assert reverse("portal:logout") in page
    assert "Retour à la fiche" not in page


def test_it_journals_the_read_as_the_procedures_page_does(person_client, person, procedure):
    before = AuditEvent.objects.count()

    person_client.get(guide_url(procedure))

    rows = list(AuditEvent.objects.order_by("seq")[before:])
    assert [(row.action, row.category) for row in rows] == [
        (AuditAction.SECTION_VIEWED, DataCategory.PROCEDURES)
    ]
    assert rows[0].person_id == person.pk
    assert rows[0].actor_label == PERSON_ACTOR_LABEL


def test_the_guide_stays_in_french_inside_an_english_page(person_client, procedure):
    person_client.cookies[LANGUAGE_COOKIE] = "en"

    page = html.unescape(person_client.get(guide_url(procedure)).content.decode())

    assert "Back to my procedures" in page
    assert "This guide is in French." in page
    assert '<div lang="fr" dir="ltr">' in page
    french_part = page[page.index('<div lang="fr" dir="ltr">') :]
    assert "Ce qu'il faut faire" in french_part


def test_the_link_to_the_guide_names_its_procedure_in_each_language(person_client, procedure):
    title = procedure.procedure_type.title
    person_client.cookies[LANGUAGE_COOKIE] = "en"
    english = html.unescape(person_client.get(reverse("portal:procedures")).content.decode())
    person_client.cookies[LANGUAGE_COOKIE] = "fr"
    french = html.unescape(person_client.get(reverse("portal:procedures")).content.decode())

    assert (
        f'The easy-to-read guide<span class="fr-sr-only">: <span lang="fr" dir="ltr">{title}'
        in (english)
    )
    assert (
        f'Le guide facile à lire<span class="fr-sr-only"> : <span lang="fr" dir="ltr">{title}'
        in (french)
    )


def test_another_persons_procedure_answers_404(person_client):
    someone_else = ProcedureFactory(person=PersonFactory())

    assert person_client.get(guide_url(someone_else)).status_code == 404


def test_a_withdrawn_entry_has_no_guide(person_client, procedure):
    procedure.procedure_type.is_active = False
    procedure.procedure_type.save()

    page = person_client.get(reverse("portal:procedures")).content.decode()

    assert guide_url(procedure) not in page
    assert person_client.get(guide_url(procedure)).status_code == 404


def test_it_sends_a_visitor_to_the_persons_login(client, procedure):
    response = client.get(guide_url(procedure))

    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))
