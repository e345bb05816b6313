"""A person's file through the professional's pages: creation and duplicates, NIR,
search, notes, sections and their journal, merging, and the cost of the main pages."""

import datetime
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM, Actor
from relais.audit.models import AuditEvent
from relais.audit.services import audit_record
from relais.consent.models import Consent
from relais.consent.services import persons_merge
from relais.organisations.models import OrganisationKind
from relais.persons import services
from relais.persons.categories import DataCategory
from relais.persons.models import (
    HouseholdMember,
    Housing,
    Note,
    NoteVisibility,
    Person,
    PersonStatus,
)
from relais.portal.sessions import PERSON_ACTOR_LABEL
from relais.www.persons import views
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.editing import (
    STATE,
    WARNED_ABOUT,
    create_file,
    merge_files,
    opened_state,
    save_section,
)
from tests.persons.factories import (
    ConsentFactory,
    HouseholdMemberFactory,
    MonthlyResourceFactory,
    NoteFactory,
    PersonFactory,
    ReferentFactory,
)
from tests.portal.factories import PersonAccountFactory
from tests.procedures.factories import DocumentFactory, ProcedureFactory

pytestmark = pytest.mark.django_db

VALID_NIR = "2 90 04 75 056 012 82"
VALID_NIR_DIGITS = "290047505601282"
MASKED_NIR = "• ••• •• •• ••• ••• ••"
BIRTH_DATE = datetime.date(1990, 4, 12)


def _followed(organisation, **fields) -> Person:
    """A person with a live consent to `organisation`."""
    person = PersonFactory(**fields)
    ConsentFactory(person=person, organisation=organisation)
    return person


@pytest.fixture
def elsewhere():
    return OrganisationFactory(kind=OrganisationKind.CCAS, name="CCAS de Boulogne")


# Creation and duplicates.


@pytest.mark.parametrize(
    "typed", ["DUPRE LEFEVRE", "dupré-lefèvre", "Dupre-Lefevre", "DUPRÉ  LEFÈVRE"]
)
def test_it_offers_the_visible_duplicate_instead_of_creating_a_file(
    member_client, organisation, typed
):
    existing = _followed(
        organisation, birth_name="Dupré-Lefèvre", first_names="Léa Marie", birth_date=BIRTH_DATE
    )

    response = create_file(member_client, birth_name=typed, first_names="LEA")

    content = response.content.decode()
    assert response.status_code == 400
    assert "Ce dossier existe peut-être déjà" in content
    assert reverse("persons:file", args=[existing.pk]) in content
    assert Person.objects.count() == 1
    # The refusal is announced: the window's title says it, an alert above the fields reads it.
    assert "<title>Erreur — " in content
    assert re.search(r'role="alert">\s*<p>Un dossier existe peut-être déjà', content)


def test_it_offers_the_file_of_a_birth_date_typed_with_day_and_month_swapped(
    member_client, organisation
):
    existing = _followed(
        organisation,
        birth_name="Bensaïd",
        first_names="Rachid",
        birth_date=datetime.date(1975, 11, 2),
    )

    response = create_file(
        member_client, birth_name="Bensaïd", first_names="Rachid", birth_date="1975-02-11"
    )

    content = response.content.decode()
    assert response.status_code == 400
    assert "Ce dossier existe peut-être déjà" in content
    assert reverse("persons:file", args=[existing.pk]) in content
    # The file's own date is shown beside it: the professional sees which one the person gives.
    assert "né(e) le 02/11/1975" in html.unescape(content)
    assert Person.objects.count() == 1


def test_it_creates_the_file_anyway_once_confirmed(member_client, organisation):
    _followed(organisation, birth_name="Dupré-Lefèvre", first_names="Léa", birth_date=BIRTH_DATE)

    response = create_file(member_client, confirm_new="on")

    assert response.status_code == 302
    assert Person.objects.count() == 2
    newest = Person.objects.latest("pk")
    assert response.url == reverse("persons:file", args=[newest.pk])
    assert Consent.objects.filter(person=newest, organisation=organisation).exists()


def test_it_only_hints_at_a_duplicate_in_another_organisation(
    member_client, organisation, elsewhere
):
    hidden = _followed(
        elsewhere,
        birth_name="Dupré-Lefèvre",
        first_names="Léa Gwendoline",
        birth_date=BIRTH_DATE,
        commune_name="Boulogne-sur-Mer",
    )

    response = create_file(member_client)

    content = response.content.decode()
    assert response.status_code == 400
    assert "Un dossier Relais existe peut-être déjà dans une autre structure" in content
    assert "Gwendoline" not in content
    assert "Boulogne-sur-Mer" not in content
    assert reverse("persons:file", args=[hidden.pk]) not in content
    assert f"dossier n° {hidden.pk}" not in content
    assert Person.objects.count() == 1
    # The hidden file's journal, hence the person's history, says who learnt it exists;
    # the organisation's journal, which its manager reads, does not say whose file it is.
    told = AuditEvent.objects.get(action=AuditAction.DUPLICATE_SIGNALLED)
    assert (told.person_id, told.organisation_id) == (hidden.pk, organisation.pk)
    assert told in AuditEvent.objects.filter(person_id=hidden.pk).access_history()
    manager = MembershipFactory(organisation=organisation, manager=True)
    journal = log_in(Client(), manager.user, manager).get(reverse("journal:list"))
    assert told in [event for event, _ in journal.context["rows"]]
    for secret in ("Gwendoline", "DUPRÉ", f"n° {hidden.pk}"):
        assert secret not in journal.content.decode()


def test_it_flags_a_duplicate_by_nir_whatever_the_name(member_client, organisation, elsewhere):
    create_file(member_client, nir=VALID_NIR, confirm_new="on")
    assert Person.objects.count() == 1

    response = create_file(member_client, birth_name="Martin", first_names="Zoé", nir=VALID_NIR)

    assert "Ce dossier existe peut-être déjà" in response.content.decode()
    assert Person.objects.count() == 1


def test_it_never_creates_a_second_file_with_the_same_nir_even_once_confirmed(
    member_client, organisation
):
    create_file(member_client, nir=VALID_NIR, confirm_new="on")
    existing = Person.objects.get()

    response = create_file(
        member_client, birth_name="Martin", first_names="Zoé", nir=VALID_NIR, confirm_new="on"
    )

    assert response.status_code == 400
    content = html.unescape(response.content.decode())
    assert f"celui du dossier n° {existing.pk}" in content
    assert Person.objects.count() == 1
    assert (
        not AuditEvent.objects.filter(action=AuditAction.PERSON_CREATED)
        .exclude(person_id=existing.pk)
        .exists()
    )


def test_the_database_holds_one_active_file_per_nir(organisation):
    first = services.person_create(
        identity={"first_names": "Léa", "birth_name": "Dupré", "birth_date": BIRTH_DATE},
        nir=VALID_NIR,
        organisation_id=organisation.pk,
        by=SYSTEM,
    )
    second = PersonFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=second.pk).update(nir_digest=first.nir_digest)

    Person.objects.filter(pk=first.pk).update(status=PersonStatus.ARCHIVED)
    Person.objects.filter(pk=second.pk).update(nir_digest=first.nir_digest)


def test_a_nir_given_at_the_same_moment_to_another_file_is_refused_as_taken(
    organisation, monkeypatch
):
    first = PersonFactory(birth_date=BIRTH_DATE)
    services.nir_set(person=first, nir=VALID_NIR, by=SYSTEM)
    second = PersonFactory(birth_date=BIRTH_DATE)
    # The other request's file was not yet saved when this one looked for it.
    looked_up = iter([None, first.pk])
    monkeypatch.setattr(services, "_other_file_with", lambda digest, person: next(looked_up))

    with pytest.raises(services.NirTaken) as taken:
        services.nir_set(person=second, nir=VALID_NIR, by=SYSTEM)

    assert taken.value.other_id == first.pk
    assert not second.has_nir
    second.refresh_from_db()
    assert not second.has_nir


def test_it_creates_the_file_with_its_consent_referent_and_journal(
    member_client, member_membership
):
    response = create_file(member_client)

    person = Person.objects.get()
    assert response.url == reverse("persons:file", args=[person.pk])
    assert (person.birth_name_key, person.first_names_key) == ("dupre lefevre", "lea")
    assert person.created_by_organisation_id == member_membership.organisation_id
    assert person.referents.get().professional_id == member_membership.user_id
    consent = Consent.objects.get(person=person)
    assert consent.categories == ["identite", "famille", "ressources", "notes"]
    assert consent.recorded_by_id == member_membership.user_id
    assert list(
        AuditEvent.objects.for_person(person.pk).order_by("seq").values_list("action", flat=True)
    ) == [AuditAction.PERSON_CREATED, AuditAction.CONSENT_GRANTED, AuditAction.REFERENT_ADDED]


# NIR.


def test_it_refuses_an_invalid_nir_in_french(member_client):
    response = create_file(member_client, nir="1 85 05 78 006 084 00")

    assert response.status_code == 400
    assert "Ce numéro de sécurité sociale n'est pas valide" in html.unescape(
        response.content.decode()
    )
    assert not Person.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.PERSON_CREATED).exists()


def test_it_keeps_numbers_typed_on_an_arabic_keyboard_in_digits_0_to_9(member_client):
    response = create_file(
        member_client, phone="٠٦١٢٣٤٥٦٧٨", postal_code="٦٢١٠٠", caf_number="١٢٣٤٥٦٧"
    )

    assert response.status_code == 302
    person = Person.objects.get()
    assert (person.phone, person.postal_code, person.caf_number) == (
        "0612345678",
        "62100",
        "1234567",
    )


@pytest.mark.parametrize("field", ["first_names", "birth_name", "usage_name", "commune_name"])
def test_it_refuses_a_name_holding_markup(member_client, field):
    response = create_file(member_client, **{field: "<script>alert(1)</script>"})

    assert response.status_code == 400
    assert "Un nom ne contient pas les signes « < » et « > »" in html.unescape(
        response.content.decode()
    )
    assert not Person.objects.exists()


def test_its_lists_say_what_their_empty_choice_means(member_client):
    page = html.unescape(member_client.get(reverse("persons:create")).content.decode())

    assert "---------" not in page
    assert '<option value="" selected>Non renseigné</option>' in page


def test_a_section_keeps_the_capitals_of_its_labels(member_client, organisation):
    person = _followed(organisation)
    Housing.objects.create(person=person, status="locataire_social", commune_code="62193")

    page = html.unescape(
        member_client.get(reverse("persons:section", args=[person.pk, "logement"])).content.decode()
    )

    assert "<dt>Code commune INSEE du logement</dt><dd>62193</dd>" in page


@pytest.mark.parametrize(("birth_date", "saved"), [("1991-04-12", False), ("1990-04-30", True)])
def test_a_birth_date_corrected_after_the_nir_must_still_agree_with_it(
    member_client, birth_date, saved
):
    create_file(member_client, nir=VALID_NIR)
    person = Person.objects.get()

    response = save_section(
        member_client, person.pk, "identite", _identity_data(person, birth_date=birth_date)
    )

    person.refresh_from_db()
    assert (person.birth_date.isoformat() == birth_date) is saved
    if not saved:
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        assert "ne correspond pas au numéro de sécurité sociale du dossier" in page
        assert "« 90 »" not in page
        assert "« 04 »" not in page


def _key(digits: str) -> int:
    return 97 - int(digits) % 97


def _nir(first_thirteen: str) -> str:
    return f"{first_thirteen}{_key(first_thirteen):02d}"


# The file's birth (04/1990) under each first digit: 1 and 2 say the sex; a provisional
# number's 3, 4, 7 or 8 is not compared.
MAN_NIR, WOMAN_NIR = _nir("1900475056012"), VALID_NIR_DIGITS
PROVISIONAL_NIRS = [_nir(f"{digit}900475056012") for digit in "3478"]


@pytest.mark.parametrize(
    ("sex", "nir", "refusal"),
    [
        ("M", WOMAN_NIR, "celui d'une femme (1er chiffre « 2 »), et le dossier dit « Homme »"),
        ("F", MAN_NIR, "celui d'un homme (1er chiffre « 1 »), et le dossier dit « Femme »"),
    ],
    ids=["man-woman's-nir", "woman-man's-nir"],
)
def test_it_creates_no_file_with_a_nir_of_the_other_sex(member_client, sex, nir, refusal):
    response = create_file(member_client, sex=sex, nir=nir)

    assert response.status_code == 400
    assert f"Ce numéro de sécurité sociale est {refusal} : vérifiez le numéro ou le sexe." in (
        html.unescape(response.content.decode())
    )
    assert not Person.objects.exists()
    assert not AuditEvent.objects.filter(person_id__isnull=False).exists()


@pytest.mark.parametrize(
    ("sex", "nir"),
    [
        ("F", WOMAN_NIR),
        ("M", MAN_NIR),
        ("", WOMAN_NIR),
        ("", MAN_NIR),
        *(("M", nir) for nir in PROVISIONAL_NIRS),
        *(("F", nir) for nir in PROVISIONAL_NIRS),
    ],
)
def test_it_creates_a_file_whose_nir_does_not_contradict_its_sex(member_client, sex, nir):
    response = create_file(member_client, sex=sex, nir=nir)

    assert response.status_code == 302
    assert Person.objects.get().has_nir


def test_both_contradictions_of_a_nir_are_said_at_once(member_client):
    response = create_file(member_client, sex="M", nir=_nir("2910475056012"))

    page = html.unescape(response.content.decode())
    assert "celui d'une femme" in page
    assert "née en « 91 »" in page
    assert not Person.objects.exists()


@pytest.mark.parametrize(("sex", "saved"), [("M", False), ("F", True), ("", True)])
def test_a_sex_corrected_after_the_nir_must_still_agree_with_it(member_client, sex, saved):
    create_file(member_client, sex="F", nir=WOMAN_NIR)
    person = Person.objects.get()
    journal = AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).count()

    response = save_section(
        member_client, person.pk, "identite", _identity_data(person, sex=sex, phone="0698765432")
    )

    person.refresh_from_db()
    assert (person.sex, person.phone == "0698765432") == ((sex, True) if saved else ("F", False))
    if not saved:
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        assert "Le sexe indiqué ne correspond pas au numéro de sécurité sociale du dossier" in page
        assert "« 2 »" not in page
        assert AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).count() == journal


def test_a_nir_recorded_later_must_agree_with_the_sex_of_the_file(member_client):
    create_file(member_client, sex="M")
    person = Person.objects.get()

    response = member_client.post(reverse("persons:nir_edit", args=[person.pk]), {"nir": VALID_NIR})

    assert response.status_code == 400
    assert "celui d'une femme (1er chiffre « 2 »)" in html.unescape(response.content.decode())
    person.refresh_from_db()
    assert not person.has_nir


def test_it_creates_no_file_with_a_nir_of_another_birth(member_client):
    # A valid key, but the 2nd to 5th digits say March 1990: the file says April.
    response = create_file(member_client, nir=f"2 90 03 75 056 012 {_key('2900375056012'):02d}")

    assert response.status_code == 400
    assert "née le mois « 03 »" in html.unescape(response.content.decode())
    assert not Person.objects.exists()
    assert not AuditEvent.objects.filter(person_id__isnull=False).exists()


def test_it_accepts_the_nir_of_a_person_born_in_a_month_the_registry_does_not_know(member_client):
    # Months 20 to 42 and 99 stand for a month unknown when the number was given.
    response = create_file(member_client, nir="2 90 99 75 056 012 50")

    assert response.status_code == 302
    assert Person.objects.get().has_nir


def test_it_stores_the_nir_encrypted_and_shows_it_masked(member_client):
    create_file(member_client, nir=VALID_NIR)
    person = Person.objects.get()

    stored = bytes(person.nir_encrypted)
    page = member_client.get(reverse("persons:file", args=[person.pk])).content.decode()

    assert stored
    assert VALID_NIR_DIGITS.encode() not in stored
    assert VALID_NIR_DIGITS[:13].encode() not in stored
    assert VALID_NIR_DIGITS not in person.nir_digest
    assert MASKED_NIR in page
    assert VALID_NIR_DIGITS not in page
    assert VALID_NIR not in page


def test_it_reveals_the_nir_on_request_and_journals_it(member_client):
    create_file(member_client, nir=VALID_NIR)
    person = Person.objects.get()

    response = member_client.post(reverse("persons:nir_reveal", args=[person.pk]))

    assert response.status_code == 200
    assert VALID_NIR_DIGITS in re.sub(r"<[^>]+>", "", response.content.decode())
    revealed = AuditEvent.objects.get(action=AuditAction.NIR_REVEALED)
    assert (revealed.person_id, revealed.category) == (person.pk, "identite")
    assert not AuditEvent.objects.filter(details__icontains=VALID_NIR_DIGITS[:7]).exists()


def test_it_does_not_reveal_the_nir_on_get(member_client):
    create_file(member_client, nir=VALID_NIR)
    person = Person.objects.get()

    response = member_client.get(reverse("persons:nir_reveal", args=[person.pk]))

    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action=AuditAction.NIR_REVEALED).exists()


def test_it_records_the_nir_of_a_file_created_without_it(member_client):
    create_file(member_client)
    person = Person.objects.get()
    url = reverse("persons:nir_edit", args=[person.pk])

    form = member_client.get(url)
    response = member_client.post(url, {"nir": VALID_NIR})

    assert "Renseigner le numéro de sécurité sociale" in form.content.decode()
    assert response.status_code == 302
    person.refresh_from_db()
    assert services.nir_reveal(person=person, by=SYSTEM, details={}) == VALID_NIR_DIGITS
    assert VALID_NIR_DIGITS not in member_client.get(response.url).content.decode()
    assert AuditEvent.objects.filter(
        action=AuditAction.SECTION_UPDATED, person_id=person.pk, object_type="nir"
    ).exists()


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Saisissez le numéro de sécurité sociale."),
        ("1 85 05 78 006 084 00", "n'est pas valide"),
        ("2 91 04 75 056 012 33", "née en « 91 » (2e et 3e chiffres), et le dossier dit 1990"),
        (
            "2 90 05 75 056 012 01",
            "née le mois « 05 » (4e et 5e chiffres), et le dossier dit 04/1990",
        ),
    ],
    ids=["empty", "wrong-key", "another-year", "another-month"],
)
def test_it_refuses_a_wrong_nir_in_french_and_keeps_the_one_recorded(member_client, typed, error):
    create_file(member_client, nir=VALID_NIR)
    person = Person.objects.get()
    stored = bytes(person.nir_encrypted)

    response = member_client.post(reverse("persons:nir_edit", args=[person.pk]), {"nir": typed})

    assert response.status_code == 400
    assert error in html.unescape(response.content.decode())
    person.refresh_from_db()
    assert bytes(person.nir_encrypted) == stored
    assert not AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).exists()


def test_it_refuses_the_nir_of_another_file_and_points_to_the_merge(member_client, organisation):
    create_file(member_client, nir=VALID_NIR)
    other = _followed(organisation, first_names="Zoé", birth_name="Martin", birth_date=BIRTH_DATE)

    response = member_client.post(reverse("persons:nir_edit", args=[other.pk]), {"nir": VALID_NIR})

    assert response.status_code == 400
    assert "fusionner les deux dossiers" in html.unescape(response.content.decode())
    other.refresh_from_db()
    assert not other.has_nir


# Search.


@pytest.fixture
def searchable(organisation, elsewhere):
    lea = _followed(
        organisation,
        first_names="Léa",
        birth_name="Dupré",
        birth_date=BIRTH_DATE,
        caf_number="1234567",
    )
    theirs = _followed(
        elsewhere,
        first_names="Lucie",
        birth_name="Dupré",
        birth_date=BIRTH_DATE,
        caf_number="7654321",
    )
    return lea, theirs


def _search(client, query: str) -> str:
    response = client.post(reverse("persons:list"), {"q": query}, follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("query", ["dupre", "DUPRÉ", "Dupré léa", "lea", "LÉA DUP", "12/04/1990"])
def test_it_finds_a_visible_person_by_name_or_birth_date(member_client, searchable, query):
    lea, theirs = searchable

    content = _search(member_client, query)

    assert reverse("persons:file", args=[lea.pk]) in content
    assert reverse("persons:file", args=[theirs.pk]) not in content
    assert "Lucie" not in content


def test_it_finds_a_visible_person_by_caf_number(member_client, searchable):
    lea, _ = searchable

    assert reverse("persons:file", args=[lea.pk]) in _search(member_client, "1234567")
    assert "Aucune personne." in _search(member_client, "7654321")


def test_it_never_shows_the_persons_of_another_organisation(outsider_client, searchable):
    for query in ("dupre", "lea", "lucie", "12/04/1990", "1234567", "7654321"):
        content = _search(outsider_client, query)
        assert "Résultats" in content
        assert "DUPRÉ" not in content
        for person in searchable:
            assert reverse("persons:file", args=[person.pk]) not in content


def test_it_refuses_an_impossible_date_in_french(member_client, searchable):
    response = member_client.post(reverse("persons:list"), {"q": "31/02/1990"})

    assert response.status_code == 400
    assert "Cette date n'existe pas" in html.unescape(response.content.decode())


def test_it_finds_a_name_with_letters_of_its_own_as_typed_on_a_french_keyboard(
    member_client, organisation
):
    lukasz = _followed(organisation, birth_name="Wałęsa", first_names="Łukasz")

    content = _search(member_client, "walesa lukasz")

    assert reverse("persons:file", args=[lukasz.pk]) in content


@pytest.mark.parametrize(
    "query", ["Dupré-Lefèvre", "lefevre", "Lefèvre Jean-Pierre", "pierre", "dupre pie"]
)
def test_it_finds_a_compound_name_by_any_of_its_words(member_client, organisation, query):
    compound = _followed(organisation, birth_name="Dupré-Lefèvre", first_names="Jean-Pierre")

    content = _search(member_client, query)

    assert reverse("persons:file", args=[compound.pk]) in content


@pytest.mark.parametrize("query", ["efevre", "ierre", "lefevre paul"])
def test_it_finds_no_compound_name_by_the_middle_of_a_word(member_client, organisation, query):
    _followed(organisation, birth_name="Dupré-Lefèvre", first_names="Jean-Pierre")

    assert "Aucune personne." in _search(member_client, query)


def test_it_searches_by_post_only(member_client, searchable):
    lea, _ = searchable

    response = member_client.get(reverse("persons:list"), {"q": "dupre"})

    content = response.content.decode()
    assert response.status_code == 200
    assert reverse("persons:file", args=[lea.pk]) not in content
    assert '<form method="post"' in content
    assert not AuditEvent.objects.filter(action=AuditAction.PERSON_SEARCH).exists()


def test_it_journals_a_search_without_the_searched_name(member_client, searchable):
    _search(member_client, "dupre")

    event = AuditEvent.objects.get(action=AuditAction.PERSON_SEARCH)
    assert event.details == {"resultats": 1}
    assert "dupre" not in (event.reason + event.person_label + str(event.details)).casefold()


def test_it_pages_search_results(member_client, organisation):
    persons = [
        _followed(organisation, birth_name="Dupré", first_names=f"Léa{n:02d}") for n in range(25)
    ]
    links = [reverse("persons:file", args=[p.pk]) for p in persons]

    first = _search(member_client, "dupre")
    second = html.unescape(
        member_client.post(
            reverse("persons:list"), {"q": "dupre", "page": 2}, follow=True
        ).content.decode()
    )

    assert [link for link in links if f'href="{link}"' in first] == links[:20]
    assert [link for link in links if f'href="{link}"' in second] == links[20:]
    assert "Page suivante" in first
    assert "Page précédente" in second
    assert "Page suivante" not in second


def test_it_names_the_profession_behind_every_change_of_the_file(
    member_client, organisation, member_membership
):
    """The person's access history names the profession of whoever read *or changed* the
    file, not only of whoever read it."""
    person = _followed(organisation)

    save_section(
        member_client,
        person.pk,
        "logement",
        {"status": "locataire_social", "monthly_rent": "420.50", "commune_code": "62193"},
    )
    member_client.post(reverse("persons:referents", args=[person.pk]))

    events = AuditEvent.objects.filter(person_id=person.pk).exclude(
        action=AuditAction.SECTION_VIEWED
    )
    assert {event.action for event in events} >= {
        AuditAction.SECTION_UPDATED,
        AuditAction.REFERENT_ADDED,
    }
    assert {event.details.get("profession") for event in events} == {
        member_membership.get_profession_display()
    }


def test_the_access_history_names_the_categories_read(member_client, organisation):
    person = _followed(organisation)
    member_client.get(reverse("persons:section", args=[person.pk, "logement"]))

    page = html.unescape(
        member_client.get(reverse("persons:history", args=[person.pk])).content.decode()
    )

    # Read in a row, the same day, by the same professional: one line.
    assert "Consultation — Logement, Identité et coordonnées — 2 fois" in page
    assert "— logement" not in page


def _referent_of(organisation, membership, count) -> list[Person]:
    persons = [_followed(organisation, birth_name=f"Martin{n:02d}") for n in range(count)]
    for person in persons:
        ReferentFactory(person=person, professional=membership.user, organisation=organisation)
    return persons


def test_it_lists_my_persons_a_page_at_a_time(member_client, organisation, member_membership):
    persons = _referent_of(organisation, member_membership, views.PAGE_SIZE + 3)
    _followed(organisation, birth_name="Aucunréférent")

    first = member_client.get(reverse("persons:list"))
    second = member_client.get(reverse("persons:list"), {"page": 2})

    names = [p.birth_name for p in persons]
    assert [p.birth_name for p in first.context["mine"]] == names[: views.PAGE_SIZE]
    assert [p.birth_name for p in second.context["mine"]] == names[views.PAGE_SIZE :]
    assert "?page=2" in first.content.decode()
    assert not second.context["has_next"]


@pytest.mark.parametrize("page", ["0", "abc", "100001"])
def test_it_explains_a_page_of_my_persons_that_does_not_exist(
    member_client, organisation, member_membership, page
):
    _referent_of(organisation, member_membership, 2)

    response = member_client.get(reverse("persons:list"), {"page": page})

    assert "Cette page de la liste n'existe pas" in html.unescape(response.content.decode())
    assert response.context["mine"] == []


def test_it_shows_a_searchs_results_in_place_of_my_persons(
    member_client, organisation, member_membership, searchable
):
    _referent_of(organisation, member_membership, 1)

    response = member_client.post(reverse("persons:list"), {"q": "dupre"}, follow=True)

    content = response.content.decode()
    assert "Martin00" not in content
    assert "Mes personnes accompagnées" in content
    assert f'href="{reverse("persons:list")}"' in content


@pytest.mark.parametrize("count", [2, 30])
def test_it_pins_the_queries_of_my_persons(
    member_client, organisation, member_membership, count, django_assert_num_queries
):
    _referent_of(organisation, member_membership, count)
    member_client.get(reverse("persons:list"))

    with django_assert_num_queries(_pinned("list")):
        member_client.get(reverse("persons:list"))


@pytest.mark.parametrize("page", ["0", "100001", "99999999999999999999", "deux"])
def test_it_explains_a_page_number_out_of_range_and_searches_nothing(
    member_client, searchable, page
):
    response = member_client.post(reverse("persons:list"), {"q": "dupre", "page": page})

    content = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "fr-error-text" in content or "fr-alert--error" in content
    assert "Résultats" not in content
    assert not AuditEvent.objects.filter(action=AuditAction.PERSON_SEARCH).exists()


# Notes.


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Suivi de santé à prévoir avec la PMI.", "santé"),
        ("La question de la religion a été évoquée.", "religion"),
    ],
)
def test_it_asks_confirmation_before_a_sensitive_note(member_client, organisation, text, term):
    person = _followed(organisation)
    url = reverse("persons:note_add", args=[person.pk])

    pending = member_client.post(url, {"text": text, "visibility": "structure"})

    assert pending.status_code == 400
    assert f"informations sensibles ({term})" in html.unescape(pending.content.decode())
    assert not Note.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.NOTE_ADDED).exists()

    warned_about = WARNED_ABOUT.search(pending.content.decode()).group(1)
    confirmed = member_client.post(
        url,
        {
            "text": text,
            "visibility": "structure",
            "warned_about": warned_about,
            "confirm_sensitive": "on",
        },
    )

    assert confirmed.status_code == 302
    note = Note.objects.get()
    assert note.sensitive_confirmed is True
    assert note.text == text
    added = AuditEvent.objects.get(action=AuditAction.NOTE_ADDED)
    assert added.details["termes_sensibles"] is True


def test_it_records_an_ordinary_note_at_once(member_client, organisation, member_membership):
    person = _followed(organisation)

    response = member_client.post(
        reverse("persons:note_add", args=[person.pk]),
        {"text": "Dossier RSA déposé à la CAF.", "visibility": "partagee"},
    )

    assert response.status_code == 302
    note = Note.objects.get()
    assert (note.author_id, note.organisation_id) == (
        member_membership.user_id,
        organisation.pk,
    )
    assert note.sensitive_confirmed is False


@pytest.fixture
def three_notes(organisation, member_membership, elsewhere):
    person = _followed(organisation)
    ConsentFactory(person=person, organisation=elsewhere)
    for visibility, text in [
        (NoteVisibility.AUTHOR, "Note-pour-moi-seulement"),
        (NoteVisibility.ORGANISATION, "Note-pour-ma-structure"),
        (NoteVisibility.SHARED, "Note-partagee"),
    ]:
        NoteFactory(
            person=person,
            author=member_membership.user,
            organisation=organisation,
            visibility=visibility,
            text=text,
        )
    return person


def _notes_page(client, person) -> str:
    response = client.get(reverse("persons:section", args=[person.pk, "notes"]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_all_their_notes_to_the_author(member_client, three_notes):
    content = _notes_page(member_client, three_notes)

    for text in ("Note-pour-moi-seulement", "Note-pour-ma-structure", "Note-partagee"):
        assert text in content


def test_it_hides_the_authors_private_note_from_a_colleague(organisation, three_notes):
    colleague = MembershipFactory(organisation=organisation)
    client = log_in(Client(), colleague.user, colleague)

    content = _notes_page(client, three_notes)

    assert "Note-pour-moi-seulement" not in content
    assert "Note-pour-ma-structure" in content
    assert "Note-partagee" in content


def _written(person, organisation, author, count, *, at=None, **fields):
    """`count` notes, one a day back from `at` (all at `at` when given), oldest first."""
    now = timezone.now()
    return [
        NoteFactory(
            person=person,
            author=author,
            organisation=organisation,
            created_at=at or now - datetime.timedelta(days=count - number),
            text=f"Note-{number:03d}",
            **fields,
        )
        for number in range(count)
    ]


def _notes_on(client, person, **params) -> list[str]:
    response = client.get(reverse("persons:section", args=[person.pk, "notes"]), params)
    assert response.status_code == 200
    return [note.text for note in response.context["items"]]


def test_it_pages_through_the_notes_newest_first(member_client, organisation, member_membership):
    person = _followed(organisation)
    notes = _written(person, organisation, member_membership.user, views.NOTES_PAGE + 5)

    first = member_client.get(reverse("persons:section", args=[person.pk, "notes"]))
    older = first.context["older_notes"]
    second = _notes_on(member_client, person, avant=older)

    newest_first = [note.text for note in reversed(notes)]
    assert [note.text for note in first.context["items"]] == newest_first[: views.NOTES_PAGE]
    assert f"?avant={older}" in first.content.decode()
    assert second == newest_first[views.NOTES_PAGE :]


def test_it_pages_through_notes_written_at_the_same_moment(
    member_client, organisation, member_membership
):
    person = _followed(organisation)
    moment = timezone.now() - datetime.timedelta(hours=1)
    notes = _written(person, organisation, member_membership.user, views.NOTES_PAGE + 2, at=moment)

    first = member_client.get(reverse("persons:section", args=[person.pk, "notes"]))
    second = _notes_on(member_client, person, avant=first.context["older_notes"])

    shown = [note.text for note in first.context["items"]] + second
    assert sorted(shown) == sorted(note.text for note in notes)
    assert len(shown) == len(set(shown))


def test_it_starts_at_the_newest_note_after_a_note_it_may_not_read(
    member_client, organisation, member_membership, elsewhere
):
    person = _followed(organisation)
    _written(person, organisation, member_membership.user, 3)
    private = NoteFactory(person=person, organisation=organisation, visibility="auteur")
    other_file = NoteFactory(organisation=organisation)
    expected = _notes_on(member_client, person)

    for anchor in (private.pk, other_file.pk, "abc", "²", "9" * 30):
        assert _notes_on(member_client, person, avant=anchor) == expected


def _resources_on(client, person, **params) -> tuple[list[tuple[str, str]], str | None]:
    response = client.get(reverse("persons:section", args=[person.pk, "ressources"]), params)
    assert response.status_code == 200
    rows = [(f"{r.month:%Y-%m}", r.kind) for r in response.context["items"]]
    return rows, response.context["older_month"]


def test_it_pages_through_the_resources_a_year_at_a_time(member_client, organisation):
    person = _followed(organisation)
    months = [datetime.date(2024 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(1, 16)]
    for month in months:
        MonthlyResourceFactory(person=person, month=month, kind="rsa")
        MonthlyResourceFactory(person=person, month=month, kind="aide_logement")

    first, older = _resources_on(member_client, person)
    second, none = _resources_on(member_client, person, avant=older)

    assert older == "2024-04"
    assert [month for month, _ in first[::2]] == [f"{m:%Y-%m}" for m in months[:2:-1]]
    assert len(first) == 24
    assert second == [
        (f"{m:%Y-%m}", kind) for m in months[2::-1] for kind in ("aide_logement", "rsa")
    ]
    assert none is None


def test_it_starts_at_the_newest_month_after_a_month_it_cannot_read(member_client, organisation):
    person = _followed(organisation)
    MonthlyResourceFactory(person=person, month=datetime.date(2025, 1, 1))
    expected = _resources_on(member_client, person)

    for anchor in ("2025-13", "25-01", "abc", "2025-01-01", "²"):
        assert _resources_on(member_client, person, avant=anchor) == expected


def test_it_shows_only_shared_notes_to_another_organisation(elsewhere, three_notes):
    other = MembershipFactory(organisation=elsewhere)
    client = log_in(Client(), other.user, other)

    content = _notes_page(client, three_notes)

    assert "Note-pour-moi-seulement" not in content
    assert "Note-pour-ma-structure" not in content
    assert "Note-partagee" in content


# Sections and their journal.

SECTIONS = [
    "identite", "famille", "ressources", "logement", "emploi", "couverture_sociale", "notes",
]  # fmt: skip


def test_the_resource_form_speaks_french(member_client, organisation):
    person = _followed(organisation)

    page = html.unescape(
        member_client.get(
            reverse("persons:section", args=[person.pk, "ressources"])
        ).content.decode()
    )

    assert "Qui reçoit cette ressource" in page
    assert "Vide" not in page
    assert "Member" not in page


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("persons:file", "Identité et coordonnées — dossier n° {pk} — Relais"),
        ("persons:history", "Historique des accès — dossier n° {pk} — Relais"),
        ("persons:consents", "Consentements — dossier n° {pk} — Relais"),
        ("documents:list", "Pièces justificatives — dossier n° {pk} — Relais"),
        ("person_account:manage", "Espace personnel — dossier n° {pk} — Relais"),
        (
            "person_account:recover",
            "Rétablir l'accès à l'espace personnel — dossier n° {pk} — Relais",
        ),
    ],
)
def test_a_file_pages_title_names_the_page_and_not_the_person(
    member_client, organisation, path, title
):
    """Titles stay in the history of a shared computer: a page of a file is named by the
    page and the file's number, never by the person."""
    person = _followed(organisation, birth_name="Martin", first_names="Léa")
    PersonAccountFactory(person=person)

    page = member_client.get(reverse(path, args=[person.pk])).content.decode()

    shown = re.search(r"<title>(.*?)</title>", page, re.DOTALL).group(1)
    assert html.unescape(shown) == title.format(pk=person.pk)
    assert "Martin" not in shown


def _reads(person, count: int, *actors: Actor) -> None:
    """`count` reads, by each of `actors` in turn."""
    for index in range(count):
        audit_record(
            action=AuditAction.SECTION_VIEWED,
            by=actors[index % len(actors)],
            person_id=person.pk,
            person_label=person.journal_label,
            category="logement",
        )


def test_the_access_history_pages_through_every_access_and_prints_them_all(
    member_client, organisation, monkeypatch
):
    """No access is left out: the screen shows them page by page, the paper all of them.
    (Two professionals read in turn: each read is a line of its own.)"""
    monkeypatch.setattr(views, "HISTORY_PAGE", 10)
    person = _followed(organisation)
    _reads(
        person,
        25,
        Actor(user_id=1, label="Ancienne lecture 1", organisation_id=1),
        Actor(user_id=2, label="Ancienne lecture 2", organisation_id=1),
    )
    url = reverse("persons:history", args=[person.pk])

    pages, next_url = [], url
    while next_url:
        page = html.unescape(member_client.get(next_url).content.decode())
        pages.append(page.count("Ancienne lecture"))
        older = re.search(r'href="\?avant=(\d+)"', page)
        next_url = f"{url}?avant={older.group(1)}" if older else None
    printed = html.unescape(member_client.get(url, {"impression": "1"}).content.decode())

    # Each page is also a read: the first holds 9 of the 25, below this one.
    assert pages == [9, 10, 6]
    assert printed.count("Ancienne lecture") == 25
    assert "Accès plus anciens" not in printed


def test_the_access_history_says_how_long_accesses_are_kept(member_client, organisation, settings):
    person = _followed(organisation)
    url = reverse("persons:history", args=[person.pk])
    settings.RELAIS_RETENTION_JOURNAL = datetime.timedelta(days=183)

    for page in (member_client.get(url), member_client.get(url, {"impression": "1"})):
        assert "garde la trace des accès pendant 6 mois, puis l'efface" in page.content.decode()


def test_the_edit_pages_title_says_it_edits(member_client, organisation):
    person = _followed(organisation)

    page = member_client.get(reverse("persons:section_edit", args=[person.pk, "logement"]))

    assert f"<title>Modifier : Logement — dossier n° {person.pk} — Relais</title>" in (
        page.content.decode()
    )


@pytest.mark.parametrize("category", SECTIONS)
def test_it_journals_each_section_view_exactly_once(member_client, organisation, category):
    person = _followed(organisation)
    url = (
        reverse("persons:file", args=[person.pk])
        if category == "identite"
        else reverse("persons:section", args=[person.pk, category])
    )

    response = member_client.get(url)

    assert response.status_code == 200
    viewed = AuditEvent.objects.filter(action=AuditAction.SECTION_VIEWED, person_id=person.pk)
    assert [event.category for event in viewed] == [category]


def test_it_lists_the_last_five_reads_newest_first_in_local_time(
    member_client, organisation, monkeypatch
):
    person = _followed(organisation)
    paris = ZoneInfo("Europe/Paris")
    for day in range(1, 8):
        caf = Actor(organisation_label=f"CAF n° {day}")
        # 23:30 in Paris is 21:30 UTC, as stored: the page shows the local time.
        moment = datetime.datetime(2026, 7, day, 23, 30, tzinfo=paris).astimezone(datetime.UTC)
        with monkeypatch.context() as patched:
            patched.setattr(timezone, "now", lambda moment=moment: moment)
            audit_record(
                action=AuditAction.SECTION_VIEWED,
                by=caf,
                person_id=person.pk,
                category="identite",
                reason="Urgence : la personne est hospitalisée" if day == 6 else "",
            )
    audit_record(action=AuditAction.SECTION_UPDATED, by=caf, person_id=person.pk)

    page = html.unescape(
        member_client.get(reverse("persons:file", args=[person.pk])).content.decode()
    )

    listed = page.split("Derniers accès", 1)[1].split("Tout l'historique", 1)[0]
    # This page's own read comes first; then the five before it, the oldest two left out.
    assert listed.count("<li>") == 5
    assert [f"CAF n° {day}" in listed for day in range(1, 8)] == [False] * 3 + [True] * 4
    assert "07/07/2026 23:30 — CAF n° 7</li>" in listed
    assert "06/07/2026 23:30 — CAF n° 6 (accès exceptionnel)</li>" in listed
    assert listed.index("CAF n° 7") < listed.index("CAF n° 6") < listed.index("CAF n° 4")


def test_it_names_the_person_among_the_last_reads_of_their_file(member_client, organisation):
    person = _followed(organisation)
    audit_record(
        action=AuditAction.SECTION_VIEWED,
        by=Actor(label=PERSON_ACTOR_LABEL),
        person_id=person.pk,
        category="identite",
    )

    page = html.unescape(
        member_client.get(reverse("persons:file", args=[person.pk])).content.decode()
    )

    listed = page.split("Derniers accès", 1)[1].split("Tout l'historique", 1)[0]
    assert f" — {PERSON_ACTOR_LABEL}</li>" in listed


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"commune_name": "Calais"}, "Calais"),
        ({"postal_code": "62100", "commune_name": "Calais"}, "62100 Calais"),
        (
            {
                "address_line": "3 rue des Mouettes",
                "postal_code": "62100",
                "commune_name": "Calais",
            },
            "3 rue des Mouettes, 62100 Calais",
        ),
        ({"address_line": "3 rue des Mouettes"}, "3 rue des Mouettes"),
        ({}, "—"),
    ],
)
def test_it_shows_the_address_as_far_as_it_is_known(member_client, organisation, fields, shown):
    person = _followed(
        organisation, **{"address_line": "", "postal_code": "", "commune_name": ""} | fields
    )

    page = html.unescape(
        member_client.get(reverse("persons:file", args=[person.pk])).content.decode()
    )

    assert f"<dt>Adresse</dt><dd>{shown}</dd>" in page


def test_it_journals_a_health_view_where_the_charter_allows_it(client):
    savs = OrganisationFactory(kind=OrganisationKind.SAVS)
    membership = MembershipFactory(organisation=savs)
    person = _followed(savs)
    log_in(client, membership.user, membership)

    response = client.get(reverse("persons:section", args=[person.pk, "sante"]))

    assert response.status_code == 200
    assert list(
        AuditEvent.objects.filter(action=AuditAction.SECTION_VIEWED).values_list(
            "category", flat=True
        )
    ) == ["sante"]


def _identity_data(person: Person, **overrides) -> dict[str, str]:
    data = {
        "first_names": person.first_names,
        "birth_name": person.birth_name,
        "usage_name": person.usage_name,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "birth_place": person.birth_place,
        "nationality": person.nationality,
        "phone": person.phone,
        "email": person.email,
        "address_line": person.address_line,
        "postal_code": person.postal_code,
        "commune_code": person.commune_code,
        "commune_name": person.commune_name,
        "domiciliation": person.domiciliation,
        "caf_number": person.caf_number,
        "france_travail_id": person.france_travail_id,
    }
    return data | overrides


def test_it_saves_the_identity_and_journals_the_update(member_client, organisation):
    person = _followed(organisation, birth_name="Martin", first_names="Léa")

    response = save_section(
        member_client,
        person.pk,
        "identite",
        _identity_data(person, birth_name="Lefèvre", caf_number="7654321"),
    )

    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.birth_name, person.birth_name_key, person.caf_number) == (
        "Lefèvre",
        "lefevre",
        "7654321",
    )
    updated = AuditEvent.objects.get(action=AuditAction.SECTION_UPDATED)
    assert (updated.person_id, updated.category) == (person.pk, "identite")


STALE = "Quelqu&#x27;un a enregistré cette rubrique pendant que vous la modifiiez."


def test_it_refuses_once_to_save_over_a_colleagues_change(member_client, organisation):
    """Two professionals open the housing form; the second to save is told about the
    first one's change instead of erasing it, and may then save knowingly."""
    person = _followed(organisation)
    colleague = MembershipFactory(organisation=organisation)
    colleague_client = log_in(Client(), colleague.user, colleague)
    mine = opened_state(member_client, person.pk, "logement")
    theirs = opened_state(colleague_client, person.pk, "logement")
    save_section(colleague_client, person.pk, "logement", {"status": "sans_domicile"}, state=theirs)

    refused = save_section(
        member_client, person.pk, "logement", {"status": "locataire_prive"}, state=mine
    )

    assert refused.status_code == 400
    assert STALE in refused.content.decode()
    assert Housing.objects.get(person=person).status == "sans_domicile"
    assert AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).count() == 1
    again = save_section(
        member_client,
        person.pk,
        "logement",
        {"status": "locataire_prive"},
        state=STATE.search(refused.content.decode()).group(1),
    )
    assert again.status_code == 302
    assert Housing.objects.get(person=person).status == "locataire_prive"


def test_it_refuses_an_edit_posted_without_the_state_it_was_opened_on(member_client, organisation):
    person = _followed(organisation, birth_name="Martin")

    response = member_client.post(
        reverse("persons:section_edit", args=[person.pk, "identite"]),
        _identity_data(person, birth_name="Autre"),
    )

    assert response.status_code == 400
    assert STALE in response.content.decode()
    assert Person.objects.get(pk=person.pk).birth_name == "Martin"


def test_it_saves_the_housing_and_journals_the_update(member_client, organisation):
    person = _followed(organisation)

    response = save_section(
        member_client,
        person.pk,
        "logement",
        {"status": "locataire_social", "monthly_rent": "420.50", "commune_code": "62193"},
    )

    assert response.status_code == 302
    housing = Housing.objects.get(person=person)
    assert (housing.status, str(housing.monthly_rent)) == ("locataire_social", "420.50")
    updated = AuditEvent.objects.get(action=AuditAction.SECTION_UPDATED)
    assert (updated.category, updated.object_type) == ("logement", "housing")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"birth_date": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()},
            "La date de naissance ne peut pas être dans le futur.",
        ),
        ({"caf_number": "123456"}, "Le numéro allocataire CAF compte 7 chiffres."),
        ({"postal_code": "6210"}, "Le code postal compte 5 chiffres."),
    ],
)
def test_it_refuses_invalid_identity_in_french_and_changes_nothing(
    member_client, organisation, overrides, message
):
    person = _followed(organisation, caf_number="1234567")

    response = save_section(
        member_client,
        person.pk,
        "identite",
        _identity_data(person, birth_name="Autre", **overrides),
    )

    assert response.status_code == 400
    assert html.escape(message) in response.content.decode()
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.birth_name, fresh.birth_date, fresh.caf_number) == (
        person.birth_name,
        person.birth_date,
        "1234567",
    )
    assert not AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).exists()


def test_it_adds_and_removes_a_household_member_with_the_journal(member_client, organisation):
    person = _followed(organisation)

    member_client.post(
        reverse("persons:member_add", args=[person.pk]),
        {"relation": "enfant", "first_names": "Noé", "birth_date": "2016-09-01"},
    )
    member = HouseholdMember.objects.get(person=person)
    member_client.post(reverse("persons:member_remove", args=[person.pk, member.pk]))

    assert not HouseholdMember.objects.exists()
    updates = AuditEvent.objects.filter(action=AuditAction.SECTION_UPDATED).order_by("seq")
    assert [(e.category, e.details.get("suppression", False)) for e in updates] == [
        ("famille", False),
        ("famille", True),
    ]


def test_it_does_not_remove_a_member_of_another_household(member_client, organisation):
    person = _followed(organisation)
    stranger = HouseholdMemberFactory()

    response = member_client.post(reverse("persons:member_remove", args=[person.pk, stranger.pk]))

    assert response.status_code == 404
    assert HouseholdMember.objects.filter(pk=stranger.pk).exists()


@pytest.mark.parametrize(("rent", "charges"), [("-450.00", "80.00"), ("450.00", "-99999.99")])
def test_a_negative_rent_or_charge_is_refused(member_client, organisation, rent, charges):
    person = _followed(organisation)

    response = save_section(
        member_client,
        person.pk,
        "logement",
        {"status": "locataire_prive", "monthly_rent": rent, "monthly_charges": charges},
    )

    assert response.status_code == 400
    assert "Le montant ne peut pas être négatif." in response.content.decode()
    assert not Housing.objects.filter(person=person).exists()


@pytest.mark.parametrize(
    ("birth_date", "said"),
    [
        (datetime.date(1899, 12, 31), "postérieure à 1900"),
        (datetime.date(2099, 1, 1), "dans le futur"),
    ],
)
def test_an_implausible_birth_date_is_refused_for_the_person_and_the_household(
    member_client, organisation, birth_date, said
):
    person = _followed(organisation)
    created = create_file(member_client, birth_date=birth_date.isoformat())
    added = member_client.post(
        reverse("persons:member_add", args=[person.pk]),
        {"relation": "enfant", "first_names": "Léo", "birth_date": birth_date.isoformat()},
        follow=True,
    )

    assert created.status_code == added.status_code == 400
    assert said in created.content.decode()
    assert said in added.content.decode()
    assert not HouseholdMember.objects.filter(person=person).exists()
    assert Person.objects.count() == 1


# Merge.


def test_it_merges_two_visible_files(manager_client, organisation, manager_membership):
    keep = _followed(organisation, first_names="Léa", birth_name="Dupré")
    absorb = _followed(organisation, first_names="Lea", birth_name="Dupre", caf_number="1234567")
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    moved_consent = ConsentFactory(person=absorb, organisation=caf)
    note = NoteFactory(person=absorb, organisation=organisation)
    member = HouseholdMemberFactory(person=absorb)
    ReferentFactory(person=absorb, organisation=organisation)

    response = merge_files(manager_client, keep.pk, absorb.pk)

    assert response.status_code == 302
    assert response.url == reverse("persons:file", args=[keep.pk])
    absorb.refresh_from_db()
    keep.refresh_from_db()
    assert (absorb.status, absorb.merged_into_id) == (PersonStatus.ARCHIVED, keep.pk)
    assert keep.caf_number == "1234567"
    note.refresh_from_db()
    member.refresh_from_db()
    moved_consent.refresh_from_db()
    assert note.person_id == member.person_id == moved_consent.person_id == keep.pk
    assert not Consent.objects.filter(person=absorb).exists()
    assert keep.referents.count() == 1
    merged = AuditEvent.objects.get(action=AuditAction.PERSONS_MERGED)
    assert (merged.person_id, merged.object_id) == (keep.pk, str(absorb.pk))
    assert manager_client.get(reverse("persons:file", args=[absorb.pk])).status_code == 404


def test_a_merge_moves_the_documents_and_procedures_and_keeps_the_refusal_of_break_glass(
    manager_client, organisation
):
    keep = _followed(organisation)
    absorb = _followed(organisation)
    Person.objects.filter(pk=absorb.pk).update(refuses_break_glass=True)
    document = DocumentFactory(person=absorb)
    procedure = ProcedureFactory(person=absorb, organisation=organisation)

    merge_files(manager_client, keep.pk, absorb.pk)

    document.refresh_from_db()
    procedure.refresh_from_db()
    keep.refresh_from_db()
    assert document.person_id == procedure.person_id == keep.pk
    assert keep.refuses_break_glass


def test_a_merge_gives_the_kept_file_the_nir_of_the_duplicate(organisation):
    keep = _followed(organisation, birth_date=BIRTH_DATE)
    absorb = _followed(organisation, birth_date=BIRTH_DATE)
    services.nir_set(person=absorb, nir=VALID_NIR, by=SYSTEM)

    persons_merge(keep=keep, absorb=absorb, by=Actor(label="Responsable"))

    keep.refresh_from_db()
    assert services.nir_reveal(person=keep, by=SYSTEM, details={}) == VALID_NIR_DIGITS
    assert (
        services.duplicates_of(
            birth_name="",
            usage_name="",
            first_names="",
            birth_date=BIRTH_DATE,
            nir=VALID_NIR_DIGITS,
        ).get()
        == keep
    )


def test_a_merge_keeps_an_edit_saved_on_the_kept_file_after_its_page_was_read(
    manager_membership, organisation
):
    keep = _followed(organisation, birth_place="Calais")
    absorb = _followed(organisation)
    read_by_the_merge = Person.objects.get(pk=keep.pk)
    Person.objects.filter(pk=keep.pk).update(birth_place="Lille", phone="0698765432")

    persons_merge(keep=read_by_the_merge, absorb=absorb, by=Actor(label="Responsable"))

    keep.refresh_from_db()
    assert (keep.birth_place, keep.phone) == ("Lille", "0698765432")


@pytest.mark.parametrize("meanwhile", ["merged", "archived"])
def test_an_identity_edit_read_before_the_file_left_the_active_base_is_refused(
    organisation, meanwhile
):
    """The page read the file while it was active; a merge (or the retention task) took
    it out of the active base before the edit was saved: the edit is refused instead of
    bringing the file back."""
    keep = _followed(organisation)
    edited = _followed(organisation, birth_name="Martin")
    read_by_the_page = Person.objects.get(pk=edited.pk)
    if meanwhile == "merged":
        persons_merge(keep=keep, absorb=edited, by=Actor(label="Responsable"))
    else:
        Person.objects.filter(pk=edited.pk).update(
            status=PersonStatus.ARCHIVED, archived_at=timezone.now()
        )
    read_by_the_page.birth_name = "Lefèvre"

    with pytest.raises(ValidationError, match="n'est plus actif"):
        services.section_save(
            person=read_by_the_page,
            category=DataCategory.IDENTITY,
            instance=read_by_the_page,
            by=Actor(label="Référente"),
        )

    edited.refresh_from_db()
    assert edited.status == PersonStatus.ARCHIVED
    assert edited.archived_at is not None
    assert edited.merged_into_id == (keep.pk if meanwhile == "merged" else None)
    assert edited.birth_name == "Martin"
    assert not AuditEvent.objects.filter(
        action=AuditAction.SECTION_UPDATED, person_id=edited.pk
    ).exists()


def test_a_file_merged_already_is_not_merged_again(organisation):
    keep, absorb, other = (_followed(organisation) for _ in range(3))
    persons_merge(keep=keep, absorb=absorb, by=Actor(label="Responsable"))

    with pytest.raises(ValidationError, match="n'est plus actif"):
        persons_merge(keep=other, absorb=absorb, by=Actor(label="Responsable"))

    absorb.refresh_from_db()
    assert absorb.merged_into_id == keep.pk


def test_it_refuses_to_merge_a_file_that_is_not_visible(manager_client, organisation, elsewhere):
    keep = _followed(organisation)
    hidden = _followed(elsewhere)
    NoteFactory(person=hidden, organisation=elsewhere)

    response = merge_files(manager_client, keep.pk, hidden.pk)
    missing = merge_files(manager_client, hidden.pk + 1000, keep.pk)

    assert response.status_code == missing.status_code == 400
    said = html.unescape(response.content.decode())
    assert f"Aucun dossier n° {hidden.pk} dont vous pouvez modifier l'identité" in said
    assert f"Aucun dossier n° {hidden.pk + 1000} dont vous pouvez modifier l'identité" in (
        html.unescape(missing.content.decode())
    )
    assert hidden.display_name not in said
    assert f'value="{hidden.pk}"' in said
    hidden.refresh_from_db()
    assert hidden.status == PersonStatus.ACTIVE
    assert Note.objects.get().person_id == hidden.pk
    assert not AuditEvent.objects.filter(action=AuditAction.PERSONS_MERGED).exists()


def test_it_keeps_the_merge_tool_for_managers(member_client, organisation):
    keep, absorb = _followed(organisation), _followed(organisation)

    response = merge_files(member_client, keep.pk, absorb.pk)

    assert response.status_code == 403
    absorb.refresh_from_db()
    assert absorb.status == PersonStatus.ACTIVE


# Query-count pins: the main pages cost the same whatever the size of the file or of the
# result list, on SQLite and PostgreSQL alike.

QUERIES = {"file": 10, "section": 9, "search": 7, "list": 3}


def _pinned(page: str) -> int:
    return QUERIES[page]


@pytest.mark.parametrize("size", [1, 5])
def test_it_pins_the_queries_of_the_file_page(
    member_client, organisation, size, django_assert_num_queries
):
    person = _followed(organisation)
    for _ in range(size):
        other = OrganisationFactory()
        ConsentFactory(person=person, organisation=other)
        ReferentFactory(person=person, organisation=other)
    url = reverse("persons:file", args=[person.pk])
    member_client.get(url)  # the charter and the session settle on the first page

    with django_assert_num_queries(_pinned("file")):
        response = member_client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count("— jusqu'au") == size + 1


@pytest.mark.parametrize("members", [1, 10])
def test_it_pins_the_queries_of_a_section_page(
    member_client, organisation, members, django_assert_num_queries
):
    person = _followed(organisation)
    HouseholdMemberFactory.create_batch(members, person=person)
    url = reverse("persons:section", args=[person.pk, "famille"])
    member_client.get(url)

    with django_assert_num_queries(_pinned("section")):
        response = member_client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count("/retirer/") == members


@pytest.mark.parametrize("notes", [1, views.NOTES_PAGE + 1])
def test_it_pins_the_queries_of_the_notes_page(
    member_client, organisation, member_membership, notes, django_assert_num_queries
):
    person = _followed(organisation)
    _written(person, organisation, member_membership.user, notes)
    url = reverse("persons:section", args=[person.pk, "notes"])
    member_client.get(url)

    with django_assert_num_queries(_pinned("section")):
        response = member_client.get(url)

    assert len(response.context["items"]) == min(notes, views.NOTES_PAGE)


@pytest.mark.parametrize("matching", [5, 40])
def test_it_pins_the_queries_of_a_search(
    member_client, organisation, matching, django_assert_num_queries
):
    for n in range(matching):
        _followed(organisation, birth_name="Dupré", first_names=f"Léa{n:02d}")
    results = member_client.post(reverse("persons:list"), {"q": "dupre"}).url
    member_client.get(results)

    with django_assert_num_queries(_pinned("search")):
        response = member_client.get(results)

    assert response.status_code == 200
    assert response.content.decode().count("Léa") == min(matching, 20)
