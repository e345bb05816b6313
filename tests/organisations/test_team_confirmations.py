"""Deactivating a colleague and resetting their second factor are asked, then confirmed
on a page of their own: one click on the team page changes nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from tests.factories import MembershipFactory, TOTPDeviceFactory

pytestmark = pytest.mark.django_db

DEACTIVATE = "organisations:deactivate"
RESET = "organisations:reset_second_factor"
CONFIRMED = {"confirme": "oui"}


def _text(response) -> str:
    return " ".join(response.content.decode().replace("&#x27;", "'").split())


def test_it_asks_the_manager_to_confirm_a_deactivation(manager_client, member_membership):
    member = member_membership.user

    response = manager_client.get(reverse(DEACTIVATE, args=[member_membership.pk]))

    assert response.status_code == 200
    assert response.templates[0].name == "organisations/deactivate_confirm.html"
    text = _text(response)
    assert f"Désactiver {member.get_full_name()}" in text
    assert "Ses connexions en cours à Relais sont fermées" in text
    assert "n'a plus accès aux dossiers des personnes" in text
    assert "envoyez-lui une nouvelle invitation avec le lien « Réinviter »" in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert '<input type="hidden" name="confirme" value="oui">' in text
    assert f'href="{reverse("organisations:members")}">Annuler</a>' in text
    member_membership.refresh_from_db()
    assert member_membership.ended_on is None


def test_a_deactivation_posted_without_confirmation_changes_nothing(
    manager_client, member_membership
):
    response = manager_client.post(reverse(DEACTIVATE, args=[member_membership.pk]))

    assert response.status_code == 400
    assert response.templates[0].name == "organisations/deactivate_confirm.html"
    member_membership.refresh_from_db()
    assert member_membership.ended_on is None
    assert member_membership.user.is_active
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_DEACTIVATED).exists()


def test_a_confirmed_deactivation_ends_the_membership(
    manager_client, manager_membership, member_membership
):
    response = manager_client.post(reverse(DEACTIVATE, args=[member_membership.pk]), CONFIRMED)

    assert response.url == reverse("organisations:members")
    member_membership.refresh_from_db()
    assert member_membership.ended_on == timezone.localdate()
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_DEACTIVATED)
    assert event.actor_id == manager_membership.user_id


def test_it_asks_the_manager_to_confirm_a_second_factor_reset(manager_client, member_membership):
    member = member_membership.user
    TOTPDeviceFactory(user=member)

    response = manager_client.get(reverse(RESET, args=[member_membership.pk]))

    assert response.status_code == 200
    assert response.templates[0].name == "organisations/second_factor_reset_confirm.html"
    text = _text(response)
    assert f"Réinitialiser le second facteur de {member.get_full_name()}" in text
    assert "Ses connexions en cours à Relais sont fermées" in text
    assert "garde son accès à" in text
    assert '<input type="hidden" name="confirme" value="oui">' in text
    assert f'href="{reverse("organisations:members")}">Annuler</a>' in text
    assert TOTPDevice.objects.filter(user=member).exists()


def test_a_reset_posted_without_confirmation_changes_nothing(manager_client, member_membership):
    TOTPDeviceFactory(user=member_membership.user)

    response = manager_client.post(reverse(RESET, args=[member_membership.pk]))

    assert response.status_code == 400
    assert response.templates[0].name == "organisations/second_factor_reset_confirm.html"
    assert TOTPDevice.objects.filter(user=member_membership.user).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_RESET).exists()


def test_a_confirmed_reset_removes_the_second_factor(manager_client, member_membership):
    TOTPDeviceFactory(user=member_membership.user)

    response = manager_client.post(reverse(RESET, args=[member_membership.pk]), CONFIRMED)

    assert response.url == reverse("organisations:members")
    assert not TOTPDevice.objects.filter(user=member_membership.user).exists()
    assert AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_RESET).count() == 1


def test_the_team_page_links_to_the_confirmation_pages(manager_client, member_membership):
    TOTPDeviceFactory(user=member_membership.user)
    response = manager_client.get(reverse("organisations:members"))

    text = _text(response)
    for name in (DEACTIVATE, RESET):
        url = reverse(name, args=[member_membership.pk])
        assert f'<a href="{url}"' in text
        assert f'action="{url}"' not in text


def test_the_reset_page_asks_the_managers_second_factor_again_first(
    manager_client, member_membership, settings
):
    session = manager_client.session
    session["relais_second_factor_at"] -= settings.RELAIS_RECENT_SECOND_FACTOR.total_seconds() + 1
    session.save()
    url = reverse(RESET, args=[member_membership.pk])

    response = manager_client.get(url)

    assert response.url.startswith(reverse("accounts:second_factor"))
    assert "next=" in response.url


@pytest.mark.parametrize("name", [DEACTIVATE, RESET])
def test_it_shows_no_confirmation_page_for_a_former_member(manager_client, organisation, name):
    today = timezone.localdate()
    former = MembershipFactory(
        organisation=organisation,
        started_on=today - timedelta(days=400),
        ended_on=today - timedelta(days=30),
    )

    response = manager_client.get(reverse(name, args=[former.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("name", [DEACTIVATE, RESET])
def test_it_hides_the_confirmation_page_of_another_organisations_member(
    outsider_client, member_membership, name
):
    response = outsider_client.get(reverse(name, args=[member_membership.pk]))

    assert response.status_code == 404
    assert member_membership.user.get_full_name() not in response.content.decode()


@pytest.mark.parametrize("name", [DEACTIVATE, RESET])
def test_it_refuses_the_confirmation_page_to_a_professional(member_client, organisation, name):
    colleague = MembershipFactory(organisation=organisation)

    response = member_client.get(reverse(name, args=[colleague.pk]))

    assert response.status_code == 403
