"""A deactivated member stops being the referent of the files they followed for the
organisation: each file says so in its history, and the confirmation page says how many."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from relais.accounts.services import actor_of
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.organisations.services import membership_deactivate
from relais.persons.models import Referent
from tests.factories import MembershipFactory
from tests.persons.factories import PersonFactory, ReferentFactory

pytestmark = pytest.mark.django_db

DEACTIVATE = "organisations:deactivate"
CONFIRMED = {"confirme": "oui"}


def _text(response) -> str:
    return " ".join(response.content.decode().replace("&#x27;", "'").split())


def _follow(membership, person=None):
    return ReferentFactory(
        person=person or PersonFactory(),
        organisation=membership.organisation,
        professional=membership.user,
    )


def test_it_ends_the_member_referent_links_in_the_organisation(
    manager_client, manager_membership, member_membership
):
    followed = [_follow(member_membership), _follow(member_membership)]

    manager_client.post(reverse(DEACTIVATE, args=[member_membership.pk]), CONFIRMED)

    for link in followed:
        link.refresh_from_db()
        assert link.until == timezone.localdate()
        assert Referent.objects.current_of(link.person_id) == []
    rows = AuditEvent.objects.filter(action=AuditAction.REFERENT_REMOVED).order_by("seq")
    assert [row.person_id for row in rows] == [link.person_id for link in followed]
    for row in rows:
        assert row.actor_id == manager_membership.user_id
        assert row.organisation_id == manager_membership.organisation_id
        assert row.object_id == str(member_membership.user_id)


def test_it_leaves_the_files_the_member_follows_for_another_organisation(
    manager_client, member_membership
):
    elsewhere = MembershipFactory(user=member_membership.user)
    kept = _follow(elsewhere)

    manager_client.post(reverse(DEACTIVATE, args=[member_membership.pk]), CONFIRMED)

    kept.refresh_from_db()
    assert kept.until is None
    assert not AuditEvent.objects.filter(action=AuditAction.REFERENT_REMOVED).exists()


def test_it_leaves_the_colleagues_who_follow_the_same_file(
    manager_client, manager_membership, member_membership
):
    person = PersonFactory()
    _follow(member_membership, person)
    colleague = _follow(manager_membership, person)

    manager_client.post(reverse(DEACTIVATE, args=[member_membership.pk]), CONFIRMED)

    assert [r.professional_id for r in Referent.objects.current_of(person.pk)] == [
        manager_membership.user_id
    ]
    colleague.refresh_from_db()
    assert colleague.until is None


def test_a_refused_deactivation_keeps_the_referent_links(manager_membership):
    link = _follow(manager_membership)

    with pytest.raises(ValidationError, match="au moins un responsable"):
        membership_deactivate(membership=manager_membership, by=actor_of(MembershipFactory().user))

    link.refresh_from_db()
    assert link.until is None
    assert not AuditEvent.objects.filter(action=AuditAction.REFERENT_REMOVED).exists()


def test_it_returns_how_many_files_no_longer_name_the_member(manager_membership, member_membership):
    _follow(member_membership)
    _follow(member_membership)

    ended = membership_deactivate(
        membership=member_membership, by=actor_of(manager_membership.user)
    )

    assert ended == 2


def test_it_tells_the_manager_how_many_files_the_member_followed(manager_client, member_membership):
    _follow(member_membership)
    _follow(member_membership)

    response = manager_client.post(
        reverse(DEACTIVATE, args=[member_membership.pk]), CONFIRMED, follow=True
    )

    name = member_membership.user.get_full_name()
    assert f"{name} n'est plus référent(e) de 2 dossiers." in _text(response)


def test_the_confirmation_page_counts_the_files_the_member_follows(
    manager_client, member_membership
):
    followed = [_follow(member_membership), _follow(member_membership)]
    _follow(MembershipFactory(user=member_membership.user))

    response = manager_client.get(reverse(DEACTIVATE, args=[member_membership.pk]))

    text = _text(response)
    name = member_membership.user.get_full_name()
    organisation = member_membership.organisation.name
    assert f"{name} est référent(e) de 2 dossiers pour {organisation}" in text
    assert "n'y figurera plus comme référent(e)" in text
    for link in followed:
        assert link.person.first_names not in text
    assert all(link.until is None for link in Referent.objects.all())


def test_the_confirmation_page_says_when_the_member_follows_no_file(
    manager_client, member_membership
):
    response = manager_client.get(reverse(DEACTIVATE, args=[member_membership.pk]))

    name = member_membership.user.get_full_name()
    assert f"{name} n'est référent(e) d'aucun dossier pour" in _text(response)
