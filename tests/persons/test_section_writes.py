"""The services that write a file's sections: what they write, and what a colleague
wrote meanwhile that they keep."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.consent.services import break_glass_preference_set
from relais.persons import services
from relais.persons.categories import DataCategory
from relais.persons.models import HouseholdMember, Housing, Person, PersonStatus
from relais.www.persons.forms import IdentityForm
from tests.persons.factories import PersonFactory

pytestmark = pytest.mark.django_db

VALID_NIR = "284067505601220"
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


def test_a_section_saved_on_a_file_archived_meanwhile_is_refused():
    person = PersonFactory()
    Person.objects.filter(pk=person.pk).update(status=PersonStatus.ARCHIVED)

    with pytest.raises(ValidationError, match="n'est plus actif"):
        services.section_save(
            person=person,
            category=DataCategory.HOUSING,
            instance=Housing(person=person, status="sans_domicile"),
            by=ACTOR,
        )

    assert not Housing.objects.exists()


def test_a_first_housing_is_refused_once_another_was_saved_meanwhile():
    person = PersonFactory()
    Housing.objects.create(person=person, status="sans_domicile")

    with pytest.raises(services.SavedMeanwhile):
        services.section_save(
            person=person,
            category=DataCategory.HOUSING,
            instance=Housing(person=person, status="locataire_prive"),
            by=ACTOR,
        )

    assert Housing.objects.get(person=person).status == "sans_domicile"
    assert not AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).exists()


def test_the_same_member_is_added_once():
    person = PersonFactory()
    child = {"relation": "enfant", "birth_date": datetime.date(2020, 2, 1)}
    services.household_member_add(
        person=person, member=HouseholdMember(first_names="Noé", **child), by=ACTOR
    )

    with pytest.raises(ValidationError, match="fait déjà partie du foyer"):
        services.household_member_add(
            person=person, member=HouseholdMember(first_names="NOE", **child), by=ACTOR
        )

    assert person.household.count() == 1
