"""A file's creation offers the file of the same person whose name was typed otherwise."""

import datetime

import pytest
from django.urls import reverse

from relais.persons.models import Person
from tests.persons.editing import create_file
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("existing", "typed"),
    [
        ("N'Diaye", "Ndiaye"),
        ("Le Goff", "Legoff"),
        ("De La Fontaine", "Delafontaine"),
        ("Dupré-Lefèvre", "Dupré"),
    ],
)
def test_it_offers_the_file_of_a_name_typed_otherwise(member_client, organisation, existing, typed):
    person = PersonFactory(
        birth_name=existing, first_names="Léa", birth_date=datetime.date(1990, 4, 12)
    )
    ConsentFactory(person=person, organisation=organisation)

    response = create_file(member_client, birth_name=typed, first_names="Léa")

    assert response.status_code == 400
    assert "Un dossier existe peut-être déjà pour cette personne" in response.content.decode()
    assert reverse("persons:file", args=[person.pk]) in response.content.decode()
    assert Person.objects.count() == 1
