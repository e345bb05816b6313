import pytest

from tests.persons.factories import ConsentFactory, PersonFactory


@pytest.fixture
def person(organisation):
    """A file open to the organisation's members by the person's consent."""
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)
    return person
