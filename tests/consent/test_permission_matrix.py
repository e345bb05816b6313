"""The single access rule, cell by cell: relationship × category × action.

Every expected cell comes from the tables written below, by hand, from the documented
default charter (docs/charte.md) and the rule in relais/consent/access.py — never from the
code under test. Each cell is checked twice: through `can(...)`, and through the HTTP
pages a professional really uses (200 or 404; a redirect to the login page once the
membership has ended).
"""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from relais.consent.access import can, professional_of
from relais.consent.charter import current_version
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory
from relais.persons.models import HealthRecord, HouseholdMember, MonthlyResource, Note
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.editing import STATE, save_section
from tests.persons.factories import (
    BlockFactory,
    BreakGlassGrantFactory,
    ConsentFactory,
    PersonFactory,
    ReferentFactory,
)

pytestmark = pytest.mark.django_db

VIEW, EDIT = "view", "edit"
ALL = [
    "identite", "famille", "ressources", "logement", "emploi", "couverture_sociale", "sante",
    "notes", "demarches", "documents", "rendez_vous", "messages",
]  # fmt: skip

# What the person agreed to share (HEALTH included: the charter still closes it).
CONSENTED = ["identite", "famille", "ressources", "sante", "notes", "rendez_vous"]

# Default charter, CCAS or CAF, assistant(e) de service social: write on every category
# except HEALTH, which is closed. With a live consent, the cell is open where the consent
# covers the category AND the charter allows the action.
WITH_CONSENT = {
    VIEW: {"identite", "famille", "ressources", "notes", "rendez_vous"},
    EDIT: {"identite", "famille", "ressources", "notes", "rendez_vous"},
}
# Break-glass: reading of what the charter lets this profession read, whatever the
# consents; never writing.
BREAK_GLASS = {
    VIEW: {
        "identite", "famille", "ressources", "logement", "emploi", "couverture_sociale",
        "notes", "demarches", "documents", "rendez_vous", "messages",
    },
    EDIT: set(),
}  # fmt: skip
NOTHING: dict[str, set[str]] = {VIEW: set(), EDIT: set()}

EXPECTED = {
    "referent": WITH_CONSENT,
    "same_organisation_with_consent": WITH_CONSENT,
    "consent_expired": NOTHING,
    "consent_revoked": NOTHING,
    "other_organisation_with_its_own_consent": WITH_CONSENT,
    "other_organisation_without_consent": NOTHING,
    "organisation_blocked": NOTHING,
    "professional_blocked": NOTHING,
    "break_glass_live": BREAK_GLASS,
    "break_glass_expired": NOTHING,
    "membership_ended": NOTHING,
}

# The pages of the file today (others arrive with their modules).
SECTION_PAGES = {
    "identite", "famille", "ressources", "logement", "emploi", "couverture_sociale", "sante",
    "notes",
}  # fmt: skip
# Sections edited as one object, through persons:section_edit.
SINGLE_EDIT_PAGES = {"identite", "logement", "emploi", "couverture_sociale", "sante"}


@pytest.fixture(scope="module", autouse=True)
def _charter_published_once(django_db_setup, django_db_blocker):
    """Publish the default charter once for the whole module (its 3,700 rules dominate a
    cell's cost), inside a transaction rolled back after the module: each test's own
    transaction nests in it, and nothing outlives the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        current_version()
        yield
        transaction.set_rollback(True)


def _scenario(relationship: str):
    """The person, and the membership of the professional who asks."""
    home = OrganisationFactory(kind=OrganisationKind.CCAS, name="CCAS de Calais")
    person = PersonFactory(first_names="Léa", birth_name="Dupré")
    consent_traits = {
        "consent_expired": {"expired": True},
        "consent_revoked": {"revoked": True},
    }.get(relationship, {})
    ConsentFactory(person=person, organisation=home, categories=CONSENTED, **consent_traits)
    colleague = MembershipFactory(organisation=home)
    ReferentFactory(person=person, organisation=home, professional=colleague.user)

    if relationship == "referent":
        membership = MembershipFactory(organisation=home, profession=Profession.ASS)
        ReferentFactory(person=person, organisation=home, professional=membership.user)
    elif relationship in {
        "same_organisation_with_consent",
        "consent_expired",
        "consent_revoked",
        "membership_ended",
    }:
        membership = MembershipFactory(organisation=home, profession=Profession.ASS)
    elif relationship == "other_organisation_with_its_own_consent":
        caf = OrganisationFactory(kind=OrganisationKind.CAF, name="CAF du Pas-de-Calais")
        ConsentFactory(person=person, organisation=caf, categories=CONSENTED)
        membership = MembershipFactory(organisation=caf, profession=Profession.ASS)
    elif relationship == "other_organisation_without_consent":
        other = OrganisationFactory(kind=OrganisationKind.CCAS, name="CCAS de Boulogne")
        membership = MembershipFactory(organisation=other, profession=Profession.ASS)
    elif relationship == "organisation_blocked":
        membership = MembershipFactory(organisation=home, profession=Profession.ASS)
        BlockFactory(person=person, organisation=home)
    elif relationship == "professional_blocked":
        membership = MembershipFactory(organisation=home, profession=Profession.ASS)
        BlockFactory(person=person, professional=membership.user)
    elif relationship in {"break_glass_live", "break_glass_expired"}:
        other = OrganisationFactory(kind=OrganisationKind.CCAS, name="CCAS de Boulogne")
        membership = MembershipFactory(organisation=other, profession=Profession.ASS)
        BreakGlassGrantFactory(
            person=person,
            professional=membership.user,
            organisation=other,
            expired=relationship == "break_glass_expired",
        )
    else:  # pragma: no cover — a relationship missing from this function
        raise AssertionError(relationship)
    return person, membership


def _view_url(person, category: str) -> str:
    if category == "identite":
        return reverse("persons:file", args=[person.pk])
    return reverse("persons:section", args=[person.pk, category])


def _edit(client, person, category: str):
    """Try to edit the category through its page; return (response, what was written)."""
    pk = person.pk
    if category in SINGLE_EDIT_PAGES:
        response = client.get(reverse("persons:section_edit", args=[pk, category]))
        return response, None
    if category == "famille":
        response = client.post(
            reverse("persons:member_add", args=[pk]),
            {"relation": "enfant", "first_names": "Noé", "birth_date": "2016-09-01"},
        )
        return response, HouseholdMember.objects.filter(person=person).count()
    if category == "ressources":
        response = client.post(
            reverse("persons:resource_add", args=[pk]),
            {"month": "2025-03", "kind": "rsa", "amount": "635.71"},
        )
        return response, MonthlyResource.objects.filter(person=person).count()
    response = client.post(
        reverse("persons:note_add", args=[pk]),
        {"text": "Dossier de RSA déposé à la CAF.", "visibility": "structure"},
    )
    return response, Note.objects.filter(person=person).count()


CELLS = [
    pytest.param(relationship, category, action, id=f"{relationship}-{category}-{action}")
    for relationship in EXPECTED
    for category in ALL
    for action in (VIEW, EDIT)
]


def test_it_lists_every_category_of_the_model_in_the_matrix():
    assert sorted(ALL) == sorted(DataCategory.values)


@pytest.mark.parametrize(("relationship", "category", "action"), CELLS)
def test_it_applies_the_access_rule_to_each_cell(client, relationship, category, action):
    person, membership = _scenario(relationship)
    log_in(client, membership.user, membership)
    if relationship == "membership_ended":
        membership.ended_on = timezone.localdate()
        membership.save(update_fields=["ended_on"])
    expected = category in EXPECTED[relationship][action]

    landing = client.get(reverse("persons:list"))
    pro = professional_of(landing.wsgi_request)

    if relationship == "membership_ended":
        assert pro is None
        assert landing.status_code == 302
        assert landing.url == reverse("accounts:login")
        assert "_auth_user_id" not in client.session
    else:
        assert landing.status_code == 200
        assert pro is not None
        assert pro.organisation_id == membership.organisation_id
    assert can(pro, action, person.pk, category) is expected

    if category not in SECTION_PAGES:
        return
    if action == VIEW:
        response = client.get(_view_url(person, category))
    else:
        response, written = _edit(client, person, category)
    if relationship == "membership_ended":
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))
        return
    if action == VIEW or category in SINGLE_EDIT_PAGES:
        assert response.status_code == (200 if expected else 404)
    else:
        assert response.status_code == (302 if expected else 404)
        assert written == (1 if expected else 0)


def test_it_denies_a_colleague_when_the_consent_names_one_professional(client):
    home = OrganisationFactory(kind=OrganisationKind.CCAS)
    named = MembershipFactory(organisation=home)
    colleague = MembershipFactory(organisation=home)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=home, professional=named.user)

    log_in(client, colleague.user, colleague)
    response = client.get(reverse("persons:file", args=[person.pk]))

    assert response.status_code == 404
    assert can(professional_of(response.wsgi_request), VIEW, person.pk, "identite") is False


def test_it_lets_the_named_professional_in_when_the_consent_names_them(client):
    home = OrganisationFactory(kind=OrganisationKind.CCAS)
    named = MembershipFactory(organisation=home)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=home, professional=named.user)

    log_in(client, named.user, named)
    response = client.get(reverse("persons:file", args=[person.pk]))

    assert response.status_code == 200
    assert can(professional_of(response.wsgi_request), EDIT, person.pk, "identite") is True


def test_it_lets_a_block_win_over_a_live_break_glass_grant(client):
    other = OrganisationFactory(kind=OrganisationKind.CCAS)
    membership = MembershipFactory(organisation=other)
    person = PersonFactory()
    BreakGlassGrantFactory(person=person, professional=membership.user, organisation=other)
    BlockFactory(person=person, organisation=other)

    log_in(client, membership.user, membership)
    response = client.get(reverse("persons:file", args=[person.pk]))

    assert response.status_code == 404
    assert can(professional_of(response.wsgi_request), VIEW, person.pk, "identite") is False


def test_it_keeps_a_colleague_in_when_only_one_professional_is_blocked(client):
    home = OrganisationFactory(kind=OrganisationKind.CCAS)
    blocked = MembershipFactory(organisation=home)
    colleague = MembershipFactory(organisation=home)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=home)
    BlockFactory(person=person, professional=blocked.user)

    log_in(client, colleague.user, colleague)
    response = client.get(reverse("persons:file", args=[person.pk]))

    assert response.status_code == 200


def test_it_denies_a_consent_that_has_not_started_yet(client):
    home = OrganisationFactory(kind=OrganisationKind.CCAS)
    membership = MembershipFactory(organisation=home)
    person = PersonFactory()
    ConsentFactory(
        person=person,
        organisation=home,
        starts_at=timezone.now() + datetime.timedelta(days=1),
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )

    log_in(client, membership.user, membership)
    response = client.get(reverse("persons:file", args=[person.pk]))

    assert response.status_code == 404


# Charter levels that differ by profession and kind of organisation.


def _with_full_consent(kind: str, profession: str):
    organisation = OrganisationFactory(kind=kind)
    membership = MembershipFactory(organisation=organisation, profession=profession)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)
    return person, membership


def test_it_shows_identity_but_not_resources_to_a_reception_agent(client):
    person, membership = _with_full_consent(OrganisationKind.CCAS, Profession.RECEPTION_AGENT)
    log_in(client, membership.user, membership)

    file_page = client.get(reverse("persons:file", args=[person.pk]))
    resources = client.get(reverse("persons:section", args=[person.pk, "ressources"]))
    identity_edit = client.get(reverse("persons:section_edit", args=[person.pk, "identite"]))

    pro = professional_of(file_page.wsgi_request)
    assert file_page.status_code == 200
    assert resources.status_code == 404
    assert identity_edit.status_code == 404
    assert can(pro, VIEW, person.pk, "identite") is True
    assert can(pro, EDIT, person.pk, "identite") is False
    assert can(pro, VIEW, person.pk, "ressources") is False
    assert can(pro, EDIT, person.pk, "rendez_vous") is True


def test_it_lets_a_nurse_edit_health(client):
    person, membership = _with_full_consent(OrganisationKind.CSAPA, Profession.NURSE)
    log_in(client, membership.user, membership)

    page = client.get(reverse("persons:section_edit", args=[person.pk, "sante"]))
    saved = save_section(
        client,
        person.pk,
        "sante",
        {"disability_rate": "", "mdph_pending": "on", "remarks": "Dossier MDPH à compléter."},
        state=STATE.search(page.content.decode()).group(1),
    )

    pro = professional_of(page.wsgi_request)
    assert page.status_code == 200
    assert saved.status_code == 302
    assert HealthRecord.objects.get(person=person).mdph_pending is True
    assert can(pro, EDIT, person.pk, "sante") is True
    assert can(pro, VIEW, person.pk, "ressources") is False


def test_it_lets_a_social_worker_of_a_savs_read_health_without_editing_it(client):
    person, membership = _with_full_consent(OrganisationKind.SAVS, Profession.ASS)
    log_in(client, membership.user, membership)

    section = client.get(reverse("persons:section", args=[person.pk, "sante"]))
    edit = client.get(reverse("persons:section_edit", args=[person.pk, "sante"]))
    post = client.post(
        reverse("persons:section_edit", args=[person.pk, "sante"]), {"mdph_pending": "on"}
    )

    pro = professional_of(section.wsgi_request)
    assert section.status_code == 200
    assert edit.status_code == 404
    assert post.status_code == 404
    assert not HealthRecord.objects.filter(person=person).exists()
    assert can(pro, VIEW, person.pk, "sante") is True
    assert can(pro, EDIT, person.pk, "sante") is False


def test_it_keeps_health_closed_to_a_social_worker_of_a_ccas(client):
    person, membership = _with_full_consent(OrganisationKind.CCAS, Profession.ASS)
    log_in(client, membership.user, membership)

    section = client.get(reverse("persons:section", args=[person.pk, "sante"]))

    assert section.status_code == 404
    assert can(professional_of(section.wsgi_request), VIEW, person.pk, "sante") is False
