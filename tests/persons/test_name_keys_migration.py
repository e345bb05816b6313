"""The migration that single-spaces the name keys written before the fix."""

from importlib import import_module

import pytest
from django.apps import apps

from relais.persons.models import Person
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
