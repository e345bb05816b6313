import re
from datetime import datetime, timedelta
from smtplib import SMTPServerDisconnected
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django_tasks import TaskResultStatus

from relais.accounts import password_reset, services, throttling
from relais.accounts.models import AttemptCounter, User
from relais.accounts.services import actor_of, second_factor_reset
from relais.accounts.tasks import send_password_reset_link
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.www.accounts.views import ALREADY_LOGGED_IN, PASSWORD_RESET_DONE
from tests.conftest import log_in, totp_now
from tests.factories import PASSWORD, MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.test_access_log import _logger, _request

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "girafe-orbite-cerfeuil-trombone"
IP = "198.51.100.4"
UNKNOWN = "personne.inconnue@exemple.test"


@pytest.fixture
def member():
    return MembershipFactory()


def _ask(client, email, **extra):
    return client.post(reverse("accounts:password_reset"), {"email": email}, **extra)


def _link(message, settings) -> str:
    prefix = re.escape(settings.RELAIS_PUBLIC_URL)
    (found,) = re.findall(rf"{prefix}(/compte/nouveau-mot-de-passe/[^/\s]+/)", message.body)
    return found


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


CHOOSE = reverse_lazy("accounts:password_reset_choose")


def _choose(client, link, password=NEW_PASSWORD, confirmation=None, **extra):
    """Open the link, then send the form of the page it leads to."""
    client.get(link, **extra)
    return client.post(
        CHOOSE, {"password1": password, "password2": confirmation or password}, **extra
    )


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def _link_for(user) -> str:
    return reverse("accounts:password_reset_confirm", args=[password_reset.link_token(user)])


def test_the_login_page_leads_to_the_forgotten_password_page(client):
    response = client.get(reverse("accounts:login"))

    page = _text(response)
    assert f'href="{reverse("accounts:password_reset")}"' in page
    assert "Mot de passe oublié ?" in page
    assert "il peut réinitialiser votre second facteur" in page


def test_it_mails_a_link_and_the_new_password_logs_in_with_the_second_factor(
    client, member, mailoutbox, settings
):
    user = member.user
    device = TOTPDeviceFactory(user=user)
    open_elsewhere = log_in(Client(), user, member)

    asked = _ask(client, user.email.upper())

    assert asked.status_code == 302
    assert asked.url == reverse("accounts:password_reset_sent")
    assert "Si l'adresse indiquée correspond à un compte Relais actif" in _text(
        client.get(asked.url)
    )
    (message,) = mailoutbox
    assert message.to == [user.email]
    link = _link(message, settings)
    opened = client.get(link)
    assert opened.url == CHOOSE
    form = client.get(opened.url)
    assert form.status_code == 200
    assert user.email in _text(form)

    chosen = _choose(client, link)

    assert chosen.status_code == 302
    assert chosen.url == reverse("accounts:login")
    assert PASSWORD_RESET_DONE in _text(client.get(chosen.url))
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    ended = open_elsewhere.get(reverse("accounts:profile"))
    assert ended.url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in open_elsewhere.session
    old = client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})
    assert old.status_code == 400
    logged = client.post(reverse("accounts:login"), {"email": user.email, "password": NEW_PASSWORD})
    assert logged.url == reverse("accounts:second_factor")
    assert client.get(reverse("www:home")).url == reverse("accounts:second_factor")
    verified = client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})
    assert verified.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_the_email_holds_the_link_its_end_and_no_name(client, member, mailoutbox, settings):
    before = timezone.localtime()

    _ask(client, member.user.email)

    (message,) = mailoutbox
    assert message.subject == "Choisir un nouveau mot de passe Relais"
    assert f"{settings.RELAIS_PUBLIC_URL}/compte/nouveau-mot-de-passe/" in message.body
    until = before + password_reset.PASSWORD_RESET_VALIDITY
    assert f"avant le {until:%d/%m/%Y} à {until:%H:%M}" in message.body
    assert "Ce lien ne sert qu'une fois." in message.body
    assert "le responsable de votre structure peut réinitialiser votre second" in message.body
    for name in (member.user.first_name, member.user.last_name, member.organisation.name):
        assert name not in message.body
        assert name not in message.subject


def test_it_gives_the_same_answer_and_sends_nothing_for_an_unknown_address(
    client, member, mailoutbox
):
    known = _ask(client, member.user.email)
    mailoutbox.clear()

    unknown = _ask(Client(), UNKNOWN)

    assert (unknown.status_code, unknown.url) == (known.status_code, known.url)
    assert mailoutbox == []
    assert not AuditEvent.objects.exclude(actor_id=member.user_id).exists()


@pytest.mark.parametrize(
    "state",
    ["account_deactivated", "membership_ended", "membership_not_started", "no_membership"],
)
def test_it_sends_nothing_to_an_account_without_an_active_membership(client, mailoutbox, state):
    today = timezone.localdate()
    if state == "no_membership":
        user = UserFactory()
    elif state == "account_deactivated":
        user = MembershipFactory(user=UserFactory(is_active=False)).user
    elif state == "membership_ended":
        user = MembershipFactory(
            started_on=today - timedelta(days=30), ended_on=today - timedelta(days=1)
        ).user
    else:
        user = MembershipFactory(started_on=today + timedelta(days=1)).user

    response = _ask(client, user.email)

    assert response.url == reverse("accounts:password_reset_sent")
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET_REQUESTED).exists()


def test_it_sends_a_link_to_a_member_whose_other_membership_ended(client, mailoutbox):
    today = timezone.localdate()
    current = MembershipFactory()
    MembershipFactory(user=current.user, started_on=today - timedelta(days=30), ended_on=today)

    _ask(client, current.user.email)

    assert [message.to for message in mailoutbox] == [[current.user.email]]


def test_it_journals_the_link_sent_and_the_password_chosen(client, member, mailoutbox, settings):
    _ask(client, member.user.email, REMOTE_ADDR=IP)
    _choose(client, _link(mailoutbox[0], settings), REMOTE_ADDR=IP)

    sent = AuditEvent.objects.get(action=AuditAction.PASSWORD_RESET_REQUESTED)
    chosen = AuditEvent.objects.get(action=AuditAction.PASSWORD_RESET)
    for event in (sent, chosen):
        assert (event.actor_id, event.actor_label) == (
            member.user_id,
            member.user.get_full_name(),
        )
        assert event.ip_address == IP
        assert event.organisation_id is None


def test_it_journals_nothing_nor_keeps_an_address_that_has_no_account(client):
    _ask(client, UNKNOWN)

    assert not AuditEvent.objects.exists()
    for key in AttemptCounter.objects.values_list("key", flat=True):
        assert "inconnue" not in key
    assert not AttemptCounter.objects.filter(key__contains=UNKNOWN).exists()


def test_it_refuses_an_address_that_is_not_one_in_french(client, mailoutbox):
    response = _ask(client, "pas une adresse")

    assert response.status_code == 400
    assert "Saisissez une adresse de courriel valide." in _text(response)
    assert mailoutbox == []


def test_it_refuses_a_weak_password_and_changes_nothing(client, member, mailoutbox, settings):
    _ask(client, member.user.email)
    link = _link(mailoutbox[0], settings)

    weak = _choose(client, link, password="motdepasse12")
    different = _choose(client, link, confirmation="une-tout-autre-phrase-de-passe")

    assert weak.status_code == different.status_code == 400
    assert weak.context["form"].errors["password1"]
    assert "Ce mot de passe est trop" in _text(weak)
    assert different.context["form"].errors["password2"] == [
        "Les deux mots de passe ne sont pas identiques."
    ]
    user = User.objects.get(pk=member.user_id)
    assert user.check_password(PASSWORD)
    assert user.security_stamp == member.user.security_stamp
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET).exists()
    assert client.get(CHOOSE).status_code == 200


def test_it_refuses_a_password_built_on_the_accounts_address(client):
    user = MembershipFactory(user=UserFactory(email="nadia.haddad@exemple.test")).user

    response = _choose(client, _link_for(user), password="haddad-nadia-exemple-test")

    assert response.status_code == 400
    assert "trop semblable" in _text(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def _assert_refused(response):
    assert response.status_code == 404
    page = _text(response)
    assert "Ce lien ne fonctionne plus" in page
    assert f'href="{reverse("accounts:password_reset")}"' in page
    assert "Demander un nouveau lien" in page


def test_a_used_link_is_refused(client, member, mailoutbox, settings):
    _ask(client, member.user.email)
    link = _link(mailoutbox[0], settings)
    _choose(client, link)

    _assert_refused(client.get(link))
    _assert_refused(client.get(CHOOSE))
    again = _choose(client, link, password="autre-girafe-orbite-cerfeuil")
    _assert_refused(again)
    member.user.refresh_from_db()
    assert member.user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET).count() == 1


def test_a_link_used_twice_sets_one_password(member):
    token = password_reset.link_token(member.user)
    services.password_reset(token=token, new_password=NEW_PASSWORD, ip_address=IP)

    with pytest.raises(ValidationError) as refused:
        services.password_reset(token=token, new_password="autre-girafe-orbite", ip_address=IP)

    assert refused.value.messages == [services.LINK_EXPIRED]


def test_an_expired_link_is_refused(client, member):
    link = _link_for(member.user)
    later = datetime.now() + password_reset.PASSWORD_RESET_VALIDITY + timedelta(seconds=1)  # noqa: DTZ005 (Django's tokens count in naive local time)

    with patch.object(password_reset._tokens, "_now", return_value=later):
        _assert_refused(client.get(link))

    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)


def test_a_link_is_good_until_its_end(client, member):
    link = _link_for(member.user)
    nearly = datetime.now() + password_reset.PASSWORD_RESET_VALIDITY - timedelta(seconds=5)  # noqa: DTZ005 (Django's tokens count in naive local time)

    with patch.object(password_reset._tokens, "_now", return_value=nearly):
        assert client.get(link).url == CHOOSE
        assert client.get(CHOOSE).status_code == 200


def test_a_link_that_expires_while_its_page_is_open_is_refused(client, member):
    link = _link_for(member.user)
    assert client.get(link).url == CHOOSE
    later = datetime.now() + password_reset.PASSWORD_RESET_VALIDITY + timedelta(seconds=1)  # noqa: DTZ005 (Django's tokens count in naive local time)

    with patch.object(password_reset._tokens, "_now", return_value=later):
        refused = client.post(CHOOSE, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    _assert_refused(refused)
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),
        lambda token: "zz" + token,
        lambda token: token.split("-", 1)[1],
        lambda token: "zzzzzzzzzzzzz-" + token.split("-", 1)[1],
        lambda token: "x",
    ],
    ids=["hash", "account", "no-account", "huge-account", "garbage"],
)
def test_a_tampered_link_is_refused(client, member, tamper):
    token = password_reset.link_token(member.user)

    response = client.get(reverse("accounts:password_reset_confirm", args=[tamper(token)]))

    _assert_refused(response)


def test_another_accounts_link_does_not_open_this_one(client, member):
    other = MembershipFactory().user
    _, _, secret = password_reset.link_token(other).partition("-")
    forged = f"{password_reset.link_token(member.user).partition('-')[0]}-{secret}"

    _assert_refused(client.get(reverse("accounts:password_reset_confirm", args=[forged])))


@pytest.mark.parametrize("change", ["login", "security_stamp", "deactivation", "password_change"])
def test_a_link_stops_working_when_the_account_changes(client, member, change):
    user = member.user
    link = _link_for(user)
    if change == "login":
        client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})
        client.post(reverse("accounts:logout"))
    elif change == "security_stamp":
        manager = MembershipFactory(organisation=member.organisation, manager=True)
        second_factor_reset(
            member=user, organisation_id=member.organisation_id, by=actor_of(manager.user)
        )
    elif change == "deactivation":
        User.objects.filter(pk=user.pk).update(is_active=False)
    else:
        services.password_change(user=user, new_password=NEW_PASSWORD, by=actor_of(user))

    _assert_refused(client.get(link))


def test_it_limits_the_links_sent_to_one_address(client, member, mailoutbox):
    limit = throttling.PASSWORD_RESET_LINKS_PER_ADDRESS
    answers = [_ask(Client(), member.user.email) for _ in range(limit + 2)]

    assert {(answer.status_code, answer.url) for answer in answers} == {
        (302, reverse("accounts:password_reset_sent"))
    }
    assert len(mailoutbox) == limit
    sent = AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET_REQUESTED)
    assert sent.count() == limit


def test_the_limit_on_one_address_ignores_its_case(client, member, mailoutbox):
    for _ in range(throttling.PASSWORD_RESET_LINKS_PER_ADDRESS):
        _ask(client, member.user.email)

    _ask(client, f"  {member.user.email.upper()} ")

    assert len(mailoutbox) == throttling.PASSWORD_RESET_LINKS_PER_ADDRESS


def test_it_limits_the_requests_from_one_ip_address(client, mailoutbox, monkeypatch):
    monkeypatch.setattr(throttling, "PASSWORD_RESET_REQUESTS_PER_IP", 2)
    members = [MembershipFactory().user for _ in range(3)]

    for user in members:
        _ask(client, user.email, REMOTE_ADDR=IP)
    _ask(client, members[2].email, REMOTE_ADDR="198.51.100.5")

    assert [message.to for message in mailoutbox] == [
        [members[0].email],
        [members[1].email],
        [members[2].email],
    ]


def test_the_new_password_lifts_the_lockout_of_the_account(client, member, settings):
    user = member.user
    for _ in range(settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT):
        client.post(reverse("accounts:login"), {"email": user.email, "password": "pas-le-bon"})
    locked = services.password_check(identifier=user.email, password=PASSWORD, ip_address=IP)
    assert locked.locked

    _choose(client, _link_for(user))

    check = services.password_check(identifier=user.email, password=NEW_PASSWORD, ip_address=IP)
    assert check.user == user


def test_a_failed_sending_names_no_address(member, caplog):
    with patch("relais.accounts.password_reset.send_mail", side_effect=SMTPServerDisconnected()):
        result = send_password_reset_link.enqueue(user_id=member.user_id, ip_address=IP)

    assert result.status == TaskResultStatus.FAILED
    (error,) = result.errors
    assert error.exception_class_path.endswith("PasswordResetLinkNotSent")
    for trace in (error.traceback, caplog.text):
        assert member.user.email not in trace
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET_REQUESTED).exists()


def test_the_link_is_masked_in_the_access_log(tmp_path, member):
    log_file = tmp_path / "access.log"
    link = _link_for(member.user)

    _request(_logger(log_file), link, "")

    (line,) = log_file.read_text().splitlines()
    assert '"GET /compte/nouveau-mot-de-passe/…/" 200' in line
    assert _token(link) not in line
    assert _token(link).rsplit("-", 1)[1] not in line


def test_the_page_naming_the_account_is_never_cached(client, member):
    client.get(_link_for(member.user))

    response = client.get(CHOOSE)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_page_of_the_link_holds_no_token_in_its_address(client, member, caplog):
    link = _link_for(member.user)

    opened = client.get(link)
    refused = _choose(client, link, password="motdepasse12")

    assert opened.url == CHOOSE
    assert _token(link) not in CHOOSE
    assert refused.status_code == 400
    assert "Bad Request: /compte/mot-de-passe-oublie/nouveau/" in caplog.text
    assert _token(link).rsplit("-", 1)[1] not in caplog.text


def test_a_page_opened_without_a_link_is_refused(client):
    _assert_refused(client.get(CHOOSE))
    _assert_refused(client.post(CHOOSE, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}))


def test_opening_the_link_gives_the_visitor_a_new_session_key(client, member):
    client.get(reverse("accounts:password_reset"))
    client.session.save()
    planted = client.session.session_key

    client.get(_link_for(member.user))

    assert client.session.session_key != planted


@pytest.mark.parametrize("name", ["password_reset", "password_reset_sent"])
def test_a_logged_in_professional_changes_their_password_from_their_account(member_client, name):
    response = member_client.get(reverse(f"accounts:{name}"), follow=True)

    assert response.redirect_chain[0] == (reverse("accounts:password_change"), 302)
    assert ALREADY_LOGGED_IN in _text(response)


def test_a_logged_in_professional_leaves_a_link_unused(member_client, member_membership):
    link = _link_for(member_membership.user)

    response = member_client.get(link)
    posted = _choose(member_client, link)

    assert response.url == posted.url == reverse("accounts:password_change")
    assert member_client.get(CHOOSE).url == reverse("accounts:password_change")
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(PASSWORD)


def test_a_session_before_the_second_factor_is_sent_to_it(client, member):
    TOTPDeviceFactory(user=member.user)
    client.post(reverse("accounts:login"), {"email": member.user.email, "password": PASSWORD})

    response = client.get(reverse("accounts:password_reset"))

    assert response.url == reverse("accounts:second_factor")
