"""A document's new version carries the dates of the new paper, which become the
document's; the former version keeps its own. Bad dates change nothing."""

import html
from datetime import date

import pytest
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.documents.models import Document
from relais.persons.categories import DataCategory
from tests.documents.test_document_pages import pdf_bytes, png_bytes, stored_files, upload_file
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(referent):
    person = PersonFactory()
    ConsentFactory(
        person=person,
        organisation=referent.organisation,
        categories=[DataCategory.IDENTITY, DataCategory.DOCUMENTS, DataCategory.HEALTH],
    )
    return person


@pytest.fixture
def receipt(referent_client, person):
    """A rent receipt of June, valid until 1 September 2026: expired on the tests' day."""
    referent_client.post(
        reverse("documents:upload", args=[person.pk]),
        {
            "kind": "quittance_loyer",
            "issued_on": "2026-06-01",
            "expires_on": "2026-09-01",
            "files": upload_file("quittance.pdf", pdf_bytes()),
        },
    )
    return Document.objects.get()


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def _replace(client, person, document, **fields):
    data = {"files": upload_file("quittance.png", png_bytes()), **fields}
    return client.post(reverse("documents:replace", args=[person.pk, document.pk]), data)


def test_the_replace_page_names_the_paper_and_asks_for_the_new_dates(
    referent_client, person, receipt
):
    page = text_of(referent_client.get(reverse("documents:replace", args=[person.pk, receipt.pk])))

    assert "Remplacer la pièce « Quittance de loyer »" in page
    assert "expirée le 01/09/2026" in page
    assert 'name="issued_on"' in page
    assert 'name="expires_on"' in page
    assert "Relais propose la durée habituelle" in page


def test_a_new_version_brings_its_own_dates_and_the_paper_is_valid_again(
    referent, referent_client, person, receipt
):
    response = _replace(referent_client, person, receipt, issued_on="2026-11-01")

    assert response.status_code == 302
    receipt.refresh_from_db()
    # Left empty, the end of validity is the usual one for a rent receipt: three months.
    assert (receipt.issued_on, receipt.expires_on) == (date(2026, 11, 1), date(2027, 2, 1))
    first, second = receipt.versions.order_by("number")
    assert (first.issued_on, first.expires_on) == (date(2026, 6, 1), date(2026, 9, 1))
    assert (second.issued_on, second.expires_on) == (date(2026, 11, 1), date(2027, 2, 1))
    assert second.uploaded_by_id == referent.user_id
    assert second.organisation_id == referent.organisation_id
    listed = text_of(referent_client.get(reverse("documents:list", args=[person.pk])))
    assert "expirée" not in listed
    assert "jusqu'au 01/02/2027" in listed
    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_REPLACED)
    assert (
        row.details.items()
        >= {
            "type": "quittance_loyer",
            "version": 2,
            "taille": second.size,
            "issued_on_avant": "2026-06-01",
            "issued_on": "2026-11-01",
            "expires_on_avant": "2026-09-01",
            "expires_on": "2027-02-01",
        }.items()
    )


def test_a_new_version_typed_with_its_end_date_keeps_it(referent_client, person, receipt):
    _replace(referent_client, person, receipt, issued_on="2026-11-01", expires_on="2026-12-31")

    receipt.refresh_from_db()
    assert (receipt.issued_on, receipt.expires_on) == (date(2026, 11, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("dates", "said"),
    [
        (
            {"issued_on": "2026-11-01", "expires_on": "2026-10-31"},
            "La date de fin de validité doit suivre la date de délivrance.",
        ),
        ({"issued_on": "2099-01-01"}, "Cette date ne peut pas être dans le futur."),
        ({"issued_on": "31/02/2026"}, "Saisissez une date valide."),
    ],
    ids=["fin-avant-debut", "future", "impossible"],
)
def test_a_new_version_with_dates_that_cannot_be_is_refused_and_changes_nothing(
    referent_client, person, receipt, dates, said
):
    blobs = stored_files()

    response = _replace(referent_client, person, receipt, **dates)

    assert response.status_code == 400
    assert said in text_of(response)
    receipt.refresh_from_db()
    assert (receipt.issued_on, receipt.expires_on) == (date(2026, 6, 1), date(2026, 9, 1))
    assert receipt.versions.count() == 1
    assert stored_files() == blobs
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_REPLACED).exists()


def test_an_upload_gives_its_dates_and_structure_to_the_first_version(
    referent, referent_client, person, receipt
):
    version = receipt.versions.get()

    assert (version.issued_on, version.expires_on) == (receipt.issued_on, receipt.expires_on)
    assert version.organisation_id == referent.organisation_id
