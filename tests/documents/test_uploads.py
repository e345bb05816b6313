"""Files are received in memory within one document's maximum size: none is written to a
temporary file, and what passes the maximum is dropped as it comes, then refused in French
on the page."""

import io
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from relais.documents.models import Document
from relais.documents.uploads import DocumentUploadHandler
from tests.conftest import log_in
from tests.documents.test_document_pages import stored_files, upload_file
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 × side² bytes."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def client_and_person():
    membership = MembershipFactory()
    person = PersonFactory()
    ConsentFactory(person=person, organisation=membership.organisation)
    return log_in(Client(), membership.user, membership), person


def _post(client, person, *files):
    return client.post(
        reverse("documents:upload", args=[person.pk]),
        {
            "kind": "livret_famille",
            "files": [upload_file(name, content) for name, content in files],
        },
    )


def test_it_is_the_only_upload_handler():
    assert settings.FILE_UPLOAD_HANDLERS == ["relais.documents.uploads.DocumentUploadHandler"]


def test_a_large_photo_never_reaches_a_temporary_file(client_and_person, monkeypatch):
    client, person = client_and_person

    def refused(*args, **kwargs):
        raise AssertionError("written to a temporary file")

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", refused)
    photo = noise_png(1000)
    assert len(photo) > 2_500_000

    response = _post(client, person, ("photo.png", photo))

    assert response.status_code == 302
    assert Document.objects.get().versions.get().size > 2_500_000


def test_a_file_over_the_maximum_is_refused_in_french_on_the_page(client_and_person, settings):
    client, person = client_and_person
    settings.RELAIS_DOCUMENT_MAX_BYTES = 10_000

    response = _post(client, person, ("photo.png", noise_png(100)))

    assert response.status_code == 400
    assert "Le fichier dépasse la taille maximale autorisée (0,009537 Mo)" in (
        response.content.decode()
    )
    assert not Document.objects.exists()
    assert not stored_files()


def test_photos_over_the_maximum_together_are_refused_in_french_on_the_page(
    client_and_person, settings
):
    client, person = client_and_person
    settings.RELAIS_DOCUMENT_MAX_BYTES = 50_000
    page = noise_png(100)
    assert 25_000 < len(page) < 50_000

    response = _post(client, person, ("recto.png", page), ("verso.png", page))

    assert response.status_code == 400
    assert "Ensemble, les photos dépassent la taille maximale" in response.content.decode()
    assert not Document.objects.exists()


def _received(handler, name, size, *, chunk=4096):
    handler.new_file("files", name, "image/png", None)
    for start in range(0, size, chunk):
        handler.receive_data_chunk(b"x" * min(chunk, size - start), start)
    return handler.file_complete(size)


def test_it_drops_what_passes_the_maximum_and_tells_the_size_sent(settings):
    settings.RELAIS_DOCUMENT_MAX_BYTES = 10_000
    handler = DocumentUploadHandler()

    first = _received(handler, "recto.png", 6_000)
    second = _received(handler, "verso.png", 6_000)
    third = _received(handler, "annexe.png", 30_000)
    fourth = _received(handler, "dernier.png", 4_000)

    assert (first.size, len(first.read())) == (6_000, 6_000)
    assert (second.size, second.read()) == (6_000, b"")
    assert (third.size, third.read()) == (30_000, b"")
    assert (fourth.size, len(fourth.read())) == (4_000, 4_000)
    assert handler.kept == 10_000
