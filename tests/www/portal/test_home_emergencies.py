"""The person's home page tells her, under « Ce qui est nouveau », that her file was opened
in an emergency without her consent: which organisation, which profession, when; that the
reason is in « Qui a regardé mon dossier »; and that she can say no to it in advance."""

import html
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.consent.services import break_glass_open, persons_merge
from relais.organisations.models import Profession
from relais.persons.models import Person
from relais.www.templatetags.dates import date as date_format
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import BreakGlassGrantFactory, PersonFactory
from tests.portability.builders import actor, professional
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")
HEADING = "Votre dossier a été ouvert sans votre accord"
REASON = "Expulsion prévue demain matin, le dossier FSL est à compléter en urgence."


@pytest.fixture
def account():
    return PersonAccountFactory(person=PersonFactory(first_names="Maëlle"))


@pytest.fixture
def person_client(account):
    return log_in_person(Client(), account)


@pytest.fixture
def nurse():
    """A nurse of a shelter, who is also a social worker in another organisation."""
    membership = MembershipFactory(
        organisation=OrganisationFactory(name="CHRS Le Phare"), profession=Profession.NURSE
    )
    MembershipFactory(user=membership.user, profession=Profession.ASS)
    return membership


def _open(person: Person, membership, reason: str = REASON):
    return break_glass_open(
        person=person, pro=professional(membership), reason=reason, by=actor(membership)
    )


def _home(client: Client) -> str:
    return html.unescape(client.get(HOME).content.decode())


def test_it_tells_who_opened_the_file_in_an_emergency_and_when(account, person_client, nurse):
    grant = _open(account.person, nurse)
    moment = timezone.localtime(grant.opened_at)

    page = _home(person_client)

    assert HEADING in page
    assert "<strong>CHRS Le Phare</strong>" in page
    assert '<span lang="fr" dir="ltr">Infirmier(ère)</span>' in page
    assert "Assistant(e) de service social" not in page
    assert f"Le {date_format(moment, 'j F Y')} à {moment:%H:%M}" in page
    assert "Rien de nouveau" not in page


def test_it_leads_to_the_reason_and_to_saying_no_in_advance(account, person_client, nurse):
    _open(account.person, nurse)

    page = _home(person_client)

    assert "Un professionnel peut le faire seulement en cas d'urgence." in page
    assert f'href="{reverse("portal:history")}">Voir pourquoi' in page
    assert f'href="{reverse("portal:consents")}#urgence">Dire non aux ouvertures' in page
    assert 'id="urgence"' in _text(person_client.get(reverse("portal:consents")))
    # The reason itself stays on the history page.
    assert REASON not in page


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_it_says_the_person_has_said_no_already(account, person_client, nurse):
    _open(account.person, nurse)
    Person.objects.filter(pk=account.person.pk).update(refuses_break_glass=True)

    page = _home(person_client)

    assert HEADING in page
    assert "Vous avez dit non : personne ne peut ouvrir votre dossier sans votre accord" in page
    assert "Dire non aux ouvertures en urgence" not in page


def test_an_opening_older_than_a_month_is_no_longer_news(account, person_client):
    BreakGlassGrantFactory(
        person=account.person,
        opened_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(days=31) + timedelta(hours=4),
    )

    page = _home(person_client)

    assert HEADING not in page


def test_it_shows_only_the_persons_own_file(account, person_client, nurse):
    _open(PersonFactory(), nurse)

    page = _home(person_client)

    assert HEADING not in page
    assert "CHRS Le Phare" not in page


def test_an_opening_of_a_file_merged_into_the_persons_is_hers(account, person_client, nurse):
    duplicate = PersonFactory()
    _open(duplicate, nurse)
    manager = MembershipFactory(manager=True)
    persons_merge(keep=account.person, absorb=duplicate, by=actor(manager))

    page = _home(person_client)

    assert "<strong>CHRS Le Phare</strong>" in page


def test_it_names_the_profession_the_professional_had_there_that_day(account, person_client):
    shelter = OrganisationFactory(name="CHRS Le Phare")
    former = MembershipFactory(
        organisation=shelter,
        profession=Profession.ES,
        started_on=date(2020, 1, 1),
        ended_on=date(2021, 1, 1),
    )
    MembershipFactory(user=former.user, organisation=shelter, profession=Profession.CESF)
    _open(account.person, former.user.memberships.get(ended_on__isnull=True))

    page = _home(person_client)

    assert "Conseiller(ère) en économie sociale et familiale" in page
    assert "Éducateur(rice) spécialisé(e)" not in page


@pytest.mark.parametrize(
    ("language", "heading", "french"),
    [
        ("en", "Your file was opened without your agreement", "sans votre accord"),
        ("ar", "تم فتح ملفك دون موافقتك", "sans votre accord"),
    ],
)
def test_it_is_told_in_the_persons_language(
    account, person_client, nurse, language, heading, french
):
    _open(account.person, nurse)
    person_client.post(reverse("portal:language"), {"language": language})

    page = _home(person_client)

    assert heading in page
    assert french not in page
    # The profession stays as the professionals wrote it, marked as French.
    assert '<span lang="fr" dir="ltr">Infirmier(ère)</span>' in page


@pytest.mark.parametrize("openings", [1, 4])
def test_the_home_page_costs_the_same_however_many_openings(
    account, person_client, nurse, openings, django_assert_num_queries
):
    for number in range(openings):
        _open(account.person, MembershipFactory(), reason=f"{REASON} ({number})")
    person_client.get(HOME)  # the session settles on the first page

    # Session, space and person, papers, procedures (none, so no checklist), the openings
    # with their organisations and professions; two journal rows (papers, procedures) at
    # four queries each.
    with django_assert_num_queries(5 + 2 * 4):
        person_client.get(HOME)
