"""The database sessions' store: what Django's own gives back, read by one statement."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from relais.accounts.session_store import SessionStore

pytestmark = pytest.mark.django_db


def _saved(*, expires_in: timedelta | None = None) -> SessionStore:
    """A saved session holding one value; `expires_in` moves its expiry to now + that."""
    session = SessionStore()
    session["organisation"] = 7
    session.save()
    if expires_in is not None:
        Session.objects.filter(session_key=session.session_key).update(
            expire_date=timezone.now() + expires_in
        )
    return session


def test_it_reads_back_what_was_saved():
    session = _saved()

    again = SessionStore(session.session_key)

    assert dict(again.items()) == {"organisation": 7}
    assert again.session_key == session.session_key


def test_an_unknown_key_reads_as_an_empty_session_with_no_key():
    session = SessionStore("k" * 32)

    assert dict(session.items()) == {}
    assert session.session_key is None


def test_an_expired_session_reads_as_empty():
    session = _saved(expires_in=timedelta(seconds=-1))

    again = SessionStore(session.session_key)

    assert dict(again.items()) == {}
    assert again.session_key is None


def test_it_reads_a_session_that_expires_in_a_second():
    session = _saved(expires_in=timedelta(seconds=1))

    assert SessionStore(session.session_key)["organisation"] == 7


def test_a_deleted_session_is_gone_at_the_next_read():
    session = _saved()

    SessionStore(session.session_key).delete()

    assert dict(SessionStore(session.session_key).items()) == {}


def test_the_nightly_clearsessions_removes_expired_sessions_only():
    _saved(expires_in=timedelta(seconds=-1))
    live = _saved()

    call_command("clearsessions")

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
