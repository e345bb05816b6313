from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from relais.accounts.sessions import LOGIN_AT, SEEN_AT
from relais.accounts.validators import ZxcvbnValidator
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.www.accounts.views import LOCKED_ERROR, LOGIN_ERROR
from tests.concurrency import report_of
from tests.factories import PASSWORD, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


LOGIN_ERROR_FR = "Adresse électronique ou mot de passe incorrect."
LOCKED_ERROR_FR = "Trop de tentatives : la connexion est suspendue pendant quelques minutes."


def _post_login(client, email, password, **extra):
    return client.post(reverse("accounts:login"), {"email": email, "password": password}, **extra)


def _errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def test_it_gives_the_same_answer_for_a_wrong_password_and_an_unknown_email(client):
    user = UserFactory()

    wrong_password = _post_login(client, user.email, "pas-le-bon-mot-de-passe")
    unknown_email = _post_login(client, "personne@exemple.test", "pas-le-bon-mot-de-passe")

    assert wrong_password.status_code == unknown_email.status_code == 400
    assert _errors(wrong_password) == _errors(unknown_email) == [LOGIN_ERROR]
    assert LOGIN_ERROR_FR in wrong_password.content.decode()
    assert f'value="{user.email}"' in wrong_password.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_refuses_an_empty_form_with_what_it_lacks(client):
    response = client.post(reverse("accounts:login"), {})

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "password"}


def test_it_records_failed_logins(client):
    user = UserFactory()

    _post_login(client, user.email, "pas-le-bon-mot-de-passe")
    _post_login(client, "personne@exemple.test", "pas-le-bon-mot-de-passe")

    failures = list(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("seq"))
    assert [event.actor_id for event in failures] == [user.pk, None]
    assert failures[1].actor_label == "Identifiant inconnu"
    assert all(event.ip_address == "127.0.0.1" for event in failures)
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()


def test_it_sends_a_user_without_device_to_second_factor_setup(client):
    user = UserFactory()

    response = _post_login(client, user.email, PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("accounts:second_factor_setup")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[LOGIN_AT] == client.session[SEEN_AT]


def test_it_sends_a_user_with_a_device_to_second_factor_verification(client):
    user = UserFactory()
    TOTPDeviceFactory(user=user)

    response = _post_login(client, user.email, PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("accounts:second_factor")


def test_it_accepts_the_email_in_any_case(client):
    user = UserFactory(email="claire.dumont@exemple.test")

    response = _post_login(client, "Claire.Dumont@Exemple.test", PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_it_records_the_login(client):
    user = UserFactory()

    _post_login(client, user.email, PASSWORD)

    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert event.actor_id == user.pk
    assert event.actor_label == user.get_full_name()
    assert event.organisation_id is None


def test_it_refuses_a_deactivated_account_with_the_usual_message(client):
    user = UserFactory(is_active=False)

    response = _post_login(client, user.email, PASSWORD)

    assert _errors(response) == [LOGIN_ERROR]
    assert "_auth_user_id" not in client.session


def test_it_keeps_a_safe_next_page_and_drops_a_foreign_one(client):
    user = UserFactory()
    TOTPDeviceFactory(user=user)

    client.post(
        reverse("accounts:login") + "?next=/journal/", {"email": user.email, "password": PASSWORD}
    )
    assert client.session["relais_next"] == "/journal/"

    for foreign in ("https://ailleurs.example/", "//ailleurs.example/", "on", "journal:list"):
        client.logout()
        client.post(
            reverse("accounts:login") + "?" + urlencode({"next": foreign}),
            {"email": user.email, "password": PASSWORD},
        )
        assert "relais_next" not in client.session, foreign


def _lock_out(client, email, settings):
    for _ in range(settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT):
        last = _post_login(client, email, "pas-le-bon-mot-de-passe")
    return last


def test_it_refuses_the_right_password_after_too_many_failures(client, settings):
    user = UserFactory()

    last_failure = _lock_out(client, user.email, settings)
    response = _post_login(client, user.email, PASSWORD)

    assert _errors(last_failure) == [LOCKED_ERROR]
    assert response.status_code == 400
    assert _errors(response) == [LOCKED_ERROR]
    assert LOCKED_ERROR_FR in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()


def test_it_locks_out_existing_and_unknown_emails_identically(client, settings):
    user = UserFactory()

    answers = {}
    for email in (user.email, "personne@exemple.test"):
        failures = [
            _post_login(client, email, "pas-le-bon-mot-de-passe")
            for _ in range(settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT)
        ]
        locked = _post_login(client, email, PASSWORD)
        answers[email] = (
            [(r.status_code, _errors(r)) for r in failures],
            (locked.status_code, _errors(locked)),
        )

    assert answers[user.email] == answers["personne@exemple.test"]
    assert answers[user.email][1] == (400, [LOCKED_ERROR])


def test_it_records_one_lockout_and_nothing_while_locked(client, settings):
    user = UserFactory()

    _lock_out(client, user.email, settings)
    for _ in range(3):
        _post_login(client, user.email, PASSWORD)
        _post_login(
            client, "personne@exemple.test", "pas-le-bon-mot-de-passe", REMOTE_ADDR="1.2.3.4"
        )

    lockout = AuditEvent.objects.get(action=AuditAction.LOCKOUT)
    assert lockout.actor_id == user.pk
    failures = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, actor_id=user.pk)
    assert failures.count() == settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT


def test_it_does_not_count_successful_logins_against_the_address(client, settings):
    settings.RELAIS_LOGIN_MAX_FAILURES_PER_IP = 2
    colleagues = UserFactory.create_batch(4)

    answers = []
    for colleague in colleagues:
        answers.append(_post_login(client, colleague.email, PASSWORD).status_code)
        client.logout()

    assert answers == [302] * 4


def test_it_checks_at_most_the_limit_of_passwords_sent_in_parallel(tmp_path, settings):
    report = report_of("tests.accounts.parallel_logins", str(tmp_path / "db.sqlite3"), "20")

    assert report["failures"] == []
    limit = settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT
    assert report["checked"] == limit
    assert report["journal"] == {"login_failed": limit, "lockout": 1}


def test_it_locks_out_one_email_without_touching_another(client, settings):
    user, other = UserFactory(), UserFactory()

    _lock_out(client, user.email, settings)
    response = _post_login(client, other.email, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_it_locks_out_an_address_trying_many_emails(client, settings):
    settings.RELAIS_LOGIN_MAX_FAILURES_PER_IP = 4
    user = UserFactory()

    for number in range(4):
        _post_login(client, f"essai{number}@exemple.test", "pas-le-bon-mot-de-passe")
    from_same_address = _post_login(client, user.email, PASSWORD)
    from_other_address = _post_login(client, user.email, PASSWORD, REMOTE_ADDR="192.0.2.7")

    assert _errors(from_same_address) == [LOCKED_ERROR]
    assert from_other_address.status_code == 302
    lockout = AuditEvent.objects.get(action=AuditAction.LOCKOUT)
    assert lockout.ip_address == "127.0.0.1"


def test_it_forgets_earlier_failures_after_a_successful_login(client, settings):
    user = UserFactory()

    for _ in range(settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT - 1):
        _post_login(client, user.email, "pas-le-bon-mot-de-passe")
    _post_login(client, user.email, PASSWORD)
    client.logout()
    _post_login(client, user.email, "pas-le-bon-mot-de-passe")
    response = _post_login(client, user.email, PASSWORD)

    assert response.status_code == 302


def test_it_redirects_a_verified_professional_away_from_the_login_page(member_client):
    response = member_client.get(reverse("accounts:login"))

    assert response.status_code == 302
    assert response.url == reverse("www:home")


def test_it_logs_out_on_post_and_records_it(member_client, member_membership):
    response = member_client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert "_auth_user_id" not in member_client.session
    event = AuditEvent.objects.get(action=AuditAction.LOGOUT)
    assert event.actor_id == member_membership.user_id


def test_it_does_not_log_out_on_get(member_client):
    response = member_client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert "_auth_user_id" in member_client.session


def test_it_refuses_a_password_built_on_the_email_address():
    user = UserFactory.build(email="nadia.haddad@exemple.test", first_name="Nadia")
    with pytest.raises(ValidationError):
        ZxcvbnValidator(min_score=3).validate("nadia.haddad1", user)


def test_it_judges_a_very_long_password_on_its_beginning():
    """zxcvbn refuses more than 72 characters; a long passphrase is judged, not a crash."""
    user = UserFactory.build(email="nadia.haddad@exemple.test", first_name="Nadia")
    strong = "marée basse sur le quai des brumes, trois hérons " * 20
    ZxcvbnValidator(min_score=3).validate(strong, user)
    with pytest.raises(ValidationError):
        ZxcvbnValidator(min_score=3).validate("a" * 5000, user)
