from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.accounts.services import actor_of, recovery_codes_regenerate
from relais.www.templatetags.dates import date
from tests.conftest import log_in
from tests.factories import MembershipFactory, TOTPDeviceFactory

pytestmark = pytest.mark.django_db

CHANGE = reverse("accounts:choose_organisation")


def test_it_offers_to_change_organisation_to_a_member_of_two(client, member_membership):
    MembershipFactory(user=member_membership.user)
    log_in(client, member_membership.user, member_membership)

    page = client.get(reverse("accounts:profile")).content.decode()

    assert f'href="{CHANGE}">Changer de structure' in page


def test_it_offers_no_change_to_a_member_of_one_who_left_another(client, member_membership):
    """A former membership is listed, with its period, yet there is nothing to choose."""
    today = timezone.localdate()
    MembershipFactory(
        user=member_membership.user,
        started_on=today - timedelta(days=30),
        ended_on=today - timedelta(days=1),
    )
    log_in(client, member_membership.user, member_membership)

    page = client.get(reverse("accounts:profile")).content.decode()

    assert f"fin le {date(today - timedelta(days=1), 'j F Y')}" in page
    assert "Changer de structure" not in page


def test_a_former_membership_says_the_day_its_access_ended(client, member_membership):
    """The day a membership ends, it no longer opens anything: « jusqu'au » that day would
    say it still did."""
    today = timezone.localdate()
    MembershipFactory(
        user=member_membership.user, started_on=today - timedelta(days=30), ended_on=today
    )
    log_in(client, member_membership.user, member_membership)

    page = client.get(reverse("accounts:profile")).content.decode()

    started = date(today - timedelta(days=30), "j F Y")
    assert f"du {started}, fin le {date(today, 'j F Y')}" in page
    assert "jusqu&#x27;au" not in page and "jusqu'au" not in page


def test_it_warns_a_professional_who_has_no_recovery_code_left(client, member_membership):
    log_in(client, member_membership.user, member_membership)

    page = client.get(reverse("accounts:profile")).content.decode()

    assert "Codes de secours restants : 0." in page
    assert "Aucun code de secours" in page


def test_it_does_not_warn_one_who_has_recovery_codes(client, member_membership):
    recovery_codes_regenerate(user=member_membership.user, by=actor_of(member_membership.user))
    log_in(client, member_membership.user, member_membership)

    page = client.get(reverse("accounts:profile")).content.decode()

    assert "Codes de secours restants : 10." in page
    assert "Aucun code de secours" not in page


def test_it_tells_two_authenticator_apps_apart_by_the_day_each_was_activated(
    client, member_membership
):
    user = member_membership.user
    today = timezone.localdate()
    older = TOTPDeviceFactory(user=user, name="Application d'authentification")
    TOTPDevice.objects.filter(pk=older.pk).update(
        created_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    )
    log_in(client, user, member_membership, device=TOTPDeviceFactory(user=user))

    page = unescape(client.get(reverse("accounts:profile")).content.decode())

    assert "activée le 1er mars 2025 — <a" in page
    assert f"activée le {date(today, 'j F Y')} — <a" in page
