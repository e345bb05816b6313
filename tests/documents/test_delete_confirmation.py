"""Deleting a document takes two steps: a page names the paper and the person's open
procedures that use it, and only its « Supprimer » deletes."""

import html
import re

import pytest
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.documents.models import Document
from relais.persons.categories import DataCategory
from relais.procedures.models import ProcedureStatus
from tests.documents.test_document_pages import pdf_bytes, upload_file
from tests.factories import OrganisationFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import (
    ProcedureFactory,
    ProcedureTypeFactory,
    RequiredDocumentFactory,
)

pytestmark = pytest.mark.django_db


def _person(referent, *categories):
    person = PersonFactory()
    ConsentFactory(
        person=person,
        organisation=referent.organisation,
        categories=[DataCategory.IDENTITY, DataCategory.DOCUMENTS, *categories],
    )
    return person


@pytest.fixture
def person(referent):
    return _person(referent, DataCategory.PROCEDURES)


def _upload(client, person, kind="rib"):
    client.post(
        reverse("documents:upload", args=[person.pk]),
        {"kind": kind, "issued_on": "2026-10-05", "files": upload_file("piece.pdf", pdf_bytes())},
    )
    return Document.objects.filter(person=person).latest("pk")


@pytest.fixture
def rib(referent_client, person):
    return _upload(referent_client, person)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


def _url(person, document):
    return reverse("documents:delete", args=[person.pk, document.pk])


def _uses(document, status=ProcedureStatus.IN_PROGRESS, title="Demander le RSA", **fields):
    procedure = ProcedureFactory(
        person=document.person,
        status=status,
        procedure_type=ProcedureTypeFactory(title=title),
        **fields,
    )
    RequiredDocumentFactory(procedure=procedure, kind=document.kind, document=document)
    return procedure


def test_the_list_asks_for_a_confirmation_instead_of_deleting(referent_client, person, rib):
    page = text_of(referent_client.get(reverse("documents:list", args=[person.pk])))

    assert f'href="{_url(person, rib)}"' in page
    assert f'action="{_url(person, rib)}"' not in page


def test_the_confirmation_names_the_paper_and_deletes_nothing(referent_client, person, rib):
    response = referent_client.get(_url(person, rib))

    page = text_of(response)
    assert response.status_code == 200
    assert "Supprimer la pièce « RIB » ?" in page
    assert "05/10/2026" in page
    assert '<input type="hidden" name="confirme" value="oui">' in page
    assert '<button type="submit" class="fr-btn">Supprimer</button>' in page
    assert f'href="{reverse("documents:list", args=[person.pk])}">Annuler</a>' in page
    assert "Aucune démarche en cours de la personne n'utilise cette pièce." in page
    rib.refresh_from_db()
    assert rib.deleted_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DELETED).exists()


def test_a_post_that_does_not_come_from_the_confirmation_deletes_nothing(
    referent_client, person, rib
):
    response = referent_client.post(_url(person, rib))

    assert response.status_code == 200
    assert "Supprimer la pièce « RIB » ?" in text_of(response)
    rib.refresh_from_db()
    assert rib.deleted_at is None


def test_the_confirmation_deletes_and_journals_the_paper_s_type(referent_client, person, rib):
    response = referent_client.post(_url(person, rib), {"confirme": "oui"})

    assert response.status_code == 302
    assert response.url == reverse("documents:list", args=[person.pk])
    rib.refresh_from_db()
    assert rib.deleted_at is not None
    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_DELETED)
    assert row.details["type"] == "rib"
    assert "La pièce est retirée du dossier." in text_of(referent_client.get(response.url))


def test_it_names_the_open_procedures_that_use_the_paper(referent, referent_client, person, rib):
    caf = OrganisationFactory(name="CAF du Pas-de-Calais")
    rsa = _uses(rib, organisation=caf)
    _uses(rib, title="Demander la prime d'activité", status=ProcedureStatus.SUBMITTED)
    _uses(rib, title="Demande déjà accordée", status=ProcedureStatus.GRANTED)
    other_paper = _upload(referent_client, person, kind="avis_imposition")
    _uses(other_paper, title="Demande d'une autre pièce")

    page = text_of(referent_client.get(_url(person, rib)))

    assert "2 démarches en cours utilisent cette pièce" in page
    detail = reverse("procedures:detail", args=[person.pk, rsa.pk])
    assert f'<a href="{detail}">Demander le RSA</a> — CAF du Pas-de-Calais, en cours' in page
    assert "Demander la prime d'activité</a>" in page
    assert "Demande déjà accordée" not in page
    assert "Demande d'une autre pièce" not in page
    assert "ces démarches la demanderont de nouveau" in page
    read = AuditEvent.objects.filter(
        action=AuditAction.SECTION_VIEWED, actor_id=referent.user_id
    ).order_by("-seq")[:2]
    assert {row.category for row in read} == {DataCategory.DOCUMENTS, DataCategory.PROCEDURES}


def test_without_the_procedures_it_says_it_cannot_tell(referent, referent_client):
    person = _person(referent)
    rib = _upload(referent_client, person)
    _uses(rib)

    page = text_of(referent_client.get(_url(person, rib)))

    assert "Votre accès ne lit pas les démarches de la personne" in page
    assert "Demander le RSA" not in page
    assert not AuditEvent.objects.filter(
        action=AuditAction.SECTION_VIEWED, category=DataCategory.PROCEDURES
    ).exists()


QUERIES = 15


@pytest.mark.parametrize("procedures", [1, 4])
def test_it_pins_the_queries_of_the_confirmation(
    referent_client, person, rib, procedures, django_assert_num_queries
):
    for number in range(procedures):
        _uses(rib, title=f"Démarche n° {number}")
    url = _url(person, rib)
    referent_client.get(url)

    with django_assert_num_queries(QUERIES):
        response = referent_client.get(url)

    assert text_of(response).count("</a> — ") == procedures
