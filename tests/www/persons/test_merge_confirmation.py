"""A merge in two steps: the two numbers show both files side by side — a read of both,
journaled — with a warning when their names or birth dates differ and a refusal when their
NIRs do; only the manager's confirmation of that very pair merges them, whole or not at
all."""

import datetime
import html
import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent import services as consent_services
from relais.consent.models import Consent
from relais.consent.services import NIRS_DIFFER, persons_merge
from relais.persons import services
from relais.persons.models import Note, Person, PersonStatus
from relais.www.persons import views
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.key_rotation import NEW, OLD
from tests.persons.editing import MERGE_PAIR
from tests.persons.factories import ConsentFactory, NoteFactory, PersonFactory
from tests.procedures.factories import DocumentFactory, ProcedureFactory

pytestmark = pytest.mark.django_db

NIR = "184066219300108"
OTHER_NIR = "184067800608459"
URL = "/personnes/fusion/"


@pytest.fixture
def josiane(organisation):
    return _followed(
        organisation, first_names="Josiane", birth_name="Lemaître", birth_date="1958-07-30"
    )


@pytest.fixture
def paul(organisation):
    return _followed(
        organisation, first_names="Paul", birth_name="Autremont", birth_date="1984-06-15"
    )


def _followed(organisation, **fields) -> Person:
    if isinstance(fields.get("birth_date"), str):
        fields["birth_date"] = datetime.date.fromisoformat(fields["birth_date"])
    person = PersonFactory(**fields)
    ConsentFactory(person=person, organisation=organisation)
    return person


def _numbers(client, keep, absorb):
    return client.post(URL, {"keep": keep.pk, "absorb": absorb.pk})


def _pair(page) -> str:
    found = MERGE_PAIR.search(page.content.decode())
    assert found, "the page offers no confirmation"
    return html.unescape(found.group(1))


def _confirm(client, pair: str, **extra):
    return client.post(URL, {"paire": pair, "same_person": "on", **extra})


def _text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


def _table(page) -> dict[str, list[str]]:
    """The rows of the two files' table: their cells, as text, by the row's heading."""
    rows = re.findall(r"<tr>(.*?)</tr>", html.unescape(page.content.decode()), re.DOTALL)
    cells = [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in rows
    ]
    return {row[0]: row[1:] for row in cells}


def _not_merged(*persons: Person) -> None:
    for person in persons:
        person.refresh_from_db()
        assert (person.status, person.merged_into_id) == (PersonStatus.ACTIVE, None)
    assert not AuditEvent.objects.filter(action=AuditAction.PERSONS_MERGED).exists()


def test_the_numbers_show_both_files_side_by_side_and_change_nothing(manager_client, organisation):
    keep = _followed(organisation, first_names="Mélanie", birth_name="Carpentier")
    absorb = _followed(organisation, first_names="Melanie", birth_name="CARPENTIER")
    Person.objects.filter(pk=absorb.pk).update(created_by_organisation=organisation)
    services.nir_set(person=absorb, nir=NIR, by=SYSTEM)
    ProcedureFactory.create_batch(2, person=absorb, organisation=organisation)
    DocumentFactory.create_batch(3, person=absorb)
    NoteFactory(person=absorb, organisation=organisation)

    page = _numbers(manager_client, keep, absorb)

    assert page.status_code == 200
    text = _text(page)
    rows = _table(page)
    assert rows["N° du dossier"] == [str(keep.pk), str(absorb.pk)]
    assert rows["Nom de naissance"] == ["Carpentier", "CARPENTIER"]
    assert rows["Prénom(s)"] == ["Mélanie", "Melanie"]
    assert rows["Date de naissance"] == ["15/06/1984", "15/06/1984"]
    assert rows["Numéro de sécurité sociale"] == ["non renseigné", "renseigné"]
    assert rows["Créé par"] == ["—", organisation.name]
    assert rows["Consentements"] == ["1", "1"]
    assert rows["Démarches"] == ["0", "2"]
    assert rows["Pièces"] == ["0", "3"]
    assert rows["Notes de suivi"] == ["0", "1"]
    assert NIR not in text
    assert "ne sont pas les mêmes" not in text
    assert "Je confirme qu'il s'agit de la même personne" in text
    _not_merged(keep, absorb)


def test_showing_the_two_files_is_journaled_as_a_read_of_each(
    manager_client, manager_membership, josiane, paul
):
    _numbers(manager_client, josiane, paul)

    reads = AuditEvent.objects.filter(action=AuditAction.SECTION_VIEWED)
    assert {read.person_id for read in reads} == {josiane.pk, paul.pk}
    assert {(read.person_id, read.category) for read in reads} >= {
        (josiane.pk, "identite"),
        (paul.pk, "identite"),
    }
    assert {read.actor_id for read in reads} == {manager_membership.user_id}
    assert {read.details["liste"] for read in reads} == {"fusion"}
    journal = _text(manager_client.get(reverse("journal:list")))
    assert "Liste : Fusion de deux dossiers" in journal


def test_two_strangers_typed_by_mistake_are_named_as_such_before_anything_changes(
    manager_client, josiane, paul
):
    page = _numbers(manager_client, josiane, paul)

    text = _text(page)
    assert "Ces dossiers sont peut-être ceux de deux personnes différentes" in text
    assert (
        "Les prénoms, les noms et les dates de naissance ne sont pas les mêmes dans les deux "
        "dossiers."
    ) in text
    assert [
        heading for heading in _table(page) if heading.endswith(("différent", "différente"))
    ] == [
        "Nom de naissance différent",
        "Prénom(s) différent",
        "Date de naissance différente",
    ]
    _not_merged(josiane, paul)


@pytest.mark.parametrize(
    ("kept", "other", "said"),
    [
        (
            {"first_names": "Léa Marie", "birth_name": "Dupré-Lefèvre"},
            {"first_names": "LEA MARIE", "birth_name": "Dupre Lefevre"},
            "",
        ),
        # A married name on one file, the birth name on the other: the same person.
        (
            {"first_names": "Léa", "birth_name": "Dupré"},
            {"first_names": "Léa", "birth_name": "Martin", "usage_name": "Dupré"},
            "",
        ),
        (
            {"first_names": "Léa", "birth_name": "Dupré"},
            {"first_names": "Léa", "birth_name": "Dupré", "birth_date": "1984-05-15"},
            "Les dates de naissance ne sont pas les mêmes dans les deux dossiers.",
        ),
        (
            {"first_names": "Léa", "birth_name": "Dupré"},
            {"first_names": "Lucie", "birth_name": "Dupré"},
            "Les prénoms ne sont pas les mêmes dans les deux dossiers.",
        ),
    ],
)
def test_names_are_compared_as_the_search_compares_them(
    manager_client, organisation, kept, other, said
):
    page = _numbers(
        manager_client, _followed(organisation, **kept), _followed(organisation, **other)
    )

    text = _text(page)
    if said:
        assert said in text
    else:
        assert "ne sont pas les mêmes" not in text


def test_two_files_with_two_different_nirs_are_refused_as_two_persons(manager_client, organisation):
    keep, absorb = _followed(organisation), _followed(organisation)
    services.nir_set(person=keep, nir=NIR, by=SYSTEM)
    services.nir_set(person=absorb, nir=OTHER_NIR, by=SYSTEM)

    page = _numbers(manager_client, keep, absorb)

    assert page.status_code == 400
    assert NIRS_DIFFER in _text(page)
    assert not MERGE_PAIR.search(page.content.decode())
    assert NIR not in page.content.decode() and OTHER_NIR not in page.content.decode()
    _not_merged(keep, absorb)


def test_the_merge_service_itself_refuses_two_different_nirs(organisation):
    keep, absorb = _followed(organisation), _followed(organisation)
    services.nir_set(person=keep, nir=NIR, by=SYSTEM)
    services.nir_set(person=absorb, nir=OTHER_NIR, by=SYSTEM)

    with pytest.raises(services.ValidationError, match="deux personnes différentes"):
        persons_merge(keep=keep, absorb=absorb, by=SYSTEM)

    _not_merged(keep, absorb)


def test_one_nir_given_to_two_files_under_two_keys_is_one_person_and_merges(keys, organisation):
    """The files the key rotation reports, to be merged: one NIR, two digests."""
    keep = _followed(organisation)
    services.nir_set(person=keep, nir=NIR, by=SYSTEM)
    keys.RELAIS_ENCRYPTION_KEYS = NEW
    absorb = _followed(organisation)
    services.nir_set(person=absorb, nir=NIR, by=SYSTEM)
    keys.RELAIS_ENCRYPTION_KEYS = f"{NEW},{OLD}"
    keep.refresh_from_db()
    absorb.refresh_from_db()
    assert keep.nir_digest != absorb.nir_digest

    assert not services.nirs_differ(keep, absorb)
    persons_merge(keep=keep, absorb=absorb, by=SYSTEM)

    absorb.refresh_from_db()
    assert absorb.merged_into_id == keep.pk


def test_without_the_box_ticked_nothing_is_merged(manager_client, josiane, paul):
    pair = _pair(_numbers(manager_client, josiane, paul))

    response = manager_client.post(URL, {"paire": pair})

    assert response.status_code == 400
    assert "Cochez la case pour confirmer qu'il s'agit de la même personne" in _text(response)
    _not_merged(josiane, paul)


def test_the_confirmation_merges_the_pair_shown_and_moves_its_consents(
    manager_client, organisation, josiane, paul
):
    moved = Consent.objects.get(person=paul)
    pair = _pair(_numbers(manager_client, josiane, paul))

    # Numbers posted with the confirmation are not read: the pair is the page's.
    response = _confirm(manager_client, pair, keep=paul.pk, absorb=josiane.pk)

    assert response.status_code == 302
    assert response.url == reverse("persons:file", args=[josiane.pk])
    paul.refresh_from_db()
    moved.refresh_from_db()
    assert (paul.status, paul.merged_into_id) == (PersonStatus.ARCHIVED, josiane.pk)
    assert moved.person_id == josiane.pk


@pytest.mark.parametrize(
    "forged", ["signed for something else", "tampered", "another manager", "expired"]
)
def test_a_confirmation_the_page_did_not_give_merges_nothing(
    manager_client, manager_membership, organisation, josiane, paul, monkeypatch, forged
):
    pair = _pair(_numbers(manager_client, josiane, paul))
    if forged == "signed for something else":
        payload = signing.loads(pair, salt="relais.persons.merge")
        pair = signing.dumps([payload[1], payload[0], *payload[2:]], salt="relais.autre")
    elif forged == "tampered":
        pair = pair[:-2] + ("AA" if not pair.endswith("AA") else "BB")
    elif forged == "another manager":
        other = MembershipFactory(organisation=organisation, manager=True)
        manager_client = log_in(Client(), other.user, other)
    else:
        monkeypatch.setattr(views, "MERGE_CONFIRMATION_SECONDS", -1)

    response = _confirm(manager_client, pair)

    assert response.status_code == 302
    assert response.url == URL
    said = _text(manager_client.get(URL))
    assert "saisissez de nouveau les deux numéros. Rien n'est fusionné." in said
    _not_merged(josiane, paul)


def test_an_identity_changed_since_the_page_was_shown_is_shown_again_not_merged(
    manager_client, organisation
):
    keep = _followed(organisation, first_names="Léa", birth_name="Dupré")
    absorb = _followed(organisation, first_names="Léa", birth_name="Dupré")
    pair = _pair(_numbers(manager_client, keep, absorb))
    Person.objects.filter(pk=absorb.pk).update(birth_date=datetime.date(1990, 1, 1))

    response = _confirm(manager_client, pair)

    assert response.status_code == 400
    text = _text(response)
    assert "L'identité d'un des deux dossiers a changé depuis l'affichage de cette page" in text
    assert "Les dates de naissance ne sont pas les mêmes dans les deux dossiers." in text
    _not_merged(keep, absorb)


def test_a_file_closed_to_the_manager_since_the_page_was_shown_is_not_merged(
    manager_client, organisation, josiane, paul
):
    pair = _pair(_numbers(manager_client, josiane, paul))
    Consent.objects.filter(person=paul).delete()

    response = _confirm(manager_client, pair)

    assert response.status_code == 404
    _not_merged(josiane, paul)


def test_a_failure_in_the_middle_of_the_merge_leaves_both_files_as_they_were(
    manager_client, organisation, josiane, paul, monkeypatch
):
    consent = Consent.objects.get(person=paul)
    note = NoteFactory(person=paul, organisation=organisation)
    pair = _pair(_numbers(manager_client, josiane, paul))
    journal = AuditEvent.objects.count()

    def fails(**kwargs):
        raise services.ValidationError("Panne simulée.")

    # After the consents moved and the duplicate was archived.
    monkeypatch.setattr(consent_services, "person_account_close_merged", fails)
    response = _confirm(manager_client, pair)

    assert response.status_code == 400
    assert "Panne simulée." in _text(response)
    consent.refresh_from_db()
    note.refresh_from_db()
    assert consent.person_id == note.person_id == paul.pk
    _not_merged(josiane, paul)
    # Only the page shown again is journaled: its reads of both files.
    assert set(AuditEvent.objects.filter(seq__gt=journal).values_list("action", flat=True)) == {
        AuditAction.SECTION_VIEWED
    }
    assert Note.objects.filter(person=josiane).count() == 0
