import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.consent.charter import current_matrix, current_version
from relais.consent.models import CharterAcceptance
from tests.conftest import log_in
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_client(client):
    """A verified professional who has not accepted the charter yet."""
    membership = MembershipFactory()
    log_in(client, membership.user, device=TOTPDeviceFactory(user=membership.user))
    session = client.session
    session["relais_membership_id"] = membership.pk
    session.save()
    return client, membership


def test_it_sends_a_professional_to_the_charter_before_any_page(fresh_client):
    client, _ = fresh_client

    response = client.get(reverse("persons:list"))

    assert response.status_code == 302
    assert response.url == reverse("consent:charter") + "?next=%2Fpersonnes%2F"


def test_it_returns_to_the_asked_page_once_the_charter_is_accepted(fresh_client):
    client, membership = fresh_client

    response = client.post(reverse("consent:charter"), {"next": "/personnes/"})

    assert response.url == "/personnes/"
    assert CharterAcceptance.objects.filter(user=membership.user).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CHARTER_ACCEPTED).count() == 1
    assert client.get(reverse("persons:list")).status_code == 200


@pytest.mark.parametrize(
    "next_page", ["https://exemple.test/", "//exemple.test/", "on", "persons:list", "journal/"]
)
def test_it_goes_home_for_a_next_page_that_is_not_a_path_of_this_site(fresh_client, next_page):
    client, membership = fresh_client

    response = client.post(reverse("consent:charter"), {"next": next_page})

    assert response.status_code == 302
    assert response.url == reverse("www:home")
    assert CharterAcceptance.objects.filter(user=membership.user).count() == 1


def test_it_asks_again_when_the_pilot_publishes_a_new_version(
    member_membership, django_capture_on_commit_callbacks
):
    member = log_in(Client(), member_membership.user, member_membership)
    pilot = log_in(Client(), UserFactory(pilot=True))
    assert member.get(reverse("persons:list")).status_code == 200
    levels = {f"{p}__{c}": level for (k, p, c), level in current_matrix().items() if k == "ccas"}

    with django_capture_on_commit_callbacks(execute=True):
        response = pilot.post(
            reverse("consent:charter_edit"), {"type": "ccas", "summary": "Mise à jour", **levels}
        )

    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.CHARTER_PUBLISHED).exists()
    assert member.get(reverse("persons:list")).url.startswith(reverse("consent:charter"))


def test_it_refuses_a_publication_without_summary_and_changes_nothing(pilot_client):
    before = current_version().number

    response = pilot_client.post(reverse("consent:charter_edit"), {"type": "ccas"})

    assert response.status_code == 200
    assert "Décrivez en une phrase ce qui change" in response.content.decode()
    assert current_version().number == before


def test_it_refuses_a_summary_with_a_nul_character_and_changes_nothing(pilot_client):
    before = current_version().number
    levels = {f"{p}__{c}": level for (k, p, c), level in current_matrix().items() if k == "ccas"}

    response = pilot_client.post(
        reverse("consent:charter_edit"), {"type": "ccas", "summary": "Mise\x00à jour", **levels}
    )

    assert response.status_code == 200
    assert "caractère invisible interdit" in response.content.decode()
    assert current_version().number == before
