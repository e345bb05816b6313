"""The team page offers to reset a member's second factor only when they have one."""

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, TOTPDeviceFactory

pytestmark = pytest.mark.django_db


def test_it_offers_the_reset_only_for_members_with_a_second_factor(manager_client, organisation):
    equipped = MembershipFactory(organisation=organisation)
    TOTPDeviceFactory(user=equipped.user)
    reset_already = MembershipFactory(organisation=organisation)

    page = manager_client.get(reverse("organisations:members")).content.decode()

    assert reverse("organisations:reset_second_factor", args=[equipped.pk]) in page
    assert reverse("organisations:reset_second_factor", args=[reset_already.pk]) not in page
