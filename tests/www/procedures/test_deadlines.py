"""A deadline to act is shown only while something is left to do before submitting: once
the request is submitted or decided, it was met, as the deadline filters and the
« deadlines first » order already read it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.www.templatetags.dates import date as date_format
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.portability.builders import full_file
from tests.portal.helpers import log_in_person
from tests.procedures.factories import ProcedureFactory, ProcedureTypeFactory

pytestmark = pytest.mark.django_db


def _due():
    return timezone.localdate() + timedelta(days=45)


def _procedures(person, organisation):
    """One procedure of each kind, all with the same deadline."""
    due_on = _due()
    return {
        "to_do": ProcedureFactory(
            person=person,
            organisation=organisation,
            procedure_type=ProcedureTypeFactory(title="Demander le RSA"),
            due_on=due_on,
        ),
        "submitted": ProcedureFactory(
            person=person,
            organisation=organisation,
            procedure_type=ProcedureTypeFactory(title="Demander l'ASPA"),
            due_on=due_on,
            submitted=True,
        ),
        "granted": ProcedureFactory(
            person=person,
            organisation=organisation,
            procedure_type=ProcedureTypeFactory(title="Demander une domiciliation"),
            due_on=due_on,
            granted=True,
        ),
    }


def test_my_procedures_show_the_deadline_only_while_it_applies():
    lea = full_file()
    _procedures(lea.person, lea.referent.organisation)
    client = log_in_person(Client(), lea.account)

    page = client.get(reverse("portal:procedures")).content.decode()

    assert page.count(f"À faire avant le {date_format(_due(), 'j F Y')}.") == 1


@pytest.mark.parametrize("url", ["procedures:mine", "procedures:organisation"])
def test_the_lists_show_the_deadline_only_while_it_applies(manager_client, organisation, url):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)
    _procedures(person, organisation)

    page = manager_client.get(reverse(url), {"etat": ""}).content.decode()

    assert page.count(_due().strftime("%d/%m/%Y")) == 1


def test_the_persons_procedures_show_the_deadline_only_while_it_applies(
    member_client, organisation
):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)
    _procedures(person, organisation)

    page = member_client.get(reverse("procedures:person", args=[person.pk])).content.decode()

    assert page.count(_due().strftime("%d/%m/%Y")) == 1
