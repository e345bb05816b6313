"""A charter that gives an (organisation kind × profession) no read on IDENTITY: no page of
the file opens, as each names the person, and no list names the person either — « Mes
personnes accompagnées », the search, and the duplicates shown at a file's creation all
name the person, their birth date and town, and link to the file."""

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_publish, default_matrix
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.editing import create_file
from tests.persons.factories import ConsentFactory, PersonFactory, ReferentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def identity_closed(django_capture_on_commit_callbacks):
    levels = default_matrix()
    levels[(OrganisationKind.CCAS, Profession.ASS, DataCategory.IDENTITY)] = Level.NONE
    # The charter read so far is cached until the publication commits.
    with django_capture_on_commit_callbacks(execute=True):
        charter_publish(levels=levels, summary="Identité fermée aux ASS des CCAS.", by=SYSTEM)


@pytest.fixture
def ass(identity_closed, organisation):
    """An assistant(e) de service social of a CCAS, under that charter."""
    return MembershipFactory(organisation=organisation, profession=Profession.ASS)


@pytest.fixture
def person(ass):
    found = PersonFactory(first_names="Zoé", birth_name="Secretnom", commune_name="Wimereux")
    ConsentFactory(person=found, organisation=ass.organisation)
    ReferentFactory(person=found, organisation=ass.organisation, professional=ass.user)
    return found


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("persons:file", []),
        ("persons:section", ["logement"]),
        ("persons:history", []),
        ("procedures:person", []),
        ("documents:list", []),
    ],
)
def test_no_page_of_the_file_opens(ass, person, name, args):
    client = log_in(Client(), ass.user, ass)

    response = client.get(reverse(name, args=[person.pk, *args]))

    assert response.status_code == 404
    assert "SECRETNOM" not in response.content.decode()


def test_the_search_does_not_list_the_person(ass, person):
    client = log_in(Client(), ass.user, ass)

    response = client.post(reverse("persons:list"), {"q": "secretnom"}, follow=True)

    assert response.status_code == 200
    assert response.context["results"] == []
    page = response.content.decode()
    assert "SECRETNOM" not in page
    assert reverse("persons:file", args=[person.pk]) not in page


def test_my_persons_does_not_list_the_person_they_are_referent_of(ass, person):
    client = log_in(Client(), ass.user, ass)

    response = client.get(reverse("persons:list"))

    assert response.context["mine"] == []
    page = response.content.decode()
    assert "SECRETNOM" not in page
    assert "Wimereux" not in page


def test_the_duplicate_at_creation_is_signalled_not_shown(ass, person):
    client = log_in(Client(), ass.user, ass)

    response = create_file(
        client, first_names="Zoé", birth_name="Secretnom", birth_date="1984-06-15"
    )

    assert response.status_code == 400
    assert response.context["duplicates"] == []
    assert response.context["hidden_duplicate"]
    page = response.content.decode()
    assert "SECRETNOM" not in page
    assert reverse("persons:file", args=[person.pk]) not in page
    told = AuditEvent.objects.get(action=AuditAction.DUPLICATE_SIGNALLED)
    assert told.person_id == person.pk
