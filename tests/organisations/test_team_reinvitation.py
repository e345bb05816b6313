"""A former member gets their access back through a new invitation: the team page offers
it next to each of them, with the invitation form filled in as they left."""

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.accounts.services import actor_of
from relais.organisations.models import Membership, Profession, Role
from relais.organisations.services import invitation_create, membership_deactivate
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db

REINVITE = "organisations:reinvite"


def _text(response) -> str:
    return " ".join(response.content.decode().replace("&#x27;", "'").split())


@pytest.fixture
def former(manager_membership):
    """A reception agent the manager deactivated: their account is deactivated with it."""
    membership = MembershipFactory(
        organisation=manager_membership.organisation,
        role=Role.RECEPTION,
        profession=Profession.RECEPTION_AGENT,
    )
    membership_deactivate(membership=membership, by=actor_of(manager_membership.user))
    return membership


def test_the_team_page_offers_to_reinvite_each_former_member(manager_client, former):
    response = manager_client.get(reverse("organisations:members"))

    text = _text(response)
    url = reverse(REINVITE, args=[former.pk])
    assert f'<a href="{url}#inviter"' in text
    assert f'Réinviter<span class="fr-sr-only"> {former.user.get_full_name()}</span>' in text
    assert "Pour rendre l'accès à un ancien membre, réinvitez-le" in text


def test_the_reinvitation_fills_the_form_as_the_member_left(manager_client, former):
    response = manager_client.get(reverse(REINVITE, args=[former.pk]))

    assert response.status_code == 200
    assert response.context["form"].initial == {
        "email": former.user.email,
        "first_name": former.user.first_name,
        "last_name": former.user.last_name,
        "role": Role.RECEPTION,
        "profession": Profession.RECEPTION_AGENT,
    }
    text = _text(response)
    assert f'value="{former.user.email}"' in text
    assert f"Réinviter {former.user.get_full_name()}" in text
    assert f'action="{reverse("organisations:invite")}"' in text


def test_the_filled_form_gives_the_access_back_with_the_same_role(
    manager_client, former, mailoutbox, django_capture_on_commit_callbacks
):
    form = manager_client.get(reverse(REINVITE, args=[former.pk])).context["form"]

    with django_capture_on_commit_callbacks(execute=True):
        sent = manager_client.post(reverse("organisations:invite"), form.initial)
    link = re.search(r"https?://\S+/invitation/\S+", mailoutbox[0].body)[0]
    accepted = Client().post(urlparse(link).path, {"password": PASSWORD})

    assert sent.url == reverse("organisations:members")
    assert mailoutbox[0].to == [former.user.email]
    assert accepted.status_code == 302
    former.user.refresh_from_db()
    assert former.user.is_active
    back = Membership.objects.active().get(user=former.user, organisation=former.organisation)
    assert (back.role, back.profession) == (Role.RECEPTION, Profession.RECEPTION_AGENT)


def test_it_offers_no_reinvitation_to_a_former_member_who_is_back(
    manager_client, manager_membership, former
):
    MembershipFactory(organisation=manager_membership.organisation, user=former.user)

    response = manager_client.get(reverse("organisations:members"))

    assert reverse(REINVITE, args=[former.pk]) not in response.content.decode()


def test_it_offers_one_reinvitation_to_a_member_who_left_twice(
    manager_client, manager_membership, former
):
    today = timezone.localdate()
    earlier = MembershipFactory(
        organisation=manager_membership.organisation,
        user=former.user,
        started_on=today - timedelta(days=400),
        ended_on=today - timedelta(days=300),
    )

    content = manager_client.get(reverse("organisations:members")).content.decode()

    assert reverse(REINVITE, args=[former.pk]) in content
    assert reverse(REINVITE, args=[earlier.pk]) not in content


def test_it_says_an_invitation_is_already_pending_instead(
    manager_client, manager_membership, former
):
    invitation_create(
        organisation=manager_membership.organisation,
        email=former.user.email,
        first_name=former.user.first_name,
        last_name=former.user.last_name,
        role=former.role,
        profession=former.profession,
        invited_by=manager_membership.user,
        by=actor_of(manager_membership.user),
    )

    response = manager_client.get(reverse("organisations:members"))

    assert reverse(REINVITE, args=[former.pk]) not in response.content.decode()
    assert "invitation envoyée, en attente" in _text(response)


def test_it_reinvites_only_a_former_member(manager_client, member_membership):
    response = manager_client.get(reverse(REINVITE, args=[member_membership.pk]))

    assert response.status_code == 404


def test_it_hides_another_organisations_former_member(outsider_client, former):
    response = outsider_client.get(reverse(REINVITE, args=[former.pk]))

    assert response.status_code == 404
    assert former.user.email not in response.content.decode()


def test_it_refuses_the_reinvitation_to_a_professional(member_client, former):
    response = member_client.get(reverse(REINVITE, args=[former.pk]))

    assert response.status_code == 403
