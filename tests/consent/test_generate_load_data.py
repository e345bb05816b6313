"""The synthetic load data of the benchmarks (`generate_load_data`): what it makes for each
person, the organisations it creates or reuses, where it refuses to run, and what it
leaves alone."""

import datetime
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from stdnum.fr import siret

from relais.accounts.models import User
from relais.audit.models import AuditEvent
from relais.consent.management.commands import generate_load_data as load
from relais.consent.models import Consent, ConsentDuration, ConsentMethod
from relais.consent.services import consent_expiry
from relais.organisations.models import SECTOR_OF_KIND, Membership, Organisation, Profession, Role
from relais.persons.categories import DataCategory
from relais.persons.models import (
    HouseholdMember,
    MonthlyResource,
    Note,
    NoteVisibility,
    Person,
    PersonStatus,
    Referent,
    Relation,
    ResourceKind,
)
from relais.persons.normalisation import name_key, search_tokens
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import PersonFactory

pytestmark = pytest.mark.django_db

REFUSED = "Les données de charge sont réservées au développement et aux bancs."
NOT_POSITIVE = "--persons doit être un nombre positif."
PERSONS = 30


@pytest.fixture(autouse=True)
def _load_data_allowed(settings):
    """As under bench/settings.py: no debug, load data explicitly allowed."""
    settings.DEBUG = False
    settings.RELAIS_ALLOW_LOAD_DATA = True


def _generate(persons: int = PERSONS, **options: object) -> str:
    out = StringIO()
    call_command("generate_load_data", persons=persons, stdout=out, **options)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Organisation,
            User,
            Membership,
            Person,
            HouseholdMember,
            MonthlyResource,
            Note,
            Referent,
            Consent,
            AuditEvent,
        )
    }


def _professional_of(organisation_id: int) -> int:
    return Membership.objects.get(organisation_id=organisation_id).user_id


def _months_back(day: datetime.date, count: int) -> set[datetime.date]:
    """The first day of the month of `day` and of the `count - 1` months before it."""
    months = set()
    year, month = day.year, day.month
    for _ in range(count):
        months.add(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def _content(person: Person) -> tuple[object, ...]:
    """What the generator drew for a person, without the ids it numbered them with."""
    return (
        person.first_names,
        person.birth_name,
        person.birth_date,
        person.caf_number,
        person.created_by_organisation_id,
        sorted((m.first_names, m.birth_date) for m in person.household.all()),
        sorted((r.month, r.kind, r.amount) for r in person.resources.all()),
    )


def _generated_contents() -> list[tuple[object, ...]]:
    persons = Person.objects.order_by("pk").prefetch_related("household", "resources")
    return [_content(person) for person in persons]


def test_it_makes_the_number_of_persons_asked_and_says_so_in_french():
    output = _generate()

    assert Person.objects.count() == PERSONS
    assert not Person.objects.exclude(status=PersonStatus.ACTIVE).exists()
    assert f"\r{PERSONS} personnes…" in output
    assert re.search(rf"\n{PERSONS} personnes générées en \d+ s\.\n$", output)


def test_it_gives_each_person_up_to_two_dependent_children():
    _generate()

    persons = Person.objects.prefetch_related("household")
    sizes = {person.pk: len(person.household.all()) for person in persons}
    # Between none and two children a person, as `randrange(0, 3)` draws.
    assert set(sizes.values()) <= set(range(3))
    assert sum(sizes.values()) == HouseholdMember.objects.count()
    earliest = datetime.date(2008, 1, 1)
    for member in HouseholdMember.objects.all():
        assert member.relation == Relation.CHILD
        assert member.is_dependent
        assert member.first_names in load.FIRST_NAMES
        assert member.last_name == ""
        assert earliest <= member.birth_date < earliest + datetime.timedelta(days=6000)


def test_it_gives_each_person_a_resource_for_each_of_the_last_three_months():
    _generate()

    expected = _months_back(timezone.localdate(), 3)
    kinds = {ResourceKind.SALARY, ResourceKind.RSA, ResourceKind.ARE}
    for person in Person.objects.prefetch_related("resources"):
        resources = list(person.resources.all())
        assert {resource.month for resource in resources} == expected
        assert len(resources) == len(expected)
        for resource in resources:
            assert resource.member_id is None
            assert resource.kind in kinds
            assert 400 <= resource.amount < 1800
            assert resource.amount == int(resource.amount)


def test_it_gives_each_person_a_note_and_a_referent_from_the_organisation_that_follows_them():
    _generate()

    today = timezone.localdate()
    for person in Person.objects.prefetch_related("notes", "referents"):
        professional_id = _professional_of(person.created_by_organisation_id)
        (note,) = person.notes.all()
        assert note.author_id == professional_id
        assert note.organisation_id == person.created_by_organisation_id
        assert note.visibility == NoteVisibility.ORGANISATION
        assert note.text == "Rendez-vous de suivi : point sur les démarches en cours."
        assert not note.sensitive_confirmed
        (referent,) = person.referents.all()
        assert referent.organisation_id == person.created_by_organisation_id
        assert referent.professional_id == professional_id
        assert (referent.since, referent.until) == (today, None)
    assert Referent.objects.current().count() == PERSONS


def test_it_gives_each_person_a_live_consent_of_one_year_to_their_organisation():
    _generate()

    categories = [
        DataCategory.IDENTITY,
        DataCategory.FAMILY,
        DataCategory.RESOURCES,
        DataCategory.HOUSING,
        DataCategory.NOTES,
    ]
    for person in Person.objects.prefetch_related("consents"):
        (consent,) = person.consents.all()
        assert consent.organisation_id == person.created_by_organisation_id
        assert consent.professional_id is None
        assert consent.recorded_by_id == _professional_of(person.created_by_organisation_id)
        assert consent.categories == categories
        assert (consent.duration, consent.method) == (ConsentDuration.YEAR, ConsentMethod.SIGNED)
        assert consent.is_live()
        assert consent.revoked_by_label == ""
        assert consent.expires_at == consent_expiry(consent.starts_at, consent.duration)


def test_its_consents_of_one_year_last_twelve_months_across_a_twenty_ninth_of_february(
    monkeypatch,
):
    """As `consent_grant` records them: a year from 15 March 2027 ends on 15 March 2028,
    not 365 days later, on the 14th."""
    moment = datetime.datetime(2027, 3, 15, 9, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)

    _generate()

    expected = datetime.datetime(2028, 3, 15, 9, 30, tzinfo=datetime.UTC)
    assert set(Consent.objects.values_list("starts_at", "expires_at")) == {(moment, expected)}


def test_it_creates_organisations_of_the_size_it_sets_each_with_a_manager(monkeypatch):
    monkeypatch.setattr(load, "PERSONS_PER_ORGANISATION", 20)
    monkeypatch.setattr(load, "CHUNK", 25)
    persons = 2 * 20 + 1

    _generate(persons)

    organisations = list(Organisation.objects.order_by("pk"))
    assert len(organisations) == -(-persons // load.PERSONS_PER_ORGANISATION)
    for index, organisation in enumerate(organisations):
        kind = load.ORGANISATION_KINDS[index % len(load.ORGANISATION_KINDS)]
        assert organisation.name == f"Structure de charge {index + 1}"
        assert siret.is_valid(organisation.siret)
        assert (organisation.kind, organisation.sector) == (kind, SECTOR_OF_KIND[kind])
        (membership,) = Membership.objects.active().filter(organisation=organisation)
        assert (membership.role, membership.profession) == (Role.MANAGER, Profession.ASS)
        assert membership.user.email == f"charge{organisation.pk}@relais.test"
        assert not membership.user.has_usable_password()
    assert len({organisation.siret for organisation in organisations}) == len(organisations)
    assert User.objects.count() == len(organisations)


def test_it_deals_the_persons_in_turn_to_the_organisations_across_its_chunks(monkeypatch):
    monkeypatch.setattr(load, "PERSONS_PER_ORGANISATION", 20)
    monkeypatch.setattr(load, "CHUNK", 25)
    persons = 3 * 20

    _generate(persons)

    organisations = list(Organisation.objects.order_by("pk").values_list("pk", flat=True))
    generated = list(Person.objects.order_by("pk").values_list("pk", "created_by_organisation"))
    first = generated[0][0]
    assert generated == [
        (first + index, organisations[index % len(organisations)]) for index in range(persons)
    ]
    assert list(Person.objects.order_by("pk").values_list("caf_number", flat=True)) == [
        f"{index:07d}" for index in range(persons)
    ]


def test_it_reuses_the_organisations_already_there_with_their_professional():
    membership = MembershipFactory(manager=True)

    _generate()

    assert Organisation.objects.get() == membership.organisation
    assert User.objects.get() == membership.user
    assert Membership.objects.get() == membership
    assert set(Person.objects.values_list("created_by_organisation", flat=True)) == {
        membership.organisation_id
    }
    assert set(Note.objects.values_list("author", flat=True)) == {membership.user_id}
    assert set(Referent.objects.values_list("professional", flat=True)) == {membership.user_id}


def test_it_gives_an_organisation_already_there_without_members_a_manager_of_its_own():
    organisation = OrganisationFactory()

    _generate()

    (membership,) = Membership.objects.filter(organisation=organisation)
    assert membership.user.email == f"charge{organisation.pk}@relais.test"
    assert membership.role == Role.MANAGER
    assert Organisation.objects.get() == organisation


def test_it_adds_persons_to_those_already_there_when_run_again():
    _generate()
    first = _counts()

    _generate()

    second = _counts()
    for model in ("Organisation", "User", "Membership", "AuditEvent"):
        assert second[model] == first[model], model
    assert second["Person"] == 2 * PERSONS
    # The same default seed draws the same households and resources again.
    for model in ("HouseholdMember", "MonthlyResource", "Note", "Referent", "Consent"):
        assert second[model] == 2 * first[model], model


def test_it_draws_the_same_persons_from_the_same_seed_and_others_from_another():
    _generate(seed=7)
    _generate(seed=7)
    _generate(seed=8)

    contents = _generated_contents()
    assert contents[:PERSONS] == contents[PERSONS : 2 * PERSONS]
    names = [content[:3] for content in contents]
    assert names[:PERSONS] != names[2 * PERSONS :]


def _sqlite_synchronous() -> int | None:
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        return cursor.fetchone()[0]


def test_it_runs_outside_a_transaction_as_the_bench_calls_it_and_leaves_the_connection_as_found(
    transactional_db,
):
    """Outside a transaction it lowers SQLite's safety level while it writes (inside one,
    as in every other test here, SQLite would refuse the change): it puts it back after."""
    before = _sqlite_synchronous()
    assert before != 0

    _generate()

    assert Person.objects.count() == Consent.objects.count() == PERSONS
    assert _sqlite_synchronous() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's visibility map")
def test_outside_a_transaction_it_leaves_postgresql_able_to_answer_from_the_indexes(
    transactional_db,
):
    """Vacuumed as a live database is by autovacuum: the consents' pages are marked all
    visible, so a portfolio is read from its covering index alone."""
    _generate()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relallvisible, relpages FROM pg_class WHERE relname = %s",
            [Consent._meta.db_table],
        )
        all_visible, pages = cursor.fetchone()
    assert pages > 0
    assert all_visible == pages


def test_it_leaves_the_next_ids_free_for_the_persons_and_members_made_afterwards():
    """It numbers persons and household members itself: the ids given afterwards by the
    database (a PostgreSQL sequence, moved on by the command) come after them."""
    _generate()
    last_person = Person.objects.order_by("-pk").first()
    last_member = HouseholdMember.objects.order_by("-pk").first()

    person = PersonFactory()
    member = HouseholdMember.objects.create(
        person=person, relation=Relation.CHILD, first_names="Léo", birth_date="2015-06-01"
    )

    assert person.pk > last_person.pk
    assert member.pk > last_member.pk


@pytest.mark.parametrize("count", [0, -5])
def test_it_refuses_a_count_below_one_and_writes_nothing(count):
    with pytest.raises(CommandError) as refused:
        _generate(count)

    assert str(refused.value) == NOT_POSITIVE
    assert _counts() == dict.fromkeys(_counts(), 0)


@pytest.mark.parametrize("allowed", [False, None])
def test_it_is_refused_without_debug_nor_load_data_allowed(settings, allowed):
    if allowed is None:
        del settings.RELAIS_ALLOW_LOAD_DATA
    else:
        settings.RELAIS_ALLOW_LOAD_DATA = allowed

    with pytest.raises(CommandError) as refused:
        _generate()

    assert str(refused.value) == REFUSED
    assert _counts() == dict.fromkeys(_counts(), 0)


def test_it_runs_in_debug_without_load_data_allowed(settings):
    del settings.RELAIS_ALLOW_LOAD_DATA
    settings.DEBUG = True

    _generate()

    assert Person.objects.count() == PERSONS


def test_it_runs_without_debug_where_load_data_is_allowed(settings):
    assert not settings.DEBUG
    assert settings.RELAIS_ALLOW_LOAD_DATA

    _generate()

    assert Person.objects.count() == PERSONS


def test_it_makes_fictitious_persons_without_nir_nor_contact_details():
    _generate()

    earliest = datetime.date(1940, 1, 1)
    for person in Person.objects.all():
        assert person.first_names in load.FIRST_NAMES
        assert person.birth_name in load.LAST_NAMES
        assert earliest <= person.birth_date < earliest + datetime.timedelta(days=365 * 65)
        assert not person.has_nir
        assert person.nir_encrypted is None
        for field in (
            "usage_name",
            "sex",
            "birth_place",
            "nationality",
            "phone",
            "email",
            "address_line",
            "postal_code",
            "domiciliation",
            "france_travail_id",
        ):
            assert getattr(person, field) == "", field
        assert (person.commune_code, person.commune_name) == ("59350", "Lille")
        assert re.fullmatch(r"\d{7}", person.caf_number)
    emails = User.objects.values_list("email", flat=True)
    assert all(email.endswith("@relais.test") for email in emails)


def test_it_fills_the_name_keys_the_search_reads():
    _generate()

    for person in Person.objects.all():
        assert person.birth_name_key == name_key(person.birth_name)
        assert person.first_names_key == name_key(person.first_names)
        assert person.usage_name_key == ""
        query = f"{person.first_names} {person.birth_name_key.split(' ')[0]}"
        assert person in Person.objects.matching_tokens(search_tokens(query))


def test_its_persons_are_found_by_their_professional_through_the_search_page():
    _generate()
    person = Person.objects.order_by("pk").first()
    membership = Membership.objects.get(organisation_id=person.created_by_organisation_id)
    client = log_in(Client(), membership.user, membership)
    query = f"{person.birth_name_key.split(' ')[0]} {person.first_names}"

    response = client.post(reverse("persons:list"), {"q": query}, follow=True)

    assert response.status_code == 200
    assert reverse("persons:file", args=[person.pk]) in response.content.decode()


def test_it_writes_no_journal_row_for_the_data_it_makes():
    _generate()

    assert Person.objects.count() == PERSONS
    assert not AuditEvent.objects.exists()
