"""The same household member or resource posted twice at the same moment, and a section
held in one object (housing…) saved for the first time by two colleagues at once: the
second is refused in French, and nothing is written twice."""

import datetime
import html

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.persons import services
from relais.persons.models import HouseholdMember, Housing, MonthlyResource, Person
from tests.concurrency import meanwhile, needs_row_locks
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.editing import STATE, opened_state, save_section

pytestmark = pytest.mark.django_db

SAVED_MEANWHILE = "Quelqu'un a enregistré cette rubrique pendant que vous la remplissiez."


def _as_the_first_request(write):
    """What the first of two requests writes, holding the file's row as its service
    does."""

    def first(person: Person):
        Person.objects.select_for_update().get(pk=person.pk)
        write(person)

    return first


@needs_row_locks
def test_the_same_member_posted_twice_at_once_is_added_once(
    transactional_db, member_client, person
):
    added_first = _as_the_first_request(
        lambda p: HouseholdMember.objects.create(
            person=p, relation="enfant", first_names="Noé", birth_date=datetime.date(2020, 2, 1)
        )
    )

    with meanwhile(lambda: added_first(person)):
        again = member_client.post(
            reverse("persons:member_add", args=[person.pk]),
            {"relation": "enfant", "first_names": "NOE", "birth_date": "2020-02-01"},
        )

    assert again.status_code == 400
    assert "fait déjà partie du foyer" in html.unescape(again.content.decode())
    assert HouseholdMember.objects.filter(person=person).count() == 1


@needs_row_locks
def test_the_same_resource_posted_twice_at_once_is_added_once(
    transactional_db, member_client, person
):
    added_first = _as_the_first_request(
        lambda p: MonthlyResource.objects.create(
            person=p, month=datetime.date(2026, 10, 1), kind="rsa", amount="607.75"
        )
    )

    with meanwhile(lambda: added_first(person)):
        again = member_client.post(
            reverse("persons:resource_add", args=[person.pk]),
            {"month": "2026-10", "kind": "rsa", "amount": "607.75"},
        )

    assert again.status_code == 400
    assert "Cette ressource est déjà enregistrée pour ce mois." in again.content.decode()
    assert MonthlyResource.objects.filter(person=person).count() == 1


def test_a_resource_of_a_member_removed_meanwhile_is_refused_on_its_field(
    member_client, person, monkeypatch
):
    child = HouseholdMember.objects.create(
        person=person, relation="enfant", first_names="Noé", birth_date=datetime.date(2020, 2, 1)
    )
    real_add = services.resource_add

    def removed_first(**kwargs):
        HouseholdMember.objects.filter(pk=child.pk).delete()
        real_add(**kwargs)

    monkeypatch.setattr(services, "resource_add", removed_first)
    response = member_client.post(
        reverse("persons:resource_add", args=[person.pk]),
        {"member": child.pk, "month": "2026-10", "kind": "rsa", "amount": "607.75"},
    )

    assert response.status_code == 400
    assert "Ce membre a été retiré du foyer entre-temps" in html.unescape(response.content.decode())
    assert not MonthlyResource.objects.exists()


@pytest.fixture
def colleague_client(organisation):
    colleague = MembershipFactory(organisation=organisation)
    return log_in(Client(), colleague.user, colleague)


def _refused_then_replaces(member_client, person, refused) -> None:
    """The refusal says a colleague saved the section, keeps what was typed and changes
    nothing; posted again, the form replaces what the colleague saved."""
    body = html.unescape(refused.content.decode())
    assert refused.status_code == 400
    assert SAVED_MEANWHILE in body
    assert Housing.objects.get(person=person).status == "sans_domicile"
    assert AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).count() == 1
    again = save_section(
        member_client,
        person.pk,
        "logement",
        {"status": "locataire_prive"},
        state=STATE.search(body).group(1),
    )
    assert again.status_code == 302
    assert Housing.objects.get(person=person).status == "locataire_prive"


def test_a_first_housing_saved_by_a_colleague_after_the_page_read_the_file_is_not_erased(
    member_client, person, monkeypatch
):
    mine = opened_state(member_client, person.pk, "logement")
    real_save = services.section_save

    def colleague_first(**kwargs):
        Housing.objects.create(person=person, status="sans_domicile")
        real_save(**kwargs)

    monkeypatch.setattr(services, "section_save", colleague_first)
    refused = save_section(
        member_client, person.pk, "logement", {"status": "locataire_social"}, state=mine
    )
    monkeypatch.undo()

    body = html.unescape(refused.content.decode())
    assert refused.status_code == 400
    assert SAVED_MEANWHILE in body
    assert 'value="locataire_social" selected' in body
    assert Housing.objects.get(person=person).status == "sans_domicile"


@needs_row_locks
def test_two_colleagues_saving_the_first_housing_at_once_save_it_once(
    transactional_db, member_client, colleague_client, person
):
    mine = opened_state(member_client, person.pk, "logement")
    theirs = opened_state(colleague_client, person.pk, "logement")

    with meanwhile(
        lambda: save_section(
            colleague_client, person.pk, "logement", {"status": "sans_domicile"}, state=theirs
        )
    ):
        refused = save_section(
            member_client, person.pk, "logement", {"status": "locataire_social"}, state=mine
        )

    _refused_then_replaces(member_client, person, refused)
