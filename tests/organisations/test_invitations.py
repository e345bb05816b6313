from datetime import timedelta
from smtplib import SMTPRecipientsRefused
from unittest.mock import patch

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus

from relais.accounts.models import User
from relais.accounts.services import actor_of
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.organisations.models import Invitation, Membership, Role
from relais.organisations.services import (
    invitation_accept,
    invitation_create,
    invitation_revoke,
)
from relais.organisations.tasks import send_invitation_email
from relais.organisations.tokens import invitation_token
from tests.concurrency import meanwhile, needs_row_locks
from tests.conftest import log_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "girafe-orbite-cerfeuil-trombone"
INVITE = {
    "first_name": "Nadia",
    "last_name": "Haddad",
    "email": "Nadia.Haddad@exemple.test",
    "role": "professionnel",
    "profession": "es",
}


def _invite(manager_membership, email="nadia.haddad@exemple.test", **fields):
    invitation, token = invitation_create(
        organisation=manager_membership.organisation,
        email=email,
        first_name=fields.get("first_name", "Nadia"),
        last_name=fields.get("last_name", "Haddad"),
        role=fields.get("role", Role.PROFESSIONAL),
        profession=fields.get("profession", "es"),
        invited_by=manager_membership.user,
        by=actor_of(manager_membership.user),
    )
    return invitation, reverse("accounts:invitation", args=[token])


def _accept(client, link, password=STRONG_PASSWORD, confirmation=None):
    return client.post(
        link, {"password1": password, "password2": confirmation or password}, follow=False
    )


def test_it_sends_one_email_with_the_link_and_no_personal_data(
    manager_client, manager_membership, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("organisations:invite"), INVITE)

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    invitation = Invitation.objects.get()
    link = django_settings.RELAIS_PUBLIC_URL + reverse(
        "accounts:invitation", args=[invitation_token(invitation)]
    )
    assert message.to == ["nadia.haddad@exemple.test"]
    assert link in message.body
    assert manager_membership.organisation.name in message.body
    manager = manager_membership.user
    for personal in ("Nadia", "Haddad", manager.first_name, manager.last_name, manager.email):
        assert personal not in message.body
        assert personal not in message.subject


def test_the_email_gives_the_links_end_in_local_time(manager_membership, mailoutbox):
    invitation, _ = _invite(manager_membership)

    assert send_invitation_email.call(invitation_id=invitation.pk) is True

    until = timezone.localtime(invitation.expires_at)
    assert f"avant le {until:%d/%m/%Y} à {until:%H:%M}" in mailoutbox[-1].body


@pytest.mark.parametrize("state", ["accepted_at", "revoked_at", "expires_at"])
def test_it_sends_nothing_for_an_invitation_no_longer_pending(
    manager_membership, mailoutbox, state
):
    invitation, _ = _invite(manager_membership)
    Invitation.objects.filter(pk=invitation.pk).update(**{state: timezone.now()})
    mailoutbox.clear()

    assert send_invitation_email.call(invitation_id=invitation.pk) is False

    assert mailoutbox == []


def test_a_refused_email_fails_the_task_without_the_address_in_its_trace_or_the_logs(
    manager_membership, caplog
):
    """smtplib's errors name the recipient; the task queue keeps a failed task's traceback
    in its table and the worker writes it to its log."""
    invitation, _ = _invite(manager_membership)
    refused = SMTPRecipientsRefused({invitation.email: (550, b"Mailbox unavailable")})

    with patch("relais.organisations.tasks.send_mail", side_effect=refused):
        result = send_invitation_email.enqueue(invitation_id=invitation.pk)

    assert result.status == TaskResultStatus.FAILED
    (error,) = result.errors
    assert error.exception_class_path == "relais.organisations.tasks.InvitationNotSent"
    assert "SMTPRecipientsRefused" in error.traceback
    for trace in (error.traceback, caplog.text):
        assert invitation.email not in trace
        assert "Mailbox unavailable" not in trace
    assert f"Invitation {invitation.pk} non envoyée : SMTPRecipientsRefused" in caplog.text


def test_it_keeps_only_a_hash_of_the_link(manager_membership):
    invitation, link = _invite(manager_membership)

    token = invitation_token(invitation)
    assert token in link
    assert token not in {invitation.token_hash, invitation.nonce}


def test_the_invitation_page_naming_the_invited_person_is_never_cached(client, manager_membership):
    _, link = _invite(manager_membership)

    response = client.get(link)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_it_records_the_invitation(manager_client, manager_membership):
    manager_client.post(reverse("organisations:invite"), INVITE)

    event = AuditEvent.objects.get(action=AuditAction.INVITATION_SENT)
    assert event.actor_id == manager_membership.user_id
    assert event.organisation_id == manager_membership.organisation_id
    assert event.object_id == str(Invitation.objects.get().pk)
    assert event.details == {
        "invite": "Nadia Haddad",
        "adresse_invite": "nadia.haddad@exemple.test",
        "role": "professionnel",
        "profession": "es",
    }


def test_it_refuses_an_invitation_from_a_professional(member_client, mailoutbox):
    response = member_client.post(reverse("organisations:invite"), INVITE)

    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_it_refuses_to_invite_a_current_member(manager_client, member_membership):
    data = INVITE | {"email": member_membership.user.email}

    response = manager_client.post(reverse("organisations:invite"), data)

    assert response.status_code == 400
    assert "Cette personne fait déjà partie de la structure." in response.content.decode()
    assert not Invitation.objects.exists()


def test_it_shows_the_account_creation_form(client, manager_membership):
    _, link = _invite(manager_membership)

    response = client.get(link)

    assert response.status_code == 200
    assert manager_membership.organisation.name in response.content.decode()
    assert "password1" in response.context["form"].fields


def test_it_creates_the_account_and_the_membership(client, manager_membership):
    invitation, link = _invite(manager_membership)

    response = _accept(client, link)

    assert response.status_code == 302
    assert response.url == reverse("accounts:second_factor_setup")
    user = User.objects.get(email="nadia.haddad@exemple.test")
    assert user.get_full_name() == "Nadia Haddad"
    assert user.check_password(STRONG_PASSWORD)
    membership = Membership.objects.get(user=user)
    assert membership.organisation == manager_membership.organisation
    assert membership.role == Role.PROFESSIONAL
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert client.session["_auth_user_id"] == str(user.pk)
    event = AuditEvent.objects.get(action=AuditAction.INVITATION_ACCEPTED)
    assert event.actor_id == user.pk


def test_it_asks_the_new_account_for_a_second_factor(client, manager_membership):
    _, link = _invite(manager_membership)
    _accept(client, link)

    response = client.get(reverse("www:home"))

    assert response.url == reverse("accounts:second_factor_setup")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (
            "Kz8#qv2!",
            "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères.",
        ),
        ("password1234", "Ce mot de passe est trop courant."),
        (
            "azertyuiop123",
            "Ce mot de passe est trop facile à deviner. Choisissez une phrase de passe",
        ),
    ],
    ids=["too-short", "common", "guessable"],
)
def test_it_refuses_a_weak_password_in_french(client, manager_membership, password, message):
    invitation, link = _invite(manager_membership)

    response = _accept(client, link, password)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(email=invitation.email).exists()
    assert not Membership.objects.exclude(pk=manager_membership.pk).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert "_auth_user_id" not in client.session


def test_it_refuses_two_different_passwords(client, manager_membership):
    invitation, link = _invite(manager_membership)

    response = _accept(client, link, STRONG_PASSWORD, STRONG_PASSWORD + "-autre")

    assert "Les deux mots de passe ne sont pas identiques." in response.content.decode()
    assert not User.objects.filter(email=invitation.email).exists()


def test_it_opens_the_link_only_once(client, manager_membership):
    _, link = _invite(manager_membership)
    _accept(client, link)
    client.logout()

    again = client.get(link)
    second_accept = _accept(client, link, "une-autre-phrase-de-passe-solide")

    assert again.status_code == 404
    assert "Ce lien d'invitation ne fonctionne plus" in again.content.decode()
    assert second_accept.status_code == 404
    assert Membership.objects.count() == 2


def test_it_refuses_an_expired_link(client, manager_membership):
    invitation, link = _invite(manager_membership)
    assert abs(invitation.expires_at - timezone.now() - timedelta(hours=72)) < timedelta(minutes=1)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    page = client.get(link)
    accept = _accept(client, link)

    assert page.status_code == accept.status_code == 404
    assert not User.objects.filter(email=invitation.email).exists()


def test_it_accepts_a_link_until_it_expires(client, manager_membership):
    invitation, link = _invite(manager_membership)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() + timedelta(minutes=1)
    )

    response = _accept(client, link)

    assert response.status_code == 302


def test_it_refuses_a_revoked_link(client, manager_client, manager_membership):
    invitation, link = _invite(manager_membership)

    manager_client.post(reverse("organisations:revoke_invitation", args=[invitation.pk]))
    manager_client.logout()
    response = client.get(link)

    assert response.status_code == 404
    revoked = AuditEvent.objects.get(action=AuditAction.INVITATION_REVOKED)
    assert revoked.details == {
        "invite": f"{invitation.first_name} {invitation.last_name}",
        "adresse_invite": "nadia.haddad@exemple.test",
    }


ALREADY_ACCEPTED = "Cette invitation a déjà été acceptée ou a expiré."


def _accept_as_new_account(invitation):
    return invitation_accept(
        invitation=invitation, password=STRONG_PASSWORD, existing_user=None, ip_address="127.0.0.1"
    )


def _refused_revocation(invitation):
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.INVITATION_REVOKED).exists()


def test_it_refuses_to_cancel_an_invitation_accepted_since_it_was_read(manager_membership):
    invitation, _ = _invite(manager_membership)
    _accept_as_new_account(Invitation.objects.get(pk=invitation.pk))

    with pytest.raises(ValidationError, match=ALREADY_ACCEPTED):
        invitation_revoke(invitation=invitation, by=actor_of(manager_membership.user))

    _refused_revocation(invitation)
    assert invitation.accepted_at is not None


def test_the_team_page_says_an_invitation_accepted_meanwhile_is_no_longer_to_cancel(
    manager_client, manager_membership
):
    invitation, _ = _invite(manager_membership)
    _accept_as_new_account(invitation)

    response = manager_client.post(
        reverse("organisations:revoke_invitation", args=[invitation.pk]), follow=True
    )

    assert response.redirect_chain == [(reverse("organisations:members"), 302)]
    page = response.content.decode().replace("&#x27;", "'")
    assert ALREADY_ACCEPTED in page
    assert "L'invitation est annulée." not in page
    _refused_revocation(invitation)
    assert Membership.objects.filter(user__email=invitation.email).exists()


def test_a_double_click_cancels_an_invitation_once(manager_client, manager_membership):
    invitation, _ = _invite(manager_membership)
    revoke = reverse("organisations:revoke_invitation", args=[invitation.pk])

    manager_client.post(revoke)
    response = manager_client.post(revoke, follow=True)

    assert "Cette invitation est déjà annulée." in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_REVOKED).count() == 1


def test_it_refuses_a_made_up_link(client):
    response = client.get(reverse("accounts:invitation", args=["0" * 64]))

    assert response.status_code == 404


def test_it_asks_an_existing_account_to_log_in_first(client, manager_membership):
    existing = UserFactory(email="nadia.haddad@exemple.test")
    _, link = _invite(manager_membership)

    page = client.get(link)
    post = _accept(client, link)

    assert page.status_code == 200
    assert (
        page.context["login_url"] == f"{reverse('accounts:login')}?next={link.replace('/', '%2F')}"
    )
    assert "Un compte Relais existe déjà pour cette adresse." in page.content.decode()
    assert post.status_code == 200
    assert not Membership.objects.filter(user=existing).exists()
    existing.refresh_from_db()
    assert existing.check_password("girafe-orbite-cerfeuil-trombone") is False


def test_it_lets_a_logged_in_account_join_another_organisation(client, manager_membership):
    elsewhere = MembershipFactory()
    _, link = _invite(manager_membership, email=elsewhere.user.email)
    log_in(client, elsewhere.user, elsewhere)

    page = client.get(link)
    response = client.post(link)

    assert page.status_code == 200
    assert response.url == reverse("accounts:choose_organisation")
    assert Membership.objects.filter(
        user=elsewhere.user, organisation=manager_membership.organisation
    ).exists()


def test_an_invitation_to_someone_who_joined_meanwhile_is_refused_in_french(
    client, manager_membership
):
    elsewhere = MembershipFactory()
    second, second_link = _invite(manager_membership, email=elsewhere.user.email)
    MembershipFactory(user=elsewhere.user, organisation=manager_membership.organisation)
    log_in(client, elsewhere.user, elsewhere)

    response = client.post(second_link, follow=True)

    assert response.status_code == 200
    assert "Vous faites déjà partie de la structure" in response.content.decode()
    second.refresh_from_db()
    assert second.accepted_at is None
    assert (
        Membership.objects.filter(
            user=elsewhere.user, organisation=manager_membership.organisation
        ).count()
        == 1
    )


def test_it_refuses_an_invitation_sent_to_another_address(client, manager_membership):
    elsewhere = MembershipFactory()
    invitation, link = _invite(manager_membership)
    log_in(client, elsewhere.user, elsewhere)

    response = client.post(link)

    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert (
        not Membership.objects.filter(organisation=manager_membership.organisation)
        .exclude(pk=manager_membership.pk)
        .exists()
    )


def test_it_asks_a_password_only_session_for_the_second_factor_before_joining(
    client, manager_membership
):
    elsewhere = MembershipFactory()
    _, link = _invite(manager_membership, email=elsewhere.user.email)
    log_in(client, elsewhere.user, elsewhere)
    session = client.session
    del session["otp_device_id"]
    session.save()

    response = client.post(link)

    assert response.url.startswith(reverse("accounts:second_factor"))
    assert Membership.objects.filter(user=elsewhere.user).count() == 1


def test_a_second_invitation_to_the_same_address_is_refused_while_the_first_waits(
    manager_membership,
):
    _invite(manager_membership, email="nadia.haddad@exemple.test")

    with pytest.raises(ValidationError) as refused:
        _invite(manager_membership, email="Nadia.Haddad@Exemple.test")

    assert "Une invitation attend déjà" in str(refused.value)
    assert Invitation.objects.filter(email="nadia.haddad@exemple.test").count() == 1


def test_it_preselects_neither_role_nor_profession(manager_client):
    response = manager_client.get(reverse("organisations:members"))

    form = response.context["form"]
    assert form.fields["role"].choices[0] == ("", "Choisir…")
    assert form.fields["profession"].choices[0] == ("", "Choisir…")
    assert form["role"].value() is None
    assert form["profession"].value() is None


def test_it_refuses_an_invitation_whose_role_or_profession_is_not_chosen(
    manager_client, mailoutbox
):
    data = INVITE | {"role": "", "profession": ""}

    response = manager_client.post(reverse("organisations:invite"), data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["role"] == errors["profession"] == ["Ce champ est obligatoire."]
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("role", "profession", "field", "message"),
    [
        (Role.RECEPTION, "ass", "profession", "Un agent d'accueil a la profession"),
        (Role.RECEPTION, "mjpm", "profession", "Un agent d'accueil a la profession"),
        (Role.PROFESSIONAL, "agent_accueil", "role", "va avec le rôle « Agent d'accueil »"),
    ],
)
def test_it_refuses_a_role_that_contradicts_the_profession_and_writes_nothing(
    manager_membership, role, profession, field, message
):
    with pytest.raises(ValidationError) as refused:
        _invite(manager_membership, role=role, profession=profession)

    assert list(refused.value.message_dict) == [field]
    assert message in refused.value.message_dict[field][0]
    assert not Invitation.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.INVITATION_SENT).exists()


@pytest.mark.parametrize(
    ("role", "profession"),
    [
        (Role.RECEPTION, "agent_accueil"),
        (Role.MANAGER, "agent_accueil"),
        (Role.MANAGER, "ass"),
        (Role.PROFESSIONAL, "cesf"),
    ],
)
def test_it_invites_with_a_role_that_fits_the_profession(manager_membership, role, profession):
    invitation, _ = _invite(manager_membership, role=role, profession=profession)

    assert (invitation.role, invitation.profession) == (role, profession)


def test_the_team_page_shows_a_contradiction_under_the_field_and_keeps_what_was_typed(
    manager_client,
):
    data = INVITE | {"role": "accueil", "profession": "ass"}

    response = manager_client.post(reverse("organisations:invite"), data)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["profession"]
    assert 'value="Nadia.Haddad@exemple.test"' in response.content.decode()
    assert not Invitation.objects.exists()


@needs_row_locks
def test_a_double_click_sends_one_invitation(transactional_db, manager_membership, mailoutbox):
    """The first click holds the organisation until its invitation is saved; the second
    waits for it, then finds that invitation pending."""
    with (
        meanwhile(lambda: _invite(manager_membership)),
        pytest.raises(ValidationError, match="Une invitation attend déjà"),
    ):
        _invite(manager_membership)

    assert Invitation.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_SENT).count() == 1
    assert len(mailoutbox) == 1


def test_an_account_created_meanwhile_for_the_address_is_refused_in_french(manager_membership):
    invitation, _ = _invite(manager_membership)
    real_full_clean = User.full_clean

    def other_acceptance_lands(user, *args, **kwargs):
        # An invitation from another organisation, accepted between the check and the save.
        real_full_clean(user, *args, **kwargs)
        UserFactory(email=user.email)

    with (
        patch.object(User, "full_clean", other_acceptance_lands),
        pytest.raises(ValidationError, match="Un compte existe déjà pour cette adresse"),
    ):
        invitation_accept(
            invitation=invitation,
            password=STRONG_PASSWORD,
            existing_user=None,
            ip_address="127.0.0.1",
        )

    assert not Membership.objects.filter(user__email=invitation.email).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@needs_row_locks
def test_two_invitations_accepted_at_once_make_one_membership(transactional_db, manager_membership):
    """Two invitations to one address, as a double click could leave before one was
    refused: the second acceptance waits for the first, then is refused in French."""
    first, _ = _invite(manager_membership)
    Invitation.objects.filter(pk=first.pk).update(email="autre@exemple.test")
    second, _ = _invite(manager_membership)
    Invitation.objects.filter(pk=first.pk).update(email=second.email)
    first.refresh_from_db()
    user = UserFactory(email=second.email)

    def accept(invitation):
        return invitation_accept(
            invitation=invitation, password=None, existing_user=user, ip_address="127.0.0.1"
        )

    with (
        meanwhile(lambda: accept(first)),
        pytest.raises(ValidationError, match="Vous faites déjà partie de la structure"),
    ):
        accept(second)

    assert Membership.objects.filter(user=user).count() == 1


@needs_row_locks
def test_an_invitation_accepted_while_it_is_cancelled_stays_accepted(
    transactional_db, manager_membership
):
    """The acceptance holds the invitation's row; the cancellation waits for it, then
    finds the invitation accepted."""
    invitation, _ = _invite(manager_membership)

    with (
        meanwhile(lambda: _accept_as_new_account(invitation)),
        pytest.raises(ValidationError, match=ALREADY_ACCEPTED),
    ):
        invitation_revoke(invitation=invitation, by=actor_of(manager_membership.user))

    _refused_revocation(invitation)
    assert invitation.accepted_at is not None
