"""The sections of one object (housing, employment, social coverage, health) show their
values as the rest of the platform writes them: « 01/09/2022 », « 450,50 € », « Oui »."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from relais.organisations.models import OrganisationKind
from relais.persons.models import (
    Complementary,
    DisabilityRate,
    Employment,
    EmploymentStatus,
    HealthRecord,
    HealthRegime,
    Housing,
    HousingStatus,
    SocialCoverage,
)
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _shown(client, person, category) -> dict[str, str]:
    """The section's values, by their label."""
    page = client.get(reverse("persons:section", args=[person.pk, category]))
    assert page.status_code == 200
    pairs = re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", page.content.decode())
    return {html.unescape(label): html.unescape(value) for label, value in pairs}


def test_the_housing_shows_its_amounts_in_euros_and_its_date_day_first(member_client, person):
    Housing.objects.create(
        person=person,
        status=HousingStatus.SOCIAL_TENANT,
        monthly_rent=Decimal("450.50"),
        monthly_charges=Decimal("80"),
        since=datetime.date(2022, 9, 1),
    )

    shown = _shown(member_client, person, "logement")

    assert shown == {
        "Situation": HousingStatus.SOCIAL_TENANT.label,
        "Loyer mensuel hors charges": "450,50 €",
        "Charges mensuelles": "80,00 €",
        "Code commune INSEE du logement": "—",
        "Depuis le": "01/09/2022",
    }


def test_the_employment_says_oui_and_its_date_day_first(member_client, person):
    Employment.objects.create(
        person=person,
        status=EmploymentStatus.JOBSEEKER,
        registered_france_travail=True,
        since=datetime.date(2025, 4, 1),
    )

    shown = _shown(member_client, person, "emploi")

    assert shown["Situation"] == EmploymentStatus.JOBSEEKER.label
    assert shown["Inscrit(e) à France Travail"] == "Oui"
    assert shown["Depuis le"] == "01/04/2025"


def test_the_social_coverage_names_its_choices_and_says_non(member_client, person):
    SocialCoverage.objects.create(
        person=person,
        regime=HealthRegime.GENERAL,
        complementary=Complementary.CSS_FREE,
        ame=False,
        rights_until=datetime.date(2027, 6, 30),
    )

    shown = _shown(member_client, person, "couverture_sociale")

    assert list(shown.values()) == [
        HealthRegime.GENERAL.label,
        Complementary.CSS_FREE.label,
        "Non",
        "30/06/2027",
    ]


def test_the_health_section_says_oui_and_non_and_keeps_the_remarks_lines(client):
    # The charter opens the health section to a SAVS, not to the default organisation.
    savs = OrganisationFactory(kind=OrganisationKind.SAVS)
    membership = MembershipFactory(organisation=savs)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=savs)
    log_in(client, membership.user, membership)
    HealthRecord.objects.create(
        person=person,
        disability_rate=DisabilityRate.FROM_80,
        rqth=True,
        mdph_pending=False,
        remarks="Rendez-vous MDPH en mars.\nDossier complet.",
    )

    page = client.get(reverse("persons:section", args=[person.pk, "sante"]))

    content = html.unescape(page.content.decode())
    assert f"<dd>{DisabilityRate.FROM_80.label}</dd>" in content
    assert content.count("<dd>Oui</dd>") == 1
    assert content.count("<dd>Non</dd>") == 2
    assert "Rendez-vous MDPH en mars.<br>Dossier complet." in content


@pytest.mark.parametrize(
    ("category", "heading"),
    [
        ("identite", "Modifier : Identité et coordonnées"),
        ("logement", "Modifier : Logement"),
        ("couverture_sociale", "Modifier : Couverture sociale"),
    ],
)
def test_the_edit_page_names_the_section_in_a_heading_under_the_persons_name(
    member_client, person, category, heading
):
    page = member_client.get(reverse("persons:section_edit", args=[person.pk, category]))

    headings = re.findall(r"<h([12])[^>]*>([^<]*)<", page.content.decode())
    assert [(level, html.unescape(text).strip()) for level, text in headings][-2:] == [
        ("1", person.display_name),
        ("2", heading),
    ]
