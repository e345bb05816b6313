"""The resources page journals a read of the household when, and only when, it names one
of its members: a resource of theirs it lists, or the form that offers them by name."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.organisations.models import Profession
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import (
    ConsentFactory,
    HouseholdMemberFactory,
    MonthlyResourceFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return PersonFactory()


@pytest.fixture
def child(person):
    return HouseholdMemberFactory(person=person, first_names="Zoé")


def _reading(person, profession) -> list[str]:
    """The categories the journal says a professional read by opening the resources."""
    membership = MembershipFactory(profession=profession)
    ConsentFactory(person=person, organisation=membership.organisation)
    client = log_in(Client(), membership.user, membership)
    response = client.get(reverse("persons:section", args=[person.pk, "ressources"]))
    assert response.status_code == 200
    return list(
        AuditEvent.objects.filter(action=AuditAction.SECTION_VIEWED, person_id=person.pk)
        .order_by("seq")
        .values_list("category", flat=True)
    )


# A TISF reads the household and the resources, and may not edit the resources.


def test_a_page_of_the_persons_own_resources_reads_no_household(person, child):
    MonthlyResourceFactory(person=person)

    assert _reading(person, Profession.TISF) == ["ressources"]


def test_a_page_listing_a_members_resource_reads_the_household(person, child):
    MonthlyResourceFactory(person=person, member=child)

    assert _reading(person, Profession.TISF) == ["famille", "ressources"]


def test_a_members_resource_on_an_older_page_is_not_read_on_the_first(person, child):
    MonthlyResourceFactory(person=person, member=child, month=datetime.date(2020, 1, 1))
    for month in range(1, 13):
        MonthlyResourceFactory(person=person, month=datetime.date(2025, month, 1))

    assert _reading(person, Profession.TISF) == ["ressources"]


def test_the_form_offering_the_members_by_name_reads_the_household(person, child):
    """An ASS may edit the resources: the form to add one lists who may receive it."""
    MonthlyResourceFactory(person=person)

    assert _reading(person, Profession.ASS) == ["famille", "ressources"]


def test_the_form_of_a_person_living_alone_reads_no_household(person):
    assert _reading(person, Profession.ASS) == ["ressources"]


@pytest.mark.parametrize(("profession", "columns"), [(Profession.TISF, 4), (Profession.ASS, 5)])
def test_the_empty_table_spans_as_many_columns_as_it_has(person, profession, columns):
    """A TISF may not edit the resources: the table has no column of actions."""
    membership = MembershipFactory(profession=profession)
    ConsentFactory(person=person, organisation=membership.organisation)
    client = log_in(Client(), membership.user, membership)

    page = client.get(reverse("persons:section", args=[person.pk, "ressources"])).content

    table = page.decode().split("<table>")[1].split("</table>")[0]
    assert table.count('<th scope="col">') == columns
    assert f'<td colspan="{columns}">Aucune ressource renseignée.</td>' in table
