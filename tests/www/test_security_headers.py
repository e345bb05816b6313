import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    directives = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


@pytest.fixture(params=["anonymous", "member"])
def page(request, client):
    if request.param == "anonymous":
        return client.get(reverse("accounts:login"))
    member_client = request.getfixturevalue("member_client")
    return member_client.get(reverse("www:home"))


def test_it_allows_scripts_from_relais_only(page):
    policy = _policy(page)

    assert page.status_code == 200
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_it_forbids_framing(page):
    assert page["X-Frame-Options"] == "DENY"


def test_it_sends_the_other_protective_headers(page):
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"


def test_it_renders_no_inline_script_that_the_policy_would_block(page):
    scripts = re.findall(r"<script\b[^>]*>", page.content.decode())

    assert scripts
    assert all(" src=" in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+=", page.content.decode())


def test_it_sets_the_headers_on_redirects_too(client):
    response = client.get(reverse("www:home"))

    assert response.status_code == 302
    assert "'unsafe-inline'" not in _policy(response)["script-src"]
    assert response["X-Frame-Options"] == "DENY"


def test_it_keeps_the_session_cookie_away_from_scripts(client, settings):
    from tests.factories import PASSWORD, UserFactory

    user = UserFactory()
    response = client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
