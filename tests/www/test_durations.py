"""Durations the pages state follow the settings that set them."""

from datetime import timedelta

import pytest
from django.urls import reverse

from relais.www.durations import said
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (timedelta(hours=4), "4 heures"),
        (timedelta(hours=1), "1 heure"),
        (timedelta(hours=72), "72 heures"),
        (timedelta(minutes=10), "10 minutes"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(minutes=1), "1 minute"),
    ],
)
def test_it_says_a_duration_in_whole_hours_or_in_minutes(duration, words):
    assert said(duration) == words


def test_the_break_glass_pages_state_the_length_the_settings_give(
    member_client, organisation, settings
):
    settings.RELAIS_BREAK_GLASS_DURATION = timedelta(hours=2)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)

    consents = member_client.get(reverse("persons:consents", args=[person.pk]))

    assert "en lecture pendant 2 heures" in consents.content.decode()
    assert "4 heures" not in consents.content.decode()


def test_the_team_page_states_the_invitations_validity_the_settings_give(manager_client, settings):
    settings.RELAIS_INVITATION_VALIDITY = timedelta(hours=48)

    page = manager_client.get(reverse("organisations:members"))

    assert "valable 48 heures" in page.content.decode()
