"""verify_documents: every version of a document not deleted has its file, whole and
readable under a configured key; the versions in trouble are named by their numbers only,
and the command exits in error so that cron or the supervisor reports them."""

import io
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relais.audit.context import SYSTEM
from relais.documents import checking, vault
from relais.documents.models import DocumentVersion
from relais.documents.services import document_delete, document_purge, document_replace
from relais.persons.models import Person
from tests.documents import test_vault_s3
from tests.key_rotation import GONE, OLD
from tests.persons.factories import PersonFactory
from tests.portability.builders import pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db

# The S3 server and bucket of the vault's S3 tests.
s3_endpoint = test_vault_s3.s3_endpoint
bucket = test_vault_s3.bucket


@pytest.fixture
def disk(settings, tmp_path) -> Path:
    """The documents storage on a directory, as RELAIS_DOCUMENTS_DIR; returns it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def _version(person: Person | None = None, **fields) -> DocumentVersion:
    document = upload(
        person or PersonFactory(), "avis_imposition", "avis.pdf", pdf_bytes(), SYSTEM, **fields
    )
    return document.versions.get()


def _verify(*args: str) -> tuple[int, str]:
    """The exit code and everything the command wrote, its error message included."""
    out = io.StringIO()
    try:
        call_command("verify_documents", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def _named(version: DocumentVersion) -> str:
    person_id = version.document.person_id
    return f"version n° {version.pk} (pièce n° {version.document_id}, dossier n° {person_id})"


def _damage(disk: Path, version: DocumentVersion, change) -> None:
    path = disk / version.storage_name
    path.write_bytes(change(path.read_bytes()))


def _refused(name: str) -> None:
    raise OSError("stockage indisponible")


def _flip_one_byte(data: bytes) -> bytes:
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    return bytes(flipped)


@pytest.mark.parametrize("mode", [[], ["--complet"]], ids=["presence", "complet"])
def test_it_passes_a_sound_store(disk, mode):
    kept = _version()
    document_replace(
        document=kept.document,
        files=[SimpleUploadedFile("avis.png", png_bytes(), content_type="image/png")],
        issued_on=None,
        expires_on=None,
        uploaded_by_id=None,
        by=SYSTEM,
    )
    _version()

    code, output = _verify(*mode)

    assert code == 0
    assert "3 version(s) de pièce vérifiée(s)" in output
    assert "0 fichier(s) manquant(s), 0 fichier(s) endommagé(s), 0 clé(s) illisible(s)." in output


@pytest.mark.parametrize("mode", [[], ["--complet"]], ids=["presence", "complet"])
def test_it_names_a_version_whose_file_is_missing(disk, mode):
    _version()
    lost = _version()
    (disk / lost.storage_name).unlink()

    code, output = _verify(*mode)

    assert code == 1
    assert f"{_named(lost)} : fichier manquant ({lost.storage_name})." in output
    assert "2 version(s) de pièce vérifiée(s)" in output
    assert "1 fichier(s) manquant(s), 0 fichier(s) endommagé(s)" in output
    assert "Remettre les fichiers nommés depuis la sauvegarde des pièces." in output
    assert "RELAIS_ENCRYPTION_KEYS" not in output


@pytest.mark.parametrize(
    "change",
    [lambda data: data[: len(data) // 2], _flip_one_byte],
    ids=["tronque", "octet-change"],
)
def test_a_full_check_names_a_damaged_file_that_the_presence_check_cannot_see(disk, change):
    _version()
    damaged = _version()
    _damage(disk, damaged, change)

    assert _verify()[0] == 0
    code, output = _verify("--complet")

    assert code == 1
    assert f"{_named(damaged)} : fichier endommagé ({damaged.storage_name}) — " in output
    assert "0 fichier(s) manquant(s), 1 fichier(s) endommagé(s), 0 clé(s) illisible(s)" in output


def test_a_full_check_names_a_file_that_does_not_match_its_recorded_sha256(disk):
    version = _version()
    DocumentVersion.objects.filter(pk=version.pk).update(sha256="0" * 64)

    code, output = _verify("--complet")

    assert code == 1
    assert f"{_named(version)} : fichier endommagé" in output
    assert "SHA-256" in output


@pytest.mark.parametrize("mode", [[], ["--complet"]], ids=["presence", "complet"])
def test_it_names_a_version_whose_key_is_no_longer_configured(disk, keys, mode):
    keys.RELAIS_ENCRYPTION_KEYS = GONE
    lost = _version()
    keys.RELAIS_ENCRYPTION_KEYS = OLD
    _version()

    code, output = _verify(*mode)

    assert code == 1
    assert f"{_named(lost)} : clé illisible — " in output
    assert "n'est plus configurée" in output
    assert "0 fichier(s) manquant(s), 0 fichier(s) endommagé(s), 1 clé(s) illisible(s)" in output
    assert "Remettre dans RELAIS_ENCRYPTION_KEYS la clé qui manque" in output
    assert "Remettre les fichiers" not in output


def test_it_says_which_version_in_trouble_was_replaced_since(disk):
    replaced = _version()
    current = document_replace(
        document=replaced.document,
        files=[SimpleUploadedFile("avis.png", png_bytes(), content_type="image/png")],
        issued_on=None,
        expires_on=None,
        uploaded_by_id=None,
        by=SYSTEM,
    )
    for version in (replaced, current):
        (disk / version.storage_name).unlink()

    code, output = _verify()

    assert code == 1
    document, person = replaced.document_id, replaced.document.person_id
    assert (
        f"version n° {replaced.pk}, remplacée depuis (pièce n° {document}, dossier n° {person})"
        " : fichier manquant"
    ) in output
    assert f"{_named(current)} : fichier manquant" in output


def test_it_does_not_report_a_deleted_document_waiting_for_its_purge(disk):
    deleted = _version()
    document_delete(document=deleted.document, by=SYSTEM)
    (disk / deleted.storage_name).unlink()
    _version()

    code, output = _verify("--complet")

    assert code == 0
    assert "1 version(s) de pièce vérifiée(s)" in output


def test_it_does_not_report_purged_versions(disk, monkeypatch, django_capture_on_commit_callbacks):
    gone = _version()
    left = _version()
    for version in (gone, left):
        document_delete(document=version.document, by=SYSTEM)
    with django_capture_on_commit_callbacks(execute=True):
        document_purge(document=gone.document, by=SYSTEM)
    # A file the storage refused to delete stays until the next purge, without its key.
    monkeypatch.setattr(vault, "blob_delete", _refused)
    with django_capture_on_commit_callbacks(execute=True):
        document_purge(document=left.document, by=SYSTEM)
    _damage(disk, left, _flip_one_byte)
    _version()

    code, output = _verify("--complet")

    assert not (disk / gone.storage_name).exists()
    assert DocumentVersion.objects.blob_left().get() == left
    assert code == 0
    assert "1 version(s) de pièce vérifiée(s)" in output
    assert _named(left) not in output


def test_a_version_purged_during_the_check_is_not_reported(disk, monkeypatch):
    version = _version()
    exists = vault.blob_exists

    def purged_meanwhile(name):
        DocumentVersion.objects.filter(pk=version.pk).update(purged_at=version.uploaded_at)
        (disk / name).unlink(missing_ok=True)
        return exists(name)

    monkeypatch.setattr(vault, "blob_exists", purged_meanwhile)

    code, output = _verify()

    assert code == 0
    assert "0 fichier(s) manquant(s)" in output


def test_it_resumes_from_a_version_number(disk):
    first = _version()
    second = _version()
    third = _version()
    for version in (first, third):
        (disk / version.storage_name).unlink()

    code, output = _verify("--depuis", str(second.pk))

    assert code == 1
    assert _named(first) not in output
    assert f"{_named(third)} : fichier manquant" in output
    assert "2 version(s) de pièce vérifiée(s)" in output


def test_it_reads_the_versions_in_batches_with_constant_queries(disk, monkeypatch):
    versions = [_version() for _ in range(5)]
    (disk / versions[3].storage_name).unlink()
    monkeypatch.setattr(checking, "BATCH_SIZE", 2)

    verification = checking.Verification()
    with CaptureQueriesContext(connection) as queries:
        problems = list(verification.problems())

    assert [problem.version_id for problem in problems] == [versions[3].pk]
    assert verification.checked == 5
    # Three batches, the last one short, then for the version in trouble its row read
    # again and whether it was replaced.
    assert len(queries) == 5


def test_a_storage_failure_stops_the_check_and_says_where_to_resume(disk, monkeypatch):
    checked = _version()
    stopped = _version()
    exists = vault.blob_exists

    def fails_on_second(name):
        if name == stopped.storage_name:
            raise OSError("stockage indisponible")
        return exists(name)

    monkeypatch.setattr(vault, "blob_exists", fails_on_second)

    with pytest.raises(CommandError) as failed:
        call_command("verify_documents", "--complet", stdout=io.StringIO())

    assert failed.value.returncode == 1
    assert (
        "interrompue après 1 version(s), dont 0 en défaut (OSError : stockage indisponible)"
        in str(failed.value)
    )
    assert f"verify_documents --depuis {stopped.pk} --complet" in str(failed.value)
    assert checked.pk < stopped.pk


def test_its_report_names_no_person_and_no_title(disk):
    person = PersonFactory(first_names="Zéphyrine", birth_name="Quintavalle", usage_name="Ardouin")
    lost = _version(person, title="Bail de la rue des Glycines")
    (disk / lost.storage_name).unlink()

    code, output = _verify("--complet")

    assert code == 1
    assert _named(lost) in output
    for personal in ("Zéphyrine", "Quintavalle", "Ardouin", "Glycines", "Bail", "avis"):
        assert personal.lower() not in output.lower()


def test_it_checks_the_objects_of_an_s3_bucket(bucket):
    client, name = bucket
    sound = _version()
    lost = _version()
    damaged = _version()
    client.delete_object(Bucket=name, Key=lost.storage_name)
    stored = client.get_object(Bucket=name, Key=damaged.storage_name)["Body"].read()
    client.put_object(Bucket=name, Key=damaged.storage_name, Body=_flip_one_byte(stored))

    presence = _verify()
    code, output = _verify("--complet")

    assert presence[0] == 1
    assert f"{_named(lost)} : fichier manquant" in presence[1]
    assert _named(damaged) not in presence[1]
    assert code == 1
    assert f"{_named(lost)} : fichier manquant" in output
    assert f"{_named(damaged)} : fichier endommagé" in output
    assert _named(sound) not in output
    assert "3 version(s) de pièce vérifiée(s)" in output


def test_a_full_check_names_an_object_the_bucket_refuses_and_checks_the_rest(bucket):
    """An object moved to an archive storage class (a lifecycle rule) is there, but the
    bucket refuses to read it: that version is named, and the versions after it are
    checked still, where stopping there would stop every run resumed from it too."""
    client, name = bucket
    archived = _version()
    lost = _version()
    stored = client.get_object(Bucket=name, Key=archived.storage_name)["Body"].read()
    client.put_object(Bucket=name, Key=archived.storage_name, Body=stored, StorageClass="GLACIER")
    client.delete_object(Bucket=name, Key=lost.storage_name)

    code, output = _verify("--complet")

    assert code == 1
    assert (
        f"{_named(archived)} : fichier refusé par le stockage ({archived.storage_name})"
        " — InvalidObjectState"
    ) in output
    assert f"{_named(lost)} : fichier manquant" in output
    assert "2 version(s) de pièce vérifiée(s)" in output
    assert "1 fichier(s) manquant(s), 0 fichier(s) endommagé(s), 0 clé(s) illisible(s)" in output
    assert "1 fichier(s) refusé(s) par le stockage" in output
    assert "Vérifier que le compte de Relais peut lire" in output


def test_a_storage_that_answers_it_is_unavailable_stops_the_check(disk, monkeypatch):
    _version()

    def unavailable(name):
        raise ClientError(
            {"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}},
            "HeadObject",
        )

    monkeypatch.setattr(vault, "blob_exists", unavailable)

    code, output = _verify()

    assert code == 1
    assert "interrompue après 0 version(s)" in output
    assert "SlowDown" in output


@pytest.mark.parametrize("given", ["abc", "0", "-5", "12.5", "١٢"])
def test_it_refuses_a_resume_point_that_is_not_a_version_number_and_checks_nothing(given):
    code, output = _verify("--depuis", given)

    assert code == 1
    assert f"« {given} » n'est pas un numéro de version" in output
    assert "vérifiée" not in output
