"""« Mes papiers »: the person removes a paper they added by mistake, after a page that
asks; a paper a professional added stays theirs to remove, and nobody else's paper is
reachable."""

import html
import io

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.documents.models import Document
from relais.persons.categories import DataCategory
from relais.portal.sessions import PERSON_ACTOR_LABEL
from relais.procedures.services import procedure_open
from relais.www.portal.i18n import LANGUAGE_COOKIE
from tests.portability.builders import OTHER_NIR, actor, full_file, pdf_bytes
from tests.portal.helpers import log_in_person
from tests.procedures.factories import ProcedureTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lea():
    return full_file()


@pytest.fixture
def lea_client(lea):
    return log_in_person(Client(), lea.account)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def add_paper(client: Client, kind: str = "avis_imposition") -> Document:
    handle = io.BytesIO(pdf_bytes())
    handle.name = "photo.pdf"
    response = client.post(reverse("portal:document_add"), {"kind": kind, "files": handle})
    assert response.status_code == 302
    return Document.objects.filter(kind=kind).latest("pk")


def remove_url(document: Document) -> str:
    return reverse("portal:document_remove", args=[document.pk])


def test_the_person_removes_a_paper_she_added(lea, lea_client):
    paper = add_paper(lea_client)
    assert remove_url(paper) in text_of(lea_client.get(reverse("portal:documents")))

    page = text_of(lea_client.get(remove_url(paper)))
    assert "Voulez-vous enlever ce papier ?" in page
    assert "Avis d'impôt" in page
    assert "Oui, enlever" in page
    assert "Non, garder" in page

    response = lea_client.post(remove_url(paper))

    assert response.status_code == 302
    assert response.url == reverse("portal:documents")
    paper.refresh_from_db()
    assert paper.deleted_at is not None
    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_DELETED, object_id=str(paper.pk))
    assert row.person_id == lea.person.pk
    assert row.actor_id is None
    assert row.actor_label == PERSON_ACTOR_LABEL
    listing = text_of(lea_client.get(reverse("portal:documents")))
    assert "C'est fait : le papier est enlevé." in listing
    assert "Avis d'impôt" not in listing


def test_the_confirmation_is_journaled_as_a_read_of_the_paper(lea, lea_client):
    paper = add_paper(lea_client)
    before = AuditEvent.objects.count()

    lea_client.get(remove_url(paper))

    rows = list(AuditEvent.objects.order_by("seq")[before:])
    assert [(row.action, row.category) for row in rows] == [
        (AuditAction.SECTION_VIEWED, DataCategory.DOCUMENTS)
    ]


def test_a_second_tap_changes_nothing_more(lea, lea_client):
    paper = add_paper(lea_client)
    lea_client.post(remove_url(paper))

    response = lea_client.post(remove_url(paper), follow=True)

    assert "Ce papier est déjà enlevé." in text_of(response)
    assert AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DELETED).count() == 1
    assert lea_client.get(remove_url(paper)).status_code == 404


def test_a_professionals_paper_is_not_offered_and_a_forged_post_changes_nothing(lea, lea_client):
    identity = lea.documents["cni"]

    listing = text_of(lea_client.get(reverse("portal:documents")))
    assert remove_url(identity) not in listing
    assert "Un professionnel a ajouté ce papier. Pour l'enlever, demandez à la personne" in listing
    before = AuditEvent.objects.count()

    assert lea_client.get(remove_url(identity)).status_code == 404
    assert lea_client.post(remove_url(identity)).status_code == 404

    identity.refresh_from_db()
    assert identity.deleted_at is None
    assert AuditEvent.objects.count() == before


def test_a_paper_a_professional_replaced_is_theirs_to_remove(lea, lea_client):
    paper = add_paper(lea_client)
    version = paper.versions.get()
    version.uploaded_by = lea.referent.user
    version.save(update_fields=["uploaded_by"])

    assert lea_client.post(remove_url(paper)).status_code == 404
    paper.refresh_from_db()
    assert paper.deleted_at is None


def test_another_persons_paper_answers_404(lea, lea_client):
    marc = full_file(first_names="Marc", birth_name="Bernardin", nir=OTHER_NIR)
    marcs_paper = add_paper(log_in_person(Client(), marc.account), kind="rib")

    assert lea_client.get(remove_url(marcs_paper)).status_code == 404
    assert lea_client.post(remove_url(marcs_paper)).status_code == 404
    marcs_paper.refresh_from_db()
    assert marcs_paper.deleted_at is None


def test_the_procedures_that_used_it_show_it_missing_again(lea, lea_client):
    procedure_open(
        person=lea.person,
        procedure_type=ProcedureTypeFactory(
            title="Demander une aide au logement",
            required_documents=[{"kind": "avis_imposition", "condition": ""}],
        ),
        organisation=lea.referent.organisation,
        by=actor(lea.referent),
    )
    paper = add_paper(lea_client)
    assert "Tous les papiers sont là." in text_of(lea_client.get(reverse("portal:procedures")))

    lea_client.post(remove_url(paper))

    page = text_of(lea_client.get(reverse("portal:procedures")))
    item = page[page.index("Demander une aide au logement") :]
    assert "Ce qui manque :" in item
    assert "Avis d'impôt" in item


def test_the_confirmation_in_english(lea, lea_client):
    paper = add_paper(lea_client)
    lea_client.cookies[LANGUAGE_COOKIE] = "en"

    page = text_of(lea_client.get(remove_url(paper)))

    assert "Do you want to remove this document?" in page
    assert "Yes, remove" in page
    assert "No, keep" in page
    assert "Added on " in page
