import pytest
from django.test import Client
from django.urls import reverse

from relais.accounts.services import password_check
from relais.accounts.sessions import SECOND_FACTOR_AT
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.www.accounts.views import CURRENT_PASSWORD_ERROR, LOCKED_ERROR
from tests.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "girafe-orbite-cerfeuil-trombone"


def _change(client, current=PASSWORD, new=NEW_PASSWORD, confirmation=None):
    return client.post(
        reverse("accounts:password_change"),
        {"current_password": current, "password1": new, "password2": confirmation or new},
    )


def test_it_refuses_a_wrong_current_password_with_400(member_client, member_membership):
    response = _change(member_client, current="pas-le-bon-mot-de-passe")

    assert response.status_code == 400
    assert response.context["form"].errors["current_password"] == [CURRENT_PASSWORD_ERROR]
    assert CURRENT_PASSWORD_ERROR.startswith("Le mot de passe actuel est incorrect.")
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(PASSWORD)


def test_it_counts_and_journals_a_wrong_current_password_as_a_failed_login(
    member_client, member_membership
):
    _change(member_client, current="pas-le-bon-mot-de-passe")

    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor_id == member_membership.user_id


def test_it_locks_out_the_current_password_like_a_login(member_client, member_membership, settings):
    user = member_membership.user
    limit = settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT
    for _ in range(limit):
        _change(member_client, current="pas-le-bon-mot-de-passe")

    right_password = _change(member_client)

    assert right_password.status_code == 400
    assert right_password.context["form"].errors["current_password"] == [LOCKED_ERROR]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED).exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == limit
    lockout = AuditEvent.objects.get(action=AuditAction.LOCKOUT)
    assert lockout.actor_id == user.pk
    login = password_check(identifier=user.email, password=PASSWORD, ip_address="192.0.2.1")
    assert (login.user, login.locked) == (None, True)


def test_it_needs_the_current_password(member_client, member_membership):
    response = member_client.post(
        reverse("accounts:password_change"), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert "current_password" in response.context["form"].errors
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED).exists()


def test_it_changes_the_password_and_journals_it(member_client, member_membership):
    response = _change(member_client)

    assert response.url == reverse("accounts:profile")
    user = member_membership.user
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_CHANGED)
    assert event.actor_id == user.pk


def test_it_keeps_this_session_and_ends_the_others(member_client, member_membership):
    other = log_in(Client(), member_membership.user, member_membership)

    _change(member_client)

    assert member_client.get(reverse("accounts:profile")).status_code == 200
    elsewhere = other.get(reverse("accounts:profile"))
    assert elsewhere.url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in other.session


def test_the_end_of_the_other_sessions_is_journaled(member_client, member_membership):
    other = log_in(Client(), member_membership.user, member_membership)
    _change(member_client)

    response = other.get(reverse("accounts:profile"), follow=True)
    other.get(reverse("accounts:login"))

    ended = AuditEvent.objects.filter(
        action=AuditAction.SESSION_EXPIRED, actor_id=member_membership.user_id
    ).get()
    assert ended.actor_label == member_membership.user.get_full_name()
    assert "Votre session a pris fin après un changement sur votre compte." in (
        response.content.decode().replace("&#x27;", "'")
    )


def test_it_asks_the_second_factor_again_before_the_change(
    member_client, member_membership, settings
):
    session = member_client.session
    session[SECOND_FACTOR_AT] -= settings.RELAIS_RECENT_SECOND_FACTOR.total_seconds() + 1
    session.save()

    response = _change(member_client)

    assert response.url.startswith(reverse("accounts:second_factor"))
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(PASSWORD)
