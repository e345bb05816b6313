"""Who is told of a break-glass opening, and what they are told: the organisation's
managers by e-mail, with the time and a link to their journal on exceptional accesses —
never the person's name, the reason or the file's number, which stay behind the login."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.consent.models import BreakGlassGrant
from relais.consent.services import break_glass_open
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import PersonFactory
from tests.portability.builders import actor, professional

pytestmark = pytest.mark.django_db

REASON = "Expulsion prévue demain matin, dossier FSL n° 4471 à compléter en urgence."
JOURNAL_LINK = f"{settings.RELAIS_PUBLIC_URL}/journal/?action=break_glass_opened"


@pytest.fixture
def person():
    return PersonFactory(first_names="Maëlle", birth_name="Dubreuil")


@pytest.fixture
def opener():
    return MembershipFactory(organisation__name="CHRS Le Phare")


@pytest.fixture
def manager(opener):
    return MembershipFactory(organisation=opener.organisation, manager=True)


@pytest.fixture
def opened(person, opener, manager, django_capture_on_commit_callbacks) -> BreakGlassGrant:
    with django_capture_on_commit_callbacks(execute=True):
        return break_glass_open(
            person=person, pro=professional(opener), reason=REASON, by=actor(opener)
        )


def _mail(mailoutbox):
    (mail,) = mailoutbox
    return mail


def test_the_managers_mail_says_when_and_links_to_the_exceptional_accesses_of_the_journal(
    opened, manager, mailoutbox
):
    mail = _mail(mailoutbox)
    moment = timezone.localtime(opened.opened_at)

    assert mail.to == [manager.user.email]
    assert f"le {moment:%d/%m/%Y} à {moment:%H:%M}" in mail.body
    assert "« CHRS Le Phare »" in mail.body
    assert JOURNAL_LINK in mail.body.split()


def test_the_managers_mail_tells_neither_the_person_nor_the_reason_nor_the_file(
    opened, person, mailoutbox
):
    mail = _mail(mailoutbox)
    text = mail.subject + mail.body
    moment = timezone.localtime(opened.opened_at)

    for secret in ("Maëlle", "Dubreuil", "DUBREUIL", REASON, "4471", "Expulsion"):
        assert secret not in text
    # No number but the day and time: neither the file's, nor the access's.
    numbers = re.findall(r"\d+", text.replace(JOURNAL_LINK, ""))
    assert numbers == [
        f"{moment:%d}",
        f"{moment:%m}",
        f"{moment:%Y}",
        f"{moment:%H}",
        f"{moment:%M}",
    ]


def test_the_link_opens_the_managers_journal_on_the_opening(opened, manager, mailoutbox):
    link = next(word for word in _mail(mailoutbox).body.split() if word.startswith("http"))
    parts = urlsplit(link)

    response = log_in(Client(), manager.user, manager).get(f"{parts.path}?{parts.query}")

    assert response.status_code == 200
    shown = [event for event, _ in response.context["rows"]]
    assert [event.action for event in shown] == [AuditAction.BREAK_GLASS_OPENED]
    assert shown[0].object_id == str(opened.pk)


def test_the_link_asks_a_manager_who_is_not_logged_in_to_log_in_then_leads_there(
    opened, mailoutbox
):
    link = next(word for word in _mail(mailoutbox).body.split() if word.startswith("http"))
    parts = urlsplit(link)

    response = Client().get(f"{parts.path}?{parts.query}")

    assert response.status_code == 302
    login = urlsplit(response.url)
    assert login.path == reverse("accounts:login")
    assert parse_qs(login.query)["next"] == [f"{parts.path}?{parts.query}"]


def test_the_time_is_said_in_the_platforms_time_zone(
    person, opener, manager, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    # 23:30 in UTC on 31 December is half past midnight on 1 January in Paris.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        break_glass_open(person=person, pro=professional(opener), reason=REASON, by=actor(opener))

    assert "le 01/01/2027 à 00:30" in _mail(mailoutbox).body
