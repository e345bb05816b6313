"""Removing a member of the household: their resources go with them, so only whoever may
edit the resources removes a member who has some, and the journal says each one went."""

import datetime
import html

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db.models import RestrictedError
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.organisations.models import OrganisationKind, Profession
from relais.persons import services
from relais.persons.models import HouseholdMember, MonthlyResource, Person
from tests.concurrency import meanwhile, needs_row_locks
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import (
    ConsentFactory,
    HouseholdMemberFactory,
    MonthlyResourceFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db

REFUSED = "Des ressources sont inscrites au nom de ce membre du foyer"


@pytest.fixture
def person():
    return PersonFactory()


@pytest.fixture
def child(person):
    return HouseholdMemberFactory(person=person, first_names="Zoé")


def _professional(person, profession=Profession.ASS, categories=None) -> Client:
    """A professional of a CCAS the person consented to (every category unless said)."""
    membership = MembershipFactory(
        organisation=OrganisationFactory(kind=OrganisationKind.CCAS), profession=profession
    )
    consent = {"categories": categories} if categories else {}
    ConsentFactory(person=person, organisation=membership.organisation, **consent)
    return log_in(Client(), membership.user, membership)


def _remove(client, member, **posted):
    return client.post(reverse("persons:member_remove", args=[member.person_id, member.pk]), posted)


def _said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _written() -> list[tuple[str, str, bool]]:
    written = AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).order_by("seq")
    return [
        (event.category, event.object_type, event.details.get("suppression", False))
        for event in written
    ]


@pytest.mark.parametrize(
    ("profession", "categories"),
    [
        # The charter: a TISF writes the household but only reads the resources.
        (Profession.TISF, None),
        # The consent: the person shared the household, not the resources.
        (Profession.ASS, ["identite", "famille"]),
    ],
)
def test_a_member_with_resources_stays_for_whoever_may_not_edit_the_resources(
    person, child, profession, categories
):
    MonthlyResourceFactory(person=person, member=child)
    client = _professional(person, profession, categories)

    response = _remove(client, child)

    assert response.status_code == 302
    assert any(REFUSED in said for said in _said(response))
    assert HouseholdMember.objects.filter(pk=child.pk).exists()
    assert MonthlyResource.objects.filter(member=child).count() == 1
    assert _written() == []


def test_a_member_without_resources_is_removed_by_whoever_edits_the_household(person, child):
    MonthlyResourceFactory(person=person)  # the person's own
    client = _professional(person, Profession.TISF)

    response = _remove(client, child)

    assert _said(response) == ["Le membre du foyer est retiré."]
    assert not HouseholdMember.objects.exists()
    assert MonthlyResource.objects.count() == 1
    assert _written() == [("famille", "householdmember", True)]


def test_a_member_goes_with_their_resources_each_one_journaled(person, child):
    resources = MonthlyResourceFactory.create_batch(2, person=person, member=child)
    client = _professional(person)

    response = _remove(client, child, confirme="oui")

    assert _said(response) == [
        "Le membre du foyer est retiré, ainsi que les 2 ressources inscrites à son nom."
    ]
    assert not HouseholdMember.objects.exists()
    assert not MonthlyResource.objects.exists()
    assert _written() == [
        ("ressources", "monthlyresource", True),
        ("ressources", "monthlyresource", True),
        ("famille", "householdmember", True),
    ]
    removed = AuditEvent.objects.filter(category="ressources")
    assert {int(event.object_id) for event in removed} == {r.pk for r in resources}
    assert {event.details["membre_du_foyer"] for event in removed} == {child.pk}


def test_a_member_with_resources_is_removed_only_once_a_page_has_listed_them(person, child):
    MonthlyResourceFactory(
        person=person, member=child, month=datetime.date(2026, 9, 1), kind="bourse", amount="98.50"
    )
    client = _professional(person)

    response = _remove(client, child)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Retirer Zoé" in page
    assert "La ressource inscrite à son nom sera retirée aussi." in page
    assert "pour la retrouver, il faudra la saisir de nouveau." in page
    assert "septembre 2026" in page and "Bourse" in page and "98,50 €" in page
    assert 'name="confirme" value="oui"' in page
    assert HouseholdMember.objects.filter(pk=child.pk).exists()
    assert MonthlyResource.objects.filter(member=child).count() == 1
    assert _written() == []
    shown = AuditEvent.objects.filter(action=AuditAction.SECTION_VIEWED, person_id=person.pk)
    assert set(shown.values_list("category", flat=True)) == {"famille", "ressources"}


def test_a_member_is_never_deleted_with_their_resources_behind_the_services_back(person, child):
    MonthlyResourceFactory(person=person, member=child)

    with pytest.raises(RestrictedError):
        child.delete()

    Person.objects.filter(pk=person.pk).delete()
    assert not MonthlyResource.objects.exists()


@needs_row_locks
def test_a_resource_recorded_while_the_member_is_removed_keeps_them_in_the_household(
    transactional_db, person, child
):
    """The resource's service holds the file's row until it commits; the removal waits
    for it, then sees the resource."""
    resource = MonthlyResource(
        member=child, month=datetime.date(2026, 10, 1), kind="rsa", amount="607.75"
    )

    with (
        meanwhile(
            lambda: services.resource_add(
                person=person, resource=resource, by=Actor(label="Collègue")
            )
        ),
        pytest.raises(ValidationError, match=REFUSED),
    ):
        services.household_member_remove(
            person=person, member=child, may_remove_resources=False, by=Actor(label="TISF")
        )

    assert MonthlyResource.objects.filter(member=child).count() == 1


def test_a_member_whose_name_holds_markup_is_refused(person):
    client = _professional(person)

    response = client.post(
        reverse("persons:member_add", args=[person.pk]),
        {"relation": "enfant", "first_names": "<b>Zoé</b>", "last_name": "Martin"},
    )

    assert response.status_code == 400
    assert "Un nom ne contient pas les signes « < » et « > »" in html.unescape(
        response.content.decode()
    )
    assert not HouseholdMember.objects.exists()


@pytest.mark.parametrize(("profession", "columns"), [(Profession.CIP, 4), (Profession.ASS, 5)])
def test_the_empty_household_spans_as_many_columns_as_it_has(person, profession, columns):
    """A CIP reads the household without editing it: the table has no column of actions."""
    client = _professional(person, profession)

    page = client.get(reverse("persons:section", args=[person.pk, "famille"])).content

    table = page.decode().split("<table>")[1].split("</table>")[0]
    assert table.count('<th scope="col">') == columns
    assert f'<td colspan="{columns}">La personne vit seule' in table


def test_the_person_is_not_added_as_a_member_of_their_own_household(person):
    client = _professional(person)

    response = client.post(
        reverse("persons:member_add", args=[person.pk]),
        {
            "relation": "autre",
            "first_names": person.first_names.upper(),
            "birth_date": person.birth_date.isoformat(),
        },
    )

    assert response.status_code == 400
    assert "est la personne elle-même : le foyer ne compte que les personnes qui vivent avec " in (
        html.unescape(response.content.decode())
    )
    assert not HouseholdMember.objects.exists()
    assert _written() == []


def test_a_second_spouse_is_refused_on_the_relation_naming_the_first(person):
    HouseholdMemberFactory(person=person, relation="conjoint", first_names="Karim")
    client = _professional(person)

    response = client.post(
        reverse("persons:member_add", args=[person.pk]),
        {"relation": "conjoint", "first_names": "Samir", "birth_date": "1985-02-01"},
    )

    assert response.status_code == 400
    assert (
        "Le foyer compte déjà un(e) conjoint(e) : Karim. Si la personne vit avec quelqu'un "
        "d'autre, retirez d'abord Karim du foyer."
    ) in html.unescape(response.content.decode())
    assert HouseholdMember.objects.count() == 1
    assert _written() == []
