"""Helpers shared by the tests of the person's space (tests/portal and tests/www/portal)."""

import time
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from relais.audit.context import Actor
from relais.notifications import sms
from relais.portal.models import PersonAccount
from relais.portal.services import login_code_send
from relais.portal.sessions import person_session_start

VISITOR = Actor(label="La personne, depuis son espace personnel", ip_address="203.0.113.7")


def committed():
    """Runs the callbacks the code registered with `transaction.on_commit` when the block
    ends, as the commit of a real request does (a test's transaction never commits)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def ask_login_code(identifier: str, by: Actor = VISITOR) -> None:
    """Ask for a login code; the immediate task backend of the tests runs the sending task
    at once."""
    login_code_send(identifier=identifier, by=by)


def run_held_tasks() -> None:
    """Run the tasks waiting in the database's queue, in the worker's order, with the
    arguments stored there, and mark them done, as `db_worker` does (the worker itself
    would close the connection holding the test's transaction)."""
    for held in DBTaskResult.objects.ready():
        result = held.task_result
        held.set_successful(held.task.call(*result.args, **result.kwargs))


def log_in_person(client: Client, account: PersonAccount) -> Client:
    """Open a real person session for `account` in `client`, as after a successful login
    (any professional session the client held is left behind)."""
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.user = AnonymousUser()
    person_session_start(request, account)
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return client


def login_then(page: str) -> str:
    """Where a person without a session who asked for `page` is sent: the login page, with
    the page to come back to (none for the home page, where a login lands anyway)."""
    if page == reverse("portal:home"):
        return reverse("portal:login")
    return f"{reverse('portal:login')}?{urlencode({'next': page})}"


class Clock:
    """A controllable clock: `timezone.now()` and `time.time()` (which sessions and the
    local-memory cache read) move together when `advance` is called."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._offset = timedelta()
        real_now, real_time = timezone.now, time.time
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self._offset)
        monkeypatch.setattr(time, "time", lambda: real_time() + self._offset.total_seconds())

    def advance(self, **delta: float) -> None:
        self._offset += timedelta(**delta)


def sms_outbox() -> list[sms.Sms]:
    """The test SMS outbox (LocmemBackend, also read by the live server's tests)."""
    return sms.outbox
