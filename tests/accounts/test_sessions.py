import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from relais.accounts.sessions import LOGIN_AT, SEEN_AT
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent

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
