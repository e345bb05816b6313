"""The person's session: idle and absolute timeouts, the security stamp, and the wall
between a person's session and a professional's."""

import time

import pytest
from django.urls import get_resolver, reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.services import persons_merge
from relais.persons.models import Person, PersonStatus
from relais.portal.services import person_account_close, person_account_recover
from relais.portal.sessions import PERSON_ACCOUNT, PERSON_LOGIN_AT, PERSON_SEEN_AT
from tests.conftest import log_in
from tests.persons.factories import PersonFactory
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person, login_then
from tests.urlwalk import walk

pytestmark = pytest.mark.django_db

PUBLIC = {
    "www:accessibility",
    "www:legal",
    "www:privacy",
    "www:health",
    "accounts:login",
    "accounts:logout",
    "accounts:invitation",
    "accounts:password_reset",
    "accounts:password_reset_sent",
    "accounts:password_reset_choose",
    "accounts:password_reset_confirm",
}


def _fill(pattern) -> str:
    text = str(pattern.pattern)
    for converter, value in (
        ("<int:", "1"),
        ("<id:", "1"),
        ("<slug:", "x"),
        ("<str:", "x"),
        ("<path:", "x"),
    ):
        while converter in text:
            start = text.index(converter)
            text = text[:start] + value + text[text.index(">", start) + 1 :]
    return text.lstrip("^").rstrip("$").replace("\\", "")


PROFESSIONAL_PAGES = [
    (ident, path)
    for ident, path, _ in walk(get_resolver().url_patterns, _fill)
    if ident not in PUBLIC
    and not ident.startswith(("portal:", "admin:", "/administration"))
    and "(?P<" not in path
]


def _age(client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = time.time() - seconds
    session.save()


def test_a_person_session_reaches_the_persons_pages(client):
    account = PersonAccountFactory()
    log_in_person(client, account)

    assert client.get(reverse("portal:password_choose")).status_code == 200


def test_it_ends_the_session_after_ten_minutes_without_activity(client, settings):
    assert settings.RELAIS_PORTAL_IDLE_TIMEOUT == 600
    account = PersonAccountFactory()
    log_in_person(client, account)
    _age(client, PERSON_SEEN_AT, 590)
    assert client.get(reverse("portal:password_choose")).status_code == 200
    _age(client, PERSON_SEEN_AT, 601)

    response = client.get(reverse("portal:password_choose"), follow=True)

    assert response.redirect_chain == [(login_then(reverse("portal:password_choose")), 302)]
    assert "Relais vous a déconnecté" in response.content.decode()
    assert PERSON_ACCOUNT not in client.session
    event = AuditEvent.objects.get(action=AuditAction.PERSON_LOGOUT)
    assert event.details == {"expired": True}
    assert event.person_id == account.person_id


def test_activity_keeps_the_session_alive(client):
    log_in_person(client, PersonAccountFactory())
    _age(client, PERSON_SEEN_AT, 400)

    client.get(reverse("portal:password_choose"))
    _age(client, PERSON_LOGIN_AT, 1000)

    assert time.time() - client.session[PERSON_SEEN_AT] < 5
    assert client.get(reverse("portal:password_choose")).status_code == 200


def test_it_ends_the_session_eight_hours_after_login_even_when_active(client):
    log_in_person(client, PersonAccountFactory())
    _age(client, PERSON_LOGIN_AT, 8 * 3600 + 1)

    response = client.get(reverse("portal:password_choose"))

    assert response.url == login_then(reverse("portal:password_choose"))
    assert PERSON_ACCOUNT not in client.session


def test_restoring_access_at_the_office_ends_every_other_session(client):
    account = PersonAccountFactory()
    log_in_person(client, account)

    person_account_recover(
        account=account,
        identity_checked=True,
        identity_document="cni",
        reason="Téléphone volé",
        new_card=True,
        by=SYSTEM,
    )

    assert client.get(reverse("portal:password_choose")).url == login_then(
        reverse("portal:password_choose")
    )
    assert PERSON_ACCOUNT not in client.session


def test_closing_the_account_ends_its_sessions(client):
    account = PersonAccountFactory()
    log_in_person(client, account)

    person_account_close(account=account, by=SYSTEM)

    assert client.get(reverse("portal:password_choose")).url == login_then(
        reverse("portal:password_choose")
    )


def test_merging_the_file_into_another_ends_its_sessions(client):
    account = PersonAccountFactory()
    kept = PersonFactory()
    log_in_person(client, account)

    persons_merge(keep=kept, absorb=account.person, by=SYSTEM)

    assert client.get(reverse("portal:password_choose")).url == login_then(
        reverse("portal:password_choose")
    )
    assert PERSON_ACCOUNT not in client.session


def test_a_file_archived_while_the_person_is_logged_in_ends_the_session(client):
    account = PersonAccountFactory()
    log_in_person(client, account)

    Person.objects.filter(pk=account.person_id).update(status=PersonStatus.ARCHIVED)

    assert client.get(reverse("portal:password_choose")).url == login_then(
        reverse("portal:password_choose")
    )
    assert PERSON_ACCOUNT not in client.session


def test_it_walks_the_professional_pages():
    idents = {ident for ident, _ in PROFESSIONAL_PAGES}
    assert {"www:home", "persons:list", "persons:file", "person_account:manage"} <= idents


@pytest.mark.parametrize(
    ("ident", "path"), PROFESSIONAL_PAGES, ids=[i for i, _ in PROFESSIONAL_PAGES]
)
def test_a_person_session_never_reaches_a_professional_page(client, ident, path):
    log_in_person(client, PersonAccountFactory())

    response = client.get(path)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_professional_session_never_reaches_the_persons_pages(member_client):
    response = member_client.get(reverse("portal:password_choose"))

    assert response.url == login_then(reverse("portal:password_choose"))


def test_a_person_logging_in_ends_the_professional_session(member_client):
    account = PersonAccountFactory(with_password=True)

    member_client.post(
        reverse("portal:login_password"),
        {"identifier": account.card_identifier, "password": "Ma-carte-bleue-42"},
    )

    assert member_client.session[PERSON_ACCOUNT] == account.pk
    assert "_auth_user_id" not in member_client.session
    assert member_client.get(reverse("persons:list")).url.startswith(reverse("accounts:login"))


def test_a_professional_logging_in_ends_the_person_session(client, member_membership):
    log_in_person(client, PersonAccountFactory())

    log_in(client, member_membership.user, member_membership)

    assert client.get(reverse("portal:password_choose")).url == login_then(
        reverse("portal:password_choose")
    )
    assert PERSON_ACCOUNT not in client.session
    assert client.get(reverse("persons:list")).status_code == 200
