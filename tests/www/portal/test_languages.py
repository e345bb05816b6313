"""The person's space speaks French, English or Arabic, as the person chooses; the
professionals' pages stay in French whatever the choice."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from relais.www.portal.i18n import LANGUAGE_COOKIE
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def person_client():
    return log_in_person(Client(), PersonAccountFactory())


def choose(client: Client, language: str, next_url: str = ""):
    return client.post(
        reverse("portal:language"),
        {"language": language, "next": next_url or reverse("portal:file")},
    )


def test_it_speaks_french_by_default(person_client):
    page = person_client.get(reverse("portal:home")).content.decode()

    assert '<html lang="fr" dir="ltr"' in page
    assert "Mes papiers" in page
    assert "Écouter" in page


def test_it_switches_to_arabic_right_to_left(person_client):
    response = choose(person_client, "ar")

    assert response.status_code == 302
    assert response.url == reverse("portal:file")
    assert response.cookies[LANGUAGE_COOKIE].value == "ar"
    page = person_client.get(reverse("portal:home"))
    content = page.content.decode()
    assert '<html lang="ar" dir="rtl"' in content
    assert "أوراقي" in content
    assert page["Content-Language"] == "ar"
    assert "Cookie" in page["Vary"]


def test_it_switches_to_english(person_client):
    choose(person_client, "en")

    content = person_client.get(reverse("portal:consents")).content.decode()

    assert '<html lang="en" dir="ltr"' in content
    assert "Who can see my file" in content
    assert "Listen" in content


def test_the_login_page_follows_the_choice_too(client):
    choose(client, "ar", reverse("portal:login"))

    content = client.get(reverse("portal:login")).content.decode()

    assert 'dir="rtl"' in content


def test_it_refuses_an_unknown_language_and_a_foreign_redirect(person_client):
    response = choose(person_client, "xx", "https://ailleurs.example/piege")

    assert response.url == reverse("portal:home")
    assert LANGUAGE_COOKIE not in response.cookies
    assert '<html lang="fr"' in person_client.get(reverse("portal:home")).content.decode()


def test_the_professionals_pages_stay_in_french(member_client):
    member_client.cookies[LANGUAGE_COOKIE] = "ar"

    content = member_client.get(reverse("www:home")).content.decode()

    assert '<html lang="fr" dir="ltr"' in content
    assert "Personnes accompagnées" in content


def test_a_portal_page_leaves_no_language_behind_for_the_next_request(person_client, member_client):
    """The language is per request: the thread that served the person's page in Arabic
    serves the next professional's page in French."""
    choose(person_client, "ar")
    person_client.get(reverse("portal:home"))

    assert translation.get_language() == "fr"
    assert '<html lang="fr"' in member_client.get(reverse("www:home")).content.decode()


def test_a_message_after_an_action_speaks_the_chosen_language(person_client):
    choose(person_client, "ar")

    response = person_client.post(reverse("portal:break_glass"), {"refuse": "oui"}, follow=True)

    assert "سُجّل ذلك" in response.content.decode()
