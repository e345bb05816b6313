"""Who is told of a break-glass opening, and what they are told: the organisation's
managers by e-mail, with the time and a link to their journal on exceptional accesses; the
person by SMS, as she is told of a change to her space — never her name, the reason or
the file's number, which stay behind the login."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.consent import services as consent_services
from relais.consent.models import BreakGlassGrant
from relais.consent.services import BREAK_GLASS_SMS, break_glass_open
from relais.notifications import sms
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import PersonFactory
from tests.portability.builders import actor, professional
from tests.portal.factories import PersonAccountFactory

pytestmark = pytest.mark.django_db

# The GSM 03.38 basic character set: a message in it fits 160 characters to an SMS.
GSM_ALPHABET = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

REASON = "Expulsion prévue demain matin, dossier FSL n° 4471 à compléter en urgence."
JOURNAL_LINK = f"{settings.RELAIS_PUBLIC_URL}/journal/?action=break_glass_opened"


@pytest.fixture
def person():
    return PersonFactory(first_names="Maëlle", birth_name="Dubreuil", phone="")


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


# The person.


def _open_now(person, opener, capture, reason=REASON):
    with capture(execute=True):
        return break_glass_open(
            person=person, pro=professional(opener), reason=reason, by=actor(opener)
        )


def test_the_person_is_told_by_sms_on_the_phone_of_her_space(
    person, opener, django_capture_on_commit_callbacks
):
    PersonAccountFactory(person=person, phone="+33698765432")
    person.phone = "0612345678"
    person.save(update_fields=["phone"])

    _open_now(person, opener, django_capture_on_commit_callbacks)

    assert sms.outbox == [sms.Sms(to="+33698765432", body=BREAK_GLASS_SMS)]


def test_without_a_phone_in_her_space_the_mobile_of_her_file_is_told(
    person, opener, django_capture_on_commit_callbacks
):
    PersonAccountFactory(person=person)
    person.phone = "06 12 34 56 78"
    person.save(update_fields=["phone"])

    _open_now(person, opener, django_capture_on_commit_callbacks)

    assert sms.outbox == [sms.Sms(to="+33612345678", body=BREAK_GLASS_SMS)]


@pytest.mark.parametrize("phone", ["", "03 21 46 10 10"])
def test_a_person_without_a_mobile_gets_no_sms(
    person, opener, django_capture_on_commit_callbacks, phone
):
    person.phone = phone
    person.save(update_fields=["phone"])

    _open_now(person, opener, django_capture_on_commit_callbacks)

    assert sms.outbox == []


def test_a_closed_space_is_not_told(person, opener, django_capture_on_commit_callbacks):
    PersonAccountFactory(person=person, closed=True)

    _open_now(person, opener, django_capture_on_commit_callbacks)

    assert sms.outbox == []


def test_the_sms_tells_no_name_reason_organisation_or_number_in_one_plain_message():
    for secret in ("Maëlle", "Dubreuil", REASON, "CHRS", "Le Phare"):
        assert secret not in BREAK_GLASS_SMS
    assert not re.search(r"\d", BREAK_GLASS_SMS)
    assert set(BREAK_GLASS_SMS) <= GSM_ALPHABET
    assert len(BREAK_GLASS_SMS) <= 160


def test_the_same_form_sent_twice_tells_the_person_once(
    person, opener, django_capture_on_commit_callbacks
):
    PersonAccountFactory(person=person, with_phone=True)

    first = _open_now(person, opener, django_capture_on_commit_callbacks)
    again = _open_now(person, opener, django_capture_on_commit_callbacks)

    assert again.pk == first.pk
    assert len(sms.outbox) == 1


def test_the_file_opens_even_when_the_sms_cannot_leave(
    person, opener, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    account = PersonAccountFactory(person=person, with_phone=True)

    def provider_down(**kwargs):
        raise sms.SmsError("Le fournisseur de SMS ne répond pas (TimeoutError).")

    monkeypatch.setattr(consent_services, "send_sms", provider_down)
    grant = _open_now(person, opener, django_capture_on_commit_callbacks)

    assert BreakGlassGrant.objects.filter(pk=grant.pk).exists()
    assert "SmsError" in caplog.text
    assert account.phone not in caplog.text
    assert account.phone[-8:] not in caplog.text
