import datetime
import random
from unittest.mock import patch

import pytest
from django.http import Http404
from django.utils import timezone

from relais.consent.access import Professional, file_access
from relais.consent.charter import levels_for
from relais.organisations.models import Profession
from relais.persons.categories import DataCategory, Level
from relais.persons.models import Housing, HousingStatus, Nationality
from relais.procedures.checklist import (
    FRENCH,
    NO_STABLE_ADDRESS,
    NOT_FRENCH,
    housing_status,
    situation_of,
)
from relais.procedures.measures import add_months, completeness
from relais.procedures.models import (
    Procedure,
    ProcedureStatus,
    RequiredDocument,
    missing_documents_filter,
)
from tests.factories import MembershipFactory, UserFactory
from tests.persons.factories import (
    ALL_CATEGORIES,
    BlockFactory,
    BreakGlassGrantFactory,
    ConsentFactory,
    PersonFactory,
)
from tests.procedures.factories import (
    DocumentFactory,
    ProcedureFactory,
    RequiredDocumentFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)
EVERY_CATEGORY_BUT_PROCEDURES = [c for c in DataCategory.values if c != DataCategory.PROCEDURES]


def _visible(pro):
    return set(Procedure.objects.visible_to_professional(pro))


def test_it_shows_the_procedures_of_consenting_persons(pro, person):
    mine = ProcedureFactory(person=person, organisation_id=pro.organisation_id)
    # Tracked by another organisation, but in the same person's file.
    elsewhere = ProcedureFactory(person=person)
    ProcedureFactory()

    assert _visible(pro) == {mine, elsewhere}


@pytest.mark.parametrize(
    "consent",
    [
        {"categories": EVERY_CATEGORY_BUT_PROCEDURES},
        {"expired": True},
        {"revoked": True},
        {"professional": "another"},
    ],
)
def test_it_hides_persons_without_a_live_consent_covering_procedures(pro, organisation, consent):
    if consent.get("professional"):
        consent["professional"] = UserFactory()
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation, **consent)
    ProcedureFactory(person=person)

    assert _visible(pro) == set()


def test_a_consent_to_the_professional_alone_is_enough(pro, organisation):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation, professional_id=pro.user_id)
    procedure = ProcedureFactory(person=person)

    assert _visible(pro) == {procedure}


def test_it_hides_persons_who_blocked_the_organisation(pro, person, organisation):
    ProcedureFactory(person=person)
    BlockFactory(person=person, organisation=organisation)

    assert _visible(pro) == set()


def test_it_hides_everything_when_the_charter_closes_procedures(organisation, person):
    reception = MembershipFactory(organisation=organisation, profession=Profession.RECEPTION_AGENT)
    pro = Professional(
        user_id=reception.user_id,
        label="Accueil",
        organisation_id=organisation.pk,
        organisation_label=organisation.name,
        organisation_kind=organisation.kind,
        profession=reception.profession,
        profession_label="Agent d'accueil",
    )
    ProcedureFactory(person=person)

    assert _visible(pro) == set()


def test_a_break_glass_grant_opens_the_procedures_for_reading(pro):
    person = PersonFactory()
    procedure = ProcedureFactory(person=person)
    BreakGlassGrantFactory(
        person=person, professional_id=pro.user_id, organisation_id=pro.organisation_id
    )

    assert _visible(pro) == {procedure}


@pytest.mark.parametrize("case", ["expired", "refused by the person", "other organisation"])
def test_a_break_glass_grant_opens_nothing_when_it_does_not_apply(pro, case):
    person = PersonFactory(refuses_break_glass=case == "refused by the person")
    ProcedureFactory(person=person)
    grant = {"person": person, "professional_id": pro.user_id}
    if case != "other organisation":
        grant["organisation_id"] = pro.organisation_id
    BreakGlassGrantFactory(**grant, expired=case == "expired")

    assert _visible(pro) == set()


def test_a_consent_without_procedures_is_not_overridden_by_a_grant(pro, organisation):
    person = PersonFactory()
    ConsentFactory(
        person=person, organisation=organisation, categories=EVERY_CATEGORY_BUT_PROCEDURES
    )
    BreakGlassGrantFactory(
        person=person, professional_id=pro.user_id, organisation_id=pro.organisation_id
    )
    ProcedureFactory(person=person)

    assert _visible(pro) == set()


def test_the_visible_list_is_one_query(pro, organisation, django_assert_num_queries):
    for _ in range(5):
        person = PersonFactory()
        ConsentFactory(person=person, organisation=organisation)
        ProcedureFactory.create_batch(2, person=person)
    levels_for(pro.organisation_kind, pro.profession)

    with django_assert_num_queries(1):
        procedures = list(
            Procedure.objects.visible_to_professional(pro).select_related("procedure_type")
        )
        titles = {procedure.procedure_type.title for procedure in procedures}

    assert len(procedures) == 10
    assert len(titles) == 10


# Filters


def test_it_filters_by_person_and_by_organisation(person, organisation):
    mine = ProcedureFactory(person=person, organisation=organisation)
    other_organisation = ProcedureFactory(person=person)
    ProcedureFactory(organisation=organisation)

    assert set(Procedure.objects.for_person(person.pk)) == {mine, other_organisation}
    assert Procedure.objects.of_organisation(organisation.pk).count() == 2


def test_it_finds_open_procedures_due_soon():
    soon = ProcedureFactory(due_on=TODAY + datetime.timedelta(days=7))
    late = ProcedureFactory(due_on=TODAY - datetime.timedelta(days=1))
    ProcedureFactory(due_on=TODAY + datetime.timedelta(days=8))
    ProcedureFactory(due_on=TODAY, status=ProcedureStatus.ABANDONED)
    ProcedureFactory(due_on=None)

    assert set(Procedure.objects.due_within(7, today=TODAY)) == {soon, late}


def test_a_submitted_procedure_is_no_longer_due():
    yesterday = TODAY - datetime.timedelta(days=1)
    dates = {"requested_on": yesterday, "due_on": yesterday, "submitted_on": yesterday}
    sent_back = ProcedureFactory(**dates, status=ProcedureStatus.MISSING_DOCUMENTS)
    for status in (ProcedureStatus.SUBMITTED, ProcedureStatus.AWAITING, ProcedureStatus.APPEAL):
        ProcedureFactory(**dates, status=status)

    assert list(Procedure.objects.due_within(7, today=TODAY)) == [sent_back]


def test_it_orders_the_deadlines_to_meet_first():
    yesterday = TODAY - datetime.timedelta(days=1)
    met = ProcedureFactory(
        due_on=yesterday - datetime.timedelta(days=30),
        requested_on=yesterday,
        submitted_on=yesterday,
        status=ProcedureStatus.SUBMITTED,
    )
    without_deadline = ProcedureFactory(requested_on=TODAY)
    later = ProcedureFactory(due_on=TODAY + datetime.timedelta(days=20))
    sooner = ProcedureFactory(due_on=TODAY + datetime.timedelta(days=2))

    assert list(Procedure.objects.deadlines_first()) == [sooner, later, without_deadline, met]


def test_it_finds_procedures_waiting_for_an_answer():
    long_ago = TODAY - datetime.timedelta(days=60)
    waiting = ProcedureFactory(
        requested_on=long_ago, submitted_on=long_ago, status=ProcedureStatus.AWAITING
    )
    ProcedureFactory(
        requested_on=long_ago,
        submitted_on=long_ago,
        decided_on=TODAY,
        status=ProcedureStatus.GRANTED,
    )
    ProcedureFactory(requested_on=long_ago, submitted_on=TODAY, status=ProcedureStatus.SUBMITTED)

    assert list(Procedure.objects.waiting_longer_than(30, today=TODAY)) == [waiting]


def test_a_declaration_whose_next_occurrence_is_open_is_not_waiting():
    long_ago = TODAY - datetime.timedelta(days=60)
    declared = ProcedureFactory(
        requested_on=long_ago, submitted_on=long_ago, status=ProcedureStatus.SUBMITTED
    )
    last_declared = ProcedureFactory(
        previous=declared,
        requested_on=long_ago,
        submitted_on=long_ago,
        status=ProcedureStatus.SUBMITTED,
    )
    ProcedureFactory(previous=last_declared)

    assert list(Procedure.objects.waiting_longer_than(30, today=TODAY)) == []


def test_it_finds_missing_documents_in_the_list_query(pro, django_assert_num_queries):
    complete = ProcedureFactory()
    RequiredDocumentFactory(procedure=complete, document=DocumentFactory(person=complete.person))
    RequiredDocumentFactory(procedure=complete, condition="si besoin", not_applicable=True)
    lacking = {ProcedureFactory(): document for document in ("none", "deleted", "expired")}
    for procedure, document in lacking.items():
        RequiredDocumentFactory(procedure=procedure, document=_document(procedure.person, document))
    # Valid until the end of the day.
    RequiredDocumentFactory(
        procedure=complete,
        document=DocumentFactory(person=complete.person, expires_on=TODAY),
    )
    ProcedureFactory()
    levels_for(pro.organisation_kind, pro.profession)

    with django_assert_num_queries(1):
        found = set(Procedure.objects.with_missing_documents(pro, today=TODAY))

    assert found == set(lacking)


def _dated(procedure, **document):
    RequiredDocumentFactory(
        procedure=procedure, document=DocumentFactory(person=procedure.person, **document)
    )
    return procedure


def test_it_finds_missing_documents_on_the_day_the_procedure_page_judges_them(pro):
    submitted_on = TODAY - datetime.timedelta(days=40)
    yesterday = TODAY - datetime.timedelta(days=1)
    this_morning = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(9)))

    def submitted(status=ProcedureStatus.AWAITING):
        return ProcedureFactory(requested_on=submitted_on, submitted_on=submitted_on, status=status)

    procedures = {
        # Valid on the day of the submission, expired since: the organisme received it.
        "expired since": _dated(submitted(), expires_on=yesterday),
        # Issued, or brought to the file, after the submission: never received.
        "issued later": _dated(submitted(), issued_on=TODAY),
        "brought later": _dated(submitted(), created_at=this_morning),
        # Submitted, then sent back for missing documents: judged today again.
        "sent back, expired": _dated(
            submitted(ProcedureStatus.MISSING_DOCUMENTS), expires_on=yesterday
        ),
        "sent back, issued today": _dated(
            submitted(ProcedureStatus.MISSING_DOCUMENTS), issued_on=TODAY
        ),
    }

    found = set(Procedure.objects.with_missing_documents(pro, today=TODAY))

    assert {name for name, p in procedures.items() if p in found} == {
        "issued later",
        "brought later",
        "sent back, expired",
    }
    with patch(
        "django.utils.timezone.now",
        return_value=timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(10))),
    ):
        on_the_page = {p for p in procedures.values() if not completeness(p).is_complete}
    assert on_the_page == found


# The papers missing, in SQL, as the procedure's page counts them.

CONDITIONS = [
    "",
    "si vous avez des enfants",
    FRENCH,
    NOT_FRENCH,
    NO_STABLE_ADDRESS,
    # Conditions that start as the rule's do, but are no alternative.
    f"{NOT_FRENCH} : il doit vous permettre de travailler",
    f"{NO_STABLE_ADDRESS} (domiciliation)",
    # Python's startswith heeds case: so must the SQL (LIKE does not on SQLite).
    "S" + FRENCH[1:],
]
DOCUMENT_STATES = [
    "none",
    "valid",
    "expired",
    "deleted",
    "issued later",
    "brought later",
    # Around the freshness rules drawn (6 and 12 months): the issue day decides, not the
    # paper's own validity.
    "issued 7 months ago, expired",
    "issued 6 months ago to the day",
    "issued 6 months and a day ago",
    "issued 13 months ago",
]
FRESHNESS = [None, None, 6, 12]


def _document(person, state):
    yesterday = TODAY - datetime.timedelta(days=1)
    tomorrow = TODAY + datetime.timedelta(days=1)
    fields = {
        "none": None,
        "valid": {},
        "expired": {"expires_on": yesterday},
        "deleted": {"deleted_at": timezone.now()},
        "issued later": {"issued_on": tomorrow},
        "brought later": {
            "created_at": timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(9)))
        },
        "issued 7 months ago, expired": {
            "issued_on": add_months(TODAY, -7),
            "expires_on": add_months(TODAY, -4),
        },
        "issued 6 months ago to the day": {"issued_on": add_months(TODAY, -6)},
        "issued 6 months and a day ago": {
            "issued_on": add_months(TODAY, -6) - datetime.timedelta(days=1)
        },
        "issued 13 months ago": {"issued_on": add_months(TODAY, -13)},
    }[state]
    return None if fields is None else DocumentFactory(person=person, **fields)


def _checklists(person, draw):
    """Procedures with checklists drawn at random (with a fixed seed): several rows of a
    condition, in any order, in groups or not, asked always or in a situation, some
    marked not applicable or concerned, some with a freshness rule, their documents in
    every state."""
    for _ in range(4):
        procedure = ProcedureFactory(person=person, requested_on=TODAY)
        for _ in range(draw.randint(0, 6)):
            marked = draw.choice(["", "", "", "not applicable", "concerned"])
            RequiredDocumentFactory(
                procedure=procedure,
                condition=draw.choice(CONDITIONS),
                group=draw.choice(["", "", "identite", "adresse"]),
                conditional=draw.random() < 0.4,
                not_applicable=marked == "not applicable",
                concerned=marked == "concerned",
                fresh_months=draw.choice(FRESHNESS),
                document=_document(person, draw.choice(DOCUMENT_STATES)),
            )


def _with_a_row_lacking():
    rows = RequiredDocument.objects.filter(missing_documents_filter(TODAY))
    return Procedure.objects.filter(pk__in=rows.values("procedure"))


def _lacking_on_the_page(reader, procedure):
    """Whether the procedure's page says papers are missing, to this reader (using
    nothing of the file when it may not open it)."""
    try:
        readable = file_access(reader, procedure.person_id).readable_categories()
    except Http404:
        readable = []
    situation = situation_of(
        procedure.person.nationality,
        lambda: housing_status(procedure.person_id),
        readable=readable,
        conditions=[item.condition for item in procedure.checklist.all()],
    )
    return not completeness(procedure, on=TODAY, situation=situation).is_complete


@pytest.fixture
def files(organisation):
    """Files of every nationality and housing the rule reads, followed under consents
    that leave out the identity or the housing, or none at all."""
    draw = random.Random(20260310)
    consents = [
        None,
        list(ALL_CATEGORIES),
        [c for c in DataCategory.values if c != DataCategory.HOUSING],
        [c for c in DataCategory.values if c != DataCategory.IDENTITY],
    ]
    for nationality in ["", *Nationality.values]:
        for housing in [
            None,
            HousingStatus.SOCIAL_TENANT,
            HousingStatus.HOSTED,
            HousingStatus.HOMELESS,
        ]:
            for categories in consents:
                person = PersonFactory(nationality=nationality)
                if housing:
                    Housing.objects.create(person=person, status=housing)
                if categories is not None:
                    ConsentFactory(person=person, organisation=organisation, categories=categories)
                _checklists(person, draw)
    # The other of two alternatives valid, the nationality known to no reader.
    alternative = ProcedureFactory(requested_on=TODAY)
    RequiredDocumentFactory(procedure=alternative, condition=FRENCH, group="identite")
    RequiredDocumentFactory(
        procedure=alternative,
        condition=NOT_FRENCH,
        group="identite",
        document=_document(alternative.person, "valid"),
    )
    # Asked only in a situation nobody said applies.
    RequiredDocumentFactory(
        procedure=ProcedureFactory(requested_on=TODAY),
        condition="si vous en avez un",
        conditional=True,
    )


@pytest.mark.parametrize("reader", ["referent", "charter closed to housing", "stranger"])
@pytest.mark.usefixtures("files")
def test_it_finds_the_papers_missing_as_the_procedure_page_says_them(pro, reader):
    if reader == "stranger":
        elsewhere = MembershipFactory()
        pro = Professional.acting(elsewhere.user, elsewhere)
    levels = levels_for(pro.organisation_kind, pro.profession)
    if reader == "charter closed to housing":
        levels = levels | {DataCategory.HOUSING: Level.NONE}

    with patch("relais.consent.access.levels_for", return_value=levels):
        found = set(Procedure.objects.with_missing_documents(pro, today=TODAY))
        on_the_page = {
            p for p in Procedure.objects.select_related("person") if _lacking_on_the_page(pro, p)
        }

    assert found == on_the_page
    # Some rows lack their document without the person needing it, or with its
    # alternative valid: counting every row would have found these too.
    assert set(_with_a_row_lacking()) - found


@pytest.mark.parametrize(
    ("rows", "lacking"),
    [
        # One row of a group valid is enough, whichever the conditions of its rows.
        (
            [
                (FRENCH, "none", "identite"),
                (f"{NOT_FRENCH} : pour travailler", "valid", "identite"),
            ],
            False,
        ),
        ([(FRENCH, "none", "identite"), (NOT_FRENCH, "none", "identite")], True),
        ([("", "none", "identite"), ("", "none", "identite"), ("", "valid", "identite")], False),
        ([(FRENCH, "expired", "identite"), (NOT_FRENCH, "issued later", "identite")], True),
        # Two groups: each needs one valid row of its own.
        ([("", "valid", "identite"), ("", "none", "adresse"), ("", "none", "adresse")], True),
        # Without a group, the rule's words make no alternative.
        ([(FRENCH, "none", ""), (NOT_FRENCH, "valid", "")], True),
        # Marked not applicable: no longer one of the alternatives.
        ([(FRENCH, "none", "identite"), (NOT_FRENCH, "valid", "identite", "not applicable")], True),
        # Asked in a situation: missing once the professional says the person is in it.
        ([("si vous en avez un", "none", "", "conditional")], False),
        ([("si vous en avez un", "none", "", "conditional", "concerned")], True),
    ],
)
def test_it_groups_the_alternatives_as_the_procedure_page_does(pro, rows, lacking):
    procedure = ProcedureFactory(requested_on=TODAY)
    for condition, document, group, *marks in rows:
        RequiredDocumentFactory(
            procedure=procedure,
            condition=condition,
            group=group,
            conditional="conditional" in marks,
            concerned="concerned" in marks,
            not_applicable="not applicable" in marks,
            document=_document(procedure.person, document),
        )

    found = procedure in Procedure.objects.with_missing_documents(pro, today=TODAY)

    assert found == _lacking_on_the_page(pro, procedure) == lacking


def test_a_row_the_file_contradicts_does_not_stand_for_its_group(pro, person):
    person.nationality = Nationality.FRENCH
    person.save()
    procedure = ProcedureFactory(person=person, requested_on=TODAY)
    RequiredDocumentFactory(procedure=procedure, condition=FRENCH, group="identite")
    RequiredDocumentFactory(
        procedure=procedure,
        condition=NOT_FRENCH,
        group="identite",
        document=_document(person, "valid"),
    )

    found = procedure in Procedure.objects.with_missing_documents(pro, today=TODAY)

    assert found is _lacking_on_the_page(pro, procedure) is True
