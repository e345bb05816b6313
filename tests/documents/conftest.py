import pytest
from django.urls import reverse

from relais.documents.models import Document
from tests.documents.test_document_pages import pdf_bytes, upload_file


@pytest.fixture
def receipt(referent_client, person):
    """A rent receipt of June, valid until 1 September 2026: expired on the tests' day, in
    the file of the test module's `person`."""
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
