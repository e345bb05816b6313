"""The person's login pages: a code by SMS or e-mail, a password, the carte Relais, the
invitation; identical answers whether or not an account exists; nothing personal in URLs."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.notifications import sms
from relais.portal.models import LoginCode
from relais.portal.services import person_account_open, person_invitation_send
from relais.portal.sessions import PENDING_LOGIN, PERSON_ACCOUNT
from tests.persons.factories import PersonFactory
from tests.portal.factories import PERSON_PASSWORD, PersonAccountFactory
from tests.portal.helpers import committed, log_in_person, login_then

pytestmark = pytest.mark.django_db

PHONE = "+33612345678"
TYPED_PHONE = "06 12 34 56 78"
# What a phone whose keyboard is set to Arabic types.
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def last_code() -> str:
    match = re.search(r"\b(\d{6})\b", sms.outbox[-1].body)
    assert match is not None
    return match[1]


def ask_code(client, identifier=TYPED_PHONE):
    return client.post(reverse("portal:login_code"), {"identifier": identifier})


def visible(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def test_it_offers_three_ways_in(client):
    response = client.get(reverse("portal:login"))

    assert response.status_code == 200
    for name in ("portal:login_code", "portal:login_card", "portal:login_password"):
        assert reverse(name) in response.content.decode()


def test_it_logs_in_with_a_code_received_by_sms_without_any_email(client):
    account = PersonAccountFactory(phone=PHONE)

    asked = ask_code(client)

    assert asked.status_code == 302
    assert asked.url == reverse("portal:login_code_check")
    assert [message.to for message in sms.outbox] == [PHONE]
    assert client.get(asked.url).status_code == 200
    entered = client.post(asked.url, {"code": last_code()})
    assert entered.status_code == 302
    assert entered.url == reverse("portal:home")
    assert client.session[PERSON_ACCOUNT] == account.pk
    assert PENDING_LOGIN not in client.session
    assert actions() == [AuditAction.PERSON_LOGIN_CODE_SENT, AuditAction.PERSON_LOGIN]


def test_a_code_typed_in_arabic_indic_digits_logs_in(client):
    account = PersonAccountFactory(phone=PHONE)
    ask_code(client, TYPED_PHONE.translate(ARABIC_INDIC))

    entered = client.post(
        reverse("portal:login_code_check"), {"code": last_code().translate(ARABIC_INDIC)}
    )

    assert entered.status_code == 302
    assert entered.url == reverse("portal:home")
    assert client.session[PERSON_ACCOUNT] == account.pk
    assert actions() == [AuditAction.PERSON_LOGIN_CODE_SENT, AuditAction.PERSON_LOGIN]


def test_it_answers_an_unknown_identifier_exactly_like_a_known_one(client):
    PersonAccountFactory(phone=PHONE)
    known = ask_code(client)
    known_page = client.get(known.url)
    known_wrong = client.post(known.url, {"code": "000000"})
    client.cookies.clear()

    unknown = ask_code(client, "07 81 22 33 44")
    unknown_page = client.get(unknown.url)
    unknown_wrong = client.post(unknown.url, {"code": "000000"})

    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert visible(known_page) == visible(unknown_page)
    assert known_wrong.status_code == unknown_wrong.status_code == 400
    assert visible(known_wrong) == visible(unknown_wrong)
    assert "Ce que vous avez tapé ne marche pas" in visible(unknown_wrong)


def test_asking_a_code_runs_as_many_queries_whether_or_not_a_space_can_receive_it(settings):
    """The time the request takes must not tell either: with the queue of production, the
    request does the same work for a known number, an unknown one, and a space without
    the phone or address the code would go to."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    PersonAccountFactory(phone=PHONE)
    without_contact = PersonAccountFactory()
    # The first request from an address starts its counter: each one measured is a later one.
    assert ask_code(Client(), "06 99 88 77 66").status_code == 302

    def queries(identifier: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = ask_code(Client(), identifier)
        assert response.status_code == 302
        return len(captured)

    known = queries(TYPED_PHONE)

    assert queries("07 81 22 33 44") == known
    assert queries(without_contact.card_identifier) == known


def test_a_failing_provider_gives_the_page_an_unknown_identifier_gets(client, settings):
    settings.RELAIS_SMS_BACKEND = "relais.notifications.sms.BrevoBackend"
    settings.RELAIS_SMS_API_KEY = ""
    PersonAccountFactory(phone=PHONE)
    failing = ask_code(client)
    failing_page = client.get(failing.url)
    client.cookies.clear()

    unknown = ask_code(client, "07 81 22 33 44")
    unknown_page = client.get(unknown.url)

    assert (failing.status_code, failing.url) == (unknown.status_code, unknown.url)
    assert visible(failing_page) == visible(unknown_page)
    assert not LoginCode.objects.exists()


def test_it_never_puts_the_identifier_in_a_url(client):
    PersonAccountFactory(phone=PHONE)

    responses = [ask_code(client)]
    responses.append(client.post(responses[0].url, {"code": last_code()}))

    for response in responses:
        assert "612345678" not in response.url
        assert "?" not in response.url


def test_bad_input_gets_a_french_error_and_sends_nothing(client):
    response = ask_code(client, "bonjour")

    assert response.status_code == 400
    assert "Ce n&#x27;est pas un numéro de portable" in response.content.decode()
    assert sms.outbox == []
    assert PENDING_LOGIN not in client.session


def test_the_code_page_says_how_long_the_code_works_in_the_persons_language(client, settings):
    settings.RELAIS_PORTAL_CODE_VALIDITY = timedelta(minutes=5)
    client.post(reverse("portal:language"), {"language": "en"})
    asked = ask_code(client)

    page = client.get(asked.url).content.decode()

    assert "It works for 5 minutes." in page


def test_the_code_page_sends_back_to_the_start_without_a_pending_login(client):
    response = client.get(reverse("portal:login_code_check"))

    assert response.status_code == 302
    assert response.url == reverse("portal:login_code")


def test_a_wrong_code_changes_nothing_but_the_attempt_count(client):
    PersonAccountFactory(phone=PHONE)
    asked = ask_code(client)

    response = client.post(asked.url, {"code": "abc"})

    assert response.status_code == 400
    assert PERSON_ACCOUNT not in client.session
    assert "Ce que vous avez tapé ne marche pas" in response.content.decode()
    assert LoginCode.objects.get().used_at is None


def test_it_says_clearly_when_too_many_codes_were_asked(client):
    PersonAccountFactory(phone=PHONE)
    for _ in range(3):
        ask_code(client)

    response = ask_code(client)

    assert response.status_code == 400
    assert "Trop de codes ont été demandés" in response.content.decode()
    assert len(sms.outbox) == 3


def test_a_refused_login_is_announced_first(client):
    asked = client.get(reverse("portal:login_password")).content.decode()

    refused = client.post(
        reverse("portal:login_password"), {"identifier": TYPED_PHONE, "password": "mauvais"}
    ).content.decode()

    assert "autofocus" in asked
    assert "<title>Mon mot de passe — Relais</title>" in asked
    assert not re.search(r"<input[^>]* autofocus", refused)
    assert "<title>Erreur — Mon mot de passe — Relais</title>" in refused
    alert = re.search(
        r'<div [^>]*class="fr-alert fr-alert--error[^"]*" role="alert">(.*?)</div>', refused, re.S
    )
    assert alert is not None
    assert "Ce que vous avez tapé ne marche pas" in alert[1]


def test_a_wrong_code_is_said_in_the_title_and_under_the_code(client):
    PersonAccountFactory(phone=PHONE)
    asked = ask_code(client)

    refused = client.post(asked.url, {"code": "000000"}).content.decode()

    assert not re.search(r"<input[^>]* autofocus", refused)
    assert "<title>Erreur — Tapez le code — Relais</title>" in refused
    assert re.search(r'id="id_code-desc-error">\s*<ul class="errorlist', refused)


def test_it_logs_in_with_a_password(client):
    account = PersonAccountFactory(phone=PHONE, with_password=True)

    response = client.post(
        reverse("portal:login_password"),
        {"identifier": TYPED_PHONE, "password": PERSON_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("portal:home")
    assert client.session[PERSON_ACCOUNT] == account.pk


def test_logging_in_gives_a_new_csrf_token(client):
    PersonAccountFactory(phone=PHONE, with_password=True)
    client.get(reverse("portal:login_password"))
    before = client.cookies[settings.CSRF_COOKIE_NAME].value

    client.post(
        reverse("portal:login_password"),
        {"identifier": TYPED_PHONE, "password": PERSON_PASSWORD},
    )

    assert client.cookies[settings.CSRF_COOKIE_NAME].value != before


def test_a_wrong_password_and_an_unknown_account_get_the_same_error(client):
    PersonAccountFactory(phone=PHONE, with_password=True)

    wrong = client.post(
        reverse("portal:login_password"), {"identifier": TYPED_PHONE, "password": "mauvais"}
    )
    unknown = client.post(
        reverse("portal:login_password"),
        {"identifier": "07 81 22 33 44", "password": PERSON_PASSWORD},
    )

    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Ce que vous avez tapé ne marche pas" in response.content.decode()
    assert PERSON_ACCOUNT not in client.session
    assert actions() == [AuditAction.PERSON_LOGIN_FAILED] * 2


def test_it_logs_in_with_the_card_then_offers_a_password(client):
    account, codes = person_account_open(
        person=PersonFactory(), identity_checked=True, identity_document="cni", by=SYSTEM
    )

    response = client.post(
        reverse("portal:login_card"),
        {"card_identifier": account.card_identifier.lower(), "recovery_code": codes[0]},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("portal:password_choose"), 302)]
    assert "Il reste 7 codes sur votre carte" in response.content.decode()
    chosen = client.post(
        reverse("portal:password_choose"),
        {"password1": "Soleil-62-nord", "password2": "Soleil-62-nord"},
    )
    assert chosen.status_code == 302
    assert chosen.url == reverse("portal:home")
    account.refresh_from_db()
    assert account.has_password
    assert AuditAction.PERSON_RECOVERY_CODE_USED in actions()
    assert actions()[-1] == AuditAction.PERSON_PASSWORD_SET


def test_a_card_typed_in_arabic_indic_digits_logs_in(client):
    account, codes = person_account_open(
        person=PersonFactory(), identity_checked=True, identity_document="cni", by=SYSTEM
    )

    response = client.post(
        reverse("portal:login_card"),
        {
            "card_identifier": account.card_identifier.translate(ARABIC_INDIC),
            "recovery_code": codes[0].translate(ARABIC_INDIC),
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("portal:password_choose")
    assert client.session[PERSON_ACCOUNT] == account.pk


def test_a_bad_card_number_gets_a_french_error(client):
    response = client.post(
        reverse("portal:login_card"), {"card_identifier": "1234", "recovery_code": "1234 5678"}
    )

    assert response.status_code == 400
    assert "Ce n&#x27;est pas un numéro de carte Relais" in response.content.decode()
    assert actions() == []


def test_a_weak_password_is_refused_in_french_and_nothing_changes(client):
    account = PersonAccountFactory()
    log_in_person(client, account)

    response = client.post(
        reverse("portal:password_choose"), {"password1": "12345678", "password2": "12345678"}
    )

    assert response.status_code == 400
    assert "Ce mot de passe est trop facile à deviner." in response.content.decode()
    account.refresh_from_db()
    assert not account.has_password


def change_password(client, current, new="Soleil-62-nord"):
    return client.post(
        reverse("portal:password_choose"),
        {"current_password": current, "password1": new, "password2": new},
    )


def test_replacing_a_password_asks_for_the_current_one(client, mailoutbox):
    account = PersonAccountFactory(phone=PHONE, with_password=True)
    log_in_person(client, account)

    response = change_password(client, "mauvais")

    assert response.status_code == 400
    assert "Ce que vous avez tapé ne marche pas" in response.content.decode()
    account.refresh_from_db()
    assert check_password(PERSON_PASSWORD, account.password)
    assert actions() == [AuditAction.PERSON_LOGIN_FAILED]
    assert sms.outbox == []
    assert mailoutbox == []


def test_wrong_current_passwords_lock_out_like_wrong_logins(client):
    account = PersonAccountFactory(phone=PHONE, with_password=True)
    log_in_person(client, account)
    for _ in range(4):
        change_password(client, "mauvais")

    locked = change_password(client, "mauvais")
    still_locked = change_password(client, PERSON_PASSWORD)

    assert "Trop d&#x27;essais" in locked.content.decode()
    assert "Trop d&#x27;essais" in still_locked.content.decode()
    account.refresh_from_db()
    assert check_password(PERSON_PASSWORD, account.password)


def test_a_right_current_password_sent_with_a_refused_new_one_is_no_failure(client):
    account = PersonAccountFactory(phone=PHONE, with_password=True)
    log_in_person(client, account)

    for _ in range(6):
        refused = change_password(client, PERSON_PASSWORD, new="motdepasse")

    assert refused.status_code == 400
    assert "Trop d&#x27;essais" not in refused.content.decode()
    changed = change_password(client, PERSON_PASSWORD)
    assert changed.status_code == 302


def test_a_new_password_ends_the_other_sessions_keeps_this_one_and_is_told(client, mailoutbox):
    account = PersonAccountFactory(phone=PHONE, email="lea@exemple.test", with_password=True)
    other = log_in_person(Client(), account)
    log_in_person(client, account)

    with committed():
        response = change_password(client, PERSON_PASSWORD)

    assert response.status_code == 302
    account.refresh_from_db()
    assert check_password("Soleil-62-nord", account.password)
    assert client.get(reverse("portal:home")).status_code == 200
    assert other.get(reverse("portal:home")).url == reverse("portal:login")
    told = "Relais : le mot de passe de votre espace a changé."
    assert [(message.to, message.body.startswith(told)) for message in sms.outbox] == [
        (PHONE, True)
    ]
    assert [(message.to, message.body.startswith(told)) for message in mailoutbox] == [
        (["lea@exemple.test"], True)
    ]
    assert "lea" not in sms.outbox[0].body


def test_a_first_password_asks_for_no_current_one(client):
    account = PersonAccountFactory(phone=PHONE)
    log_in_person(client, account)

    page = client.get(reverse("portal:password_choose")).content.decode()
    with committed():
        response = client.post(
            reverse("portal:password_choose"),
            {"password1": "Soleil-62-nord", "password2": "Soleil-62-nord"},
        )

    assert 'name="current_password"' not in page
    assert response.status_code == 302
    assert [message.to for message in sms.outbox] == [PHONE]


def test_a_password_like_the_name_is_refused_in_the_persons_words(client):
    account = PersonAccountFactory(person__birth_name="Benmoussa")
    log_in_person(client, account)
    client.post(reverse("portal:language"), {"language": "en"})

    response = client.post(
        reverse("portal:password_choose"), {"password1": "benmoussa", "password2": "benmoussa"}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Your password is too much like your name or your email." in page
    assert "birth name" not in page
    account.refresh_from_db()
    assert not account.has_password


def test_two_different_passwords_are_refused_in_plain_words(client):
    account = PersonAccountFactory()
    log_in_person(client, account)

    response = client.post(
        reverse("portal:password_choose"),
        {"password1": "Soleil-62-nord", "password2": "Soleil-62-sud"},
    )

    assert response.status_code == 400
    assert "Les deux mots de passe ne sont pas pareils." in response.content.decode()
    account.refresh_from_db()
    assert not account.has_password


def test_it_finishes_opening_the_space_with_the_invitation_code(client):
    account = PersonAccountFactory(phone=PHONE)
    person_invitation_send(account=account, by=SYSTEM)

    response = client.post(reverse("portal:activate"), {"phone": TYPED_PHONE, "code": last_code()})

    assert response.status_code == 302
    assert response.url == reverse("portal:password_choose")
    assert client.session[PERSON_ACCOUNT] == account.pk


def test_an_invitation_typed_in_arabic_indic_digits_opens_the_space(client):
    account = PersonAccountFactory(phone=PHONE)
    person_invitation_send(account=account, by=SYSTEM)

    response = client.post(
        reverse("portal:activate"),
        {
            "phone": TYPED_PHONE.translate(ARABIC_INDIC),
            "code": last_code().translate(ARABIC_INDIC),
        },
    )

    assert response.status_code == 302
    assert client.session[PERSON_ACCOUNT] == account.pk


def test_a_login_code_does_not_work_as_an_invitation(client):
    PersonAccountFactory(phone=PHONE)
    ask_code(client)

    response = client.post(reverse("portal:activate"), {"phone": TYPED_PHONE, "code": last_code()})

    assert response.status_code == 400
    assert PERSON_ACCOUNT not in client.session


def test_logout_ends_the_person_session(client):
    account = PersonAccountFactory()
    log_in_person(client, account)

    assert client.get(reverse("portal:logout")).status_code == 405
    response = client.post(reverse("portal:logout"))

    assert response.status_code == 302
    assert response.url == reverse("portal:login")
    assert PERSON_ACCOUNT not in client.session
    assert client.get(reverse("portal:password_choose")).url == login_then(
        reverse("portal:password_choose")
    )
    event = AuditEvent.objects.get(action=AuditAction.PERSON_LOGOUT)
    assert event.person_id == account.person_id


def test_the_persons_pages_are_never_cached(client):
    log_in_person(client, PersonAccountFactory())

    response = client.get(reverse("portal:password_choose"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
