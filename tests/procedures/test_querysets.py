import datetime
from unittest.mock import patch

import pytest
from django.utils import timezone

from relais.consent.access import Professional
from relais.consent.charter import levels_for
from relais.organisations.models import Profession
from relais.persons.categories import DataCategory
from relais.procedures.measures import completeness
from relais.procedures.models import Procedure, ProcedureStatus
from tests.factories import MembershipFactory, UserFactory
from tests.persons.factories import (
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


def test_it_counts_missing_documents_in_the_list_query(django_assert_num_queries):
    complete = ProcedureFactory()
    RequiredDocumentFactory(procedure=complete, document=DocumentFactory(person=complete.person))
    RequiredDocumentFactory(procedure=complete, condition="si besoin", not_applicable=True)
    lacking = ProcedureFactory()
    RequiredDocumentFactory(procedure=lacking)
    RequiredDocumentFactory(
        procedure=lacking,
        document=DocumentFactory(person=lacking.person, deleted_at=timezone.now()),
    )
    RequiredDocumentFactory(
        procedure=lacking,
        document=DocumentFactory(person=lacking.person, expires_on=TODAY - datetime.timedelta(1)),
    )
    RequiredDocumentFactory(
        procedure=lacking,
        document=DocumentFactory(person=lacking.person, expires_on=TODAY),
    )
    nothing_asked = ProcedureFactory()

    with django_assert_num_queries(1):
        counted = {
            p: p.missing_documents for p in Procedure.objects.with_missing_count(today=TODAY)
        }
    with django_assert_num_queries(1):
        lacking_only = list(Procedure.objects.with_missing_documents(today=TODAY))

    assert counted == {complete: 0, lacking: 3, nothing_asked: 0}
    assert lacking_only == [lacking]
    assert lacking_only[0].missing_documents == 3


def test_it_counts_missing_documents_on_the_day_the_procedure_page_judges_them():
    submitted_on = TODAY - datetime.timedelta(days=40)
    submitted = ProcedureFactory(
        requested_on=submitted_on, submitted_on=submitted_on, status=ProcedureStatus.AWAITING
    )
    # Valid on the day of the submission, expired since: the organisme received it valid.
    RequiredDocumentFactory(
        procedure=submitted,
        document=DocumentFactory(person=submitted.person, expires_on=TODAY - datetime.timedelta(1)),
    )
    # Issued after the submission: the organisme never received it.
    RequiredDocumentFactory(
        procedure=submitted,
        document=DocumentFactory(person=submitted.person, issued_on=TODAY),
    )
    # Brought to the file after the submission, with no issue day.
    RequiredDocumentFactory(
        procedure=submitted,
        document=DocumentFactory(
            person=submitted.person,
            created_at=timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(9))),
        ),
    )
    # Submitted, then sent back for missing documents: judged today again.
    sent_back = ProcedureFactory(
        requested_on=submitted_on,
        submitted_on=submitted_on,
        status=ProcedureStatus.MISSING_DOCUMENTS,
    )
    RequiredDocumentFactory(
        procedure=sent_back,
        document=DocumentFactory(person=sent_back.person, expires_on=TODAY - datetime.timedelta(1)),
    )
    RequiredDocumentFactory(
        procedure=sent_back,
        document=DocumentFactory(person=sent_back.person, issued_on=TODAY),
    )

    counted = {p: p.missing_documents for p in Procedure.objects.with_missing_count(today=TODAY)}

    assert counted == {submitted: 2, sent_back: 1}
    with patch(
        "django.utils.timezone.now",
        return_value=timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(10))),
    ):
        on_the_page = {p: _not_satisfied(p) for p in counted}
    assert on_the_page == counted
    assert list(Procedure.objects.with_missing_documents(today=TODAY).order_by("pk")) == [
        submitted,
        sent_back,
    ]


def _not_satisfied(procedure):
    measure = completeness(procedure)
    return measure.total - measure.satisfied
