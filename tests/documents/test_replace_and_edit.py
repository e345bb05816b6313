"""A document's new version carries the dates of the new paper, which become the
document's; the former version keeps its own. A document's type and dates are corrected
on a page of their own, journaled before and after. Bad dates change nothing."""

import html
from datetime import date

import pytest
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.documents import services
from relais.documents.models import Document
from relais.persons.categories import DataCategory
from tests.documents.test_document_pages import pdf_bytes, png_bytes, stored_files, upload_file
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import ProcedureFactory, RequiredDocumentFactory

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
    assert "Relais compte la durée habituelle de ce type de pièce à partir de sa date" in page


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


def _edit(client, person, document, **fields):
    return client.post(reverse("documents:edit", args=[person.pk, document.pk]), fields)


def test_the_edit_page_shows_the_type_and_dates_to_correct(referent_client, person, receipt):
    page = text_of(referent_client.get(reverse("documents:edit", args=[person.pk, receipt.pk])))

    assert "Modifier la pièce « Quittance de loyer »" in page
    assert '<option value="quittance_loyer" selected>' in page
    assert 'value="2026-06-01"' in page
    assert 'value="2026-09-01"' in page


def test_corrected_dates_are_those_of_the_current_version_and_journaled_before_and_after(
    referent_client, person, receipt
):
    _replace(referent_client, person, receipt, issued_on="2026-10-01", expires_on="2026-11-30")

    response = _edit(
        referent_client,
        person,
        receipt,
        kind="quittance_loyer",
        issued_on="2026-11-01",
        expires_on="2027-01-31",
    )

    assert response.status_code == 302
    receipt.refresh_from_db()
    assert (receipt.issued_on, receipt.expires_on) == (date(2026, 11, 1), date(2027, 1, 31))
    first, second = receipt.versions.order_by("number")
    assert (first.issued_on, first.expires_on) == (date(2026, 6, 1), date(2026, 9, 1))
    assert (second.issued_on, second.expires_on) == (date(2026, 11, 1), date(2027, 1, 31))
    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_UPDATED)
    assert (row.category, row.object_type, row.object_id) == (
        DataCategory.DOCUMENTS,
        "piece",
        str(receipt.pk),
    )
    assert (
        row.details.items()
        >= {
            "type": "quittance_loyer",
            "issued_on_avant": "2026-10-01",
            "issued_on": "2026-11-01",
            "expires_on_avant": "2026-11-30",
            "expires_on": "2027-01-31",
        }.items()
    )
    assert "type_avant" not in row.details
    listed = text_of(referent_client.get(reverse("documents:list", args=[person.pk])))
    assert "La pièce est modifiée." in listed
    assert "jusqu'au 31/01/2027" in listed


def test_a_corrected_type_is_journaled_with_the_former_one_and_the_end_date_can_be_cleared(
    referent_client, person, receipt
):
    _edit(referent_client, person, receipt, kind="bail", issued_on="2026-06-01", expires_on="")

    receipt.refresh_from_db()
    assert (receipt.kind, receipt.issued_on, receipt.expires_on) == ("bail", date(2026, 6, 1), None)
    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_UPDATED)
    assert (
        row.details.items()
        >= {
            "type_avant": "quittance_loyer",
            "type": "bail",
            "expires_on_avant": "2026-09-01",
            "expires_on": None,
        }.items()
    )
    assert "issued_on" not in row.details


def test_a_paper_corrected_into_a_health_paper_is_journaled_under_health(receipt):
    """No default charter lets one profession write both, but a charter may."""
    services.document_update(
        document=receipt,
        kind="certificat_medical",
        issued_on=date(2026, 6, 1),
        expires_on=date(2026, 9, 1),
        by=SYSTEM,
    )

    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_UPDATED)
    assert row.category == DataCategory.HEALTH
    assert row.details.items() >= {"type_avant": "quittance_loyer"}.items()


def test_nothing_changed_writes_nothing(referent_client, person, receipt):
    response = _edit(
        referent_client,
        person,
        receipt,
        kind="quittance_loyer",
        issued_on="2026-06-01",
        expires_on="2026-09-01",
    )

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_UPDATED).exists()
    listed = text_of(referent_client.get(response.url))
    assert "Rien n'a changé : la pièce garde son type et ses dates." in listed


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        (
            {"kind": "quittance_loyer", "issued_on": "2026-06-01", "expires_on": "2026-05-31"},
            "La date de fin de validité doit suivre la date de délivrance.",
        ),
        (
            {"kind": "quittance_loyer", "issued_on": "2099-06-01"},
            "Cette date ne peut pas être dans le futur.",
        ),
        ({"kind": "pas_un_type", "issued_on": "2026-06-01"}, "Sélectionnez un choix valide."),
        ({"issued_on": "2026-06-01"}, "Ce champ est obligatoire."),
    ],
    ids=["fin-avant-debut", "future", "type-inconnu", "sans-type"],
)
def test_a_correction_that_cannot_be_is_refused_and_changes_nothing(
    referent_client, person, receipt, fields, said
):
    response = _edit(referent_client, person, receipt, **fields)

    assert response.status_code == 400
    assert said in text_of(response)
    receipt.refresh_from_db()
    assert (receipt.kind, receipt.issued_on, receipt.expires_on) == (
        "quittance_loyer",
        date(2026, 6, 1),
        date(2026, 9, 1),
    )
    assert receipt.versions.get().expires_on == date(2026, 9, 1)
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_UPDATED).exists()


def test_a_health_type_is_not_offered_without_the_right_to_write_health(referent, referent_client):
    person = PersonFactory()
    ConsentFactory(
        person=person,
        organisation=referent.organisation,
        categories=[DataCategory.IDENTITY, DataCategory.DOCUMENTS],
    )
    referent_client.post(
        reverse("documents:upload", args=[person.pk]),
        {"kind": "bail", "files": upload_file("bail.pdf", pdf_bytes())},
    )
    lease = Document.objects.get()

    page = text_of(referent_client.get(reverse("documents:edit", args=[person.pk, lease.pk])))
    refused = _edit(referent_client, person, lease, kind="certificat_medical")

    assert '<option value="bail" selected>' in page
    assert "certificat_medical" not in page
    assert refused.status_code == 400
    assert "Sélectionnez un choix valide." in text_of(refused)
    lease.refresh_from_db()
    assert lease.kind == "bail"


def test_a_paper_a_procedure_uses_keeps_the_type_the_procedure_asks_for(
    referent_client, person, receipt
):
    RequiredDocumentFactory(
        procedure=ProcedureFactory(person=person),
        kind="quittance_loyer",
        document=receipt,
    )

    refused = _edit(referent_client, person, receipt, kind="bail", issued_on="2026-06-01")
    to_other = _edit(referent_client, person, receipt, kind="autre", issued_on="2026-06-01")

    assert refused.status_code == 400
    assert "Cette pièce sert de « Quittance de loyer » dans une démarche" in text_of(refused)
    assert to_other.status_code == 302
    receipt.refresh_from_db()
    assert receipt.kind == "autre"
