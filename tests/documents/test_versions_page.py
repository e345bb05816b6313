"""The history of a document's versions: who added each one, when, with what dates; each
version downloaded as the current one is, journaled; the page's queries pinned."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.documents import services
from relais.documents.models import Document
from relais.persons.categories import DataCategory
from tests.conftest import log_in
from tests.documents.test_document_pages import pdf_bytes, png_bytes, upload_file
from tests.factories import MembershipFactory
from tests.persons.factories import BreakGlassGrantFactory, ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(referent):
    person = PersonFactory()
    ConsentFactory(
        person=person,
        organisation=referent.organisation,
        categories=[DataCategory.IDENTITY, DataCategory.DOCUMENTS],
    )
    return person


def _replace(client, person, document, issued_on):
    return client.post(
        reverse("documents:replace", args=[person.pk, document.pk]),
        {"files": upload_file("quittance.png", png_bytes()), "issued_on": issued_on},
    )


def _by_the_person(document):
    """A version the person sent from their own space."""
    return services.document_replace(
        document=document,
        files=[SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")],
        issued_on=None,
        expires_on=None,
        uploaded_by_id=None,
        by=Actor(label="La personne"),
    )


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def _rows(page: str) -> list[str]:
    body = re.sub(r">\s+<", "><", page.split("<tbody>")[1].split("</tbody>")[0])
    return body.split("<tr>")[1:]


def test_the_list_links_to_each_document_s_history(referent_client, person, receipt):
    page = text_of(referent_client.get(reverse("documents:list", args=[person.pk])))

    assert reverse("documents:versions", args=[person.pk, receipt.pk]) in page


def test_it_lists_every_version_with_its_author_dates_and_file(
    referent, referent_client, person, receipt
):
    _replace(referent_client, person, receipt, "2026-11-01")
    _by_the_person(receipt)

    response = referent_client.get(reverse("documents:versions", args=[person.pk, receipt.pk]))

    assert response.status_code == 200
    page = text_of(response)
    assert "Historique de la pièce « Quittance de loyer »" in page
    third, second, first = _rows(page)
    author = f"{referent.user.get_full_name()}, {referent.organisation.name}"
    assert "<td>3 <span" in third and "actuelle" in third
    assert "<td>la personne</td>" in third
    assert "<td>PNG, " in third
    assert f"<td>{author}</td>" in second
    assert "<td>01/11/2026</td><td>01/02/2027</td>" in second
    assert f"<td>{author}</td>" in first
    assert "<td>01/06/2026</td><td>01/09/2026</td>" in first
    assert "<td>PDF, " in first
    for number in (1, 2, 3):
        url = reverse("documents:version_download", args=[person.pk, receipt.pk, number])
        assert url in page
    viewed = AuditEvent.objects.filter(
        action=AuditAction.SECTION_VIEWED, actor_id=referent.user_id
    ).latest("seq")
    assert viewed.category == DataCategory.DOCUMENTS


def test_an_older_version_downloads_as_it_was_sent_and_the_download_is_journaled(
    referent_client, person, receipt
):
    _replace(referent_client, person, receipt, "2026-11-01")

    response = referent_client.get(
        reverse("documents:version_download", args=[person.pk, receipt.pk, 1])
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == (
        'attachment; filename="quittance_loyer-2026-06-01-version-1.pdf"'
    )
    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_DOWNLOADED)
    assert (row.object_id, row.details["version"]) == (str(receipt.pk), 1)


def test_an_exceptional_access_reads_the_history_with_its_reason(person, receipt):
    member = MembershipFactory()
    grant = BreakGlassGrantFactory(
        person=person, professional=member.user, organisation=member.organisation
    )
    client = log_in(Client(), member.user, member)

    page = client.get(reverse("documents:versions", args=[person.pk, receipt.pk]))
    download = client.get(reverse("documents:version_download", args=[person.pk, receipt.pk, 1]))
    b"".join(download.streaming_content)

    assert (page.status_code, download.status_code) == (200, 200)
    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_DOWNLOADED, actor_id=member.user_id)
    assert row.reason == grant.reason


@pytest.mark.parametrize("number", [2, 0])
def test_a_version_that_does_not_exist_answers_404(referent_client, person, receipt, number):
    url = reverse("documents:version_download", args=[person.pk, receipt.pk, number])

    assert referent_client.get(url).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DOWNLOADED).exists()


def test_a_purged_version_is_listed_without_its_file(referent_client, person, receipt):
    receipt.versions.update(purged_at=receipt.created_at)

    page = text_of(referent_client.get(reverse("documents:versions", args=[person.pk, receipt.pk])))
    download = referent_client.get(
        reverse("documents:version_download", args=[person.pk, receipt.pk, 1])
    )

    assert "fichier effacé" in page
    assert download.status_code == 404


def test_a_deleted_document_has_no_history_page(referent_client, person, receipt):
    services.document_delete(document=receipt, by=Actor(label="Référente"))

    assert (
        referent_client.get(reverse("documents:versions", args=[person.pk, receipt.pk])).status_code
        == 404
    )


def test_a_health_document_s_history_stays_closed_without_the_health_category(
    referent, referent_client, person
):
    nurse = MembershipFactory(organisation=referent.organisation, profession="infirmier")
    ConsentFactory(person=person, organisation=referent.organisation)
    nurse_client = log_in(Client(), nurse.user, nurse)
    nurse_client.post(
        reverse("documents:upload", args=[person.pk]),
        {"kind": "certificat_medical", "files": upload_file("certificat.pdf", pdf_bytes())},
    )
    certificate = Document.objects.get(kind="certificat_medical")

    url = reverse("documents:versions", args=[person.pk, certificate.pk])

    assert nurse_client.get(url).status_code == 200
    assert referent_client.get(url).status_code == 404


QUERIES = 10


@pytest.mark.parametrize("replaced", [0, 4])
def test_it_pins_the_queries_of_the_history(
    referent_client, person, receipt, replaced, django_assert_num_queries
):
    for month in range(replaced):
        _replace(referent_client, person, receipt, f"2026-0{month + 1}-01")
    url = reverse("documents:versions", args=[person.pk, receipt.pk])
    referent_client.get(url)

    with django_assert_num_queries(QUERIES):
        response = referent_client.get(url)

    assert response.content.decode().count("Télécharger<span") == replaced + 1


def _accessible_names(page: str) -> list[str]:
    """The names of the links of the list's rows, hidden words included."""
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", link)).strip()
        for link in re.findall(r"<a [^>]*>(.*?)</a>", body, re.DOTALL)
    ]


def test_every_action_of_the_list_has_a_name_of_its_own(referent_client, person, receipt):
    referent_client.post(
        reverse("documents:upload", args=[person.pk]),
        {
            "kind": "quittance_loyer",
            "issued_on": "2026-10-01",
            "files": upload_file("octobre.png", png_bytes()),
        },
    )
    referent_client.post(
        reverse("documents:upload", args=[person.pk]),
        {"kind": "rib", "title": "compte courant", "files": upload_file("rib.pdf", pdf_bytes())},
    )

    names = _accessible_names(
        text_of(referent_client.get(reverse("documents:list", args=[person.pk])))
    )

    assert len(names) == 3 * 6
    assert len(set(names)) == len(names)
    assert "Remplacer Quittance de loyer délivrée le 01/06/2026" in names
    assert "Supprimer Quittance de loyer délivrée le 01/10/2026" in names
    assert "Modifier RIB — compte courant" in names
    assert "Historique de Quittance de loyer délivrée le 01/06/2026" in names
    assert "Voir RIB — compte courant" in names
