"""The files a creation offers as possible duplicates: the same person whose name was
typed otherwise — with or without its apostrophe, space or hyphen, or a part of it left
out — born the same day with the same first name, found in one query."""

import datetime

import pytest

from relais.persons import services
from tests.persons.factories import PersonFactory

pytestmark = pytest.mark.django_db

BORN = datetime.date(1990, 4, 12)


def _offered(birth_name: str, *, usage_name: str = "", first_names: str = "Léa", **kwargs):
    return list(
        services.duplicates_of(
            birth_name=birth_name,
            usage_name=usage_name,
            first_names=first_names,
            birth_date=kwargs.pop("birth_date", BORN),
            name_variants=kwargs.pop("name_variants", True),
        )
    )


@pytest.mark.parametrize(
    ("existing", "typed"),
    [
        ("N'Diaye", "Ndiaye"),
        ("Ndiaye", "N'DIAYE"),
        ("Le Goff", "Legoff"),
        ("Legoff", "Le Goff"),
        ("De La Fontaine", "Delafontaine"),
        ("Dupré-Lefèvre", "Dupré"),
        ("Dupré-Lefèvre", "Lefevre"),
        ("Dupré", "Dupré-Lefèvre"),
        ("Dupré-Lefèvre", "Lefèvre Dupré"),
        ("Da Silva", "Silva"),
    ],
)
def test_it_offers_the_same_name_typed_otherwise(existing, typed):
    person = PersonFactory(birth_name=existing, first_names="Léa Marie", birth_date=BORN)

    assert _offered(typed) == [person]


def test_it_compares_the_usage_name_too():
    person = PersonFactory(birth_name="Martin", usage_name="N'Diaye", first_names="Léa")

    assert _offered("Ndiaye", birth_date=person.birth_date) == [person]
    assert _offered("Durand", usage_name="Le Goff", birth_date=person.birth_date) == []


@pytest.mark.parametrize(
    ("typed", "first_names", "birth_date"),
    [
        ("Dupré", "Léa", datetime.date(1990, 4, 13)),
        ("Dupré", "Noémie", BORN),
        ("Dupont", "Léa", BORN),
        ("Dupré Martin", "Léa", BORN),
        ("Lefe", "Léa", BORN),
    ],
)
def test_it_offers_no_other_person(typed, first_names, birth_date):
    PersonFactory(birth_name="Dupré-Lefèvre", first_names="Léa", birth_date=BORN)

    assert _offered(typed, first_names=first_names, birth_date=birth_date) == []


def test_an_exceptional_access_still_asks_for_the_exact_name():
    PersonFactory(birth_name="N'Diaye", first_names="Léa", birth_date=BORN)

    assert _offered("Ndiaye", name_variants=False) == []
    assert len(_offered("N DIAYE", name_variants=False)) == 1


@pytest.mark.parametrize("others", [1, 20])
def test_it_looks_in_one_query(others, django_assert_num_queries):
    PersonFactory.create_batch(others, birth_date=BORN, first_names="Léa")

    with django_assert_num_queries(1):
        _offered("De La Fontaine-Dupré", usage_name="N'Diaye Sow")
