"""The break-glass banner and message say when the access ends with its day when that is
not today, and do not double the full stop that ends the reason."""

import datetime
import html

import pytest
from django.template import defaulttags
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.consent.models import BreakGlassGrant
from relais.persons.models import Person
from relais.www.templatetags.dates import date as date_format
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import BreakGlassGrantFactory, PersonFactory

pytestmark = pytest.mark.django_db

# Tomorrow, 00:43, local time: the end of a break-glass opened at 20:43.
ENDS = datetime.time(0, 43)


@pytest.fixture
def outsider():
    # Started well before any day the tests take for today.
    return MembershipFactory(started_on=timezone.localdate() - datetime.timedelta(days=30))


@pytest.fixture
def outsider_client(outsider):
    return log_in(Client(), outsider.user, outsider)


def _ending(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, ENDS, tzinfo=timezone.get_current_timezone())


def _today_is(monkeypatch, day: datetime.date) -> None:
    """The day the pages take for today (`{% now %}` and `timezone.localdate`)."""
    zone = timezone.get_current_timezone()

    class OnThatDay(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.combine(day, datetime.time(20, 43), tzinfo=tz or zone)

    monkeypatch.setattr(defaulttags, "datetime", OnThatDay)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


def _banner(client, person) -> str:
    page = html.unescape(client.get(reverse("persons:file", args=[person.pk])).content.decode())
    return page[page.index("Accès exceptionnel, en lecture seule") :]


def _granted(outsider, *, ends: datetime.datetime, reason: str) -> Person:
    person = PersonFactory()
    BreakGlassGrantFactory(
        person=person,
        professional=outsider.user,
        organisation=outsider.organisation,
        expires_at=ends,
        reason=reason,
    )
    return person


def test_an_end_on_another_day_is_given_with_its_date(monkeypatch, outsider, outsider_client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    person = _granted(outsider, ends=_ending(tomorrow), reason="Hébergement d'urgence ce soir")
    _today_is(monkeypatch, tomorrow - datetime.timedelta(days=1))

    banner = _banner(outsider_client, person)

    day = date_format(tomorrow, "j F")
    assert banner.startswith(f"Accès exceptionnel, en lecture seule, jusqu'au {day} à 00:43</h2>")


def test_an_end_today_is_given_with_its_time_only(monkeypatch, outsider, outsider_client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    person = _granted(outsider, ends=_ending(tomorrow), reason="Hébergement d'urgence ce soir")
    _today_is(monkeypatch, tomorrow)

    banner = _banner(outsider_client, person)

    assert banner.startswith("Accès exceptionnel, en lecture seule, jusqu'à 00:43</h2>")


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("Hébergement d'urgence ce soir, besoin des coordonnées.", "des coordonnées. La personne"),
        ("Hébergement d'urgence ce soir, besoin des coordonnées", "des coordonnées. La personne"),
        ("Hébergement d'urgence ce soir : où dort-elle ?", "dort-elle ? La personne"),
    ],
)
def test_the_reason_ends_with_one_full_stop(outsider, outsider_client, reason, shown):
    ends = timezone.now() + datetime.timedelta(hours=4)
    person = _granted(outsider, ends=ends, reason=reason)

    banner = _banner(outsider_client, person)

    assert shown in banner
    assert ".." not in banner


def test_the_message_after_opening_gives_the_day_of_an_end_tomorrow(
    monkeypatch, settings, outsider, outsider_client
):
    person = PersonFactory(
        birth_name="Lefèvre", first_names="Élodie", birth_date=datetime.date(1985, 3, 12)
    )
    day_before_the_end = timezone.localtime(
        timezone.now() + settings.RELAIS_BREAK_GLASS_DURATION
    ).date() - datetime.timedelta(days=1)
    _today_is(monkeypatch, day_before_the_end)

    response = outsider_client.post(
        reverse("persons:break_glass"),
        {
            "birth_name": "LEFEVRE",
            "first_names": "elodie",
            "birth_date": "1985-03-12",
            "reason": "Hébergement d'urgence ce soir, besoin des coordonnées.",
        },
        follow=True,
    )

    grant = BreakGlassGrant.objects.get(person=person)
    end = timezone.localtime(grant.expires_at)
    page = html.unescape(response.content.decode())
    assert f"Accès exceptionnel ouvert en lecture jusqu'au {date_format(end, 'j F')}" in page
    assert f" à {end:%H:%M}. La personne et votre responsable en sont informés." in page
