"""A merge of two files of the same person: what the duplicate held is on the kept file
after it, nothing counted twice nor lost, and the history of the duplicate's accesses is
still the person's."""

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.context import Actor
from relais.consent.access import file_access
from relais.consent.services import break_glass_open, persons_merge, section_viewed
from relais.organisations.models import Profession
from relais.persons.categories import DataCategory
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.portability.builders import actor, full_file, professional
from tests.portability.reading import export_person, read_export
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

MANAGER = Actor(label="Responsable")
EMERGENCY = "Hospitalisée aux urgences de Boulogne : le médecin demande ses droits ouverts."


# The history follows the merge.


@pytest.fixture
def lea():
    """Léa's file, followed by the CCAS of Calais, with her space opened on it."""
    return full_file()


@pytest.fixture
def duplicate(lea):
    """Léa's second file, opened by break-glass by a guardianship officer who read her
    health there, then merged into her file."""
    absorbed = PersonFactory(first_names="Lea", birth_name="Dupre")
    ConsentFactory(person=absorbed, organisation=lea.referent.organisation)
    officer = MembershipFactory(
        organisation=OrganisationFactory(name="Service tutélaire du Boulonnais"),
        profession=Profession.MJPM,
    )
    break_glass_open(
        person=absorbed, pro=professional(officer), reason=EMERGENCY, by=actor(officer)
    )
    read = file_access(professional(officer), absorbed.pk)
    section_viewed(access=read, category=DataCategory.HEALTH, by=actor(officer))
    persons_merge(keep=lea.person, absorb=absorbed, by=MANAGER)
    return absorbed


def test_the_files_history_shows_the_reads_of_the_merged_file(lea, duplicate):
    client = log_in(Client(), lea.referent.user, lea.referent)
    url = reverse("persons:history", args=[lea.person.pk])

    on_screen = client.get(url).content.decode()
    printed = client.get(url, {"impression": "1"}).content.decode()

    for page in (on_screen, printed):
        assert EMERGENCY in page
        assert "Service tutélaire du Boulonnais" in page


def test_the_persons_space_shows_the_reads_of_the_merged_file(lea, duplicate):
    client = log_in_person(Client(), lea.account)

    page = client.get(reverse("portal:history")).content.decode()

    assert EMERGENCY in page
    assert "Service tutélaire du Boulonnais" in page


def test_the_export_gives_the_reads_of_the_merged_file(lea, duplicate):
    data = read_export(export_person(lea.person, by=Actor(label="La personne")))

    read = [
        event
        for event in data["access_history"]
        if event["reason"] == EMERGENCY and event["category"] == DataCategory.HEALTH
    ]
    assert len(read) == 1
    assert read[0]["organisation"] == "Service tutélaire du Boulonnais"


def test_the_person_may_block_who_opened_the_merged_file(lea, duplicate):
    client = log_in_person(Client(), lea.account)

    page = client.get(reverse("portal:block")).content.decode()

    assert "Service tutélaire du Boulonnais" in page
