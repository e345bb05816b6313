"""Purged documents' files deleted from the storage for good: a deletion that fails is
retried by the next purge, and does not stop the purge or the retention run."""

import io
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from relais.audit.context import SYSTEM
from relais.documents import vault
from relais.documents.models import Document, DocumentVersion
from relais.documents.tasks import purge_deleted_documents
from relais.persons.models import Person, PersonStatus
from relais.persons.retention import retention_apply
from tests.persons.factories import PersonFactory
from tests.portability.builders import pdf_bytes, upload


@pytest.fixture
def delete_fails_once(monkeypatch):
    """The documents storage refuses its first deletion; the names it refused."""
    storage = storages["documents"]
    delete = storage.delete
    refused: list[str] = []

    def fails_once(name):
        if not refused:
            refused.append(name)
            raise OSError("stockage indisponible")
        delete(name)

    monkeypatch.setattr(storage, "delete", fails_once)
    return refused


def _version(person: Person | None = None) -> DocumentVersion:
    document = upload(person or PersonFactory(), "avis_imposition", "avis.pdf", pdf_bytes(), SYSTEM)
    return document.versions.get()


def _deleted_long_ago(version: DocumentVersion, settings) -> None:
    Document.objects.filter(pk=version.document_id).update(
        deleted_at=timezone.now() - timedelta(days=settings.RELAIS_DOCUMENT_PURGE_DAYS + 1)
    )


def _purge() -> str:
    out = io.StringIO()
    call_command("purge_deleted_documents", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_file_whose_deletion_fails_is_deleted_by_the_next_purge(
    settings, delete_fails_once, django_capture_on_commit_callbacks, caplog
):
    failing, other = _version(), _version()
    _deleted_long_ago(failing, settings)
    _deleted_long_ago(other, settings)

    with django_capture_on_commit_callbacks(execute=True):
        purge_deleted_documents.call()

    (refused,) = delete_fails_once
    failed = DocumentVersion.objects.get(storage_name=refused)
    (deleted,) = {failing, other} - {failed}
    assert vault.blob_exists(refused)
    assert not vault.blob_exists(deleted.storage_name)
    failed.refresh_from_db()
    deleted.refresh_from_db()
    assert failed.purged_at is not None and bytes(failed.wrapped_key) == b""
    assert failed.blob_deleted_at is None
    assert deleted.blob_deleted_at is not None
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "relais.documents.services"]
    assert f"version {failed.pk} d'une pièce non effacé du stockage (OSError)" in warning
    assert refused not in warning

    with django_capture_on_commit_callbacks(execute=True):
        purge_deleted_documents.call()

    assert not vault.blob_exists(refused)
    failed.refresh_from_db()
    assert failed.blob_deleted_at is not None


def test_a_file_that_cannot_be_deleted_does_not_stop_the_retention_run(
    transactional_db, settings, delete_fails_once
):
    """Each file's transaction commits, so each deletion runs in the middle of the run."""
    versions = [_version(), _version()]
    Person.objects.filter(pk__in=[v.document.person_id for v in versions]).update(
        status=PersonStatus.ARCHIVED,
        archived_at=timezone.now() - settings.RELAIS_RETENTION_ARCHIVE - timedelta(days=1),
    )

    run = retention_apply()

    assert run.anonymised == 2
    (refused,) = delete_fails_once
    assert [vault.blob_exists(v.storage_name) for v in versions] == [
        v.storage_name == refused for v in versions
    ]
    assert DocumentVersion.objects.blob_left().get().storage_name == refused

    assert _purge() == "1 fichier(s) de pièce effacé(s) définitivement.\n"

    assert not vault.blob_exists(refused)
    assert not DocumentVersion.objects.blob_left().exists()


def test_the_purge_command_fails_while_a_file_is_left_in_the_storage(
    transactional_db, settings, delete_fails_once
):
    """Real commits: each file is deleted as its purge commits, before the command counts."""
    for version in (_version(), _version()):
        _deleted_long_ago(version, settings)

    with pytest.raises(CommandError) as left:
        _purge()
    again = _purge()

    assert str(left.value).startswith("1 fichier(s) de pièce purgée(s) encore dans le stockage")
    assert again == "1 fichier(s) de pièce effacé(s) définitivement.\n"
    assert not DocumentVersion.objects.blob_left().exists()
