"""The services that write a file's sections: what they write, and what a colleague
wrote meanwhile that they keep."""

import datetime

import pytest

from relais.audit.context import Actor
from relais.consent.services import break_glass_preference_set
from relais.persons import services
from relais.persons.categories import DataCategory
from relais.persons.models import Person
from relais.www.persons.forms import IdentityForm
from tests.persons.factories import PersonFactory

pytestmark = pytest.mark.django_db

VALID_NIR = "290047505601282"
ACTOR = Actor(label="Référente")


def _identity_saved(read: Person, **changes) -> None:
    """Save `changes` on the copy of the file a page read."""
    for name, value in changes.items():
        setattr(read, name, value)
    services.section_save(
        person=read,
        category=DataCategory.IDENTITY,
        instance=read,
        fields=IdentityForm.Meta.fields,
        by=ACTOR,
    )


def test_an_identity_edit_keeps_the_refusal_of_break_glass_given_meanwhile():
    person = PersonFactory(birth_name="Martin")
    read_by_the_page = Person.objects.get(pk=person.pk)
    break_glass_preference_set(person=person, refuses=True, by=Actor(label="La personne"))

    _identity_saved(read_by_the_page, birth_name="Lefèvre")

    saved = Person.objects.get(pk=person.pk)
    assert (saved.birth_name, saved.birth_name_key) == ("Lefèvre", "lefevre")
    assert saved.refuses_break_glass is True


def test_an_identity_edit_keeps_the_nir_a_colleague_recorded_meanwhile():
    person = PersonFactory()
    read_by_the_page = Person.objects.get(pk=person.pk)
    services.nir_set(person=person, nir=VALID_NIR, by=Actor(label="Collègue"))

    _identity_saved(read_by_the_page, phone="0698765432")

    saved = Person.objects.get(pk=person.pk)
    assert saved.has_nir
    assert saved.phone == "0698765432"


def test_an_identity_edit_counts_as_a_contact():
    person = PersonFactory(last_contact_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))

    _identity_saved(Person.objects.get(pk=person.pk), birth_place="Arras")

    assert Person.objects.get(pk=person.pk).last_contact_at.year > 2024
