import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relais.accounts.services import second_factor_reset
from relais.audit.context import SYSTEM, Actor
from relais.organisations.services import membership_deactivate, organisation_update
from tests.conftest import log_in
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    membership = MembershipFactory()
    log_in(client, membership.user, membership)
    return membership


def test_it_keeps_a_verified_session_without_reading_device_or_membership_again(client, member):
    client.get(reverse("www:home"))

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("www:home")).status_code == 200

    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "otp_totp_totpdevice" not in tables
    assert 'FROM "organisations_membership"' not in tables


def test_it_asks_the_second_factor_again_after_a_reset(client, member):
    client.get(reverse("www:home"))

    second_factor_reset(member=member.user, organisation_id=member.organisation_id, by=SYSTEM)

    assert client.get(reverse("www:home")).url == reverse("accounts:second_factor_setup")


def test_it_ends_the_session_when_the_membership_ends(client, member):
    manager = MembershipFactory(organisation=member.organisation, manager=True)
    client.get(reverse("www:home"))

    membership_deactivate(membership=member, by=Actor(user_id=manager.user_id))

    assert client.get(reverse("www:home")).url.startswith(reverse("accounts:login"))


def test_it_shows_the_new_name_of_the_organisation_at_once(client, member):
    client.get(reverse("www:home"))

    organisation_update(organisation=member.organisation, by=SYSTEM, name="CCAS renommé")

    assert "CCAS renommé" in client.get(reverse("www:home")).content.decode()
