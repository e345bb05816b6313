import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.accounts.services import second_factor_reset
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM, Actor
from relais.audit.models import AuditEvent
from relais.organisations.services import membership_deactivate, organisation_update
from tests.conftest import log_in
from tests.factories import PASSWORD, MembershipFactory, TOTPDeviceFactory

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


@pytest.mark.parametrize("path", ["/", "/compte/second-facteur/activer/"])
def test_it_ends_a_verified_session_after_a_reset(client, member, path):
    client.get(reverse("www:home"))

    second_factor_reset(member=member.user, organisation_id=member.organisation_id, by=SYSTEM)
    response = client.get(path)

    assert response.url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
    assert not TOTPDevice.objects.filter(user=member.user).exists()
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED).count() == 1


def test_it_ends_a_session_waiting_for_its_second_factor_after_a_reset(client):
    membership = MembershipFactory()
    TOTPDeviceFactory(user=membership.user)
    client.post(reverse("accounts:login"), {"email": membership.user.email, "password": PASSWORD})

    second_factor_reset(
        member=membership.user, organisation_id=membership.organisation_id, by=SYSTEM
    )
    response = client.get(reverse("accounts:second_factor_setup"))

    assert response.url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
    assert not TOTPDevice.objects.filter(user=membership.user).exists()


def test_it_asks_a_new_factor_once_the_password_is_typed_again_after_a_reset(client, member):
    second_factor_reset(member=member.user, organisation_id=member.organisation_id, by=SYSTEM)
    client.get(reverse("www:home"))

    response = client.post(
        reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD}
    )

    assert response.url == reverse("accounts:second_factor_setup")
    assert client.get(response.url).status_code == 200


def test_it_ends_the_session_when_the_membership_ends(client, member):
    manager = MembershipFactory(organisation=member.organisation, manager=True)
    client.get(reverse("www:home"))

    membership_deactivate(membership=member, by=Actor(user_id=manager.user_id))

    assert client.get(reverse("www:home")).url.startswith(reverse("accounts:login"))


def test_it_shows_the_new_name_of_the_organisation_at_once(client, member):
    client.get(reverse("www:home"))

    organisation_update(organisation=member.organisation, by=SYSTEM, name="CCAS renommé")

    assert "CCAS renommé" in client.get(reverse("www:home")).content.decode()


def test_renaming_an_organisation_leaves_its_former_members_sessions_alone(member):
    former = MembershipFactory(organisation=member.organisation, ended_on=datetime.date(2020, 1, 1))
    stamp = former.user.security_stamp

    organisation_update(organisation=member.organisation, by=SYSTEM, name="CCAS renommé")

    former.user.refresh_from_db()
    assert former.user.security_stamp == stamp
