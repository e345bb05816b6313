"""Rotation of the NIRs' key: a new key put first, `rotate_encryption_keys` run, then the
old key removed. Files keep being found by their NIR all along; a file changed during the
run keeps its change; a row that cannot be rewrapped is reported, not a stop."""

import pytest
from django.core.management import CommandError

from relais import crypto
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.persons import services
from relais.persons.models import Person, PersonStatus
from tests.key_rotation import GONE, NEW, NEWEST, OLD, rotate
from tests.persons.factories import PersonFactory

pytestmark = pytest.mark.django_db

NIR = "184066219300108"
OTHER_NIR = "184067800608459"


def _with_nir(nir: str) -> Person:
    person = PersonFactory()
    services.nir_set(person=person, nir=nir, by=SYSTEM)
    return person


def _nir_of(person: Person) -> str:
    person.refresh_from_db()
    return services.nir_reveal(person=person, by=SYSTEM, details={})


def test_it_rewraps_every_nir_under_the_new_key_and_finds_them_without_the_old_one(keys):
    person = _with_nir(NIR)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"

    output = rotate()

    keys.RELAIS_ENCRYPTION_KEYS = NEW
    person.refresh_from_db()
    assert crypto.key_id_of(bytes(person.nir_encrypted)) == "nouvelle"
    assert _nir_of(person) == NIR
    assert list(services.duplicates_of(**_names_of(PersonFactory.build()), nir=NIR)) == [person]
    assert "1 NIR chiffré(s) de nouveau" in output
    assert "Plus aucune valeur sous une autre clé que « nouvelle »" in output
    event = AuditEvent.objects.filter(action=AuditAction.KEYS_ROTATED).get(details__has_key="nir")
    assert event.details == {"nir": 1, "echecs": 0, "en_echec": ""}


def _names_of(person: Person) -> dict[str, object]:
    return {
        "birth_name": person.birth_name,
        "usage_name": "",
        "first_names": person.first_names,
        "birth_date": person.birth_date,
    }


def test_a_file_is_found_by_its_nir_while_the_new_key_waits_for_the_rotation(keys):
    person = _with_nir(NIR)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"

    assert list(services.duplicates_of(**_names_of(PersonFactory.build()), nir=NIR)) == [person]


def test_another_file_cannot_take_a_nir_still_under_the_old_key(keys):
    person = _with_nir(NIR)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"
    other = PersonFactory()

    with pytest.raises(services.NirTaken) as taken:
        services.nir_set(person=other, nir=NIR, by=SYSTEM)

    assert taken.value.other_id == person.pk
    other.refresh_from_db()
    assert not other.has_nir


def test_two_active_files_with_one_nir_stop_only_their_own_rewrap(keys):
    """Files given one NIR under two keys while the NIR was looked up under the current
    key only: the rotation gives the second one the first one's digest, which the
    database refuses for two active files. That file is reported, to be merged; the run
    goes on."""
    first = _with_nir(NIR)
    keys.RELAIS_ENCRYPTION_KEYS = NEW
    second = _with_nir(NIR)
    third = _with_nir(OTHER_NIR)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEWEST},{NEW},{OLD}"

    with pytest.raises(CommandError) as failed:
        rotate()

    assert (_key_of(first), _key_of(second), _key_of(third)) == ("recente", "nouvelle", "recente")
    message = str(failed.value)
    assert f"dossier n° {second.pk} : même NIR qu'un autre dossier actif" in message
    assert NIR not in message
    event = AuditEvent.objects.filter(action=AuditAction.KEYS_ROTATED).get(details__has_key="nir")
    assert event.details == {"nir": 2, "echecs": 1, "en_echec": str(second.pk)}


def _key_of(person: Person) -> str:
    person.refresh_from_db()
    return crypto.key_id_of(bytes(person.nir_encrypted))


def test_an_unreadable_nir_is_reported_and_the_others_are_rewrapped(keys):
    keys.RELAIS_ENCRYPTION_KEYS = GONE
    lost = _with_nir(NIR)
    keys.RELAIS_ENCRYPTION_KEYS = OLD
    kept = _with_nir(OTHER_NIR)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"

    with pytest.raises(CommandError) as failed:
        rotate()

    assert _key_of(kept) == "nouvelle"
    assert _key_of(lost) == "perdue"
    message = str(failed.value)
    assert f"dossier n° {lost.pk} : NIR illisible" in message
    assert f"Ne retirez pas l'ancienne clé : 1 NIR (dossier(s) n° {lost.pk})" in message
    event = AuditEvent.objects.filter(action=AuditAction.KEYS_ROTATED).get(details__has_key="nir")
    assert event.details == {"nir": 1, "echecs": 1, "en_echec": str(lost.pk)}


def test_a_damaged_nir_is_reported_and_the_others_are_rewrapped(keys):
    damaged, kept = _with_nir(NIR), _with_nir(OTHER_NIR)
    Person.objects.filter(pk=damaged.pk).update(nir_encrypted=b"\x02\xff\xfe" + b"0" * 40)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"

    with pytest.raises(CommandError) as failed:
        rotate()

    assert _key_of(kept) == "nouvelle"
    assert f"dossier n° {damaged.pk} : NIR illisible" in str(failed.value)


def test_a_file_anonymised_during_the_run_does_not_get_its_nir_back(keys, monkeypatch):
    person = _with_nir(NIR)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"
    decrypt = crypto.decrypt

    def anonymised_meanwhile(ciphertext, **kwargs):
        Person.objects.filter(pk=person.pk).update(
            nir_encrypted=None, nir_digest="", status=PersonStatus.ANONYMISED
        )
        return decrypt(ciphertext, **kwargs)

    monkeypatch.setattr(crypto, "decrypt", anonymised_meanwhile)
    rotate()

    person.refresh_from_db()
    assert (person.nir_encrypted, person.nir_digest) == (None, "")


def test_a_nir_corrected_during_the_run_keeps_its_correction(keys, monkeypatch):
    person = _with_nir(NIR)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"
    decrypt = crypto.decrypt

    def corrected_meanwhile(ciphertext, **kwargs):
        monkeypatch.setattr(crypto, "decrypt", decrypt)
        services.nir_set(person=Person.objects.get(pk=person.pk), nir=OTHER_NIR, by=SYSTEM)
        return decrypt(ciphertext, **kwargs)

    monkeypatch.setattr(crypto, "decrypt", corrected_meanwhile)
    rotate()

    assert _nir_of(person) == OTHER_NIR
    assert list(services.duplicates_of(**_names_of(PersonFactory.build()), nir=OTHER_NIR)) == [
        person
    ]
