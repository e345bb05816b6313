"""`persons_readable_in`: the access rule applied to every file at once, for the lists
across files. Each case is written by hand from the rule (relais/consent/access.py) and the
default charter (docs/charte.md): the member is an assistant(e) de service social of a
CCAS, who writes on every category but HEALTH, which the charter closes; the MJPM of the
same CCAS reads HEALTH. The last tests check that the lists and `file_access` never
disagree on a file, under the default charter and one that closes IDENTITY."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from relais.audit.context import SYSTEM
from relais.consent.access import (
    Professional,
    file_access,
    persons_readable_in,
    visible_persons,
)
from relais.consent.charter import charter_publish, default_matrix, levels_for
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import Action, DataCategory, Level
from relais.persons.models import Person, PersonStatus
from tests.factories import MembershipFactory, UserFactory
from tests.persons.factories import (
    BlockFactory,
    BreakGlassGrantFactory,
    ConsentFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db

PROCEDURES = DataCategory.PROCEDURES
HEALTH = DataCategory.HEALTH
ALL_BUT_PROCEDURES = [c for c in DataCategory.values if c != PROCEDURES]


def _professional(membership) -> Professional:
    return Professional.acting(membership.user, membership)


@pytest.fixture
def member(organisation):
    return MembershipFactory(organisation=organisation)


@pytest.fixture
def pro(member):
    return _professional(member)


@pytest.fixture
def mjpm(organisation):
    return _professional(MembershipFactory(organisation=organisation, profession=Profession.MJPM))


def _readable(pro, category, **kwargs) -> set[int]:
    return {row["pk"] for row in persons_readable_in(pro, category, **kwargs)}


def _grant(person, pro, **fields):
    return BreakGlassGrantFactory(
        person=person,
        professional_id=pro.user_id,
        organisation_id=pro.organisation_id,
        **fields,
    )


@pytest.fixture
def identity_closed(django_capture_on_commit_callbacks):
    """The charter gives the member's kind and profession no read on IDENTITY."""
    levels = default_matrix()
    levels[(OrganisationKind.CCAS, Profession.ASS, DataCategory.IDENTITY)] = Level.NONE
    # The charter read so far is cached until the publication commits.
    with django_capture_on_commit_callbacks(execute=True):
        charter_publish(levels=levels, summary="Identité fermée aux ASS des CCAS.", by=SYSTEM)


# Consents.


def test_it_lists_the_persons_whose_consent_covers_the_category(pro, organisation):
    covered = PersonFactory()
    ConsentFactory(person=covered, organisation=organisation)
    left_out = PersonFactory()
    ConsentFactory(person=left_out, organisation=organisation, categories=ALL_BUT_PROCEDURES)
    PersonFactory()

    assert _readable(pro, PROCEDURES) == {covered.pk}
    assert _readable(pro, DataCategory.IDENTITY) == {covered.pk, left_out.pk}


def test_a_consent_to_the_professional_alone_is_enough(pro, organisation):
    to_them = PersonFactory()
    ConsentFactory(person=to_them, organisation=organisation, professional_id=pro.user_id)
    to_a_colleague = PersonFactory()
    ConsentFactory(person=to_a_colleague, organisation=organisation, professional=UserFactory())
    to_another_organisation = PersonFactory()
    ConsentFactory(person=to_another_organisation)

    assert _readable(pro, PROCEDURES) == {to_them.pk}


@pytest.mark.parametrize("consent", [{"expired": True}, {"revoked": True}])
def test_an_expired_or_revoked_consent_opens_nothing(pro, organisation, consent):
    ConsentFactory(person=PersonFactory(), organisation=organisation, **consent)

    assert _readable(pro, PROCEDURES) == set()


def test_it_reads_the_consents_at_the_moment_asked(pro, organisation):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation, expired=True)
    while_live = timezone.now() - datetime.timedelta(days=10)

    assert _readable(pro, PROCEDURES, at=while_live) == {person.pk}
    assert _readable(pro, PROCEDURES) == set()


def test_it_leaves_out_the_files_no_longer_active(pro, organisation):
    person = PersonFactory(status=PersonStatus.ARCHIVED)
    ConsentFactory(person=person, organisation=organisation)

    assert _readable(pro, PROCEDURES) == set()


# The charter.


def test_the_charter_closing_the_category_opens_nothing(pro, organisation):
    ConsentFactory(person=PersonFactory(), organisation=organisation)

    assert _readable(pro, HEALTH) == set()


def test_the_charter_reading_the_category_opens_it(mjpm, organisation):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)

    assert _readable(mjpm, HEALTH) == {person.pk}


# Blocks.


@pytest.mark.parametrize("against", ["organisation", "professional"])
def test_a_block_closes_the_file_whatever_the_consent_or_grant(pro, organisation, against):
    consented = PersonFactory()
    ConsentFactory(person=consented, organisation=organisation)
    granted = PersonFactory()
    _grant(granted, pro)
    for person in (consented, granted):
        if against == "organisation":
            BlockFactory(person=person, organisation=organisation)
        else:
            BlockFactory(person=person, professional_id=pro.user_id)

    assert _readable(pro, PROCEDURES) == set()


# Break-glass.


def test_a_live_grant_opens_what_the_charter_lets_read(pro):
    person = PersonFactory()
    _grant(person, pro)

    assert _readable(pro, PROCEDURES) == {person.pk}
    assert _readable(pro, HEALTH) == set()


@pytest.mark.parametrize("case", ["expired", "refused by the person", "other organisation"])
def test_a_grant_opens_nothing_when_it_does_not_apply(pro, case):
    person = PersonFactory(refuses_break_glass=case == "refused by the person")
    if case == "other organisation":
        BreakGlassGrantFactory(person=person, professional_id=pro.user_id)
    else:
        _grant(person, pro, expired=case == "expired")

    assert _readable(pro, PROCEDURES) == set()


def test_a_grant_does_not_go_around_a_consent_that_leaves_the_category_out(pro, organisation):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation, categories=ALL_BUT_PROCEDURES)
    _grant(person, pro)

    assert _readable(pro, PROCEDURES) == set()
    assert person.pk in _readable(pro, DataCategory.IDENTITY)


@pytest.mark.parametrize("case", ["expired", "other organisation", "other professional"])
def test_a_grant_opens_the_file_when_no_live_consent_of_theirs_is_left(pro, organisation, case):
    """Only a live consent to their organisation or to them stands in the grant's way,
    as in `file_access`."""
    person = PersonFactory()
    if case == "other organisation":
        ConsentFactory(person=person, categories=ALL_BUT_PROCEDURES)
    else:
        ConsentFactory(
            person=person,
            organisation=organisation,
            categories=ALL_BUT_PROCEDURES,
            expired=case == "expired",
            professional=UserFactory() if case == "other professional" else None,
        )
    _grant(person, pro)

    assert _readable(pro, PROCEDURES) == {person.pk}
    assert file_access(pro, person.pk).can(Action.VIEW, PROCEDURES)


# Cost and agreement with the rule for one file.


def test_it_is_one_query_and_none_when_the_charter_closes(
    pro, organisation, django_assert_num_queries
):
    for _ in range(5):
        ConsentFactory(person=PersonFactory(), organisation=organisation)
    levels_for(pro.organisation_kind, pro.profession)

    with django_assert_num_queries(1):
        assert len(_readable(pro, PROCEDURES)) == 5
    with django_assert_num_queries(0):
        assert _readable(pro, HEALTH) == set()


@pytest.mark.parametrize("charter", ["default", "identity closed"])
def test_it_agrees_with_file_access_on_every_file(request, pro, mjpm, organisation, charter):
    """Under a charter that closes IDENTITY, which every list names, too."""
    if charter == "identity closed":
        request.getfixturevalue("identity_closed")
    ConsentFactory(person=PersonFactory(), organisation=organisation)
    ConsentFactory(person=PersonFactory(), organisation=organisation, categories=[HEALTH])
    ConsentFactory(person=PersonFactory(), organisation=organisation, expired=True)
    ConsentFactory(person=PersonFactory(), organisation=organisation, professional=UserFactory())
    _grant(PersonFactory(), pro)
    _grant(PersonFactory(refuses_break_glass=True), pro)
    blocked = PersonFactory()
    ConsentFactory(person=blocked, organisation=organisation)
    BlockFactory(person=blocked, organisation=organisation)
    persons = list(Person.objects.values_list("pk", flat=True))

    for professional in (pro, mjpm):
        for category in DataCategory.values:
            expected = set()
            for person_id in persons:
                try:
                    access = file_access(professional, person_id)
                except Http404:
                    continue
                if access.can(Action.VIEW, category):
                    expected.add(person_id)
            assert _readable(professional, category) == expected, (professional, category)


@pytest.mark.parametrize("case", ["refused by the person", "other organisation"])
def test_the_persons_list_leaves_out_a_grant_that_opens_nothing(pro, case):
    person = PersonFactory(refuses_break_glass=case == "refused by the person")
    if case == "other organisation":
        BreakGlassGrantFactory(person=person, professional_id=pro.user_id)
    else:
        _grant(person, pro)

    assert not visible_persons(pro).filter(pk=person.pk).exists()
    with pytest.raises(Http404):
        file_access(pro, person.pk)


@pytest.mark.parametrize("charter", ["default", "identity closed"])
def test_the_persons_list_holds_exactly_the_files_file_access_opens(
    request, pro, organisation, charter
):
    """Under a charter that closes IDENTITY too: the list names each person, their birth
    date and town, and links to their file."""
    if charter == "identity closed":
        request.getfixturevalue("identity_closed")

    def consent(person=None, **fields):
        ConsentFactory(person=person or PersonFactory(), organisation=organisation, **fields)

    consent()
    consent(professional_id=pro.user_id)
    consent(professional=UserFactory())
    consent(expired=True)
    consent(revoked=True)
    consent(starts_at=timezone.now() + datetime.timedelta(days=1))
    consent(person=PersonFactory(status=PersonStatus.ARCHIVED))
    ConsentFactory(person=PersonFactory())
    _grant(PersonFactory(), pro)
    _grant(PersonFactory(), pro, expired=True)
    _grant(PersonFactory(refuses_break_glass=True), pro)
    BreakGlassGrantFactory(person=PersonFactory(), professional_id=pro.user_id)
    for block in (
        {"organisation": organisation},
        {"professional_id": pro.user_id},
        {"organisation": organisation, "lifted_at": timezone.now()},
    ):
        person = PersonFactory()
        ConsentFactory(person=person, organisation=organisation)
        BlockFactory(person=person, **block)
    opened = set()
    for person_id in Person.objects.values_list("pk", flat=True):
        try:
            file_access(pro, person_id)
        except Http404:
            continue
        opened.add(person_id)

    assert len(opened) == (4 if charter == "default" else 0)
    assert set(visible_persons(pro).values_list("pk", flat=True)) == opened
