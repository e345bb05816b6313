"""The pilot's journal offers users to filter by as the manager's does: the members of the
organisation whose journal is opened, at a cost that does not grow with the platform."""

from datetime import date
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

JOURNAL = reverse("journal:list")


def _act(membership):
    return audit_record(
        action=AuditAction.ORGANISATION_UPDATED,
        by=Actor(
            user_id=membership.user_id,
            label=membership.user.get_full_name(),
            organisation_id=membership.organisation_id,
            organisation_label=membership.organisation.name,
        ),
    )


def _actor_choices(response) -> set:
    return {value for value, _ in response.context["form"].fields["actor"].choices}


@pytest.fixture
def team(organisation):
    """A manager, a member, and a member who has left."""
    return [
        MembershipFactory(organisation=organisation, manager=True),
        MembershipFactory(organisation=organisation),
        MembershipFactory(
            organisation=organisation, started_on=date(2024, 1, 1), ended_on=date(2025, 1, 1)
        ),
    ]


def test_it_offers_the_pilot_the_members_of_the_organisation_whose_journal_is_open(
    pilot_client, organisation, team
):
    elsewhere = MembershipFactory()

    response = pilot_client.get(JOURNAL, {"organisation": organisation.pk})

    assert _actor_choices(response) == {"", *(member.user_id for member in team)}
    assert elsewhere.user.last_name not in response.content.decode()


def test_it_offers_the_pilot_the_users_the_manager_is_offered(pilot_client, organisation, team):
    manager = team[0]

    pilots = pilot_client.get(JOURNAL, {"organisation": organisation.pk})
    managers = log_in(Client(), manager.user, manager).get(JOURNAL)

    assert pilots.context["form"].fields["actor"].choices == (
        managers.context["form"].fields["actor"].choices
    )


def test_the_pilot_filters_an_organisations_journal_by_one_of_its_members(
    pilot_client, organisation, team
):
    _, member, _ = team
    own = _act(member)
    colleagues = _act(team[0])

    response = pilot_client.get(JOURNAL, {"organisation": organisation.pk, "actor": member.user_id})

    assert response.context["form"].errors == {}
    shown = {event.seq for event, _ in response.context["rows"]}
    assert own.seq in shown
    assert colleagues.seq not in shown


def test_the_platforms_journal_lists_no_user_and_says_where_members_are_offered(pilot_client, team):
    response = pilot_client.get(JOURNAL)

    assert _actor_choices(response) == {""}
    assert "Les membres d'une structure sont proposés dans son journal" in unescape(
        response.content.decode()
    )


def test_the_user_chosen_stays_offered_once_the_organisation_is_lifted(
    pilot_client, organisation, team
):
    _, member, _ = team
    own = _act(member)
    _act(MembershipFactory(user=member.user))

    response = pilot_client.get(JOURNAL, {"organisation": "", "actor": member.user_id})

    assert response.context["form"].errors == {}
    assert _actor_choices(response) == {"", member.user_id}
    assert own.seq in {event.seq for event, _ in response.context["rows"]}
    assert len(response.context["rows"]) == 2


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(JOURNAL, params)
    assert response.status_code == 200
    return len(queries)


def test_the_pilots_journal_of_an_organisation_costs_the_same_whatever_its_size_and_the_platforms(
    pilot_client, organisation, team, django_assert_num_queries
):
    pilot_client.get(JOURNAL)  # the session settles on the first page
    small = _queries(pilot_client, {"organisation": organisation.pk})
    MembershipFactory.create_batch(10, organisation=organisation)
    for other in OrganisationFactory.create_batch(10):
        MembershipFactory.create_batch(2, organisation=other)
    UserFactory.create_batch(5)

    large = _queries(pilot_client, {"organisation": organisation.pk})

    assert small == large
    # Session, user, the organisation, its members, one page of events.
    with django_assert_num_queries(5):
        pilot_client.get(JOURNAL, {"organisation": organisation.pk})
