"""A person followed by a CCAS social worker, with a procedure opened from the catalogue."""

import pytest

from relais.audit.context import Actor
from relais.procedures.services import procedure_open
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import ProcedureTypeFactory


def actor_of(membership) -> Actor:
    return Actor(
        user_id=membership.user_id,
        label=membership.user.get_full_name(),
        organisation_id=membership.organisation_id,
        organisation_label=membership.organisation.name,
    )


@pytest.fixture
def person(referent):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=referent.organisation)
    return person


@pytest.fixture
def procedure_type():
    return ProcedureTypeFactory(title="Demander la complémentaire santé solidaire")


@pytest.fixture
def procedure(person, referent, procedure_type):
    return procedure_open(
        person=person,
        procedure_type=procedure_type,
        organisation=referent.organisation,
        by=actor_of(referent),
    )
