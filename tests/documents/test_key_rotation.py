"""Rotation of the documents' keys by the one rotation command: after it, the old key can
be removed and every document still reads; a key that cannot be rewrapped is reported, and
a version purged during the run stays purged."""

import io

import pytest
from django.core.management import CommandError, call_command

from relais import crypto
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.documents import services, vault
from relais.documents.models import DocumentVersion
from relais.persons.services import nir_set
from tests.key_rotation import GONE, NEW, OLD, rotate
from tests.persons.factories import PersonFactory
from tests.portability.builders import pdf_bytes, upload

pytestmark = pytest.mark.django_db


def _version() -> DocumentVersion:
    document = upload(PersonFactory(), "avis_imposition", "avis.pdf", pdf_bytes(), SYSTEM)
    return document.versions.get()


def _key_of(version: DocumentVersion) -> str:
    version.refresh_from_db()
    return crypto.key_id_of(bytes(version.wrapped_key))


def test_one_command_rewraps_the_documents_keys_too(keys):
    version = _version()
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"

    output = rotate()

    keys.RELAIS_ENCRYPTION_KEYS = NEW
    version.refresh_from_db()
    assert b"".join(services.version_chunks(version)) == pdf_bytes()
    assert "1 clé(s) de pièce rechiffrée(s) sous « nouvelle »" in output
    assert "Plus aucune valeur sous une autre clé que « nouvelle »" in output
    event = AuditEvent.objects.filter(action=AuditAction.KEYS_ROTATED).get(
        details__has_key="pieces"
    )
    assert event.details == {"pieces": 1, "echecs": 0, "en_echec": ""}


def test_an_unreadable_document_key_is_reported_and_the_others_are_rewrapped(keys):
    keys.RELAIS_ENCRYPTION_KEYS = GONE
    lost = _version()
    keys.RELAIS_ENCRYPTION_KEYS = OLD
    kept = _version()
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"

    with pytest.raises(CommandError) as failed:
        rotate()

    assert (_key_of(lost), _key_of(kept)) == ("perdue", "nouvelle")
    message = str(failed.value)
    assert f"version n° {lost.pk} : clé de pièce illisible" in message
    assert f"0 NIR et 1 clé(s) de pièce (version(s) n° {lost.pk})" in message
    event = AuditEvent.objects.filter(action=AuditAction.KEYS_ROTATED).get(
        details__has_key="pieces"
    )
    assert event.details == {"pieces": 1, "echecs": 1, "en_echec": str(lost.pk)}


def test_a_version_purged_during_the_run_keeps_its_key_wiped(keys, monkeypatch):
    version = _version()
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"
    rewrap_key = vault.rewrap_key

    def purged_meanwhile(wrapped_key):
        services.person_documents_shred(person_id=version.document.person_id, by=SYSTEM)
        return rewrap_key(wrapped_key)

    monkeypatch.setattr(vault, "rewrap_key", purged_meanwhile)
    rotate()

    version.refresh_from_db()
    assert version.purged_at is not None
    assert bytes(version.wrapped_key) == b""


def test_the_former_name_of_the_command_rotates_the_nirs_too(keys):
    version = _version()
    person = version.document.person
    nir_set(person=person, nir="184066219300108", by=SYSTEM)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"

    call_command("rotate_document_keys", stdout=io.StringIO())

    person.refresh_from_db()
    assert crypto.key_id_of(bytes(person.nir_encrypted)) == "nouvelle"
    assert _key_of(version) == "nouvelle"
