"""The files a creation offers as possible duplicates: the same person whose name was
typed otherwise — with or without its apostrophe, space or hyphen, or a part of it left
out — born the same day, or on the day whose day and month were swapped, with the same
first name, found in one query through the birth date's index."""

import datetime

import pytest
from django.db import connection

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


@pytest.mark.parametrize(
    ("existing", "typed"),
    [
        (datetime.date(1975, 11, 2), datetime.date(1975, 2, 11)),
        (datetime.date(1975, 2, 11), datetime.date(1975, 11, 2)),
        (datetime.date(2001, 1, 12), datetime.date(2001, 12, 1)),
    ],
)
def test_it_offers_the_file_of_a_birth_date_with_day_and_month_swapped(existing, typed):
    person = PersonFactory(birth_name="Bensaïd", first_names="Rachid", birth_date=existing)

    assert _offered("Bensaid", first_names="Rachid", birth_date=typed) == [person]
    assert _offered("Ben Saïd", first_names="Rachid", birth_date=typed) == [person]


@pytest.mark.parametrize(
    ("existing", "typed"),
    [
        (datetime.date(1976, 11, 2), datetime.date(1975, 2, 11)),
        (datetime.date(1975, 11, 3), datetime.date(1975, 2, 11)),
        (datetime.date(1975, 5, 6), datetime.date(1975, 5, 5)),
    ],
    ids=["another-year", "another-day", "same-day-and-month"],
)
def test_it_offers_no_file_of_another_birth_date(existing, typed):
    PersonFactory(birth_name="Bensaïd", first_names="Rachid", birth_date=existing)

    assert _offered("Bensaïd", first_names="Rachid", birth_date=typed) == []


def test_a_day_after_the_twelfth_is_looked_for_as_typed():
    """Read the other way, 13/02 would be the 2nd of a 13th month."""
    person = PersonFactory(
        birth_name="Bensaïd", first_names="Rachid", birth_date=datetime.date(1975, 2, 13)
    )

    assert _offered("Bensaïd", first_names="Rachid", birth_date=person.birth_date) == [person]


def test_a_swapped_birth_date_still_asks_for_the_same_person():
    PersonFactory(birth_name="Bensaïd", first_names="Rachid", birth_date=datetime.date(1975, 11, 2))

    swapped = datetime.date(1975, 2, 11)
    assert _offered("Bensaïd", first_names="Karim", birth_date=swapped) == []
    assert _offered("Martin", first_names="Rachid", birth_date=swapped) == []


def test_an_exceptional_access_still_asks_for_the_exact_birth_date():
    PersonFactory(birth_name="Bensaïd", first_names="Rachid", birth_date=datetime.date(1975, 11, 2))

    offered = _offered(
        "Bensaïd",
        first_names="Rachid",
        birth_date=datetime.date(1975, 2, 11),
        name_variants=False,
    )

    assert offered == []


@pytest.mark.parametrize("others", [1, 20])
def test_it_looks_in_one_query(others, django_assert_num_queries):
    PersonFactory.create_batch(others, birth_date=BORN, first_names="Léa")
    PersonFactory.create_batch(others, birth_date=datetime.date(1990, 12, 4), first_names="Léa")

    with django_assert_num_queries(1):
        _offered("De La Fontaine-Dupré", usage_name="N'Diaye Sow")


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL's planner reads a small table whole: its plan is checked at size",
)
def test_it_reads_the_files_of_both_birth_dates_through_their_index():
    """What keeps the look-up as fast among a million files as among a thousand."""
    PersonFactory.create_batch(5, birth_date=BORN)
    query = services.duplicates_of(
        birth_name="Dupré-Lefèvre",
        usage_name="",
        first_names="Léa",
        birth_date=BORN,
        nir="290047505601282",
        name_variants=True,
    ).query
    sql, params = query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [row[-1] for row in cursor.fetchall()]

    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert any("USING INDEX persons_person_birth_date" in step for step in plan), plan
