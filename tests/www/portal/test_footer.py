"""The footer of the person's space links to the accessibility statement, the legal notices
and the data policy on every page, before and after login, in the person's language: the
RGAA asks for the accessibility mention on every page."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

LINKS = {
    "fr": ["Accessibilité : partiellement conforme", "Mentions légales", "Données personnelles"],
    "en": ["Accessibility: partially compliant", "Legal notice", "Personal data"],
    "ar": ["إمكانية الوصول: مطابقة جزئيًا", "الإشعارات القانونية", "البيانات الشخصية"],
}
IN_FRENCH = {"en": "These three pages are in French.", "ar": "هذه الصفحات الثلاث باللغة الفرنسية."}
TARGETS = ["www:accessibility", "www:legal", "www:privacy"]


def footer_of(page: str) -> str:
    return page[page.index('<footer class="fr-footer"') : page.index("</footer>")]


def footer_links(page: str) -> list[tuple[str, str]]:
    footer = footer_of(page)
    return re.findall(r'<a class="fr-footer__bottom-link" href="([^"]+)"[^>]*>([^<]+)</a>', footer)


def expected(language: str) -> list[tuple[str, str]]:
    return [(reverse(name), text) for name, text in zip(TARGETS, LINKS[language], strict=True)]


@pytest.mark.parametrize("name", ["portal:login", "portal:login_password", "portal:activate"])
def test_the_login_pages_link_to_the_legal_pages(client, name):
    page = client.get(reverse(name)).content.decode()

    assert footer_links(page) == expected("fr")
    assert "Ces trois pages sont en français." not in page


@pytest.mark.parametrize("name", ["portal:home", "portal:documents", "portal:export"])
def test_the_persons_pages_link_to_the_legal_pages(name):
    client = log_in_person(Client(), PersonAccountFactory())

    page = client.get(reverse(name)).content.decode()

    assert footer_links(page) == expected("fr")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_links_speak_the_persons_language_and_say_the_pages_are_in_french(client, language):
    client.post(reverse("portal:language"), {"language": language})

    page = client.get(reverse("portal:login")).content.decode()

    assert footer_links(page) == expected(language)
    assert footer_of(page).count('hreflang="fr"') == 3
    assert IN_FRENCH[language] in footer_of(page)


def test_every_legal_page_opens_from_the_persons_space():
    client = log_in_person(Client(), PersonAccountFactory())
    page = client.get(reverse("portal:home")).content.decode()

    answers = [client.get(url).status_code for url, _ in footer_links(page)]

    assert answers == [200, 200, 200]
