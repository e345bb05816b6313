"""`relais.prepared.fetch` builds the objects the ORM builds, on SQLite and PostgreSQL alike.

The two backends hand back different raw values (SQLite: text datetimes, 0/1 booleans,
floating decimals, JSON as text), so every comparison is made against the ORM's own object
for the same row, value and type, field by field; a few values are also checked against
what the test stored, so that a shared mistake of both paths would not go unnoticed.
"""

import datetime
import gc
import weakref
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import Model
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relais import crypto, prepared
from relais.accounts.backends import AccountBackend
from relais.accounts.models import User
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent, RecentRead
from relais.audit.services import audit_record
from relais.audit.verification import verify_chain
from relais.consent.access import Professional, file_access
from relais.consent.models import Block, Consent, ConsentDuration, ConsentMethod
from relais.organisations.models import Membership, Organisation, OrganisationKind
from relais.persons.categories import DataCategory
from relais.persons.models import (
    Housing,
    HousingStatus,
    MonthlyResource,
    Nationality,
    Person,
    PersonStatus,
    Referent,
    ResourceKind,
    Sex,
)
from relais.prepared import columns, fetch, records
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.persons.factories import (
    BlockFactory,
    ConsentFactory,
    MonthlyResourceFactory,
    PersonFactory,
    ReferentFactory,
)

pytestmark = pytest.mark.django_db

M = TypeVar("M", bound=Model)

PARIS = ZoneInfo("Europe/Paris")
# Microseconds and a summer-time offset: a converter that drops either shows.
CREATED_AT = datetime.datetime(2024, 7, 14, 9, 30, 15, 123456, tzinfo=PARIS)
LAST_CONTACT_AT = datetime.datetime(2025, 1, 31, 23, 59, 59, 999999, tzinfo=PARIS)


def _make(model: type[M], factory: Any, **fields: Any) -> M:
    """A factory's object, typed: factory_boy's factories carry no type information."""
    made = factory(**fields)
    assert isinstance(made, model)
    return made


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _select_by_pk(model: type[Model], only: tuple[str, ...] = ()) -> str:
    return (
        f"SELECT {columns(model, 't', only)} FROM {_table(model)} t"  # noqa: S608 (identifiers only)
        f" WHERE t.{connection.ops.quote_name(model._meta.pk.column)} = %s"
    )


def _assert_same_value(got: Any, expected: Any, name: str) -> None:
    assert type(got) is type(expected), f"{name}: {type(got)!r} != {type(expected)!r}"
    if isinstance(expected, memoryview):
        assert bytes(got) == bytes(expected), name
        return
    assert got == expected, name
    # repr also tells apart what == does not: time zones, a decimal's exponent.
    assert repr(got) == repr(expected), name


def _assert_same_object(got: Model, expected: Model) -> None:
    assert type(got) is type(expected)
    for field in type(expected)._meta.concrete_fields:
        _assert_same_value(
            getattr(got, field.attname), getattr(expected, field.attname), field.name
        )
    assert got._state.adding is False
    assert got._state.db == DEFAULT_DB_ALIAS
    assert got.get_deferred_fields() == set()


@pytest.fixture
def actor(organisation: Organisation) -> Actor:
    return Actor(
        user_id=7,
        label="Hélène Dupré-Lefèvre",
        organisation_id=organisation.pk,
        organisation_label="CCAS de Saint-Étienne-du-Rouvray",
        ip_address="192.0.2.10",
    )


@pytest.fixture
def full_person(organisation: Organisation) -> Person:
    """A person with every column filled, the nullable ones included."""
    survivor = _make(Person, PersonFactory)
    person = _make(
        Person,
        PersonFactory,
        first_names="Zoé Anaïs",
        birth_name="Bénard",
        usage_name="Lefèvre-Dupré",
        sex=Sex.FEMALE,
        birth_date=datetime.date(1984, 2, 29),
        birth_place="Saint-Étienne",
        nationality=Nationality.EU,
        phone="0612345678",
        email="zoe.benard@exemple.test",
        address_line="12 rue de l'Église",
        postal_code="62100",
        commune_code="62193",
        commune_name="Calais",
        domiciliation="CCAS de Calais",
        caf_number="1234567",
        france_travail_id="1234567A",
        refuses_break_glass=True,
        status=PersonStatus.ARCHIVED,
        created_at=CREATED_AT,
        created_by_organisation=organisation,
        last_contact_at=LAST_CONTACT_AT,
        merged_into=survivor,
    )
    person.nir_encrypted = crypto.encrypt(
        b"284026219312345", associated_data=f"person-nir:{person.pk}".encode()
    )
    person.nir_digest = crypto.lookup_digest("284026219312345", purpose="nir")
    person.save(update_fields=["nir_encrypted", "nir_digest"])
    return person


# Objects built from a row.


def test_a_person_with_every_field_is_built_as_the_orm_builds_it(full_person: Person) -> None:
    [got] = fetch(Person, _select_by_pk(Person), [full_person.pk])

    _assert_same_object(got, Person.objects.get(pk=full_person.pk))
    assert got.birth_date == datetime.date(1984, 2, 29)
    assert type(got.birth_date) is datetime.date
    assert got.created_at == CREATED_AT
    assert got.last_contact_at == LAST_CONTACT_AT
    assert timezone.is_aware(got.created_at)
    assert got.refuses_break_glass is True
    assert got.status == PersonStatus.ARCHIVED
    assert got.nir_encrypted is not None
    assert full_person.nir_encrypted is not None
    assert bytes(got.nir_encrypted) == bytes(full_person.nir_encrypted)
    assert got.merged_into_id == full_person.merged_into_id
    assert got.created_by_organisation_id == full_person.created_by_organisation_id


def test_a_person_with_empty_and_null_fields_is_built_as_the_orm_builds_it() -> None:
    person = _make(Person, PersonFactory)

    [got] = fetch(Person, _select_by_pk(Person), [person.pk])

    _assert_same_object(got, Person.objects.get(pk=person.pk))
    assert got.refuses_break_glass is False
    assert got.nir_encrypted is None
    assert got.merged_into_id is None
    assert got.sex == ""


def test_several_rows_come_back_in_the_statement_s_order(full_person: Person) -> None:
    other = _make(Person, PersonFactory)
    sql = (
        f"SELECT {columns(Person, 'p')} FROM {_table(Person)} p"  # noqa: S608 (identifiers only)
        " WHERE p.id IN (%s, %s) ORDER BY p.id DESC"
    )

    got = fetch(Person, sql, [full_person.pk, other.pk])

    expected = list(Person.objects.filter(pk__in=[full_person.pk, other.pk]).order_by("-id"))
    assert [p.pk for p in got] == [p.pk for p in expected]
    for built, orm in zip(got, expected, strict=True):
        _assert_same_object(built, orm)


def test_a_consent_with_datetimes_and_json_categories_is_built_as_the_orm_builds_it() -> None:
    categories = [DataCategory.IDENTITY.value, DataCategory.HOUSING.value]
    consent = _make(
        Consent,
        ConsentFactory,
        professional=_make(User, UserFactory),
        recorded_by=_make(User, UserFactory),
        categories=categories,
        duration=ConsentDuration.MONTH,
        method=ConsentMethod.CODE,
        starts_at=CREATED_AT,
        expires_at=CREATED_AT + datetime.timedelta(days=30),
        revoked_at=LAST_CONTACT_AT,
        revoked_by_label="La personne",
    )

    [got] = fetch(Consent, _select_by_pk(Consent), [consent.pk])

    _assert_same_object(got, Consent.objects.get(pk=consent.pk))
    assert got.categories == categories
    assert got.starts_at == CREATED_AT
    assert got.revoked_at == LAST_CONTACT_AT
    assert got.professional_id == consent.professional_id
    assert got.recorded_by_id == consent.recorded_by_id


def test_a_consent_with_null_foreign_keys_is_built_as_the_orm_builds_it() -> None:
    consent = _make(Consent, ConsentFactory)

    [got] = fetch(Consent, _select_by_pk(Consent), [consent.pk])

    _assert_same_object(got, Consent.objects.get(pk=consent.pk))
    assert got.professional_id is None
    assert got.revoked_at is None


def test_decimals_keep_their_value_and_places(full_person: Person) -> None:
    resource = _make(
        MonthlyResource,
        MonthlyResourceFactory,
        person=full_person,
        kind=ResourceKind.AAH,
        amount=Decimal("1016.05"),
    )
    housing = Housing.objects.create(
        person=full_person,
        status=HousingStatus.SOCIAL_TENANT,
        monthly_rent=Decimal("412.50"),
        monthly_charges=None,
        commune_code="62193",
        since=datetime.date(2020, 9, 1),
    )

    [got_resource] = fetch(MonthlyResource, _select_by_pk(MonthlyResource), [resource.pk])
    [got_housing] = fetch(Housing, _select_by_pk(Housing), [housing.pk])

    _assert_same_object(got_resource, MonthlyResource.objects.get(pk=resource.pk))
    _assert_same_object(got_housing, Housing.objects.get(pk=housing.pk))
    assert got_resource.amount == Decimal("1016.05")
    assert str(got_housing.monthly_rent) == "412.50"
    assert got_housing.monthly_charges is None


def test_a_user_is_built_as_the_orm_builds_it() -> None:
    user = _make(
        User,
        UserFactory,
        pilot=True,
        is_active=False,
        date_joined=CREATED_AT,
        last_login=LAST_CONTACT_AT,
        security_stamp=3,
    )

    [got] = fetch(User, _select_by_pk(User), [user.pk])

    _assert_same_object(got, User.objects.get(pk=user.pk))
    assert got.is_staff is True
    assert got.is_superuser is True
    assert got.is_active is False
    assert got.last_login == LAST_CONTACT_AT
    assert got.check_password("Relais-tests-mot-de-passe-solide")


def test_a_whole_journal_row_is_built_as_the_orm_builds_it(
    actor: Actor, full_person: Person
) -> None:
    event = audit_record(
        action=AuditAction.SECTION_VIEWED,
        by=actor,
        person_id=full_person.pk,
        person_label=full_person.journal_label,
        category=DataCategory.HOUSING,
        object_type="person",
        object_id=full_person.pk,
        reason="Préparer le dossier FSL",
        details={"essai": 1, "vérifié": True, "rien": None, "texte": "« déjà »"},
    )

    [got] = fetch(AuditEvent, _select_by_pk(AuditEvent), [event.seq])

    _assert_same_object(got, AuditEvent.objects.get(pk=event.seq))
    assert got.details == {"essai": 1, "vérifié": True, "rien": None, "texte": "« déjà »"}
    assert got.hash == event.hash


def test_only_some_fields_leaves_the_others_deferred(actor: Actor, full_person: Person) -> None:
    event = audit_record(
        action=AuditAction.SECTION_VIEWED,
        by=actor,
        person_id=full_person.pk,
        reason="Instruire la demande d'AAH",
        details={"section": "logement"},
    )
    only = ("seq", "created_at", "organisation_label", "reason")

    [got] = fetch(AuditEvent, _select_by_pk(AuditEvent, only), [event.seq], only=only)

    expected = AuditEvent.objects.only(*only).get(pk=event.seq)
    assert got.get_deferred_fields() == expected.get_deferred_fields()
    assert got.get_deferred_fields() == {
        f.attname for f in AuditEvent._meta.concrete_fields if f.attname not in only
    }
    for name in only:
        _assert_same_value(getattr(got, name), getattr(expected, name), name)
    assert got._state.adding is False
    assert got._state.db == DEFAULT_DB_ALIAS
    # A deferred field is read from the database on first use, as for the ORM's object.
    assert got.details == {"section": "logement"}
    assert got.action == AuditAction.SECTION_VIEWED


def test_only_given_out_of_the_model_s_order_reads_each_value_into_its_field(
    actor: Actor, full_person: Person
) -> None:
    event = audit_record(
        action=AuditAction.SECTION_VIEWED,
        by=actor,
        person_id=full_person.pk,
        person_label="Personne suivie",
        reason="Ouvrir les droits",
    )
    only = ("reason", "person_label", "seq")

    [got] = fetch(AuditEvent, _select_by_pk(AuditEvent, only), [event.seq], only=only)

    assert (got.seq, got.person_label, got.reason) == (
        event.seq,
        "Personne suivie",
        "Ouvrir les droits",
    )
    assert got.get_deferred_fields() == {
        f.attname for f in AuditEvent._meta.concrete_fields if f.attname not in only
    }


def test_no_row_gives_an_empty_list() -> None:
    assert fetch(Person, _select_by_pk(Person), [0]) == []


# Extra columns.


def test_extra_columns_are_set_under_their_names_with_their_raw_values(full_person: Person) -> None:
    sql = (
        f"SELECT {columns(Person, 'p')}, p.birth_name, 40 + 2, NULL"  # noqa: S608 (identifiers only)
        f" FROM {_table(Person)} p WHERE p.id = %s"
    )

    [got] = fetch(Person, sql, [full_person.pk], extra=["name_again", "answer", "nothing"])

    assert got.name_again == "Bénard"  # type: ignore[attr-defined]
    assert got.answer == 42  # type: ignore[attr-defined]
    assert got.nothing is None  # type: ignore[attr-defined]
    # The model's own fields are untouched by the extra columns.
    _assert_same_object(got, Person.objects.get(pk=full_person.pk))


@pytest.mark.parametrize(
    ("extra_sql", "extra"),
    [
        (", p.birth_name, p.usage_name", ["name_only"]),
        (", p.birth_name", ["birth", "usage"]),
        (", p.birth_name", []),
    ],
    ids=["more-columns-than-names", "more-names-than-columns", "unnamed-column"],
)
def test_extra_names_and_extra_columns_must_match(
    full_person: Person, extra_sql: str, extra: list[str]
) -> None:
    sql = (
        f"SELECT {columns(Person, 'p')}{extra_sql}"  # noqa: S608 (identifiers only)
        f" FROM {_table(Person)} p WHERE p.id = %s"
    )

    with pytest.raises(ValueError, match="zip"):
        fetch(Person, sql, [full_person.pk], extra=extra)


# The plan cache.


@pytest.fixture
def fresh_plans() -> dict[Any, Any]:
    """The default connection's plans, emptied for the test."""
    db = connections[DEFAULT_DB_ALIAS]
    db.__dict__.pop(prepared._PLANS, None)
    plans: dict[Any, Any] = db.__dict__.setdefault(prepared._PLANS, {})
    return plans


def test_the_plan_is_worked_out_once_per_connection_model_and_fields(
    fresh_plans: dict[Any, Any],
) -> None:
    db = connections[DEFAULT_DB_ALIAS]
    plan = prepared._plan(db, Person, ())

    assert prepared._plan(db, Person, ()) is plan
    assert plan.attnames == tuple(f.attname for f in Person._meta.concrete_fields)
    only = prepared._plan(db, Person, ("id", "birth_date"))
    assert only is not plan
    assert only.attnames == ("id", "birth_date")
    assert prepared._plan(db, Consent, ()) is not plan
    assert set(fresh_plans) == {(Person, ()), (Person, ("id", "birth_date")), (Consent, ())}


def test_a_second_fetch_reuses_the_plan_without_looking_up_converters(
    fresh_plans: dict[Any, Any], full_person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    original = connection.ops.get_db_converters

    def spy(expression: Any) -> list[Any]:
        looked_up.append(expression.target.attname)
        return original(expression)

    monkeypatch.setattr(connection.ops, "get_db_converters", spy)

    first = fetch(Person, _select_by_pk(Person), [full_person.pk])
    assert sorted(looked_up) == sorted(f.attname for f in Person._meta.concrete_fields)
    plan = fresh_plans[(Person, ())]

    looked_up.clear()
    second = fetch(Person, _select_by_pk(Person), [full_person.pk])

    assert looked_up == []
    assert fresh_plans[(Person, ())] is plan
    _assert_same_object(second[0], first[0])


def test_each_connection_has_its_own_plans_which_go_with_it(fresh_plans: dict[Any, Any]) -> None:
    db = connections[DEFAULT_DB_ALIAS]
    other = connections.create_connection(DEFAULT_DB_ALIAS)

    theirs = prepared._plan(other, Person, ())

    assert theirs is not prepared._plan(db, Person, ())
    assert theirs.attnames == prepared._plan(db, Person, ()).attnames
    gone = weakref.ref(other)
    del other, theirs
    gc.collect()
    assert gone() is None


# The statement's path: the driver's cursor, unless something listens to the queries.


def test_the_driver_s_cursor_and_django_s_give_the_same_objects(full_person: Person) -> None:
    from django.test.utils import CaptureQueriesContext

    direct = fetch(Person, _select_by_pk(Person), [full_person.pk])
    with CaptureQueriesContext(connection):
        through_django = fetch(Person, _select_by_pk(Person), [full_person.pk])

    _assert_same_object(direct[0], through_django[0])


def test_a_statement_is_counted_whenever_the_queries_are_counted(
    full_person: Person, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1) as captured:
        fetch(Person, _select_by_pk(Person), [full_person.pk])

    assert [str(full_person.pk)] == [
        q["sql"].rsplit("= ", 1)[1].strip() for q in captured.captured_queries
    ]


def test_an_execute_wrapper_sees_the_statement(full_person: Person) -> None:
    seen: list[tuple[str, Any]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        found = fetch(Person, _select_by_pk(Person), [full_person.pk])

    assert seen == [(_select_by_pk(Person), [full_person.pk])]
    assert found[0].pk == full_person.pk


def test_the_driver_s_placeholders_are_worked_out_once_and_keep_literal_percents(
    full_person: Person,
) -> None:
    sql = (
        f"SELECT {columns(Person, 't')} FROM {_table(Person)} t"  # noqa: S608 (identifiers only)
        " WHERE t.birth_place LIKE 'Saint%%' AND t.id = %s"
    )

    assert [p.pk for p in fetch(Person, sql, [full_person.pk])] == [full_person.pk]
    if connection.vendor == "sqlite":
        native = connections[DEFAULT_DB_ALIAS].__dict__[prepared._NATIVE][sql]
        assert native.endswith("LIKE 'Saint%' AND t.id = ?")


def test_a_driver_error_becomes_django_s_and_changes_nothing() -> None:
    from django.db import DatabaseError, transaction

    before = Person.objects.count()
    absent = f"SELECT {columns(Person, 't')} FROM relais_absent_table t"  # noqa: S608 (identifiers only)
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        fetch(Person, absent, [])

    assert type(raised.value).__module__ == "django.db.utils"
    assert Person.objects.count() == before


def test_a_read_inside_a_transaction_marked_for_rollback_is_refused(full_person: Person) -> None:
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            fetch(Person, _select_by_pk(Person), [full_person.pk])


def test_only_names_columns_and_keeps_the_primary_key() -> None:
    with pytest.raises(ValueError, match="person"):
        columns(Consent, "c", ["person", "id"])
    with pytest.raises(ValueError, match="clé primaire"):
        columns(Consent, "c", ["person_id"])


# The statements that use it.


def test_current_referents_match_the_orm(full_person: Person) -> None:
    first = _make(Referent, ReferentFactory, person=full_person, since=datetime.date(2023, 5, 2))
    second = _make(
        Referent,
        ReferentFactory,
        person=full_person,
        professional=_make(User, UserFactory, first_name="Élodie", last_name="N'Diaye"),
        organisation=_make(
            Organisation, OrganisationFactory, name="Maison départementale des solidarités"
        ),
    )
    _make(Referent, ReferentFactory, person=full_person, until=datetime.date(2024, 1, 1))
    _make(Referent, ReferentFactory)

    got = Referent.objects.current_of(full_person.pk)

    expected = list(
        Referent.objects.filter(person=full_person, until__isnull=True)
        .select_related("professional", "organisation")
        .order_by("id")
    )
    assert [r.pk for r in got] == [first.pk, second.pk] == [r.pk for r in expected]
    for built, orm in zip(got, expected, strict=True):
        _assert_same_object(built, orm)
        assert built.professional.get_full_name() == orm.professional.get_full_name()
        assert built.professional.pk == orm.professional_id
        assert built.organisation.name == orm.organisation.name
        assert built.organisation.pk == orm.organisation_id
    assert got[1].professional.get_full_name() == "Élodie N'Diaye"
    assert got[1].organisation.name == "Maison départementale des solidarités"


def test_recent_reads_are_the_newest_reads_of_the_file_as_the_orm_reads_them(
    actor: Actor, full_person: Person
) -> None:
    other_org = Actor(user_id=8, label="Léo Roux", organisation_id=99, organisation_label="CAF")
    for n in range(7):
        audit_record(
            action=AuditAction.SECTION_VIEWED,
            by=actor if n % 2 else other_org,
            person_id=full_person.pk,
            reason=f"Lecture n° {n}",
        )
    audit_record(action=AuditAction.SECTION_UPDATED, by=actor, person_id=full_person.pk)
    audit_record(action=AuditAction.SECTION_VIEWED, by=actor, person_id=full_person.pk + 1000)

    got = AuditEvent.objects.recent_reads(full_person)

    expected = list(
        AuditEvent.objects.filter(person_id=full_person.pk, action=AuditAction.SECTION_VIEWED)
        .order_by("-seq")
        .only("seq", "created_at", "organisation_label", "reason")[:5]
    )
    assert [e.seq for e in got] == [e.seq for e in expected]
    assert [e.reason for e in got] == [f"Lecture n° {n}" for n in (6, 5, 4, 3, 2)]
    for built, orm in zip(got, expected, strict=True):
        assert isinstance(built, RecentRead)
        for name in RecentRead._fields:
            _assert_same_value(getattr(built, name), getattr(orm, name), name)
        assert timezone.is_aware(built.created_at)
    assert [e.seq for e in AuditEvent.objects.recent_reads(full_person, limit=2)] == [
        e.seq for e in expected[:2]
    ]


def test_recent_reads_interleave_the_reads_of_files_merged_into_it_however_deep(
    actor: Actor, full_person: Person
) -> None:
    """Merged files' reads come in their order among the file's own, whatever the depth
    of the merges; a file merged elsewhere, or not merged, is not read."""
    absorbed = PersonFactory(merged_into=full_person)
    absorbed_twice = PersonFactory(merged_into=absorbed)
    elsewhere = PersonFactory(merged_into=PersonFactory())
    for n, person in enumerate([absorbed_twice, full_person, absorbed, elsewhere, full_person]):
        audit_record(
            action=AuditAction.SECTION_VIEWED, by=actor, person_id=person.pk, reason=f"n° {n}"
        )

    got = AuditEvent.objects.recent_reads(full_person)

    assert [read.reason for read in got] == ["n° 4", "n° 2", "n° 1", "n° 0"]
    assert [read.reason for read in AuditEvent.objects.recent_reads(full_person, limit=2)] == [
        "n° 4",
        "n° 2",
    ]
    assert [read.reason for read in AuditEvent.objects.recent_reads(absorbed)] == ["n° 2", "n° 0"]


class _ConsentDates(NamedTuple):
    id: int
    categories: list[str]
    starts_at: datetime.datetime
    revoked_at: datetime.datetime | None


def test_records_hold_the_values_the_orm_reads(organisation: Organisation) -> None:
    consent = _make(
        Consent,
        ConsentFactory,
        organisation=organisation,
        categories=["identite", "sante"],
        starts_at=CREATED_AT,
        revoked_at=LAST_CONTACT_AT,
    )
    only = _ConsentDates._fields

    [got] = records(Consent, _ConsentDates, _select_by_pk(Consent, only), [consent.pk], only=only)

    orm = Consent.objects.only(*only).get(pk=consent.pk)
    assert isinstance(got, _ConsentDates)
    for name in only:
        _assert_same_value(getattr(got, name), getattr(orm, name), name)
    assert got.categories == ["identite", "sante"]
    assert got.starts_at == CREATED_AT


def test_a_record_must_name_the_columns_in_the_model_s_order() -> None:
    class Backwards(NamedTuple):
        starts_at: datetime.datetime
        id: int

    with pytest.raises(ValueError, match="id, starts_at"):
        records(
            Consent,
            Backwards,
            _select_by_pk(Consent, ("id", "starts_at")),
            [1],
            only=("id", "starts_at"),
        )


def test_the_backend_reads_the_same_user_as_the_orm() -> None:
    user = _make(
        User, UserFactory, last_login=LAST_CONTACT_AT, date_joined=CREATED_AT, security_stamp=2
    )

    got = AccountBackend().get_user(user.pk)

    assert got is not None
    _assert_same_object(got, User.objects.get(pk=user.pk))
    assert got == user


def test_the_backend_refuses_an_inactive_a_missing_or_a_malformed_user() -> None:
    inactive = _make(User, UserFactory, is_active=False)
    backend = AccountBackend()

    assert backend.user_can_authenticate(User.objects.get(pk=inactive.pk)) is False
    assert backend.get_user(inactive.pk) is None
    assert backend.get_user(inactive.pk + 1000) is None
    assert backend.get_user("pas-un-numéro") is None
    assert backend.get_user(None) is None


def _professional(membership: Membership) -> Professional:
    return Professional.acting(membership.user, membership)


def test_file_access_reads_the_person_and_the_live_consents_as_the_orm_does() -> None:
    person = _make(Person, PersonFactory, sex=Sex.MALE, created_at=CREATED_AT)
    membership = _make(Membership, MembershipFactory)
    pro = _professional(membership)
    own = _make(Consent, ConsentFactory, person=person, organisation=membership.organisation)
    caf = _make(
        Organisation, OrganisationFactory, name="CAF du Pas-de-Calais", kind=OrganisationKind.CAF
    )
    theirs = _make(
        Consent,
        ConsentFactory,
        person=person,
        organisation=caf,
        categories=[DataCategory.RESOURCES.value],
        expires_at=timezone.now() + datetime.timedelta(days=3),
    )
    _make(Consent, ConsentFactory, person=person, organisation=caf, revoked=True)
    _make(Consent, ConsentFactory, person=person, organisation=caf, expired=True)

    access = file_access(pro, person.pk)

    _assert_same_object(access.person, Person.objects.get(pk=person.pk))
    expected = list(
        Consent.objects.live()
        .filter(person=person)
        .select_related("organisation")
        .order_by("expires_at", "id")
    )
    assert [c.pk for c in access.live_consents] == [theirs.pk, own.pk]
    assert [c.pk for c in access.live_consents] == [c.pk for c in expected]
    for built, orm in zip(access.live_consents, expected, strict=True):
        _assert_same_object(built, orm)
        assert built.organisation.name == orm.organisation.name
        assert built.organisation.kind == orm.organisation.kind


def test_file_access_refuses_a_file_that_blocks_the_organisation() -> None:
    person = _make(Person, PersonFactory)
    membership = _make(Membership, MembershipFactory)
    _make(Consent, ConsentFactory, person=person, organisation=membership.organisation)
    _make(Block, BlockFactory, person=person, organisation=membership.organisation)

    with pytest.raises(Http404):
        file_access(_professional(membership), person.pk)


# Write transactions.


def _transaction_open() -> bool:
    driver = connection.connection
    if connection.vendor == "sqlite":
        return bool(driver.in_transaction)
    return bool(driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)


def _rename(run: prepared.Run, user: User, first_name: str) -> None:
    run('UPDATE "accounts_user" SET "first_name" = %s WHERE "id" = %s', [first_name, user.pk])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("transactional_db")
def test_a_write_outside_any_transaction_is_committed_when_the_block_ends() -> None:
    user = UserFactory(first_name="Avant")

    with prepared.write_transaction(connections[DEFAULT_DB_ALIAS]) as run:
        _rename(run, user, "Après")
        [(read,)] = run('SELECT "first_name" FROM "accounts_user" WHERE "id" = %s', [user.pk])
        assert read == "Après"
        assert _transaction_open()

    assert not _transaction_open()
    assert not connection.in_atomic_block
    assert User.objects.get(pk=user.pk).first_name == "Après"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("transactional_db")
def test_a_block_that_raises_writes_nothing() -> None:
    user = UserFactory(first_name="Avant")

    with (
        pytest.raises(RuntimeError, match="arrêt"),
        prepared.write_transaction(connections[DEFAULT_DB_ALIAS]) as run,
    ):
        _rename(run, user, "Après")
        raise RuntimeError("arrêt")

    assert not _transaction_open()
    assert User.objects.get(pk=user.pk).first_name == "Avant"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("transactional_db")
def test_a_failing_statement_raises_django_s_error_and_undoes_the_block() -> None:
    user = UserFactory(first_name="Avant")

    with (
        pytest.raises(DatabaseError),
        prepared.write_transaction(connections[DEFAULT_DB_ALIAS]) as run,
    ):
        _rename(run, user, "Après")
        run('SELECT * FROM "pas_de_table"', [])

    assert not _transaction_open()
    assert User.objects.get(pk=user.pk).first_name == "Avant"
    # The connection goes on serving.
    assert audit_record(action=AuditAction.LOGIN, by=Actor(label="Test")).seq == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("transactional_db")
def test_inside_an_atomic_block_the_writes_join_it() -> None:
    user = UserFactory(first_name="Avant")

    with pytest.raises(RuntimeError, match="arrêt"), transaction.atomic():
        with prepared.write_transaction(connections[DEFAULT_DB_ALIAS]) as run:
            _rename(run, user, "Après")
        assert connection.in_atomic_block
        raise RuntimeError("arrêt")

    assert User.objects.get(pk=user.pk).first_name == "Avant"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("transactional_db")
def test_every_write_is_seen_when_the_queries_are_counted() -> None:
    user = UserFactory(first_name="Avant")

    with (
        CaptureQueriesContext(connection) as captured,
        prepared.write_transaction(connections[DEFAULT_DB_ALIAS]) as run,
    ):
        _rename(run, user, "Après")

    updates = [q["sql"] for q in captured if q["sql"].startswith('UPDATE "accounts_user"')]
    assert len(updates) == 1
    assert "Après" in updates[0]
    assert User.objects.get(pk=user.pk).first_name == "Après"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("transactional_db")
def test_appends_outside_any_transaction_keep_one_unbroken_chain() -> None:
    actor = Actor(label="Test")

    written = [audit_record(action=AuditAction.LOGIN, by=actor) for _ in range(3)]

    assert not _transaction_open()
    assert [event.seq for event in written] == [1, 2, 3]
    assert [event.prev_hash for event in written[1:]] == [event.hash for event in written[:2]]
    stored = AuditEvent.objects.get(pk=3)
    _assert_same_object(written[2], stored)
    result = verify_chain()
    assert result.intact, result.problem
    assert result.rows_checked == 3
