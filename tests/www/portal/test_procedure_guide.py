"""The easy-to-read guide of each of the person's procedures, in their own space: the
catalogue's guide, in French, reached from « Mes démarches »; nobody else's procedure."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.documents.models import DocumentKind
from relais.persons.categories import DataCategory
from relais.portal.sessions import PERSON_ACTOR_LABEL
from relais.www.portal.i18n import LANGUAGE_COOKIE
from tests.conftest import log_in
from tests.factories import MembershipFactory
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


def _papers(page: str) -> list[str]:
    checklist = re.search(r'<ul class="relais-checklist">(.*?)</ul>', page, re.DOTALL)
    assert checklist is not None
    return re.findall(r"</span>(.*?)</li>", checklist[1])


@pytest.fixture
def papers_of_each_kind(procedure):
    procedure.procedure_type.required_documents = [
        {"kind": DocumentKind.CNI.value, "condition": ""},
        {"kind": DocumentKind.PROOF_OF_ADDRESS.value, "condition": "de moins de 3 mois"},
        {"kind": DocumentKind.OTHER.value, "condition": "la facture qui pose problème"},
        {"kind": DocumentKind.OTHER.value, "condition": ""},
    ]
    procedure.procedure_type.save()
    return procedure


def test_the_guide_names_the_papers_as_the_persons_space_does(person_client, papers_of_each_kind):
    page = html.unescape(person_client.get(guide_url(papers_of_each_kind)).content.decode())

    assert _papers(page) == [
        "Carte d'identité",
        "Justificatif de domicile : de moins de 3 mois",
        "La facture qui pose problème",
        "Autre papier",
    ]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_guide_names_the_papers_in_french_inside_a_translated_page(
    person_client, papers_of_each_kind, language
):
    person_client.cookies[LANGUAGE_COOKIE] = language

    response = person_client.get(guide_url(papers_of_each_kind))

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f'<html lang="{language}"' in page
    assert _papers(page)[:2] == [
        "Carte d'identité",
        "Justificatif de domicile : de moins de 3 mois",
    ]


def test_the_professionals_guide_keeps_their_names_for_the_papers(papers_of_each_kind):
    member = MembershipFactory()
    client = log_in(Client(), member.user, member)
    slug = papers_of_each_kind.procedure_type.slug

    page = html.unescape(client.get(reverse("procedures:guide", args=[slug])).content.decode())

    assert _papers(page) == [
        "Carte nationale d'identité",
        "Justificatif de domicile : de moins de 3 mois",
        "Autre pièce : la facture qui pose problème",
        "Autre pièce",
    ]


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
