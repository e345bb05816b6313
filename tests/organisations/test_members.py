from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.accounts.services import actor_of, recovery_codes_regenerate
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.organisations.models import Membership, Role
from relais.organisations.services import (
    invitation_create,
    membership_deactivate,
    membership_second_factor_reset,
)
from relais.www.templatetags.dates import date
from tests.concurrency import meanwhile, needs_row_locks
from tests.conftest import log_in
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db

# What the confirmation page's « Confirmer » sends.
CONFIRMED = {"confirme": "oui"}


def _messages(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def test_it_lists_the_team_for_the_manager(manager_client, member_membership):
    response = manager_client.get(reverse("organisations:members"))

    assert response.status_code == 200
    assert member_membership.user.email in response.content.decode()


def test_it_refuses_the_team_page_to_a_professional(member_client):
    response = member_client.get(reverse("organisations:members"))

    assert response.status_code == 403


def test_it_deactivates_a_member(manager_client, manager_membership, member_membership):
    response = manager_client.post(
        reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED
    )

    assert response.url == reverse("organisations:members")
    member_membership.refresh_from_db()
    assert member_membership.ended_on == timezone.localdate()
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_DEACTIVATED)
    assert event.actor_id == manager_membership.user_id
    assert event.organisation_id == manager_membership.organisation_id
    assert event.object_id == str(member_membership.user_id)


def test_it_deactivates_the_account_left_without_membership(manager_client, member_membership):
    manager_client.post(reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED)

    member_membership.user.refresh_from_db()
    assert not member_membership.user.is_active


def test_it_keeps_the_account_of_a_member_of_another_organisation(
    manager_client, member_membership
):
    MembershipFactory(user=member_membership.user)

    manager_client.post(reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED)

    member_membership.user.refresh_from_db()
    assert member_membership.user.is_active


def test_it_moves_a_deactivated_member_to_former_members(manager_client, member_membership):
    manager_client.post(reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED)

    response = manager_client.get(reverse("organisations:members"))

    assert response.context["active_members"] == [response.context["active_members"][0]]
    assert [m.pk for m in response.context["former_members"]] == [member_membership.pk]
    today = date(timezone.localdate(), "j F Y")
    assert f"désactivé(e) le {today}" in response.content.decode()


def test_it_refuses_to_deactivate_oneself(manager_client, manager_membership):
    response = manager_client.post(
        reverse("organisations:deactivate", args=[manager_membership.pk]), CONFIRMED
    )

    assert response.url == reverse("organisations:members")
    assert _messages(response) == ["Vous ne pouvez pas vous désactiver vous-même."]
    manager_membership.refresh_from_db()
    assert manager_membership.ended_on is None
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_DEACTIVATED).exists()


def test_it_refuses_to_deactivate_twice(manager_client, member_membership):
    manager_client.post(reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED)
    manager_client.get(reverse("organisations:members"))  # shows, hence clears, the message

    response = manager_client.post(
        reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED
    )

    assert _messages(response) == ["Ce membre est déjà désactivé."]
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_DEACTIVATED).count() == 1


def test_it_lets_a_manager_deactivate_another_manager(manager_client, manager_membership):
    other_manager = MembershipFactory(organisation=manager_membership.organisation, manager=True)

    manager_client.post(reverse("organisations:deactivate", args=[other_manager.pk]), CONFIRMED)

    other_manager.refresh_from_db()
    assert other_manager.ended_on is not None


def test_it_keeps_the_last_manager(manager_membership):
    pilot = UserFactory(pilot=True)

    with pytest.raises(ValidationError, match="au moins un responsable"):
        membership_deactivate(membership=manager_membership, by=actor_of(pilot))

    manager_membership.refresh_from_db()
    assert manager_membership.ended_on is None
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_DEACTIVATED).exists()


def test_it_counts_only_active_managers_as_remaining(manager_membership):
    MembershipFactory(
        organisation=manager_membership.organisation,
        manager=True,
        ended_on=timezone.localdate(),
    )

    with pytest.raises(ValidationError, match="au moins un responsable"):
        membership_deactivate(membership=manager_membership, by=Actor(label="Pilotage"))

    assert Membership.objects.active().filter(role=Role.MANAGER).count() == 1


def test_it_refuses_deactivation_to_a_professional(member_client, organisation):
    colleague = MembershipFactory(organisation=organisation)

    response = member_client.post(
        reverse("organisations:deactivate", args=[colleague.pk]), CONFIRMED
    )

    assert response.status_code == 403
    colleague.refresh_from_db()
    assert colleague.ended_on is None


def test_it_resets_the_second_factor_of_a_member(
    manager_client, manager_membership, member_membership
):
    member = member_membership.user
    TOTPDeviceFactory(user=member)
    recovery_codes_regenerate(user=member, by=actor_of(member))

    response = manager_client.post(
        reverse("organisations:reset_second_factor", args=[member_membership.pk]), CONFIRMED
    )

    assert response.url == reverse("organisations:members")
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not StaticDevice.objects.filter(user=member).exists()
    event = AuditEvent.objects.get(action=AuditAction.SECOND_FACTOR_RESET)
    assert event.actor_id == manager_membership.user_id
    assert event.object_id == str(member.pk)


def test_a_reset_confirmed_again_changes_nothing_and_journals_nothing(
    manager_client, member_membership
):
    member = member_membership.user
    TOTPDeviceFactory(user=member)
    url = reverse("organisations:reset_second_factor", args=[member_membership.pk])
    manager_client.post(url, CONFIRMED)
    manager_client.get(reverse("organisations:members"))  # shows, hence clears, the message
    started = TOTPDeviceFactory(user=member, confirmed=False)  # the member enrols again
    member.refresh_from_db()
    stamp = member.security_stamp

    response = manager_client.post(url, CONFIRMED)

    assert response.url == reverse("organisations:members")
    name = member.get_full_name()
    assert _messages(response) == [
        f"Le second facteur de {name} est déjà réinitialisé : rien n'a été refait. "
        f"{name} en activera un nouveau à sa prochaine connexion."
    ]
    assert AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_RESET).count() == 1
    assert TOTPDevice.objects.filter(pk=started.pk).exists()
    member.refresh_from_db()
    assert member.security_stamp == stamp


def test_the_reset_page_says_when_nothing_is_left_to_reset(manager_client, member_membership):
    response = manager_client.get(
        reverse("organisations:reset_second_factor", args=[member_membership.pk])
    )

    assert response.url == reverse("organisations:members")
    name = member_membership.user.get_full_name()
    assert _messages(response) == [
        f"Le second facteur de {name} est déjà réinitialisé : rien n'a été refait. "
        f"{name} en activera un nouveau à sa prochaine connexion."
    ]
    assert not AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_RESET).exists()


def test_it_leaves_the_second_factor_of_a_pilot_member_to_the_operator(
    manager_client, organisation
):
    pilot = MembershipFactory(organisation=organisation, user=UserFactory(is_superuser=True))
    TOTPDeviceFactory(user=pilot.user)

    response = manager_client.post(
        reverse("organisations:reset_second_factor", args=[pilot.pk]), CONFIRMED
    )

    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert told == [
        "Le second facteur d'un compte de pilotage ne se réinitialise pas depuis une "
        "structure : adressez-vous à l'exploitant de la plateforme."
    ]
    assert TOTPDevice.objects.filter(user=pilot.user).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_RESET).exists()


def test_it_ends_the_member_session_at_its_next_request(manager_client, member_membership):
    member_client = log_in(Client(), member_membership.user, member_membership)
    assert member_client.get(reverse("www:home")).status_code == 200

    manager_client.post(
        reverse("organisations:reset_second_factor", args=[member_membership.pk]), CONFIRMED
    )
    response = member_client.get(reverse("www:home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in member_client.session


def test_it_asks_the_manager_second_factor_again_before_a_reset(
    manager_client, member_membership, settings
):
    TOTPDeviceFactory(user=member_membership.user)
    session = manager_client.session
    session["relais_second_factor_at"] -= settings.RELAIS_RECENT_SECOND_FACTOR.total_seconds() + 1
    session.save()

    response = manager_client.post(
        reverse("organisations:reset_second_factor", args=[member_membership.pk]), CONFIRMED
    )

    assert response.url.startswith(reverse("accounts:second_factor"))
    assert TOTPDevice.objects.filter(user=member_membership.user).exists()


def test_it_leaves_the_second_factor_of_a_former_member_alone(manager_client, organisation):
    today = timezone.localdate()
    former = MembershipFactory(
        organisation=organisation,
        started_on=today - timedelta(days=400),
        ended_on=today - timedelta(days=30),
    )
    MembershipFactory(user=former.user)
    TOTPDeviceFactory(user=former.user)

    response = manager_client.post(
        reverse("organisations:reset_second_factor", args=[former.pk]), CONFIRMED
    )

    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=former.user).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_RESET).exists()


@pytest.mark.parametrize("name", ["organisations:deactivate", "organisations:reset_second_factor"])
def test_it_hides_members_of_another_organisation(outsider_client, member_membership, name):
    TOTPDeviceFactory(user=member_membership.user)

    response = outsider_client.post(reverse(name, args=[member_membership.pk]), CONFIRMED)

    assert response.status_code == 404
    member_membership.refresh_from_db()
    assert member_membership.ended_on is None
    assert TOTPDevice.objects.filter(user=member_membership.user).exists()
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.MEMBER_DEACTIVATED, AuditAction.SECOND_FACTOR_RESET]
    ).exists()


def test_it_hides_invitations_of_another_organisation(outsider_client, manager_membership):
    invitation, _ = invitation_create(
        organisation=manager_membership.organisation,
        email="nadia.haddad@exemple.test",
        first_name="Nadia",
        last_name="Haddad",
        role=Role.PROFESSIONAL,
        profession="es",
        invited_by=manager_membership.user,
        by=actor_of(manager_membership.user),
    )

    response = outsider_client.post(
        reverse("organisations:revoke_invitation", args=[invitation.pk])
    )

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


@needs_row_locks
def test_two_managers_deactivating_each_other_leave_one(transactional_db, manager_membership):
    """The first deactivation holds the organisation until it commits; the second waits
    for it, then finds no other manager left."""
    other = MembershipFactory(organisation=manager_membership.organisation, manager=True)

    with (
        meanwhile(
            lambda: membership_deactivate(membership=other, by=actor_of(manager_membership.user))
        ),
        pytest.raises(ValidationError, match="au moins un responsable"),
    ):
        membership_deactivate(membership=manager_membership, by=actor_of(other.user))

    assert list(Membership.objects.active().filter(role=Role.MANAGER)) == [manager_membership]
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_DEACTIVATED).count() == 1


@needs_row_locks
def test_a_member_deactivated_twice_at_once_is_deactivated_once(
    transactional_db, manager_membership, member_membership
):
    other = MembershipFactory(organisation=manager_membership.organisation, manager=True)

    with (
        meanwhile(
            lambda: membership_deactivate(
                membership=Membership.objects.get(pk=member_membership.pk),
                by=actor_of(other.user),
            )
        ),
        pytest.raises(ValidationError, match="déjà désactivé"),
    ):
        membership_deactivate(membership=member_membership, by=actor_of(manager_membership.user))

    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_DEACTIVATED).count() == 1


@needs_row_locks
def test_a_second_factor_reset_twice_at_once_is_reset_once(
    transactional_db, manager_membership, member_membership
):
    TOTPDeviceFactory(user=member_membership.user)
    other = MembershipFactory(organisation=manager_membership.organisation, manager=True)

    with (
        meanwhile(
            lambda: membership_second_factor_reset(
                membership=Membership.objects.select_related("user").get(pk=member_membership.pk),
                by=actor_of(other.user),
            )
        ),
        pytest.raises(ValidationError, match="déjà réinitialisé"),
    ):
        membership_second_factor_reset(
            membership=member_membership, by=actor_of(manager_membership.user)
        )

    assert AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_RESET).count() == 1
