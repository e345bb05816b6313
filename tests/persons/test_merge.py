"""A merge of two files of the same person: what the duplicate held is on the kept file
after it, nothing counted twice nor lost, and the history of the duplicate's accesses is
still the person's."""

import html
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.consent.access import file_access
from relais.consent.services import break_glass_open, persons_merge, section_viewed
from relais.organisations.models import Profession
from relais.persons.categories import DataCategory
from relais.persons.models import (
    DisabilityRate,
    HealthRecord,
    HouseholdMember,
    Housing,
    HousingStatus,
    MonthlyResource,
    Nationality,
    Person,
    PersonStatus,
    Sex,
)
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.editing import merge_files
from tests.persons.factories import (
    ConsentFactory,
    HouseholdMemberFactory,
    MonthlyResourceFactory,
    NoteFactory,
    PersonFactory,
)
from tests.portability.builders import actor, full_file, professional
from tests.portability.reading import export_person, read_export
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

MANAGER = Actor(label="Responsable")
CHILD_BORN = date(2015, 3, 2)
JANUARY, FEBRUARY = date(2025, 1, 1), date(2025, 2, 1)
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


def test_the_files_last_accesses_name_the_reads_of_the_merged_file(lea, duplicate):
    client = log_in(Client(), lea.referent.user, lea.referent)

    page = html.unescape(client.get(reverse("persons:file", args=[lea.person.pk])).content.decode())

    assert "Service tutélaire du Boulonnais (accès exceptionnel)" in page


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


# Nothing of the duplicate is lost.


def _files(organisation, keep=None, absorb=None) -> tuple[Person, Person]:
    """Two files of the same person, followed by `organisation`."""
    files = (
        PersonFactory(first_names="Léa", birth_name="Dupré", **(keep or {})),
        PersonFactory(first_names="Lea", birth_name="Dupre", **(absorb or {})),
    )
    for person in files:
        ConsentFactory(person=person, organisation=organisation)
    return files


NO_IDENTITY = {
    "phone": "",
    "commune_name": "",
}
DUPLICATES_IDENTITY = {
    "usage_name": "Martin",
    "sex": Sex.FEMALE,
    "birth_place": "Boulogne-sur-Mer",
    "nationality": Nationality.FRENCH,
    "phone": "0611223344",
    "email": "lea.dupre@example.org",
    "address_line": "3 rue des Mouettes",
    "postal_code": "62100",
    "commune_code": "62193",
    "commune_name": "Calais",
    "domiciliation": "CCAS de Calais",
    "caf_number": "1234567",
    "france_travail_id": "1234567A",
}


def test_a_merge_fills_every_identity_field_the_kept_file_leaves_empty(organisation):
    keep, absorb = _files(organisation, keep=NO_IDENTITY, absorb=DUPLICATES_IDENTITY)

    persons_merge(keep=keep, absorb=absorb, by=MANAGER)

    keep.refresh_from_db()
    assert {name: getattr(keep, name) for name in DUPLICATES_IDENTITY} == DUPLICATES_IDENTITY
    assert keep.usage_name_key == "martin"


def test_a_merge_keeps_what_the_kept_file_says_already(organisation):
    keep, absorb = _files(
        organisation,
        keep={"phone": "0698765432", "sex": ""},
        absorb={"phone": "0611223344", "sex": Sex.FEMALE},
    )

    persons_merge(keep=keep, absorb=absorb, by=MANAGER)

    keep.refresh_from_db()
    assert (keep.phone, keep.sex) == ("0698765432", Sex.FEMALE)


def test_a_merge_completes_an_address_only_where_both_files_agree(organisation):
    same_town, absorb = _files(
        organisation, keep={"commune_name": "CALAIS"}, absorb=DUPLICATES_IDENTITY
    )
    other_town, other_absorb = _files(
        organisation,
        keep={"commune_name": "Boulogne-sur-Mer", "postal_code": "62200"},
        absorb=DUPLICATES_IDENTITY,
    )

    persons_merge(keep=same_town, absorb=absorb, by=MANAGER)
    persons_merge(keep=other_town, absorb=other_absorb, by=MANAGER)

    same_town.refresh_from_db()
    other_town.refresh_from_db()
    assert (same_town.address_line, same_town.postal_code, same_town.commune_code) == (
        "3 rue des Mouettes",
        "62100",
        "62193",
    )
    assert same_town.commune_name == "CALAIS"
    # « 3 rue des Mouettes » in Boulogne would be nobody's address.
    assert (other_town.address_line, other_town.commune_code) == ("", "")
    assert (other_town.commune_name, other_town.postal_code) == ("Boulogne-sur-Mer", "62200")
    assert other_town.domiciliation == "CCAS de Calais"


@pytest.mark.parametrize("worked_on", ["duplicate", "kept file"])
def test_the_last_contact_is_the_latest_of_both_files(organisation, worked_on):
    today, long_ago = timezone.now(), timezone.now() - timedelta(days=700)
    keep, absorb = _files(
        organisation,
        keep={"last_contact_at": long_ago if worked_on == "duplicate" else today},
        absorb={"last_contact_at": today if worked_on == "duplicate" else long_ago},
    )

    persons_merge(keep=keep, absorb=absorb, by=MANAGER)

    keep.refresh_from_db()
    assert keep.last_contact_at == today


def test_a_section_only_the_duplicate_has_moves_to_the_kept_file(organisation):
    keep, absorb = _files(organisation)
    housing = Housing.objects.create(person=absorb, status=HousingStatus.SOCIAL_TENANT)

    persons_merge(keep=keep, absorb=absorb, by=MANAGER)

    housing.refresh_from_db()
    assert housing.person_id == keep.pk


def test_a_section_both_files_have_is_completed_from_the_duplicate(organisation):
    keep, absorb = _files(organisation)
    Housing.objects.create(person=keep, status=HousingStatus.SOCIAL_TENANT)
    Housing.objects.create(
        person=absorb,
        status=HousingStatus.SOCIAL_TENANT,
        monthly_rent=Decimal("412.50"),
        since=date(2021, 3, 1),
    )
    HealthRecord.objects.create(person=keep, rqth=True)
    HealthRecord.objects.create(person=absorb, rqth=True, remarks="Dossier MDPH à renouveler.")

    persons_merge(keep=keep, absorb=absorb, by=MANAGER)

    housing = Housing.objects.get(person=keep)
    assert (housing.status, housing.monthly_rent, housing.since) == (
        HousingStatus.SOCIAL_TENANT,
        Decimal("412.50"),
        date(2021, 3, 1),
    )
    assert HealthRecord.objects.get(person=keep).remarks == "Dossier MDPH à renouveler."


def test_a_merge_of_two_files_whose_sections_disagree_is_refused_and_changes_nothing(
    organisation,
):
    keep, absorb = _files(organisation, keep=NO_IDENTITY, absorb=DUPLICATES_IDENTITY)
    Housing.objects.create(person=keep, status=HousingStatus.PRIVATE_TENANT)
    Housing.objects.create(person=absorb, status=HousingStatus.SOCIAL_TENANT)
    note = NoteFactory(person=absorb, organisation=organisation)
    before = AuditEvent.objects.count()

    with pytest.raises(ValidationError, match="« Logement »"):
        persons_merge(keep=keep, absorb=absorb, by=MANAGER)

    keep.refresh_from_db()
    absorb.refresh_from_db()
    note.refresh_from_db()
    assert absorb.status == PersonStatus.ACTIVE
    assert (keep.phone, note.person_id) == ("", absorb.pk)
    assert Housing.objects.get(person=absorb).status == HousingStatus.SOCIAL_TENANT
    assert AuditEvent.objects.count() == before


def test_the_refusal_names_only_the_sections_the_manager_may_read(manager_client, organisation):
    keep, absorb = _files(organisation)
    for person, status, rate in (
        (keep, HousingStatus.PRIVATE_TENANT, DisabilityRate.UNDER_50),
        (absorb, HousingStatus.SOCIAL_TENANT, DisabilityRate.FROM_80),
    ):
        Housing.objects.create(person=person, status=status)
        HealthRecord.objects.create(person=person, disability_rate=rate)

    response = merge_files(manager_client, keep.pk, absorb.pk)

    assert response.status_code == 400
    said = response.context["refusal"]
    assert "« Logement » (situation)" in said
    assert "une autre rubrique que votre accès ne permet pas de lire" in said
    assert "Santé" not in said
    assert "incapacité" not in response.content.decode()
    absorb.refresh_from_db()
    assert absorb.status == PersonStatus.ACTIVE


def test_the_merge_page_says_beforehand_what_the_merge_does(manager_client):
    page = html.unescape(manager_client.get(reverse("persons:merge")).content.decode())

    for said in (
        "vide dans le dossier gardé est reprise du doublon",
        "mêmes prénoms et même date de naissance",
        "même membre, même mois, même nature et même montant",
        "la fusion est refusée",
        "le plus récent des deux",
        "l'historique des accès du doublon",
    ):
        assert said in page


# Nothing is counted twice.


def test_a_merge_counts_a_household_member_and_a_resource_once(organisation):
    keep, absorb = _files(organisation)
    kept_child = HouseholdMemberFactory(
        person=keep, first_names="Inès", last_name="", birth_date=CHILD_BORN
    )
    twin = HouseholdMemberFactory(
        person=absorb, first_names="INES", last_name="Dupré", birth_date=CHILD_BORN
    )
    MonthlyResourceFactory(person=keep, month=JANUARY, kind="rsa", amount=Decimal("635.71"))
    MonthlyResourceFactory(person=absorb, month=JANUARY, kind="rsa", amount=Decimal("635.71"))
    MonthlyResourceFactory(
        person=keep, member=kept_child, month=JANUARY, kind="bourse", amount=Decimal("120.00")
    )
    MonthlyResourceFactory(
        person=absorb, member=twin, month=JANUARY, kind="bourse", amount=Decimal("120.00")
    )
    grant = MonthlyResourceFactory(
        person=absorb, member=twin, month=FEBRUARY, kind="bourse", amount=Decimal("120.00")
    )

    persons_merge(keep=keep, absorb=absorb, by=MANAGER)

    assert list(HouseholdMember.objects.filter(person=keep)) == [kept_child]
    kept_child.refresh_from_db()
    assert (kept_child.first_names, kept_child.last_name) == ("Inès", "Dupré")
    assert MonthlyResource.objects.filter(person=keep, kind="rsa").count() == 1
    assert MonthlyResource.objects.filter(person=keep, kind="bourse").count() == 2
    grant.refresh_from_db()
    assert (grant.person_id, grant.member_id) == (keep.pk, kept_child.pk)
    merged = AuditEvent.objects.get(action=AuditAction.PERSONS_MERGED)
    assert merged.details == {
        "membres_du_foyer_deplaces": 0,
        "membres_du_foyer_deja_presents": 1,
        "ressources_deplacees": 1,
        "ressources_deja_presentes": 2,
    }


def test_a_member_the_kept_file_lacks_moves_with_their_resources(organisation):
    keep, absorb = _files(organisation)
    HouseholdMemberFactory(person=keep, first_names="Inès", birth_date=CHILD_BORN)
    brother = HouseholdMemberFactory(person=absorb, first_names="Noé", birth_date=CHILD_BORN)
    resource = MonthlyResourceFactory(person=absorb, member=brother, kind="bourse")

    persons_merge(keep=keep, absorb=absorb, by=MANAGER)

    brother.refresh_from_db()
    resource.refresh_from_db()
    assert brother.person_id == resource.person_id == keep.pk
    assert resource.member_id == brother.pk
    assert HouseholdMember.objects.filter(person=keep).count() == 2
