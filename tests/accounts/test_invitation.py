import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.accounts.models import User
from relais.accounts.services import actor_of
from relais.accounts.sessions import MEMBERSHIP_ID
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.organisations.models import Membership, Role
from relais.organisations.services import invitation_create
from relais.www.accounts.views import FORGOTTEN_PASSWORD, LOCKED_ERROR, REACTIVATION_ERROR
from tests.conftest import log_in, totp_now
from tests.factories import PASSWORD, MembershipFactory, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "nadia.haddad@exemple.test"
STRONG_PASSWORD = "girafe-orbite-cerfeuil-trombone"


@pytest.fixture
def link(manager_membership):
    _, token = invitation_create(
        organisation=manager_membership.organisation,
        email=EMAIL,
        first_name="Nadia",
        last_name="Haddad",
        role=Role.PROFESSIONAL,
        profession="es",
        invited_by=manager_membership.user,
        by=actor_of(manager_membership.user),
    )
    return reverse("accounts:invitation", args=[token])


def test_it_refuses_a_new_account_form_with_400(client, link):
    response = client.post(link, {"password1": STRONG_PASSWORD, "password2": "autre chose"})

    assert response.status_code == 400
    assert "Les deux mots de passe ne sont pas identiques." in response.content.decode()
    assert not User.objects.filter(email=EMAIL).exists()


@pytest.fixture
def deactivated():
    user = UserFactory(email=EMAIL, is_active=False)
    MembershipFactory(user=user, ended_on=timezone.localdate())
    return user


def test_it_asks_a_deactivated_account_for_its_password(client, link, deactivated):
    page = client.get(link)

    assert page.status_code == 200
    assert list(page.context["form"].fields) == ["password"]
    assert "a été désactivé" in page.content.decode()


def test_it_reactivates_the_account_that_proves_its_password(
    client, link, deactivated, manager_membership
):
    device = TOTPDeviceFactory(user=deactivated)

    response = client.post(link, {"password": PASSWORD})

    assert response.url == reverse("accounts:second_factor")
    deactivated.refresh_from_db()
    assert deactivated.is_active
    joined = Membership.objects.active().get(user=deactivated)
    assert joined.organisation == manager_membership.organisation
    assert client.session["_auth_user_id"] == str(deactivated.pk)
    assert {AuditAction.INVITATION_ACCEPTED, AuditAction.LOGIN} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )
    accepted = AuditEvent.objects.get(action=AuditAction.INVITATION_ACCEPTED)
    assert accepted.details["compte_reactive"] is True
    verified = client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})
    assert verified.url == reverse("www:home")
    assert client.session[MEMBERSHIP_ID] == joined.pk


def test_it_sends_a_reactivated_account_without_factor_to_enrolment(client, link, deactivated):
    response = client.post(link, {"password": PASSWORD})

    assert response.url == reverse("accounts:second_factor_setup")


def test_it_refuses_a_wrong_password_of_a_deactivated_account(client, link, deactivated):
    response = client.post(link, {"password": "pas-le-bon-mot-de-passe"})

    assert response.status_code == 400
    assert response.context["form"].errors["password"] == [REACTIVATION_ERROR]
    deactivated.refresh_from_db()
    assert not deactivated.is_active
    assert not Membership.objects.active().filter(user=deactivated).exists()
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor_id == deactivated.pk


def test_it_counts_the_password_of_a_deactivated_account_as_a_login(
    client, link, deactivated, settings
):
    for _ in range(settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT):
        client.post(reverse("accounts:login"), {"email": EMAIL, "password": "pas-le-bon"})

    response = client.post(link, {"password": PASSWORD})

    assert response.status_code == 400
    assert response.context["form"].errors["password"] == [LOCKED_ERROR]
    deactivated.refresh_from_db()
    assert not deactivated.is_active


def test_it_still_asks_an_active_account_to_log_in_first(client, link):
    UserFactory(email=EMAIL)

    response = client.post(link, {"password": PASSWORD})

    assert response.status_code == 200
    assert "Un compte Relais existe déjà pour cette adresse." in response.content.decode()


NEW_WAY = f"?{FORGOTTEN_PASSWORD}"


def test_the_reactivation_page_offers_to_choose_a_new_password(client, link, deactivated):
    page = client.get(link).content.decode()

    assert f'href="{link}{NEW_WAY}"' in page
    assert "Mot de passe oublié ? Choisissez-en un nouveau" in page


def test_a_forgotten_password_is_replaced_by_a_new_one_chosen_on_the_invitation(
    client, link, deactivated, manager_membership
):
    device = TOTPDeviceFactory(user=deactivated)
    stamp = deactivated.security_stamp
    form = client.get(link + NEW_WAY)

    response = client.post(
        link + NEW_WAY, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
    )

    assert list(form.context["form"].fields) == ["password1", "password2"]
    assert response.url == reverse("accounts:second_factor")
    deactivated.refresh_from_db()
    assert deactivated.is_active
    assert deactivated.check_password(STRONG_PASSWORD)
    assert not deactivated.check_password(PASSWORD)
    assert deactivated.security_stamp == stamp + 1
    joined = Membership.objects.active().get(user=deactivated)
    assert joined.organisation == manager_membership.organisation
    reset = AuditEvent.objects.get(action=AuditAction.PASSWORD_RESET)
    assert (reset.actor_id, reset.details) == (deactivated.pk, {"method": "lien d'invitation"})
    assert AuditEvent.objects.get(action=AuditAction.INVITATION_ACCEPTED).details == {
        "compte_reactive": True
    }
    # The second factor is still asked, and the session carries on past it.
    assert client.get(reverse("www:home")).url == reverse("accounts:second_factor")
    verified = client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})
    assert verified.url == reverse("www:home")
    assert client.get(verified.url).url.startswith(reverse("consent:charter"))


def test_the_new_password_ends_the_accounts_other_sessions(client, link, deactivated):
    """A session left open in another browser before the account was deactivated would
    come back to life with it: the new password ends it."""
    elsewhere = log_in(Client(), deactivated, device=TOTPDeviceFactory(user=deactivated))

    reactivated = client.post(
        link + NEW_WAY, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
    )

    assert reactivated.url == reverse("accounts:second_factor")
    assert elsewhere.get(reverse("www:home")).url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in elsewhere.session


def test_a_weak_new_password_is_refused_and_nothing_changes(client, link, deactivated):
    response = client.post(
        link + NEW_WAY, {"password1": "motdepasse12", "password2": "motdepasse12"}
    )

    assert response.status_code == 400
    assert "Ce mot de passe est trop" in response.content.decode()
    deactivated.refresh_from_db()
    assert not deactivated.is_active
    assert deactivated.check_password(PASSWORD)
    assert not Membership.objects.active().filter(user=deactivated).exists()
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.PASSWORD_RESET, AuditAction.INVITATION_ACCEPTED]
    ).exists()
    assert "_auth_user_id" not in client.session


def test_a_new_password_lifts_the_lock_of_failed_logins(client, link, deactivated, settings):
    for _ in range(settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT):
        client.post(link, {"password": "pas-le-bon"})
    client.post(link + NEW_WAY, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})
    client.post(reverse("accounts:logout"))

    response = client.post(reverse("accounts:login"), {"email": EMAIL, "password": STRONG_PASSWORD})

    assert response.url == reverse("accounts:second_factor_setup")


def test_the_invitation_serves_once_for_a_new_password_too(client, link, deactivated):
    client.post(link + NEW_WAY, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD})
    client.post(reverse("accounts:logout"))

    again = Client().post(
        link + NEW_WAY,
        {"password1": "autre-" + STRONG_PASSWORD, "password2": "autre-" + STRONG_PASSWORD},
    )

    assert again.status_code == 404
    deactivated.refresh_from_db()
    assert deactivated.check_password(STRONG_PASSWORD)


def test_it_tells_an_account_of_another_address_before_it_tries_to_accept(client, link):
    other = MembershipFactory()
    log_in(client, other.user, other)

    shown = client.get(link)
    sent = client.post(link)

    for response in (shown, sent):
        assert response.status_code == 403
        page = response.content.decode()
        assert "envoyée à une autre adresse électronique" in page
        assert "Accepter l'invitation" not in page
    assert not Membership.objects.filter(user=other.user).exclude(pk=other.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.INVITATION_ACCEPTED).exists()


def test_the_account_it_was_sent_to_is_offered_to_accept_it(client, link):
    invited = MembershipFactory(user=UserFactory(email=EMAIL))
    log_in(client, invited.user, invited)

    response = client.get(link)

    assert response.status_code == 200
    assert "Accepter l'invitation" in response.content.decode()
