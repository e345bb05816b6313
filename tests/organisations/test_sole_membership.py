"""A professional with a single active membership acts for it without being asked, even
when the session left the second factor by another page than « Continuer »."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.accounts.sessions import MEMBERSHIP_ID
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_accept, current_version
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

SEVERAL = "Vous êtes rattaché(e) à plusieurs structures"


def _text(response) -> str:
    return " ".join(response.content.decode().replace("&#x27;", "'").split())


def _verified_without_organisation(user) -> Client:
    """Past the second factor, no organisation chosen: as on the new recovery codes'
    page, before « Continuer »."""
    charter_accept(user_id=user.pk, version=current_version(), by=SYSTEM)
    client = log_in(Client(), user)
    assert MEMBERSHIP_ID not in client.session
    return client


@pytest.fixture
def sole():
    return MembershipFactory(organisation=OrganisationFactory(name="CCAS de Calais"))


def test_a_menu_link_from_the_recovery_codes_acts_for_the_sole_organisation(sole):
    client = _verified_without_organisation(sole.user)
    assert client.get(reverse("accounts:recovery_codes")).status_code == 200

    response = client.get(reverse("www:home"))

    assert response.status_code == 200
    assert client.session[MEMBERSHIP_ID] == sole.pk
    header = response.content.decode().split("<header", 1)[1].split("</header>", 1)[0]
    assert "CCAS de Calais" in header
    event = AuditEvent.objects.get(action=AuditAction.ORGANISATION_SWITCHED)
    assert event.actor_id == sole.user_id
    assert event.organisation_id == sole.organisation_id
    assert event.details == {"vers": "CCAS de Calais", "depuis": None}


def test_the_manager_of_a_sole_organisation_reaches_the_team_page(organisation):
    manager = MembershipFactory(organisation=organisation, manager=True)
    client = _verified_without_organisation(manager.user)

    response = client.get(reverse("organisations:members"))

    assert response.status_code == 200
    assert client.session[MEMBERSHIP_ID] == manager.pk


def test_a_former_membership_leaves_the_active_one_alone_to_act_for(sole):
    today = timezone.localdate()
    MembershipFactory(
        user=sole.user, started_on=today - timedelta(days=400), ended_on=today - timedelta(days=1)
    )
    client = _verified_without_organisation(sole.user)

    assert client.get(reverse("www:home")).status_code == 200
    assert client.session[MEMBERSHIP_ID] == sole.pk


def test_a_professional_of_two_organisations_still_chooses(sole):
    MembershipFactory(user=sole.user)
    client = _verified_without_organisation(sole.user)

    response = client.get(reverse("www:home"))

    assert response.url == reverse("accounts:choose_organisation")
    assert MEMBERSHIP_ID not in client.session
    assert not AuditEvent.objects.filter(action=AuditAction.ORGANISATION_SWITCHED).exists()
    assert SEVERAL in _text(client.get(response.url))


def test_a_pilot_without_membership_is_not_sent_to_choose():
    client = log_in(Client(), UserFactory(pilot=True))

    response = client.get(reverse("organisations:pilot_list"))

    assert response.status_code == 200
    assert MEMBERSHIP_ID not in client.session


def test_the_choice_page_names_the_sole_organisation_and_acts_for_it(sole):
    client = _verified_without_organisation(sole.user)

    page = client.get(reverse("accounts:choose_organisation"))
    response = client.post(reverse("accounts:choose_organisation"), {"membership": sole.pk})

    text = _text(page)
    assert SEVERAL not in text
    assert "Vous êtes rattaché(e) à une seule structure : CCAS de Calais" in text
    assert f'<input type="hidden" name="membership" value="{sole.pk}">' in text
    assert response.url == reverse("www:home")
    assert client.session[MEMBERSHIP_ID] == sole.pk


def test_the_choice_page_of_the_member_acting_for_their_sole_organisation(sole):
    client = log_in(Client(), sole.user, sole)

    text = _text(client.get(reverse("accounts:choose_organisation")))

    assert SEVERAL not in text
    assert "une seule structure : CCAS de Calais" in text
