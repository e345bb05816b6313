"""The accessibility statement, the legal notices and the data policy hold no personal data:
anyone reads them, whatever their session — anonymous, a person, a professional before the
second factor, before choosing an organisation or before accepting the charter."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from relais.accounts.sessions import LOGIN_AT, MEMBERSHIP_ID, SEEN_AT
from relais.www.portal.i18n import LANGUAGE_COOKIE
from tests.conftest import log_in
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

LEGAL_PAGES = ["www:accessibility", "www:legal", "www:privacy"]
HEADINGS = {
    "www:accessibility": "Déclaration d'accessibilité",
    "www:legal": "Mentions légales",
    "www:privacy": "Données personnelles",
}


def anonymous() -> Client:
    return Client()


def a_person() -> Client:
    return log_in_person(Client(), PersonAccountFactory())


def before_the_second_factor() -> Client:
    """Password typed, second factor not yet: the session is logged in but not verified."""
    client = Client()
    user = MembershipFactory().user
    TOTPDeviceFactory(user=user)
    client.force_login(user, backend="relais.accounts.backends.AccountBackend")
    session = client.session
    session[LOGIN_AT] = session[SEEN_AT] = time.time()
    session.save()
    return client


def before_choosing_an_organisation() -> Client:
    user = UserFactory()
    MembershipFactory(user=user)
    MembershipFactory(user=user)
    return log_in(Client(), user)


def before_the_charter() -> Client:
    membership = MembershipFactory()
    client = log_in(Client(), membership.user)
    session = client.session
    session[MEMBERSHIP_ID] = membership.pk
    session.save()
    return client


def a_professional() -> Client:
    membership = MembershipFactory()
    return log_in(Client(), membership.user, membership)


def the_pilot() -> Client:
    return log_in(Client(), UserFactory(pilot=True))


VISITORS = [
    anonymous,
    a_person,
    before_the_second_factor,
    before_choosing_an_organisation,
    before_the_charter,
    a_professional,
    the_pilot,
]


@pytest.mark.parametrize("name", LEGAL_PAGES)
@pytest.mark.parametrize("visitor", VISITORS, ids=lambda visitor: visitor.__name__)
def test_it_shows_the_legal_pages_to_anyone(visitor, name):
    response = visitor().get(reverse(name))

    assert response.status_code == 200
    assert f"<h1>{HEADINGS[name]}</h1>" in response.content.decode()


def test_the_charter_pages_footer_leads_to_the_legal_pages_not_back_to_the_charter():
    client = before_the_charter()
    charter = client.get(reverse("consent:charter")).content.decode()
    footer = charter[charter.index('<footer class="fr-footer"') :]
    links = re.findall(r'class="fr-footer__bottom-link" href="([^"]+)"', footer)

    answers = [client.get(link) for link in links]

    assert links == [reverse(name) for name in LEGAL_PAGES]
    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_the_persons_login_page_leads_to_the_data_policy_before_logging_in(client):
    page = client.get(reverse("portal:login")).content.decode()
    main = page[page.index("<main") : page.index("</main>")]

    assert f'href="{reverse("www:privacy")}"' in main
    assert client.get(reverse("www:privacy")).status_code == 200


def test_the_data_policy_names_every_cookie_the_platform_sets(client):
    policy = client.get(reverse("www:privacy")).content.decode()

    assert LANGUAGE_COOKIE in policy
