import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from relais.accounts.middleware import NOT_SAVED_LOGGED_OUT, NOT_SAVED_SESSION_EXPIRED
from relais.accounts.sessions import LOGIN_AT, SEEN_AT
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.persons.models import Note
from tests.conftest import totp_now
from tests.factories import PASSWORD, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _shift(client, **ages):
    """Pretend the session's timestamps were written `ages` seconds ago."""
    session = client.session
    now = time.time()
    for key, age in ages.items():
        session[key] = now - age
    session.save()


def _assert_logged_out_to_login(client, response, path):
    assert response.status_code == 302
    target = urlparse(response.url)
    assert target.path == reverse("accounts:login")
    assert parse_qs(target.query)["next"] == [path]
    assert "_auth_user_id" not in client.session


def test_it_keeps_a_session_used_within_the_limits(member_client, settings):
    _shift(
        member_client,
        **{
            SEEN_AT: settings.RELAIS_IDLE_TIMEOUT.total_seconds() - 60,
            LOGIN_AT: settings.RELAIS_ABSOLUTE_TIMEOUT.total_seconds() - 60,
        },
    )

    response = member_client.get(reverse("www:home"))

    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED).exists()


def test_it_ends_an_idle_session(member_client, member_membership, settings):
    _shift(member_client, **{SEEN_AT: settings.RELAIS_IDLE_TIMEOUT.total_seconds() + 1})

    response = member_client.get(reverse("organisations:members"))

    _assert_logged_out_to_login(member_client, response, reverse("organisations:members"))
    event = AuditEvent.objects.get(action=AuditAction.SESSION_EXPIRED)
    assert event.actor_id == member_membership.user_id


def test_it_ends_a_session_past_its_absolute_lifetime(member_client, member_membership, settings):
    _shift(
        member_client,
        **{SEEN_AT: 0, LOGIN_AT: settings.RELAIS_ABSOLUTE_TIMEOUT.total_seconds() + 1},
    )

    response = member_client.get(reverse("www:home"))

    _assert_logged_out_to_login(member_client, response, reverse("www:home"))
    event = AuditEvent.objects.get(action=AuditAction.SESSION_EXPIRED)
    assert event.actor_id == member_membership.user_id


def test_it_follows_the_configured_idle_timeout(member_client, settings):
    settings.RELAIS_IDLE_TIMEOUT = settings.RELAIS_IDLE_TIMEOUT / 2
    _shift(member_client, **{SEEN_AT: settings.RELAIS_IDLE_TIMEOUT.total_seconds() + 1})

    response = member_client.get(reverse("www:home"))

    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED).count() == 1


def test_it_ends_a_session_that_lacks_its_timestamps(client, member_membership):
    client.force_login(member_membership.user)

    response = client.get(reverse("www:home"))

    _assert_logged_out_to_login(client, response, reverse("www:home"))
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED).count() == 1


def test_it_tells_the_professional_why_the_session_ended(member_client, settings):
    _shift(member_client, **{SEEN_AT: settings.RELAIS_IDLE_TIMEOUT.total_seconds() + 1})

    response = member_client.get(reverse("www:home"), follow=True)

    assert "Votre session a expiré." in response.content.decode()


def test_it_refreshes_the_last_seen_time_of_an_active_session(member_client):
    _shift(member_client, **{SEEN_AT: 5 * 60})
    before = member_client.session[SEEN_AT]

    member_client.get(reverse("www:home"))

    assert member_client.session[SEEN_AT] > before + 4 * 60


def _next_of(response) -> list[str]:
    target = urlparse(response.url)
    assert target.path == reverse("accounts:login")
    return parse_qs(target.query).get("next", [])


def _said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def followed(member_membership):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=member_membership.organisation)
    return person


def _notes_page(person) -> str:
    return reverse("persons:section", args=[person.pk, "notes"])


def _note_sent_after_the_timeout(client, person, settings, **headers):
    _shift(client, **{SEEN_AT: settings.RELAIS_IDLE_TIMEOUT.total_seconds() + 1})
    return client.post(
        reverse("persons:note_add", args=[person.pk]),
        {"text": "Entretien de ce matin : point sur les droits.", "visibility": "organisation"},
        **headers,
    )


def test_a_form_sent_after_the_timeout_comes_back_to_the_page_that_held_it(
    member_client, followed, settings
):
    response = _note_sent_after_the_timeout(
        member_client, followed, settings, HTTP_REFERER=f"http://testserver{_notes_page(followed)}"
    )

    assert _next_of(response) == [_notes_page(followed)]
    assert _said(response) == [NOT_SAVED_SESSION_EXPIRED]
    assert "_auth_user_id" not in member_client.session
    assert not Note.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED).count() == 1


def test_the_login_page_says_that_what_was_sent_is_not_saved(member_client, followed, settings):
    response = _note_sent_after_the_timeout(
        member_client, followed, settings, HTTP_REFERER=f"http://testserver{_notes_page(followed)}"
    )

    page = member_client.get(response.url).content.decode()

    assert "ce que vous veniez d&#x27;envoyer n&#x27;a pas été enregistré" in page
    assert "saisissez-le de nouveau" in page


def test_after_logging_in_again_the_professional_is_back_on_the_form_page(
    member_client, member_membership, followed, settings
):
    device = TOTPDeviceFactory(user=member_membership.user)
    expired = _note_sent_after_the_timeout(
        member_client, followed, settings, HTTP_REFERER=f"http://testserver{_notes_page(followed)}"
    )
    member_client.get(expired.url)
    member_client.post(
        reverse("accounts:login"), {"email": member_membership.user.email, "password": PASSWORD}
    )

    verified = member_client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})

    assert verified.url == _notes_page(followed)
    assert member_client.get(verified.url).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_REFERER": "https://ailleurs.example.org/personnes/1/rubrique/notes/"}],
    ids=["no page", "another site"],
)
def test_without_a_page_of_this_site_to_come_back_to_the_login_leads_home(
    member_client, followed, settings, headers
):
    response = _note_sent_after_the_timeout(member_client, followed, settings, **headers)

    assert _next_of(response) == []
    assert _said(response) == [NOT_SAVED_SESSION_EXPIRED]


def test_a_page_asked_after_the_timeout_is_asked_again_with_its_query(member_client, settings):
    _shift(member_client, **{SEEN_AT: settings.RELAIS_IDLE_TIMEOUT.total_seconds() + 1})
    path = f"{reverse('persons:list')}?page=2"

    response = member_client.get(path)

    assert _next_of(response) == [path]
    assert _said(response) == ["Votre session a expiré. Reconnectez-vous pour continuer."]


def test_a_form_sent_without_a_session_comes_back_to_its_page_too(followed):
    """The session cookie gone (deleted, or the session ended elsewhere): Django's login
    rule alone would send back to the address of the form, which answers GET with 405."""
    response = Client().post(
        reverse("persons:note_add", args=[followed.pk]),
        {"text": "Une note"},
        HTTP_REFERER=f"http://testserver{_notes_page(followed)}",
    )

    assert _next_of(response) == [_notes_page(followed)]
    assert _said(response) == [NOT_SAVED_LOGGED_OUT]
    assert not Note.objects.exists()


def test_a_page_asked_without_a_session_keeps_djangos_way(client):
    response = client.get(f"{reverse('persons:list')}?page=2")

    assert _next_of(response) == [f"{reverse('persons:list')}?page=2"]
    assert _said(response) == []
