"""The team page offers to reset a member's second factor only when it can: they have one,
and theirs is no pilot's account, which no organisation's manager resets."""

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_offers_the_reset_only_for_members_with_a_second_factor(manager_client, organisation):
    equipped = MembershipFactory(organisation=organisation)
    TOTPDeviceFactory(user=equipped.user)
    reset_already = MembershipFactory(organisation=organisation)

    page = manager_client.get(reverse("organisations:members")).content.decode()

    assert reverse("organisations:reset_second_factor", args=[equipped.pk]) in page
    assert reverse("organisations:reset_second_factor", args=[reset_already.pk]) not in page


def test_it_offers_no_reset_for_a_pilot_member_which_it_would_refuse(manager_client, organisation):
    pilot = MembershipFactory(organisation=organisation, user=UserFactory(pilot=True))
    TOTPDeviceFactory(user=pilot.user)

    page = manager_client.get(reverse("organisations:members")).content.decode()

    assert reverse("organisations:reset_second_factor", args=[pilot.pk]) not in page
    assert reverse("organisations:deactivate", args=[pilot.pk]) in page
