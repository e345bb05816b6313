"""Who reaches the document pages and what they may do there: an exceptional access reads
and downloads, journaled with its reason, and writes nothing; a blocked professional and an
outsider reach nothing; the lists run a fixed number of queries."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.documents.models import Document, DocumentKind, DocumentVersion
from relais.persons.categories import DataCategory
from tests.conftest import log_in
from tests.documents.test_document_pages import pdf_bytes, png_bytes, stored_files, upload_file
from tests.factories import MembershipFactory
from tests.persons.factories import (
    BlockFactory,
    BreakGlassGrantFactory,
    ConsentFactory,
    PersonFactory,
    ReferentFactory,
)
from tests.procedures.factories import DocumentFactory

pytestmark = pytest.mark.django_db

REASON = "La personne est hospitalisée et son logement doit être protégé d'urgence."


@pytest.fixture
def person(referent):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=referent.organisation)
    return person


@pytest.fixture
def document(referent_client, person):
    referent_client.post(
        reverse("documents:upload", args=[person.pk]),
        {"kind": "avis_imposition", "files": upload_file("avis.pdf", pdf_bytes())},
    )
    return Document.objects.get()


def _writes(person, document):
    """Every write a professional may try on the file's documents, with valid data."""
    return {
        reverse("documents:upload", args=[person.pk]): {
            "kind": "bail",
            "files": upload_file("bail.png", png_bytes()),
        },
        reverse("documents:replace", args=[person.pk, document.pk]): {
            "files": upload_file("avis.png", png_bytes()),
        },
        reverse("documents:edit", args=[person.pk, document.pk]): {
            "kind": "avis_imposition",
            "issued_on": "2026-09-01",
        },
        reverse("documents:delete", args=[person.pk, document.pk]): {"confirme": "oui"},
    }


def _unchanged(document):
    document.refresh_from_db()
    return (
        document.deleted_at is None
        and document.issued_on is None
        and Document.objects.count() == 1
        and DocumentVersion.objects.count() == 1
        and len(stored_files()) == 1
    )


def test_an_exceptional_access_reads_and_downloads_with_its_reason_and_writes_nothing(
    person, document
):
    member = MembershipFactory()
    BreakGlassGrantFactory(
        person=person, professional=member.user, organisation=member.organisation
    )
    client = log_in(Client(), member.user, member)

    listed = client.get(reverse("documents:list", args=[person.pk]))
    downloaded = client.get(reverse("documents:download", args=[person.pk, document.pk]))
    b"".join(downloaded.streaming_content)

    text = listed.content.decode()
    assert (listed.status_code, downloaded.status_code) == (200, 200)
    assert "Avis d&#x27;imposition" in text
    assert "Ajouter une pièce" not in text
    assert reverse("documents:delete", args=[person.pk, document.pk]) not in text
    mine = AuditEvent.objects.filter(actor_id=member.user_id)
    viewed = mine.get(action=AuditAction.SECTION_VIEWED, category=DataCategory.DOCUMENTS)
    download = mine.get(action=AuditAction.DOCUMENT_DOWNLOADED)
    assert (viewed.reason, download.reason) == (REASON, REASON)
    assert download.details["exceptionnel"] is True
    for url, data in _writes(person, document).items():
        assert client.post(url, data).status_code == 404, url
    assert _unchanged(document)


@pytest.mark.parametrize("blocked", ["professional", "organisation"])
def test_a_blocked_professional_reaches_no_document(referent, person, document, blocked):
    colleague = MembershipFactory(organisation=referent.organisation)
    if blocked == "professional":
        BlockFactory(person=person, professional=colleague.user)
    else:
        BlockFactory(person=person, organisation=referent.organisation)
    client = log_in(Client(), colleague.user, colleague)

    assert client.get(reverse("documents:list", args=[person.pk])).status_code == 404
    for reads in ("documents:download", "documents:show"):
        assert client.get(reverse(reads, args=[person.pk, document.pk])).status_code == 404
    for url, data in _writes(person, document).items():
        assert client.post(url, data).status_code == 404, url
    assert _unchanged(document)
    assert not AuditEvent.objects.filter(
        actor_id=colleague.user_id, action=AuditAction.SECTION_VIEWED
    ).exists()


def test_an_outsider_uploads_and_replaces_nothing(person, document):
    outsider = MembershipFactory()
    client = log_in(Client(), outsider.user, outsider)

    for url, data in _writes(person, document).items():
        assert client.post(url, data).status_code == 404, url

    assert _unchanged(document)
    assert not AuditEvent.objects.filter(actor_id=outsider.user_id).exists()


# Query counts: the same whatever the number of documents or of persons.

QUERIES = {"list": 10, "expiring": 10}


@pytest.mark.parametrize("size", [1, 6])
def test_it_pins_the_queries_of_the_list(referent_client, person, size, django_assert_num_queries):
    for kind in list(DocumentKind)[:size]:
        referent_client.post(
            reverse("documents:upload", args=[person.pk]),
            {"kind": kind, "files": upload_file("piece.pdf", pdf_bytes())},
        )
    url = reverse("documents:list", args=[person.pk])
    referent_client.get(url)

    with django_assert_num_queries(QUERIES["list"]):
        response = referent_client.get(url)

    assert response.content.decode().count("Télécharger<span") == size


@pytest.mark.parametrize("size", [1, 6])
def test_it_pins_the_queries_of_the_documents_to_renew(
    referent, referent_client, size, django_assert_num_queries
):
    soon = timezone.localdate() + timedelta(days=10)
    for _ in range(size):
        followed = PersonFactory()
        ConsentFactory(person=followed, organisation=referent.organisation)
        ReferentFactory(
            person=followed, organisation=referent.organisation, professional=referent.user
        )
        DocumentFactory(person=followed, kind=DocumentKind.RENT_RECEIPT, expires_on=soon)
        DocumentFactory(person=followed, kind=DocumentKind.MEDICAL_CERTIFICATE, expires_on=soon)
    url = reverse("documents:expiring")
    referent_client.get(url)

    with django_assert_num_queries(QUERIES["expiring"]):
        response = referent_client.get(url)

    assert response.content.decode().count("Quittance de loyer") == size
