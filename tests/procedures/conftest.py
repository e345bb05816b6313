import pytest

from relais.audit.context import Actor
from relais.consent.access import Professional
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory, PersonFactory


@pytest.fixture
def member(organisation):
    return MembershipFactory(organisation=organisation)


@pytest.fixture
def actor(member):
    """The acting professional, as the journal and the transition log name them."""
    return Actor(
        user_id=member.user_id,
        label=member.user.get_full_name(),
        organisation_id=member.organisation_id,
        organisation_label=member.organisation.name,
    )


@pytest.fixture
def pro(member):
    """The same professional, as the access rule sees them."""
    return Professional.acting(member.user, member)


@pytest.fixture
def person(organisation):
    """A person followed by the organisation, with a consent covering every category."""
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)
    return person
