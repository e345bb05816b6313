"""A consent to an organisation the person has blocked opens nothing: the consents page
and the file's front page say it is suspended, so that whoever explains to the person who
can see her file says the truth, and does not offer to block that organisation again."""

import html
import re

import pytest
from django.urls import reverse

from relais.organisations.models import OrganisationKind
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import BlockFactory, ConsentFactory

pytestmark = pytest.mark.django_db

SUSPENDED = "suspendu : structure bloquée"
ROW = re.compile(r"<tr><td>(.*?)</tr>", re.S)
FRONT_PAGE_CONSENTS = re.compile(r"Consentements en cours</h2>\s*<ul>(.*?)</ul>", re.S)


def _rows(client, person) -> dict[str, str]:
    page = html.unescape(client.get(reverse("persons:consents", args=[person.pk])).content.decode())
    return {row.split("<", 1)[0].split(" — ")[0]: row for row in ROW.findall(page)}


def test_a_consent_to_a_blocked_organisation_reads_suspended(member_client, person, organisation):
    caf = OrganisationFactory(kind=OrganisationKind.CAF, name="CAF du Nord")
    mds = OrganisationFactory(name="MDS du Valenciennois")
    ConsentFactory(person=person, organisation=caf)
    ConsentFactory(person=person, organisation=mds)
    BlockFactory(person=person, organisation=caf)

    rows = _rows(member_client, person)

    assert SUSPENDED in rows["CAF du Nord"]
    assert SUSPENDED not in rows["MDS du Valenciennois"]
    assert SUSPENDED not in rows[organisation.name]


def test_a_lifted_block_suspends_nothing(member_client, person):
    caf = OrganisationFactory(name="CAF du Nord")
    ConsentFactory(person=person, organisation=caf)
    BlockFactory(person=person, organisation=caf, lifted_at="2026-01-01T00:00:00Z")

    assert SUSPENDED not in _rows(member_client, person)["CAF du Nord"]


def test_a_consent_to_a_blocked_professional_reads_suspended(member_client, person):
    caf = OrganisationFactory(name="CAF du Nord")
    agent = MembershipFactory(organisation=caf)
    ConsentFactory(person=person, organisation=caf, professional=agent.user)
    BlockFactory(person=person, professional=agent.user)

    row = _rows(member_client, person)["CAF du Nord"]

    assert "suspendu : professionnel bloqué" in row


def test_an_expired_or_withdrawn_consent_says_so_rather_than_suspended(member_client, person):
    caf = OrganisationFactory(name="CAF du Nord")
    ConsentFactory(person=person, organisation=caf, revoked=True)
    BlockFactory(person=person, organisation=caf)

    row = _rows(member_client, person)["CAF du Nord"]

    assert "retiré le" in row
    assert SUSPENDED not in row


def test_a_blocked_organisation_is_not_offered_to_block_again(member_client, person):
    caf = OrganisationFactory(name="CAF du Nord")
    mds = OrganisationFactory(name="MDS du Valenciennois")
    ConsentFactory(person=person, organisation=caf)
    ConsentFactory(person=person, organisation=mds)
    BlockFactory(person=person, organisation=caf)

    page = member_client.get(reverse("persons:consents", args=[person.pk]))

    offered = [pk for pk, _ in page.context["block_choices"]]
    assert caf.pk not in offered
    assert mds.pk in offered
    # The list of structures to record a consent for still names it.
    assert caf.pk in [pk for pk, _ in page.context["organisations"]]


def _front_page_lines(client, person) -> dict[str, str]:
    page = html.unescape(client.get(reverse("persons:file", args=[person.pk])).content.decode())
    found = FRONT_PAGE_CONSENTS.search(page)
    assert found is not None
    lines = [
        re.sub(r"<[^>]+>", "", line) for line in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    ]
    return {line.split(" — ")[0]: line for line in lines}


def test_the_front_page_marks_the_consents_a_block_suspends(member_client, person, organisation):
    caf = OrganisationFactory(name="CAF du Nord")
    mds = OrganisationFactory(name="MDS du Valenciennois")
    cpam = OrganisationFactory(name="CPAM de Lille")
    agent = MembershipFactory(organisation=cpam)
    ConsentFactory(person=person, organisation=caf)
    ConsentFactory(person=person, organisation=mds)
    ConsentFactory(person=person, organisation=cpam, professional=agent.user)
    BlockFactory(person=person, organisation=caf)
    BlockFactory(person=person, organisation=mds, lifted_at="2026-01-01T00:00:00Z")
    BlockFactory(person=person, professional=agent.user)

    lines = _front_page_lines(member_client, person)

    assert lines["CAF du Nord"].endswith(f"— {SUSPENDED}")
    assert "suspendu" not in lines["MDS du Valenciennois"]
    assert lines["CPAM de Lille"].endswith("— suspendu : professionnel bloqué")
    assert "suspendu" not in lines[organisation.name]


def test_blocking_one_professional_does_not_suspend_the_consent_to_their_organisation(
    member_client, person
):
    caf = OrganisationFactory(name="CAF du Nord")
    agent = MembershipFactory(organisation=caf)
    ConsentFactory(person=person, organisation=caf)
    BlockFactory(person=person, professional=agent.user)

    assert "suspendu" not in _front_page_lines(member_client, person)["CAF du Nord"]
