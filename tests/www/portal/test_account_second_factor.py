"""The page that opens a person's space asks the professional's recent second factor when
it opens, before the person types a password that a check on sending would lose."""

import time
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from relais.accounts.decorators import NOT_SAVED_SECOND_FACTOR
from relais.accounts.sessions import SECOND_FACTOR_AT
from relais.audit.models import AuditEvent
from relais.portal.models import PersonAccount
from tests.conftest import log_in, totp_now
from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory()


@pytest.fixture
def device(owner):
    return TOTPDeviceFactory(user=owner.user)


@pytest.fixture
def person(owner):
    person = PersonFactory(phone="0612345678")
    ConsentFactory(person=person, organisation=owner.organisation)
    return person


@pytest.fixture
def stale_client(owner, device, settings):
    client = log_in(Client(), owner.user, owner, device=device)
    session = client.session
    session[SECOND_FACTOR_AT] = (
        time.time() - settings.RELAIS_RECENT_SECOND_FACTOR.total_seconds() - 60
    )
    session.save()
    return client


def _manage(person) -> str:
    return reverse("person_account:manage", args=[person.pk])


def test_the_page_asks_the_second_factor_before_showing_the_form(stale_client, person):
    response = stale_client.get(_manage(person))

    assert response.status_code == 302
    assert response.url == (
        f"{reverse('accounts:second_factor')}?{urlencode({'next': _manage(person)})}"
    )
    assert not AuditEvent.objects.filter(person_id=person.pk).exists()


def test_after_the_code_the_form_is_shown_and_can_be_sent(stale_client, person, device):
    asked = stale_client.get(_manage(person))
    stale_client.get(asked.url)

    verified = stale_client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})
    shown = stale_client.get(verified.url)
    sent = stale_client.post(
        _manage(person),
        {"phone": "06 12 34 56 78", "identity_checked": "on", "identity_document": "cni"},
    )

    assert verified.url == _manage(person)
    assert "J'ai vérifié l'identité de la personne" in shown.content.decode().replace("&#x27;", "'")
    assert sent.status_code == 200
    assert PersonAccount.objects.get(person=person).is_active


def test_a_form_sent_once_the_check_grew_old_says_what_to_do(stale_client, person):
    response = stale_client.post(
        _manage(person),
        {"phone": "06 12 34 56 78", "identity_checked": "on", "identity_document": "cni"},
        HTTP_REFERER=f"http://testserver{_manage(person)}",
    )

    assert response.url == (
        f"{reverse('accounts:second_factor')}?{urlencode({'next': _manage(person)})}"
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [NOT_SAVED_SECOND_FACTOR]
    assert not PersonAccount.objects.exists()
