"""Deny by default: every URL pattern of the project, walked from the resolver.

A professional who typed only their password reaches nothing but the login and
second-factor pages; an anonymous visitor reaches nothing but the public pages.
"""

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern

from relais.accounts.sessions import LOGIN_AT, SEEN_AT
from relais.www.organisations.views import CONFIRMATION_FIELD
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.urlwalk import walk

pytestmark = pytest.mark.django_db

# Pages an anonymous visitor may open (views marked `login_not_required`).
PUBLIC = {
    "accounts:login",
    "accounts:logout",
    "accounts:invitation",
    "accounts:password_reset",
    "accounts:password_reset_sent",
    "accounts:password_reset_choose",
    "accounts:password_reset_confirm",
    "www:accessibility",
    "www:legal",
    "www:privacy",
    "www:health",
}
# Pages a professional reaches before the second factor (views marked
# `second_factor_exempt`), other than the public ones.
SECOND_FACTOR_PAGES = {
    "accounts:second_factor",
    "accounts:second_factor_setup",
    "accounts:webauthn_register_options",
    "accounts:webauthn_register",
    "accounts:webauthn_authenticate_options",
    "accounts:webauthn_authenticate",
}
# Pages that hold no personal data and that anyone reads whatever their session (views
# marked `readable_by_anyone`): before the second factor too.
LEGAL_PAGES = {"www:accessibility", "www:legal", "www:privacy"}

_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


def _fill_route(route: str) -> str:
    return _CONVERTER.sub(lambda m: "1" if m["converter"] in ("int", "id") else "x", route)


def _fill_regex(regex: str) -> str:
    def value(match: re.Match[str]) -> str:
        # An alternation of plain words (the admin's app labels): take the first one.
        first = match["body"].split("|")[0]
        return first if re.fullmatch(r"\w+", first) else "x"

    return _NAMED_GROUP.sub(value, regex).lstrip("^").rstrip("$")


def _fill(pattern) -> str:
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RegexPattern):
        return _fill_regex(text)
    return _fill_route(text)


ALL_PATTERNS = list(walk(get_resolver().url_patterns, _fill))
ALL_IDS = [ident for ident, _, _ in ALL_PATTERNS]
# The person's own space is outside the professionals' rules: `portal_public` and
# `person_required` exempt its views from login and second factor, and a person session
# guards them instead (tests/www/portal and tests/consent/test_url_sweep.py).
PORTAL = {ident for ident in ALL_IDS if ident.startswith("portal:")}


def _params(excluded: set[str]):
    return [
        pytest.param(path, callback, id=ident)
        for ident, path, callback in ALL_PATTERNS
        if ident not in excluded
    ]


def _password_only(client, user):
    """A session after the password step only: no device verified yet."""
    client.force_login(user, backend="relais.accounts.backends.AccountBackend")
    session = client.session
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session.save()
    return client


def test_it_walks_every_url_pattern_including_the_administration():
    assert len(ALL_PATTERNS) > 50
    assert "admin:index" in ALL_IDS
    assert "journal:list" in ALL_IDS
    assert "organisations:deactivate" in ALL_IDS
    assert set(ALL_IDS) >= PUBLIC | SECOND_FACTOR_PAGES


@pytest.mark.parametrize(("path", "callback"), _params(set()))
def test_it_builds_a_url_that_resolves_to_its_own_pattern(path, callback):
    assert resolve(path).func == callback


def test_it_exempts_from_login_exactly_the_public_pages():
    exempt = {
        ident for ident, _, cb in ALL_PATTERNS if getattr(cb, "login_required", True) is False
    }
    assert exempt == PUBLIC | PORTAL


def test_it_exempts_from_the_second_factor_exactly_the_login_and_second_factor_pages():
    exempt = {ident for ident, _, cb in ALL_PATTERNS if getattr(cb, "second_factor_exempt", False)}
    login_pages = {"accounts:login", "accounts:logout", "accounts:invitation"}
    assert exempt == SECOND_FACTOR_PAGES | login_pages | LEGAL_PAGES | PORTAL


@pytest.mark.parametrize(("path", "callback"), _params(PUBLIC | SECOND_FACTOR_PAGES | PORTAL))
def test_it_sends_a_password_only_session_to_the_second_factor(client, path, callback):
    pilot = UserFactory(pilot=True)
    MembershipFactory(user=pilot, manager=True)
    TOTPDeviceFactory(user=pilot)
    _password_only(client, pilot)

    response = client.get(path)

    assert response.status_code == 302
    assert response.url == reverse("accounts:second_factor")


@pytest.mark.parametrize(
    "path", ["/", "/journal/", "/structure/equipe/", "/administration/", "/compte/mon-compte/"]
)
def test_it_sends_a_password_only_session_without_device_to_enrolment(client, path):
    _password_only(client, UserFactory(pilot=True))

    response = client.get(path)

    assert response.status_code == 302
    assert response.url == reverse("accounts:second_factor_setup")


def test_it_refuses_a_post_from_a_password_only_session(client):
    manager = MembershipFactory(manager=True)
    member = MembershipFactory(organisation=manager.organisation)
    TOTPDeviceFactory(user=manager.user)
    _password_only(client, manager.user)

    response = client.post(
        reverse("organisations:deactivate", args=[member.pk]), {CONFIRMATION_FIELD: "oui"}
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:second_factor")
    member.refresh_from_db()
    assert member.ended_on is None


@pytest.mark.parametrize(("path", "callback"), _params(PUBLIC | PORTAL))
def test_it_sends_anonymous_visitors_to_the_login_page(client, path, callback):
    response = client.get(path)

    assert response.status_code == 302
    target = urlparse(response.url)
    assert parse_qs(target.query)["next"] == [path]
    if target.path == reverse("admin:login"):
        # The administration sends to its own login page, which hands over to Relais's.
        response = client.get(response.url)
        assert response.status_code == 302
        target = urlparse(response.url)
    assert target.path == reverse("accounts:login")


@pytest.mark.parametrize(
    "name", ["www:accessibility", "www:legal", "www:privacy", "www:health", "accounts:login"]
)
def test_it_shows_public_pages_to_anonymous_visitors(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
