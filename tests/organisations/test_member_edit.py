"""A manager changes a member's role and profession, which decide their rights under the
charter: journaled, the organisation never left without a manager, and the member's
sessions acting with the new rights from their next request."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.accounts.models import User
from relais.accounts.services import actor_of
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.organisations.models import Membership, Profession, Role
from relais.organisations.services import membership_update
from relais.www.organisations.forms import InvitationForm
from tests.concurrency import meanwhile, needs_row_locks
from tests.conftest import log_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

EDIT = "organisations:edit_member"
PROMOTED = {"role": Role.MANAGER, "profession": Profession.ASS}
DEMOTED = {"role": Role.PROFESSIONAL, "profession": Profession.ASS}


def _text(response) -> str:
    return " ".join(response.content.decode().replace("&#x27;", "'").split())


def _told(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _unchanged(membership, role, profession) -> bool:
    membership.refresh_from_db()
    return (membership.role, membership.profession) == (role, profession)


def _stamp(membership) -> int:
    return User.objects.get(pk=membership.user_id).security_stamp


def test_the_team_page_offers_to_edit_each_active_member(
    manager_client, manager_membership, member_membership
):
    response = manager_client.get(reverse("organisations:members"))

    text = _text(response)
    for membership in (manager_membership, member_membership):
        assert f'<a href="{reverse(EDIT, args=[membership.pk])}"' in text


def test_it_shows_the_member_current_role_and_profession(manager_client, member_membership):
    response = manager_client.get(reverse(EDIT, args=[member_membership.pk]))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"role": Role.PROFESSIONAL, "profession": Profession.ASS}
    invitation = InvitationForm()
    for name in ("role", "profession"):
        assert form.fields[name].choices == invitation.fields[name].choices
    assert f"Modifier le rôle et la profession de {member_membership.user.get_full_name()}" in (
        _text(response)
    )


def test_it_changes_the_role_and_profession_and_journals_both_before_and_after(
    manager_client, manager_membership, member_membership
):
    response = manager_client.post(
        reverse(EDIT, args=[member_membership.pk]),
        {"role": Role.MANAGER, "profession": Profession.CESF},
    )

    assert response.url == reverse("organisations:members")
    assert _unchanged(member_membership, Role.MANAGER, Profession.CESF)
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_UPDATED)
    assert event.actor_id == manager_membership.user_id
    assert event.organisation_id == manager_membership.organisation_id
    assert event.object_type == "utilisateur"
    assert event.object_id == str(member_membership.user_id)
    assert event.person_id is None
    assert event.details == {
        "membre": member_membership.user.get_full_name(),
        "role_avant": Role.PROFESSIONAL,
        "role": Role.MANAGER,
        "profession_avant": Profession.ASS,
        "profession": Profession.CESF,
    }
    assert _told(response) == [
        f"Le rôle et la profession de {member_membership.user.get_full_name()} sont modifiés : "
        "Responsable de structure, Conseiller(ère) en économie sociale et familiale. Ses "
        "nouveaux droits s'appliquent dès sa prochaine action sur Relais."
    ]


def test_the_same_values_change_nothing_and_journal_nothing(manager_client, member_membership):
    stamp = _stamp(member_membership)

    response = manager_client.post(reverse(EDIT, args=[member_membership.pk]), DEMOTED)

    assert response.url == reverse("organisations:members")
    assert _told(response) == [
        f"Rien n'a changé : {member_membership.user.get_full_name()} a déjà ce rôle et cette "
        "profession."
    ]
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_UPDATED).exists()
    assert _stamp(member_membership) == stamp


def test_the_last_manager_cannot_demote_themselves(manager_client, manager_membership):
    response = manager_client.post(reverse(EDIT, args=[manager_membership.pk]), DEMOTED)

    assert response.status_code == 400
    assert "La structure doit garder au moins un responsable" in _text(response)
    assert response.context["form"].has_error("role")
    assert _unchanged(manager_membership, Role.MANAGER, Profession.ASS)
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_UPDATED).exists()


def test_the_last_manager_cannot_be_demoted(manager_membership):
    pilot = UserFactory(pilot=True)
    stamp = _stamp(manager_membership)

    with pytest.raises(ValidationError, match="au moins un responsable"):
        membership_update(membership=manager_membership, by=actor_of(pilot), **DEMOTED)

    assert _unchanged(manager_membership, Role.MANAGER, Profession.ASS)
    assert _stamp(manager_membership) == stamp
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_UPDATED).exists()


def test_a_former_manager_is_not_counted_as_remaining(manager_membership):
    MembershipFactory(
        organisation=manager_membership.organisation, manager=True, ended_on=timezone.localdate()
    )

    with pytest.raises(ValidationError, match="au moins un responsable"):
        membership_update(
            membership=manager_membership, by=actor_of(manager_membership.user), **DEMOTED
        )


def test_the_last_manager_may_change_their_own_profession(manager_client, manager_membership):
    response = manager_client.post(
        reverse(EDIT, args=[manager_membership.pk]),
        {"role": Role.MANAGER, "profession": Profession.CESF},
    )

    assert response.url == reverse("organisations:members")
    assert _unchanged(manager_membership, Role.MANAGER, Profession.CESF)


def test_a_manager_who_leaves_the_role_goes_home_and_loses_the_team_page(
    manager_client, manager_membership
):
    MembershipFactory(organisation=manager_membership.organisation, manager=True)

    response = manager_client.post(reverse(EDIT, args=[manager_membership.pk]), DEMOTED)

    assert response.url == reverse("www:home")
    assert _unchanged(manager_membership, Role.PROFESSIONAL, Profession.ASS)
    assert manager_client.get(reverse("organisations:members")).status_code == 403


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"role": Role.RECEPTION, "profession": Profession.ASS}, "profession"),
        ({"role": Role.PROFESSIONAL, "profession": Profession.RECEPTION_AGENT}, "role"),
        ({"role": "chef", "profession": Profession.ASS}, "role"),
        ({"role": Role.MANAGER, "profession": ""}, "profession"),
        ({}, "role"),
    ],
)
def test_a_refused_change_is_shown_in_french_and_changes_nothing(
    manager_client, member_membership, posted, field
):
    stamp = _stamp(member_membership)

    response = manager_client.post(reverse(EDIT, args=[member_membership.pk]), posted)

    assert response.status_code == 400
    assert response.context["form"].has_error(field)
    assert _unchanged(member_membership, Role.PROFESSIONAL, Profession.ASS)
    assert _stamp(member_membership) == stamp
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_UPDATED).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_hides_members_of_another_organisation(outsider_client, member_membership, method):
    response = getattr(outsider_client, method)(
        reverse(EDIT, args=[member_membership.pk]), PROMOTED
    )

    assert response.status_code == 404
    assert member_membership.user.get_full_name() not in response.content.decode()
    assert _unchanged(member_membership, Role.PROFESSIONAL, Profession.ASS)
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_UPDATED).exists()


def test_it_refuses_the_change_to_a_professional(member_client, organisation):
    colleague = MembershipFactory(organisation=organisation)

    response = member_client.post(reverse(EDIT, args=[colleague.pk]), PROMOTED)

    assert response.status_code == 403
    assert _unchanged(colleague, Role.PROFESSIONAL, Profession.ASS)


def test_it_shows_no_form_for_a_former_member(manager_client, organisation):
    today = timezone.localdate()
    former = MembershipFactory(
        organisation=organisation,
        started_on=today - timedelta(days=400),
        ended_on=today - timedelta(days=30),
    )

    response = manager_client.post(reverse(EDIT, args=[former.pk]), PROMOTED)

    assert response.status_code == 404
    assert _unchanged(former, Role.PROFESSIONAL, Profession.ASS)


def test_it_refuses_to_change_a_member_deactivated_meanwhile(manager_membership, organisation):
    member = MembershipFactory(organisation=organisation)
    Membership.objects.filter(pk=member.pk).update(ended_on=timezone.localdate())

    with pytest.raises(ValidationError, match="Ce membre a été désactivé"):
        membership_update(membership=member, by=actor_of(manager_membership.user), **PROMOTED)

    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_UPDATED).exists()


def test_a_promoted_member_acts_as_manager_at_their_next_request(manager_client, member_membership):
    member = log_in(Client(), member_membership.user, member_membership)
    assert member.get(reverse("organisations:members")).status_code == 403

    manager_client.post(reverse(EDIT, args=[member_membership.pk]), PROMOTED)

    assert member.get(reverse("organisations:members")).status_code == 200


def test_a_demoted_manager_loses_the_team_page_at_their_next_request(manager_client, organisation):
    colleague = MembershipFactory(organisation=organisation, manager=True)
    other = log_in(Client(), colleague.user, colleague)
    assert other.get(reverse("organisations:members")).status_code == 200

    manager_client.post(reverse(EDIT, args=[colleague.pk]), DEMOTED)

    assert other.get(reverse("organisations:members")).status_code == 403
    assert other.get(reverse("www:home")).status_code == 200


def test_a_new_profession_asks_the_charter_for_it_at_the_next_request(
    manager_client, member_membership
):
    member = log_in(Client(), member_membership.user, member_membership)
    assert member.get(reverse("www:home")).status_code == 200

    manager_client.post(
        reverse(EDIT, args=[member_membership.pk]),
        {"role": Role.PROFESSIONAL, "profession": Profession.CESF},
    )

    response = member.get(reverse("www:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("consent:charter"))


@needs_row_locks
def test_two_managers_demoting_each_other_leave_one(transactional_db, manager_membership):
    """The first change holds the organisation until it commits; the second waits for it,
    then finds no other manager left."""
    other = MembershipFactory(organisation=manager_membership.organisation, manager=True)

    with (
        meanwhile(
            lambda: membership_update(
                membership=other, by=actor_of(manager_membership.user), **DEMOTED
            )
        ),
        pytest.raises(ValidationError, match="au moins un responsable"),
    ):
        membership_update(membership=manager_membership, by=actor_of(other.user), **DEMOTED)

    assert list(Membership.objects.active().filter(role=Role.MANAGER)) == [manager_membership]
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_UPDATED).count() == 1
