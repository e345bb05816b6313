"""A published version never changes: one published before a release of Relais added an
organisation kind, a profession or a data category holds no row for it. Such a cell reads
as no access, as the access rule reads it, on every page that shows the charter, until the
pilot publishes a version that opens it; a version published from now on holds every
cell."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.context import SYSTEM
from relais.consent.charter import (
    charter_publish,
    current_matrix,
    current_version,
    default_matrix,
    forget_current_version,
    levels_for,
    version_changes,
)
from relais.consent.models import CharterAcceptance, CharterRule, CharterVersion
from relais.organisations.models import Membership, OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from tests.conftest import log_in
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


def _published_before(**release: str) -> CharterVersion:
    """The version in force, as a release of Relais that did not know `release` (an
    organisation kind, a profession or a category) published it: no row names it."""
    version = charter_publish(levels=current_matrix(), summary="Version ancienne", by=SYSTEM)
    CharterRule.objects.filter(version=version, **release).delete()
    forget_current_version()
    return version


def _unaccepted(**membership: str) -> tuple[Client, Membership]:
    """A verified professional who has not accepted the version in force yet."""
    member = MembershipFactory(**membership)
    client = log_in(Client(), member.user, device=TOTPDeviceFactory(user=member.user))
    session = client.session
    session["relais_membership_id"] = member.pk
    session.save()
    return client, member


def _rows(page: str) -> dict[str, str]:
    """Category → access, as the charter page's table shows them."""
    return dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", page))


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select [^>]*name="{name}">(.*?)</select>', page, re.S)
    assert select is not None
    return re.search(r'<option value="([^"]*)" selected>', select.group(1)).group(1)


def test_a_category_the_version_predates_reads_as_no_access():
    version = _published_before(category=DataCategory.MESSAGES)

    levels = levels_for(OrganisationKind.CCAS, Profession.ASS, version)

    assert levels[DataCategory.MESSAGES] == Level.NONE
    assert levels[DataCategory.IDENTITY] == Level.WRITE


def test_the_matrix_names_each_cell_the_version_predates_with_no_access():
    _published_before(profession=Profession.NURSE)

    matrix = current_matrix()

    assert matrix.keys() == default_matrix().keys()
    assert matrix[(OrganisationKind.CCAS, Profession.NURSE, DataCategory.HEALTH)] == Level.NONE


def test_the_changes_list_a_cell_the_version_before_predates():
    _published_before(profession=Profession.NURSE)
    levels = current_matrix() | {
        (OrganisationKind.CCAS, Profession.NURSE, DataCategory.HEALTH): Level.READ
    }

    newer = charter_publish(levels=levels, summary="Infirmiers", by=SYSTEM)

    assert version_changes(newer, OrganisationKind.CCAS).rights == [
        (Profession.NURSE, DataCategory.HEALTH, Level.NONE, Level.READ)
    ]


def test_the_charter_page_shows_no_access_for_a_category_the_version_predates():
    _published_before(category=DataCategory.MESSAGES)
    client, _ = _unaccepted()

    response = client.get(reverse("consent:charter"))

    assert response.status_code == 200
    rows = _rows(unescape(response.content.decode()))
    assert rows[DataCategory.MESSAGES.label] == "Aucun accès"
    assert rows[DataCategory.IDENTITY.label] == "Lecture et écriture"


def test_a_professional_accepts_a_version_that_predates_their_profession():
    version = _published_before(profession=Profession.NURSE)
    client, member = _unaccepted(profession=Profession.NURSE)
    page = unescape(client.get(reverse("consent:charter")).content.decode())
    assert set(_rows(page).values()) == {"Aucun accès"}

    response = client.post(
        reverse("consent:charter"),
        {"version": version.number, "droits": [f"{OrganisationKind.CCAS}/{Profession.NURSE}"]},
    )

    assert response.status_code == 302
    assert CharterAcceptance.objects.filter(user=member.user, version=version).exists()
    assert client.get(reverse("persons:list")).status_code == 200


def test_the_editor_shows_no_access_for_a_profession_the_version_predates():
    _published_before(profession=Profession.NURSE)
    pilot = log_in(Client(), UserFactory(pilot=True))

    response = pilot.get(reverse("consent:charter_edit"), {"type": OrganisationKind.CCAS})

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert _selected(page, f"{Profession.NURSE}__{DataCategory.HEALTH}") == Level.NONE
    assert _selected(page, f"{Profession.ASS}__{DataCategory.IDENTITY}") == Level.WRITE


def _grid(kind: str) -> dict[str, str]:
    return {f"{p}__{c}": level for (k, p, c), level in current_matrix().items() if k == kind}


def test_the_pilot_opens_a_profession_the_version_predates_and_publishes_every_cell():
    before = _published_before(profession=Profession.NURSE)
    pilot = log_in(Client(), UserFactory(pilot=True))
    # The health, and the identity without which no file opens.
    opened = {
        f"{Profession.NURSE}__{category}": Level.READ
        for category in (DataCategory.IDENTITY, DataCategory.HEALTH)
    }

    response = pilot.post(
        reverse("consent:charter_edit"),
        {
            "type": OrganisationKind.CCAS,
            "summary": "Les infirmiers lisent la santé",
            "commitments": before.commitments,
            "version": before.number,
            "etape": "publier",
            **_grid(OrganisationKind.CCAS),
            **opened,
        },
    )

    assert response.status_code == 302
    forget_current_version()
    published = current_version()
    assert published.number == before.number + 1
    assert published.rules.count() == len(default_matrix())
    page = unescape(
        pilot.get(reverse("consent:charter_edit"), {"type": OrganisationKind.CCAS}).content.decode()
    )
    assert "Infirmier(ère) — Identité et coordonnées : Aucun accès → Lecture" in page
    assert "Infirmier(ère) — Santé : Aucun accès → Lecture" in page


def test_the_pilot_publishes_another_kind_s_grid_over_a_version_that_predates_a_kind():
    before = _published_before(organisation_kind=OrganisationKind.CHRS)
    pilot = log_in(Client(), UserFactory(pilot=True))
    page = unescape(
        pilot.get(reverse("consent:charter_edit"), {"type": OrganisationKind.CHRS}).content.decode()
    )
    assert _selected(page, f"{Profession.ES}__{DataCategory.IDENTITY}") == Level.NONE

    response = pilot.post(
        reverse("consent:charter_edit"),
        {
            "type": OrganisationKind.CCAS,
            "summary": "Les CIP lisent la santé",
            "commitments": before.commitments,
            "version": before.number,
            "etape": "publier",
            **_grid(OrganisationKind.CCAS),
            f"{Profession.CIP}__{DataCategory.HEALTH}": Level.READ,
        },
    )

    assert response.status_code == 302
    forget_current_version()
    published = current_version()
    assert published.rules.filter(organisation_kind=OrganisationKind.CHRS).count() == (
        len(Profession) * len(DataCategory)
    )
    assert set(
        published.rules.filter(organisation_kind=OrganisationKind.CHRS).values_list(
            "level", flat=True
        )
    ) == {Level.NONE}
