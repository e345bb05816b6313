"""After logging in again, the person comes back to the page they were on: the page asked
for, or the page that held the form sent after their session ended. Only a page of the
person's space is ever a page to come back to."""

import html
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from relais.audit.context import SYSTEM
from relais.notifications import sms
from relais.portal.services import person_account_open, person_invitation_send
from relais.portal.sessions import PERSON_ACCOUNT, PERSON_SEEN_AT
from tests.persons.factories import PersonFactory
from tests.portal.factories import PERSON_PASSWORD, PersonAccountFactory
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

PHONE = "+33612345678"
TYPED_PHONE = "06 12 34 56 78"
HISTORY = "/mon-espace/qui-a-regarde/"
LOGIN_THEN_HISTORY = "/mon-espace/connexion/?next=%2Fmon-espace%2Fqui-a-regarde%2F"
NOT_SAVED = (
    "Vous n'avez rien fait pendant un moment. Pour protéger vos papiers, Relais vous a "
    "déconnecté. Ce que vous venez d'envoyer n'est pas enregistré. Connectez-vous, puis "
    "recommencez."
)


def then(name: str, next_page: str) -> str:
    return f"{reverse(name)}?next={next_page.replace('/', '%2F')}"


def last_code() -> str:
    match = re.search(r"\b(\d{6})\b", sms.outbox[-1].body)
    assert match is not None
    return match[1]


def log_in_with_password(client, login_url: str):
    return client.post(login_url, {"identifier": TYPED_PHONE, "password": PERSON_PASSWORD})


def hrefs(response) -> set[str]:
    return {
        html.unescape(href) for href in re.findall(r'href="([^"]+)"', response.content.decode())
    }


@pytest.fixture
def account():
    return PersonAccountFactory(phone=PHONE, with_password=True)


@pytest.fixture
def idle_client(client, account, settings):
    log_in_person(client, account)
    session = client.session
    session[PERSON_SEEN_AT] = time.time() - settings.RELAIS_PORTAL_IDLE_TIMEOUT - 1
    session.save()
    return client


def test_a_page_asked_without_a_session_sends_to_the_login_with_it(client):
    response = client.get(HISTORY)

    assert response.status_code == 302
    assert response.url == LOGIN_THEN_HISTORY


def test_a_page_asked_after_the_timeout_comes_back_after_the_login(idle_client):
    sent = idle_client.get(HISTORY)

    assert sent.url == LOGIN_THEN_HISTORY
    assert log_in_with_password(idle_client, then("portal:login_password", HISTORY)).url == (
        HISTORY
    )


def test_the_login_page_links_carry_the_page_to_come_back_to(client):
    page = client.get(LOGIN_THEN_HISTORY)

    assert {
        then("portal:login_code", HISTORY),
        then("portal:login_card", HISTORY),
        then("portal:login_password", HISTORY),
        then("portal:activate", HISTORY),
    } <= hrefs(page)


def test_the_code_by_sms_comes_back_to_the_page_asked_for(client, account):
    page = client.get(then("portal:login_code", HISTORY))
    asked = client.post(then("portal:login_code", HISTORY), {"identifier": TYPED_PHONE})
    check_page = client.get(asked.url)
    wrong = client.post(asked.url, {"code": "000000"})
    entered = client.post(asked.url, {"code": last_code()})

    assert then("portal:login", HISTORY) in hrefs(page)
    assert asked.url == then("portal:login_code_check", HISTORY)
    assert {
        then("portal:login_code", HISTORY),
        then("portal:login_card", HISTORY),
    } <= hrefs(check_page)
    assert wrong.status_code == 400
    assert entered.url == HISTORY
    assert client.session[PERSON_ACCOUNT] == account.pk


def test_the_code_page_without_a_login_under_way_keeps_the_page_to_come_back_to(client):
    response = client.get(then("portal:login_code_check", HISTORY))

    assert response.url == then("portal:login_code", HISTORY)


def test_it_never_puts_more_than_the_page_in_a_url(client, account):
    asked = client.post(then("portal:login_code", HISTORY), {"identifier": TYPED_PHONE})
    entered = client.post(asked.url, {"code": last_code()})

    for response in (asked, entered):
        assert "612345678" not in response.url
        assert parse_qs(urlsplit(response.url).query) in ({"next": [HISTORY]}, {})


def test_the_password_comes_back_to_the_page_asked_for(client, account):
    page = client.get(then("portal:login_password", HISTORY))
    response = log_in_with_password(client, then("portal:login_password", HISTORY))

    assert {
        then("portal:login", HISTORY),
        then("portal:login_code", HISTORY),
        then("portal:login_card", HISTORY),
    } <= hrefs(page)
    assert response.url == HISTORY
    assert client.session[PERSON_ACCOUNT] == account.pk


def test_the_card_offers_a_password_then_comes_back_to_the_page_asked_for(client):
    opened, codes = person_account_open(
        person=PersonFactory(), identity_checked=True, identity_document="cni", by=SYSTEM
    )
    page = client.get(then("portal:login_card", HISTORY))

    entered = client.post(
        then("portal:login_card", HISTORY),
        {"card_identifier": opened.card_identifier, "recovery_code": codes[0]},
    )
    offer = client.get(entered.url)
    chosen = client.post(
        entered.url, {"password1": "Soleil-62-nord", "password2": "Soleil-62-nord"}
    )

    assert then("portal:login", HISTORY) in hrefs(page)
    assert entered.url == then("portal:password_choose", HISTORY)
    assert re.search(rf'href="{HISTORY}">Pas maintenant<', offer.content.decode())
    assert chosen.url == HISTORY


def test_the_invitation_offers_a_password_then_comes_back_to_the_page_asked_for(client):
    invited = PersonAccountFactory(phone=PHONE)
    person_invitation_send(account=invited, by=SYSTEM)

    entered = client.post(
        then("portal:activate", HISTORY), {"phone": TYPED_PHONE, "code": last_code()}
    )

    assert entered.url == then("portal:password_choose", HISTORY)
    assert client.session[PERSON_ACCOUNT] == invited.pk


def test_a_session_ended_on_the_password_page_comes_back_to_it_after_the_card(client):
    opened, codes = person_account_open(
        person=PersonFactory(), identity_checked=True, identity_document="cni", by=SYSTEM
    )
    password_page = reverse("portal:password_choose")

    entered = client.post(
        then("portal:login_card", password_page),
        {"card_identifier": opened.card_identifier, "recovery_code": codes[0]},
    )

    assert entered.url == password_page


def test_a_person_already_logged_in_goes_straight_to_the_page(client, account):
    log_in_person(client, account)

    assert client.get(LOGIN_THEN_HISTORY).url == HISTORY


def test_the_language_chosen_on_a_login_page_keeps_the_page_to_come_back_to(client):
    login_page = then("portal:login_code", HISTORY)
    page = client.get(login_page).content.decode()
    kept = re.search(r'<input type="hidden" name="next" value="([^"]+)">', page)
    assert kept is not None

    response = client.post(
        reverse("portal:language"), {"language": "ar", "next": html.unescape(kept[1])}
    )

    assert response.url == login_page
    assert 'dir="rtl"' in client.get(response.url).content.decode()


def test_a_download_asked_without_a_session_comes_back_to_the_list_of_papers(client):
    response = client.get(reverse("portal:document_download", args=[1]))

    assert response.url == then("portal:login", reverse("portal:documents"))


@pytest.mark.parametrize(
    "next_page",
    [
        "https://evil.example/mon-espace/",
        "//evil.example/mon-espace/",
        "///evil.example/mon-espace/",
        "/\\evil.example/mon-espace/",
        "http://testserver/mon-espace/qui-a-regarde/",
        "javascript:alert(1)//mon-espace/",
        "mon-espace/qui-a-regarde/",
        "portal:history",
        "/mon-espace/../personnes/1/espace-personnel/",
        "/mon-espace/%2e%2e/personnes/1/espace-personnel/",
        "/mon-espace/page-inconnue/",
        "/personnes/1/espace-personnel/",
        "/",
        "/mon-espace/connexion/",
        "/mon-espace/connexion/code/saisir/",
        "/mon-espace/activer/",
        "/mon-espace/deconnexion/",
        "/mon-espace/langue/",
        "/mon-espace/export/schema.json",
    ],
)
def test_anything_but_a_page_of_the_space_falls_back_to_home(client, account, next_page):
    login_page = f"{reverse('portal:login_password')}?{urlencode({'next': next_page})}"

    page = client.get(login_page)
    response = log_in_with_password(client, login_page)

    assert not any("next=" in href for href in hrefs(page))
    assert response.url == reverse("portal:home")
    assert client.session[PERSON_ACCOUNT] == account.pk


def test_a_form_sent_from_a_professional_page_comes_back_to_no_page(client):
    response = client.post(
        reverse("portal:block"), HTTP_REFERER=f"http://testserver{reverse('persons:list')}"
    )

    assert response.url == reverse("portal:login")


def test_a_form_sent_from_another_site_comes_back_to_no_page(client):
    response = client.post(
        reverse("portal:block"), HTTP_REFERER="https://evil.example/mon-espace/qui-peut-voir/"
    )

    assert response.url == reverse("portal:login")


def test_a_form_sent_after_the_timeout_comes_back_to_the_form_with_not_saved(idle_client):
    form_page = reverse("portal:consent_grant")

    sent = idle_client.post(form_page, {}, HTTP_REFERER=f"http://testserver{form_page}")
    told = [str(message) for message in get_messages(sent.wsgi_request)]
    logged_in = log_in_with_password(idle_client, then("portal:login_password", form_page))

    assert sent.url == then("portal:login", form_page)
    assert told == [NOT_SAVED]
    assert logged_in.url == form_page
    assert idle_client.get(form_page).status_code == 200


NOT_SAVED_LOGGED_OUT = (
    "Vous n'êtes plus connecté à votre espace. Ce que vous venez d'envoyer n'est pas "
    "enregistré. Connectez-vous, puis recommencez."
)


@pytest.fixture
def changed_client(client, account):
    """A person whose identifiers were changed at the office since they logged in."""
    log_in_person(client, account)
    account.security_stamp += 1
    account.save(update_fields=["security_stamp"])
    return client


def test_a_form_sent_after_the_session_ended_otherwise_says_it_is_not_saved(changed_client):
    form_page = reverse("portal:consent_grant")

    sent = changed_client.post(form_page, {}, HTTP_REFERER=f"http://testserver{form_page}")
    told = [str(message) for message in get_messages(sent.wsgi_request)]

    assert sent.url == then("portal:login", form_page)
    assert told == [NOT_SAVED_LOGGED_OUT]


def test_it_says_so_in_the_language_of_the_space(changed_client):
    changed_client.cookies["relais_langue"] = "en"
    form_page = reverse("portal:consent_grant")

    sent = changed_client.post(form_page, {}, HTTP_REFERER=f"http://testserver{form_page}")

    assert [str(message) for message in get_messages(sent.wsgi_request)] == [
        "You are no longer logged in to your space. What you just sent is not saved. "
        "Log in, then start again."
    ]


def test_a_page_opened_after_the_session_ended_otherwise_says_nothing(changed_client):
    opened = changed_client.get(reverse("portal:consent_grant"))

    assert opened.url == then("portal:login", reverse("portal:consent_grant"))
    assert list(get_messages(opened.wsgi_request)) == []


def test_a_form_sent_after_the_timeout_from_a_list_comes_back_to_the_list(idle_client):
    consents = reverse("portal:consents")

    sent = idle_client.post(
        reverse("portal:consent_revoke", args=[1]), HTTP_REFERER=f"http://testserver{consents}"
    )

    assert sent.url == then("portal:login", consents)


def test_the_login_page_opened_directly_lands_on_home(client, account):
    page = client.get(reverse("portal:login"))
    response = log_in_with_password(client, reverse("portal:login_password"))

    assert not any("next=" in href for href in hrefs(page))
    assert response.url == reverse("portal:home")
