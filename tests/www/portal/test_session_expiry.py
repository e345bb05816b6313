"""A person's session that ended while a form was open: the person is told, in plain
words and in their language, that what they sent is not saved."""

import time

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from relais.portal.sessions import PERSON_ACCOUNT, PERSON_SEEN_AT
from relais.www.portal.i18n import LANGUAGE_COOKIE
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

NOT_SAVED = (
    "Vous n'avez rien fait pendant un moment. Pour protéger vos papiers, Relais vous a "
    "déconnecté. Ce que vous venez d'envoyer n'est pas enregistré. Connectez-vous, puis "
    "recommencez."
)


@pytest.fixture
def idle_client(client, settings):
    log_in_person(client, PersonAccountFactory())
    session = client.session
    session[PERSON_SEEN_AT] = time.time() - settings.RELAIS_PORTAL_IDLE_TIMEOUT - 1
    session.save()
    return client


def _said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_form_sent_after_the_timeout_says_it_is_not_saved(idle_client):
    response = idle_client.post(
        reverse("portal:password_choose"),
        {"password1": "girafe-orbite-cerfeuil", "password2": "girafe-orbite-cerfeuil"},
    )

    assert response.url == reverse("portal:login")
    assert _said(response) == [NOT_SAVED]
    assert PERSON_ACCOUNT not in idle_client.session


def test_a_page_opened_after_the_timeout_keeps_the_usual_words(idle_client):
    response = idle_client.get(reverse("portal:password_choose"))

    assert _said(response) == [
        "Vous n'avez rien fait pendant un moment. Pour protéger vos papiers, Relais vous a "
        "déconnecté. Connectez-vous à nouveau."
    ]


def test_the_person_reads_it_in_their_language(idle_client):
    idle_client.cookies[LANGUAGE_COOKIE] = "en"

    response = idle_client.post(reverse("portal:password_choose"), {}, follow=True)

    assert "What you just sent is not saved. Log in, then start again." in (
        response.content.decode()
    )
