"""Implausible values typed in a file (a phone that is not one, a rent of a million, a
date in year 1 or 2999) are refused in French through the professional's pages, and
change nothing; plausible ones are still saved."""

import datetime
import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.organisations.models import Profession
from relais.persons.models import (
    Employment,
    HealthRecord,
    Housing,
    MonthlyResource,
    Person,
    SocialCoverage,
)
from relais.persons.validators import DateWindow, mobile_number, validate_phone
from relais.portal.services import normalise_phone
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.editing import create_file, opened_state, save_section
from tests.persons.factories import (
    ConsentFactory,
    HouseholdMemberFactory,
    MonthlyResourceFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db

PHONE_REFUSED = "Ce numéro de téléphone n'est pas valide"
NOT_IN_FUTURE = "Cette date ne peut pas être dans le futur."
AFTER_1900 = "cette date doit être postérieure à 1900."


def _followed(organisation, **fields) -> Person:
    person = PersonFactory(**fields)
    ConsentFactory(person=person, organisation=organisation)
    return person


def _in_days(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def _shown(response) -> str:
    return html.unescape(response.content.decode())


def _journal_writes() -> int:
    """The journal's rows but the reads: a refused form shows its section again, which
    the journal records as any read."""
    return AuditEvent.objects.exclude(action=AuditAction.SECTION_VIEWED).count()


# The person's phone, at creation and on the identity page.


def _identity(person: Person, **overrides) -> dict[str, str]:
    return {
        "first_names": person.first_names,
        "birth_name": person.birth_name,
        "birth_date": person.birth_date.isoformat(),
        "phone": person.phone,
        "commune_name": person.commune_name,
    } | overrides


@pytest.mark.parametrize("phone", ["abc", "06 12 34", "06 12 34 56 78 99", "08 92 12 34 56"])
def test_it_refuses_to_open_a_file_with_an_implausible_phone(member_client, phone):
    journal = _journal_writes()

    response = create_file(member_client, phone=phone)

    assert response.status_code == 400
    assert PHONE_REFUSED in _shown(response)
    assert not Person.objects.exists()
    assert _journal_writes() == journal


@pytest.mark.parametrize("phone", ["06 12 34 56 78", "+33 1 44 55 66 77", "0912345678"])
def test_it_opens_a_file_with_a_mobile_or_landline_number_as_typed(member_client, phone):
    response = create_file(member_client, phone=phone)

    assert response.status_code == 302
    assert Person.objects.get().phone == phone


def test_it_refuses_an_implausible_phone_on_the_identity_page(member_client, organisation):
    person = _followed(organisation, phone="0612345678")
    state = opened_state(member_client, person.pk, "identite")
    journal = _journal_writes()

    response = save_section(
        member_client,
        person.pk,
        "identite",
        _identity(person, phone="abc", birth_name="Autre"),
        state=state,
    )

    assert response.status_code == 400
    assert PHONE_REFUSED in _shown(response)
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.phone, fresh.birth_name) == ("0612345678", person.birth_name)
    assert _journal_writes() == journal


def test_it_saves_a_plausible_phone_on_the_identity_page(member_client, organisation):
    person = _followed(organisation, phone="")

    response = save_section(
        member_client, person.pk, "identite", _identity(person, phone="07 98 76 54 32")
    )

    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).phone == "07 98 76 54 32"


# Resources: amount and month, added from the resources page.


def _add_resource(client, person: Person, **overrides):
    data = {"member": "", "month": f"{timezone.localdate():%Y-%m}", "kind": "rsa"}
    return client.post(
        reverse("persons:resource_add", args=[person.pk]),
        data | {"amount": "635.71"} | overrides,
    )


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"amount": "9999999.99"}, "au-delà de 100 000 € par mois"),
        ({"amount": "100000.01"}, "au-delà de 100 000 € par mois"),
        ({"amount": "-1.00"}, "Le montant ne peut pas être négatif."),
        ({"amount": "0"}, "Un montant de 0 € n'est pas une ressource"),
        ({"amount": "0.00"}, "Un montant de 0 € n'est pas une ressource"),
        ({"month": "1000-01"}, "il ne peut pas être antérieur à janvier 2000."),
        ({"month": "1999-12"}, "il ne peut pas être antérieur à janvier 2000."),
        ({"month": "2999-01"}, "il ne peut pas dépasser de plus de 2 ans le mois en cours."),
    ],
)
def test_it_refuses_an_implausible_resource(member_client, organisation, overrides, said):
    person = _followed(organisation)
    MonthlyResourceFactory(person=person)
    journal = _journal_writes()

    response = _add_resource(member_client, person, **overrides)

    assert response.status_code == 400
    assert said in _shown(response)
    assert MonthlyResource.objects.filter(person=person).count() == 1
    assert _journal_writes() == journal


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": "100000.00"},
        {"amount": "0.01"},
        {"month": "2000-01"},
        {"month": f"{timezone.localdate() + datetime.timedelta(days=366):%Y-%m}"},
    ],
)
def test_it_adds_a_plausible_resource(member_client, organisation, overrides):
    person = _followed(organisation)

    response = _add_resource(member_client, person, **overrides)

    assert response.status_code == 302
    assert MonthlyResource.objects.filter(person=person).count() == 1
    assert "La ressource est ajoutée." in _shown(member_client.get(response.url))


# One-object sections: housing, employment, social coverage, health.

HOUSING = {"status": "locataire_prive", "monthly_rent": "450.00", "monthly_charges": "80.00"}
EMPLOYMENT = {"status": "cdi"}
COVERAGE = {"regime": "general", "complementary": "css"}


@pytest.mark.parametrize(
    ("category", "data", "said"),
    [
        ("logement", HOUSING | {"monthly_rent": "999999.99"}, "au-delà de 10 000 € par mois"),
        ("logement", HOUSING | {"monthly_charges": "10000.01"}, "au-delà de 10 000 € par mois"),
        ("logement", HOUSING | {"since": "0001-01-01"}, AFTER_1900),
        ("logement", HOUSING | {"since": "1899-12-31"}, AFTER_1900),
        ("logement", HOUSING | {"since": "2999-01-01"}, NOT_IN_FUTURE),
        ("logement", HOUSING | {"since": _in_days(1)}, NOT_IN_FUTURE),
        (
            "logement",
            HOUSING | {"commune_code": "99999"},
            "Le code commune INSEE 99999 n'existe pas",
        ),
        ("emploi", EMPLOYMENT | {"since": "0001-01-01"}, AFTER_1900),
        ("emploi", EMPLOYMENT | {"since": "2999-01-01"}, NOT_IN_FUTURE),
        (
            "couverture_sociale",
            COVERAGE | {"rights_until": "1999-12-31"},
            "cette date doit être postérieure à 2000.",
        ),
        (
            "couverture_sociale",
            COVERAGE | {"rights_until": "2999-01-01"},
            "des droits ne sont pas ouverts plus de 10 ans à l'avance.",
        ),
        (
            "couverture_sociale",
            COVERAGE | {"complementary": "mutuelle", "ame": "on"},
            "L'aide médicale de l'État (AME) est réservée aux personnes qui ne peuvent pas "
            "être affiliées à un régime d'assurance maladie : elle ne va pas avec « Régime "
            "général ».",
        ),
        (
            "couverture_sociale",
            COVERAGE | {"regime": "agricole", "complementary": "aucune", "ame": "on"},
            "elle ne va pas avec « Régime agricole (MSA) »",
        ),
        (
            "couverture_sociale",
            COVERAGE | {"regime": "aucun", "complementary": "css_participation", "ame": "on"},
            "La Complémentaire santé solidaire est réservée aux personnes affiliées à un "
            "régime d'assurance maladie, et l'aide médicale de l'État (AME) à celles qui ne "
            "peuvent pas l'être",
        ),
    ],
)
def test_it_refuses_an_implausible_section_and_keeps_what_was_saved(
    member_client, organisation, category, data, said
):
    person = _followed(organisation)
    Housing.objects.create(person=person, status="locataire_social", monthly_rent="420.00")
    Employment.objects.create(person=person, status="demandeur_emploi")
    SocialCoverage.objects.create(person=person, regime="general", complementary="aucune")
    saved = {model: list(model.objects.values()) for model in (Housing, Employment, SocialCoverage)}
    state = opened_state(member_client, person.pk, category)
    journal = _journal_writes()

    response = save_section(member_client, person.pk, category, data, state=state)

    assert response.status_code == 400
    assert said in _shown(response)
    assert {model: list(model.objects.values()) for model in saved} == saved
    assert _journal_writes() == journal


@pytest.mark.parametrize(
    ("category", "data", "model"),
    [
        (
            "logement",
            HOUSING | {"monthly_rent": "10000.00", "since": "1900-01-01"},
            Housing,
        ),
        ("emploi", EMPLOYMENT | {"since": _in_days(0)}, Employment),
        ("couverture_sociale", COVERAGE | {"rights_until": _in_days(365 * 5)}, SocialCoverage),
        (
            "couverture_sociale",
            {"regime": "aucun", "complementary": "aucune", "ame": "on"},
            SocialCoverage,
        ),
        (
            "couverture_sociale",
            {"regime": "aucun", "complementary": "mutuelle", "ame": "on"},
            SocialCoverage,
        ),
    ],
)
def test_it_saves_a_plausible_section(member_client, organisation, category, data, model):
    person = _followed(organisation)

    response = save_section(member_client, person.pk, category, data)

    assert response.status_code == 302
    assert model.objects.filter(person=person).exists()


def test_it_refuses_a_regime_and_the_css_with_the_ame_at_once(member_client, organisation):
    person = _followed(organisation)

    response = save_section(
        member_client, person.pk, "couverture_sociale", COVERAGE | {"ame": "on"}
    )

    assert response.status_code == 400
    page = _shown(response)
    assert "elle ne va pas avec « Régime général »" in page
    assert "La Complémentaire santé solidaire est réservée aux personnes affiliées" in page
    assert not SocialCoverage.objects.exists()


def test_a_coverage_saved_with_a_contradiction_before_it_was_refused_says_why_and_is_corrected(
    member_client, organisation
):
    person = _followed(organisation)
    SocialCoverage.objects.create(person=person, regime="general", complementary="css", ame=True)
    state = opened_state(member_client, person.pk, "couverture_sociale")

    unchanged = save_section(
        member_client,
        person.pk,
        "couverture_sociale",
        COVERAGE | {"ame": "on", "rights_until": _in_days(200)},
        state=state,
    )
    corrected = save_section(member_client, person.pk, "couverture_sociale", COVERAGE, state=state)

    assert unchanged.status_code == 400
    assert "Décochez l'AME" in _shown(unchanged)
    assert corrected.status_code == 302
    coverage = SocialCoverage.objects.get(person=person)
    assert (coverage.regime, coverage.complementary, coverage.ame) == ("general", "css", False)


@pytest.fixture
def nurse_client(client, organisation):
    """Health is written by nurses only."""
    membership = MembershipFactory(organisation=organisation, profession=Profession.NURSE)
    return log_in(client, membership.user, membership)


def test_it_refuses_health_remarks_longer_than_a_note(nurse_client, organisation):
    person = _followed(organisation)
    HealthRecord.objects.create(person=person, remarks="Dossier MDPH déposé.")
    state = opened_state(nurse_client, person.pk, "sante")
    journal = _journal_writes()

    response = save_section(
        nurse_client, person.pk, "sante", {"remarks": "x" * 5001, "rqth": "on"}, state=state
    )

    assert response.status_code == 400
    assert "au plus 5000 caractères" in _shown(response)
    health = HealthRecord.objects.get(person=person)
    assert (health.remarks, health.rqth) == ("Dossier MDPH déposé.", False)
    assert _journal_writes() == journal


def test_it_saves_health_remarks_as_long_as_a_note(nurse_client, organisation):
    person = _followed(organisation)

    response = save_section(nurse_client, person.pk, "sante", {"remarks": "x" * 5000})

    assert response.status_code == 302
    assert len(HealthRecord.objects.get(person=person).remarks) == 5000


def test_the_model_refuses_implausible_values_outside_any_form():
    person = PersonFactory(phone="abc")
    resource = MonthlyResource(
        person=person,
        month=datetime.date(2999, 1, 1),
        kind="rsa",
        amount="9999999.99",
    )
    health = HealthRecord(person=person, remarks="x" * 5001)
    nothing = MonthlyResource(
        person=person, month=timezone.localdate().replace(day=1), kind="rsa", amount="0.00"
    )
    coverage = SocialCoverage(person=person, regime="general", complementary="css", ame=True)

    for instance, fields in [
        (person, {"phone"}),
        (resource, {"month", "amount"}),
        (health, {"remarks"}),
        (nothing, {"amount"}),
        (coverage, {"ame"}),
    ]:
        with pytest.raises(ValidationError) as refused:
            instance.full_clean(exclude=["created_by_organisation"])
        assert set(refused.value.message_dict) == fields


def test_the_date_window_moves_with_today(monkeypatch):
    window = DateWindow(
        earliest=datetime.date(2000, 1, 1), years_ahead=2, too_early="tôt", too_late="tard"
    )
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2028, 2, 29))

    window(datetime.date(2030, 2, 28))
    with pytest.raises(ValidationError, match="tard"):
        window(datetime.date(2030, 3, 1))
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2031, 1, 1))
    window(datetime.date(2030, 3, 1))


@pytest.mark.parametrize(
    ("typed", "mobile"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0590 12 34 56", None),  # a landline in Guadeloupe
        ("+32 470 12 34 56", "+32470123456"),
    ],
)
def test_overseas_numbers_typed_without_their_code_are_french_ones(typed, mobile):
    validate_phone(typed)

    assert mobile_number(typed) == mobile
    if mobile is not None:
        assert normalise_phone(typed) == mobile


def test_it_refuses_a_resource_of_a_member_for_a_month_before_their_birth(
    member_client, organisation
):
    person = _followed(organisation)
    child = HouseholdMemberFactory(person=person, birth_date=datetime.date(2024, 3, 20))
    journal = _journal_writes()

    before = _add_resource(member_client, person, member=child.pk, month="2024-02")

    assert before.status_code == 400
    assert "Ce mois est antérieur à la naissance de ce membre du foyer" in _shown(before)
    assert "20/03/2024" not in _shown(before)
    assert not MonthlyResource.objects.exists()
    assert _journal_writes() == journal
    born = _add_resource(member_client, person, member=child.pk, month="2024-03")
    assert born.status_code == 302
    assert MonthlyResource.objects.get().member_id == child.pk
