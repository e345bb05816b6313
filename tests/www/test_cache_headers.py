"""What a shared computer's browser may keep: nothing of a page seen in a professional's or
a person's session, and the anonymous pages as before."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from relais.accounts.models import User
from relais.www.middleware import NeverCacheWhenLoggedInMiddleware
from tests.conftest import log_in
from tests.factories import PASSWORD, UserFactory
from tests.portability.builders import FullFile, full_file
from tests.portal.helpers import log_in_person, login_then

pytestmark = pytest.mark.django_db


def _directives(response: HttpResponse) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


@pytest.fixture
def lea() -> FullFile:
    return full_file()


@pytest.fixture
def referent_client(lea: FullFile) -> Client:
    return log_in(Client(), lea.referent.user, lea.referent)


@pytest.fixture
def lea_client(lea: FullFile) -> Client:
    return log_in_person(Client(), lea.account)


def test_the_professionals_file_page_is_never_cached(lea, referent_client):
    response = referent_client.get(reverse("persons:file", args=[lea.person.pk]))

    assert response.status_code == 200
    assert {"no-store", "private"} <= _directives(response)


def test_a_page_before_the_second_factor_is_never_cached_either(client):
    user = UserFactory()
    client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})

    response = client.get(reverse("accounts:second_factor_setup"))

    assert response.status_code == 200
    assert "no-store" in _directives(response)


def test_the_persons_own_pages_are_never_cached(lea_client):
    response = lea_client.get(reverse("portal:file"))

    assert response.status_code == 200
    assert {"no-store", "private"} <= _directives(response)


def test_a_public_page_seen_in_a_persons_session_is_never_cached(lea_client):
    response = lea_client.get(reverse("www:privacy"))

    assert response.status_code == 200
    assert "no-store" in _directives(response)


def test_the_professionals_download_keeps_its_own_no_store(lea, referent_client):
    cni = lea.documents["cni"]

    response = referent_client.get(reverse("documents:download", args=[lea.person.pk, cni.pk]))

    assert b"".join(response.streaming_content) == lea.uploaded_pdfs[cni.pk]
    assert response["Cache-Control"] == "no-store"


def test_the_persons_download_is_never_cached(lea, lea_client):
    cni = lea.documents["cni"]

    response = lea_client.get(reverse("portal:document_download", args=[cni.pk]))

    assert b"".join(response.streaming_content) == lea.uploaded_pdfs[cni.pk]
    assert "no-store" in _directives(response)


@pytest.mark.parametrize(
    "name",
    ["accounts:login", "portal:login", "www:accessibility", "www:privacy", "portal:export_schema"],
)
def test_the_anonymous_public_pages_stay_cacheable(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    assert "no-store" not in _directives(response)


def test_after_logout_the_file_sends_the_professional_to_the_login_page(lea, referent_client):
    url = reverse("persons:file", args=[lea.person.pk])
    assert referent_client.get(url).status_code == 200

    referent_client.post(reverse("accounts:logout"))
    response = referent_client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_after_logout_the_persons_file_sends_them_to_their_login_page(lea_client):
    lea_client.post(reverse("portal:logout"))

    response = lea_client.get(reverse("portal:file"))

    assert response.status_code == 302
    assert response.url == login_then(reverse("portal:file"))


def _through_middleware(user, cache_control: str | None) -> HttpResponse:
    response = HttpResponse("page")
    if cache_control is not None:
        response["Cache-Control"] = cache_control
    request = RequestFactory().get("/")
    request.user = user
    return NeverCacheWhenLoggedInMiddleware(lambda _: response)(request)


def test_a_logged_in_answer_with_its_own_caching_gets_no_store_and_loses_public():
    response = _through_middleware(User(), "public, max-age=3600")

    assert {"no-store", "private", "max-age=3600"} <= _directives(response)
    assert "public" not in _directives(response)


def test_an_anonymous_answer_keeps_its_own_caching():
    response = _through_middleware(AnonymousUser(), "public, max-age=3600")

    assert response["Cache-Control"] == "public, max-age=3600"


def test_the_header_says_what_djangos_never_cache_says():
    expected = HttpResponse()
    add_never_cache_headers(expected)

    assert _directives(_through_middleware(User(), None)) == _directives(expected)
