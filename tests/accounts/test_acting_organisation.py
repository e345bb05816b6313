import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.accounts.sessions import LOGIN_AT, MEMBERSHIP_ID, SEEN_AT
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_accept, current_version
from tests.conftest import log_in, totp_now
from tests.factories import MembershipFactory, OrganisationFactory, TOTPDeviceFactory

pytestmark = pytest.mark.django_db

# What the confirmation page's « Confirmer » sends.
CONFIRMED = {"confirme": "oui"}


@pytest.fixture
def two_memberships():
    first = MembershipFactory(organisation=OrganisationFactory(name="CCAS de Calais"))
    second = MembershipFactory(
        user=first.user, organisation=OrganisationFactory(name="Centre social des Fontinettes")
    )
    return first, second


def _through_second_factor(client, user):
    # The charter step is covered elsewhere: accept it up front, as `log_in` does.
    charter_accept(user_id=user.pk, version=current_version(), by=SYSTEM)
    device = TOTPDeviceFactory(user=user)
    client.force_login(user, backend="relais.accounts.backends.AccountBackend")
    session = client.session
    session[LOGIN_AT] = session[SEEN_AT] = time.time()
    session.save()
    return client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})


def test_it_asks_a_professional_of_two_organisations_to_choose(client, two_memberships):
    first, _ = two_memberships

    response = _through_second_factor(client, first.user)

    assert response.url == reverse("accounts:choose_organisation")
    assert MEMBERSHIP_ID not in client.session
    page = client.get(response.url)
    assert "CCAS de Calais" in page.content.decode()
    assert "Centre social des Fontinettes" in page.content.decode()


def test_it_keeps_asking_until_an_organisation_is_chosen(client, two_memberships):
    first, _ = two_memberships
    _through_second_factor(client, first.user)

    response = client.get(reverse("organisations:members"))

    assert response.url == reverse("accounts:choose_organisation")


def test_it_records_the_choice_and_shows_it_in_the_header(client, two_memberships):
    first, second = two_memberships
    _through_second_factor(client, first.user)

    response = client.post(reverse("accounts:choose_organisation"), {"membership": second.pk})

    assert response.url == reverse("www:home")
    assert client.session[MEMBERSHIP_ID] == second.pk
    event = AuditEvent.objects.get(action=AuditAction.ORGANISATION_SWITCHED)
    assert event.organisation_id == second.organisation_id
    assert event.organisation_label == "Centre social des Fontinettes"
    assert event.details == {"vers": "Centre social des Fontinettes", "depuis": None}
    home = client.get(reverse("www:home")).content.decode()
    header = home.split("<header", 1)[1].split("</header>", 1)[0]
    assert "Centre social des Fontinettes" in header
    assert "CCAS de Calais" not in header


def test_it_records_where_a_switch_comes_from(client, two_memberships):
    first, second = two_memberships
    log_in(client, first.user, first)

    client.post(reverse("accounts:choose_organisation"), {"membership": second.pk})

    event = AuditEvent.objects.get(action=AuditAction.ORGANISATION_SWITCHED)
    assert event.details == {"vers": "Centre social des Fontinettes", "depuis": "CCAS de Calais"}


def test_it_refuses_to_act_for_an_organisation_of_someone_else(client, two_memberships):
    first, _ = two_memberships
    stranger = MembershipFactory()
    log_in(client, first.user, first)

    response = client.post(reverse("accounts:choose_organisation"), {"membership": stranger.pk})

    assert response.status_code == 400
    assert "membership" in response.context["form"].errors
    assert client.session[MEMBERSHIP_ID] == first.pk
    assert not AuditEvent.objects.filter(action=AuditAction.ORGANISATION_SWITCHED).exists()


def test_it_ends_the_session_of_a_deactivated_membership_at_the_next_request(
    member_client, member_membership
):
    member_membership.ended_on = timezone.localdate()
    member_membership.save()

    response = member_client.get(reverse("www:home"))

    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert "_auth_user_id" not in member_client.session
    login_page = member_client.get(response.url).content.decode()
    assert "Votre accès à cette structure a été désactivé." in login_page


def _session_ends(membership):
    """The SESSION_EXPIRED rows of the member: one per session ended."""
    return AuditEvent.objects.filter(
        action=AuditAction.SESSION_EXPIRED, actor_id=membership.user_id
    )


def test_it_ends_the_session_when_a_manager_deactivates_the_member(
    manager_client, member_membership
):
    member_client = log_in(Client(), member_membership.user, member_membership)

    manager_client.post(reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED)
    response = member_client.get(reverse("www:home"))

    # Their only membership ended, so the account is deactivated: no longer a user at all.
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not response.wsgi_request.user.is_authenticated
    member_membership.user.refresh_from_db()
    assert not member_membership.user.is_active


def test_it_journals_the_end_of_the_session_of_a_deactivated_account(
    manager_client, member_membership
):
    member_client = log_in(Client(), member_membership.user, member_membership)
    manager_client.post(reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED)

    response = member_client.get(reverse("www:home"), follow=True)
    member_client.get(reverse("www:home"))

    ended = _session_ends(member_membership).get()
    assert (ended.actor_label, ended.organisation_id, ended.ip_address) == (
        member_membership.user.get_full_name(),
        None,
        "127.0.0.1",
    )
    assert "_auth_user_id" not in member_client.session
    assert "Votre accès à cette structure a été désactivé." in response.content.decode()


def test_it_journals_the_end_of_the_session_of_a_deactivated_membership(
    manager_client, member_membership
):
    MembershipFactory(user=member_membership.user)
    member_client = log_in(Client(), member_membership.user, member_membership)
    manager_client.post(reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED)

    member_client.get(reverse("www:home"))
    member_client.get(reverse("www:home"))

    assert _session_ends(member_membership).count() == 1


def test_it_ends_the_session_of_a_member_who_keeps_another_organisation(
    manager_client, member_membership
):
    MembershipFactory(user=member_membership.user)
    member_client = log_in(Client(), member_membership.user, member_membership)

    manager_client.post(reverse("organisations:deactivate", args=[member_membership.pk]), CONFIRMED)
    response = member_client.get(reverse("www:home"))

    assert response.url == reverse("accounts:login")
    assert "_auth_user_id" not in member_client.session
    member_membership.user.refresh_from_db()
    assert member_membership.user.is_active


def test_it_keeps_the_session_while_another_membership_ends(client, two_memberships):
    first, second = two_memberships
    log_in(client, first.user, first)
    second.ended_on = timezone.localdate()
    second.save()

    response = client.get(reverse("www:home"))

    assert response.status_code == 200
