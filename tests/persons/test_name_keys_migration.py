"""The persons' data migrations: name keys recomputed, NIRs shared by active files."""

from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection

from relais.persons.models import Person, PersonStatus
from tests.persons.factories import PersonFactory

pytestmark = pytest.mark.django_db

migration = import_module("relais.persons.migrations.0002_single_spaced_name_keys")


def test_it_recomputes_only_the_double_spaced_keys():
    written_before = PersonFactory(birth_name="Petrov ж Ivanova", first_names="Anna")
    Person.objects.filter(pk=written_before.pk).update(birth_name_key="petrov  ivanova")
    untouched = PersonFactory(birth_name="Dupré-Lefèvre", first_names="Léa")
    Person.objects.filter(pk=untouched.pk).update(first_names_key="key left as it is")

    migration.recompute(apps, None)

    written_before.refresh_from_db()
    untouched.refresh_from_db()
    assert written_before.birth_name_key == "petrov ivanova"
    assert written_before.first_names_key == "anna"
    assert untouched.first_names_key == "key left as it is"


own_letters = import_module("relais.persons.migrations.0003_own_letters_in_name_keys")


def test_it_recomputes_the_keys_of_names_with_letters_of_their_own():
    written_before = PersonFactory(birth_name="WAŁĘSA", first_names="Łukasz")
    Person.objects.filter(pk=written_before.pk).update(
        birth_name_key="waesa", first_names_key="ukasz"
    )
    untouched = PersonFactory(birth_name="Dupré", first_names="Léa")
    Person.objects.filter(pk=untouched.pk).update(first_names_key="key left as it is")

    own_letters.recompute(apps, None)

    written_before.refresh_from_db()
    untouched.refresh_from_db()
    assert (written_before.birth_name_key, written_before.first_names_key) == (
        "walesa",
        "lukasz",
    )
    assert untouched.first_names_key == "key left as it is"


one_nir = import_module("relais.persons.migrations.0008_one_active_file_per_nir")


def test_it_stops_and_names_the_active_files_that_share_a_nir():
    # As a database written before the index: the files below could not be saved with it.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX person_nir_one_active_file")
    first, second, archived = PersonFactory(), PersonFactory(), PersonFactory()
    Person.objects.filter(pk__in=[first.pk, second.pk, archived.pk]).update(nir_digest="a" * 64)
    Person.objects.filter(pk=archived.pk).update(status=PersonStatus.ARCHIVED)
    PersonFactory(nir_digest="b" * 64)

    with pytest.raises(RuntimeError) as stopped:
        one_nir.refuse_shared_nirs(apps, None)

    assert str(stopped.value).startswith(
        f"Des dossiers actifs ont le même NIR : n° {first.pk} et n° {second.pk}. Fusionnez-les"
    )


def test_it_lets_the_index_be_built_when_every_nir_is_one_active_files():
    PersonFactory(nir_digest="a" * 64)
    archived = PersonFactory(status=PersonStatus.ARCHIVED)
    Person.objects.filter(pk=archived.pk).update(nir_digest="a" * 64)

    one_nir.refuse_shared_nirs(apps, None)
