"""What a refused form, a form sent twice and an exceptional access may and may not do to a
file: a refused form shows the file again (journaled) with what was typed, a form sent
twice records once, an exceptional access only reads, and every read under it says why."""

import datetime
import html

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.models import Block, BreakGlassGrant
from relais.persons import services
from relais.persons.models import (
    HouseholdMember,
    MonthlyResource,
    Person,
    PersonStatus,
    Referent,
)
from relais.www.persons import views
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.editing import merge_files
from tests.persons.factories import (
    BreakGlassGrantFactory,
    ConsentFactory,
    HouseholdMemberFactory,
    MonthlyResourceFactory,
    NoteFactory,
    PersonFactory,
    ReferentFactory,
)
from tests.procedures.factories import ProcedureFactory

pytestmark = pytest.mark.django_db

REASON = "La personne est hospitalisée en urgence, sans ses papiers."


def journal(person: Person) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(person_id=person.pk)
        .order_by("seq")
        .values_list("action", "category")
    )


@pytest.fixture
def person(organisation):
    person = PersonFactory(
        first_names="Léa", birth_name="Dupont", birth_date=datetime.date(1990, 4, 12)
    )
    ConsentFactory(person=person, organisation=organisation)
    return person


def test_a_refused_note_shows_the_notes_again_with_the_text_typed(
    member_client, organisation, person
):
    NoteFactory(person=person, organisation=organisation, text="Rendez-vous CAF le 3 mars.")

    response = member_client.post(
        reverse("persons:note_add", args=[person.pk]),
        {"text": "Suivi de santé à prévoir", "visibility": "structure"},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Rendez-vous CAF le 3 mars." in body
    assert "Suivi de santé à prévoir" in body
    assert journal(person) == [(AuditAction.SECTION_VIEWED, "notes")]


def test_a_refused_resource_keeps_what_was_typed_and_names_the_field(member_client, person):
    response = member_client.post(
        reverse("persons:resource_add", args=[person.pk]),
        {"month": "2026-13", "kind": "rsa", "amount": "607,75"},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="607,75"' in body
    assert "Mois" in body
    assert not MonthlyResource.objects.exists()
    assert journal(person) == [(AuditAction.SECTION_VIEWED, "ressources")]


def test_a_refused_member_keeps_what_was_typed(member_client, person):
    response = member_client.post(
        reverse("persons:member_add", args=[person.pk]),
        {"relation": "enfant", "first_names": "Noé", "birth_date": "2020-02-31"},
    )

    assert response.status_code == 400
    assert 'value="Noé"' in response.content.decode()
    assert not HouseholdMember.objects.exists()
    assert journal(person) == [(AuditAction.SECTION_VIEWED, "famille")]


def test_the_same_member_sent_twice_is_added_once(member_client, person):
    posted = {"relation": "enfant", "first_names": "Noé", "birth_date": "2020-02-01"}
    url = reverse("persons:member_add", args=[person.pk])

    assert member_client.post(url, posted).status_code == 302
    again = member_client.post(url, posted | {"first_names": "NOE"})

    assert again.status_code == 400
    assert "fait déjà partie du foyer" in again.content.decode()
    assert HouseholdMember.objects.filter(person=person).count() == 1


def test_the_same_resource_sent_twice_is_added_once(member_client, person):
    posted = {"month": "2026-10", "kind": "rsa", "amount": "607.75"}
    url = reverse("persons:resource_add", args=[person.pk])

    assert member_client.post(url, posted).status_code == 302
    again = member_client.post(url, posted)
    other_month = member_client.post(url, posted | {"month": "2026-09"})

    assert again.status_code == 400
    assert "Cette ressource est déjà enregistrée pour ce mois." in again.content.decode()
    assert other_month.status_code == 302
    assert MonthlyResource.objects.filter(person=person).count() == 2


def test_a_refused_identity_edit_is_a_view_of_the_identity(member_client, person):
    response = member_client.post(
        reverse("persons:section_edit", args=[person.pk, "identite"]),
        {"first_names": "", "birth_name": "Dupont"},
    )

    assert response.status_code == 400
    assert journal(person) == [(AuditAction.SECTION_VIEWED, "identite")]


def test_a_refused_upload_shows_the_documents_journaled(member_client, person):
    response = member_client.post(reverse("documents:upload", args=[person.pk]), {"kind": "bail"})

    assert response.status_code == 400
    assert (AuditAction.SECTION_VIEWED, "documents") in journal(person)


def test_the_attestation_is_a_view_of_the_identity(member_client, organisation, person):
    consent = person.consents.get()

    response = member_client.get(
        reverse("persons:consent_attestation", args=[person.pk, consent.pk])
    )

    assert response.status_code == 200
    assert "Léa" in response.content.decode()
    assert journal(person) == [(AuditAction.SECTION_VIEWED, "identite")]


def test_a_refused_consent_shows_the_agreements_journaled(member_client, person):
    response = member_client.post(reverse("persons:consents", args=[person.pk]), {"purpose": ""})

    assert response.status_code == 400
    assert journal(person) == [(AuditAction.SECTION_VIEWED, "identite")]


class TestTheResourcesWithoutTheHousehold:
    @pytest.fixture
    def child(self, person):
        child = HouseholdMemberFactory(person=person, first_names="Zoé")
        MonthlyResourceFactory(person=person, member=child)
        return child

    def test_they_name_no_member_to_whoever_may_not_read_the_household(self, client, person, child):
        membership = MembershipFactory(organisation=OrganisationFactory())
        ConsentFactory(
            person=person,
            organisation=membership.organisation,
            categories=["identite", "ressources"],
        )
        logged_in = log_in(client, membership.user, membership)

        response = logged_in.get(reverse("persons:section", args=[person.pk, "ressources"]))

        body = response.content.decode()
        assert response.status_code == 200
        assert "Zoé" not in body
        assert f"Membre du foyer n° {child.pk}" in body
        assert journal(person) == [(AuditAction.SECTION_VIEWED, "ressources")]

    def test_they_name_them_to_whoever_may_and_the_journal_says_so(
        self, member_client, person, child
    ):
        response = member_client.get(reverse("persons:section", args=[person.pk, "ressources"]))

        assert "Zoé" in response.content.decode()
        assert journal(person) == [
            (AuditAction.SECTION_VIEWED, "famille"),
            (AuditAction.SECTION_VIEWED, "ressources"),
        ]


class TestAnExceptionalAccess:
    @pytest.fixture
    def reader(self, client, person):
        """A professional who was referent under a consent since revoked, now reading the
        file under an exceptional access."""
        membership = MembershipFactory(organisation=OrganisationFactory())
        ReferentFactory(
            person=person, organisation=membership.organisation, professional=membership.user
        )
        BreakGlassGrantFactory(
            person=person,
            professional=membership.user,
            organisation=membership.organisation,
            reason=REASON,
        )
        return log_in(client, membership.user, membership)

    def test_it_neither_takes_nor_gives_up_the_file(self, reader, person):
        before = journal(person)

        response = reader.post(
            reverse("persons:referents", args=[person.pk]), {"action": "retirer"}
        )

        assert response.status_code == 404
        assert Referent.objects.current_of(person.pk)
        assert journal(person) == before

    def test_the_nir_it_reveals_is_journaled_with_its_reason(self, reader, person):
        services._store_nir(person, "290047505601282")
        person.save()

        response = reader.post(reverse("persons:nir_reveal", args=[person.pk]))

        assert response.status_code == 200
        event = AuditEvent.objects.get(action=AuditAction.NIR_REVEALED)
        assert event.reason == REASON
        assert event.details["exceptionnel"] is True


def test_the_same_block_sent_twice_is_recorded_once(member_client, person):
    other = OrganisationFactory()
    url = reverse("persons:blocks", args=[person.pk])

    member_client.post(url, {"organisation": str(other.pk)})
    again = member_client.post(url, {"organisation": str(other.pk)}, follow=True)

    assert "Cette structure est déjà bloquée." in again.content.decode()
    assert Block.objects.active().filter(person=person, organisation=other).count() == 1
    history = AuditEvent.objects.for_person(person.pk).access_history()
    assert history.filter(action=AuditAction.BLOCK_ADDED).count() == 1


@pytest.mark.parametrize("answer", ["OUI", "", "peut-être"])
def test_an_unknown_answer_on_exceptional_access_changes_nothing(member_client, person, answer):
    person.refuses_break_glass = True
    person.save()

    response = member_client.post(
        reverse("persons:break_glass_preference", args=[person.pk]), {"refuse": answer}
    )

    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert told == ["Indiquez si la personne refuse les accès exceptionnels."]
    person.refresh_from_db()
    assert person.refuses_break_glass is True
    assert journal(person) == []


def test_an_exceptional_access_asked_twice_opens_one_and_tells_the_managers_once(
    client, person, django_capture_on_commit_callbacks
):
    membership = MembershipFactory(organisation=OrganisationFactory())
    MembershipFactory(organisation=membership.organisation, manager=True)
    logged_in = log_in(client, membership.user, membership)
    posted = {
        "birth_name": "Dupont",
        "first_names": "Léa",
        "birth_date": "1990-04-12",
        "reason": REASON,
    }

    with django_capture_on_commit_callbacks(execute=True):
        first = logged_in.post(reverse("persons:break_glass"), posted)
        again = logged_in.post(reverse("persons:break_glass"), posted)

    assert first.status_code == again.status_code == 302
    assert BreakGlassGrant.objects.filter(person=person).count() == 1
    assert len(mail.outbox) == 1
    opened = AuditEvent.objects.filter(action=AuditAction.BREAK_GLASS_OPENED, person_id=person.pk)
    assert opened.count() == 1


@pytest.mark.parametrize("number", ["9" * 25, str(2**63)])
def test_a_file_number_too_large_to_merge_gets_a_french_error(manager_client, number):
    response = merge_files(manager_client, number, "1")

    assert response.status_code == 400
    assert "Assurez-vous que cette valeur est inférieure ou égale à" in response.content.decode()


def test_a_file_archived_while_the_merge_was_asked_is_said_in_french(
    manager_client, organisation, person, monkeypatch
):
    other = PersonFactory()
    ConsentFactory(person=other, organisation=organisation)
    merge = views.persons_merge

    def archived_meanwhile(*, keep, absorb, by):
        Person.objects.filter(pk=absorb.pk).update(status=PersonStatus.ARCHIVED)
        merge(keep=keep, absorb=absorb, by=by)

    monkeypatch.setattr(views, "persons_merge", archived_meanwhile)

    response = merge_files(manager_client, person.pk, other.pk)

    assert response.status_code == 400
    assert "plus actif : rien n'est fusionné" in html.unescape(response.content.decode())
    assert not AuditEvent.objects.filter(action=AuditAction.PERSONS_MERGED).exists()


def test_the_same_consent_sent_twice_the_same_day_is_recorded_once(member_client, person):
    other = OrganisationFactory()
    posted = {
        "organisation": str(other.pk),
        "categories": ["identite", "demarches"],
        "purpose": "Suivi conjoint des démarches",
        "duration": "6m",
        "method": "signe",
    }
    url = reverse("persons:consents", args=[person.pk])

    first = member_client.post(url, posted)
    again = member_client.post(url, posted | {"categories": ["demarches", "identite"]})
    longer = member_client.post(url, posted | {"duration": "1a"})

    assert first.status_code == longer.status_code == 302
    assert "Ce consentement est déjà enregistré aujourd'hui" in html.unescape(
        again.content.decode()
    )
    assert person.consents.filter(organisation=other).count() == 2


def test_a_new_reason_opens_a_new_exceptional_access(client, person):
    membership = MembershipFactory(organisation=OrganisationFactory())
    logged_in = log_in(client, membership.user, membership)
    posted = {
        "birth_name": "Dupont",
        "first_names": "Léa",
        "birth_date": "1990-04-12",
        "reason": REASON,
    }

    logged_in.post(reverse("persons:break_glass"), posted)
    logged_in.post(
        reverse("persons:break_glass"),
        posted | {"reason": "La personne revient avec un courrier urgent de la préfecture."},
    )

    reasons = AuditEvent.objects.filter(
        action=AuditAction.BREAK_GLASS_OPENED, person_id=person.pk
    ).values_list("reason", flat=True)
    assert len(reasons) == BreakGlassGrant.objects.filter(person=person).count() == 2


def test_a_list_read_under_consent_is_not_an_exceptional_one(
    member_client, member_membership, organisation, person
):
    BreakGlassGrantFactory(
        person=person, professional=member_membership.user, organisation=organisation
    )
    ProcedureFactory(person=person)

    member_client.get(reverse("procedures:mine"))

    viewed = AuditEvent.objects.get(action=AuditAction.SECTION_VIEWED, person_id=person.pk)
    assert (viewed.reason, viewed.details["exceptionnel"]) == ("", False)


def test_the_nir_of_a_file_followed_elsewhere_asks_for_the_persons_consent(
    member_client, organisation, person
):
    theirs = PersonFactory(
        first_names="Zoé", birth_name="Martin", birth_date=datetime.date(1990, 4, 12)
    )
    services.nir_set(person=theirs, nir="290047505601282", by=SYSTEM)

    response = member_client.post(
        reverse("persons:nir_edit", args=[person.pk]), {"nir": "2 90 04 75 056 012 82"}
    )

    body = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "un dossier suivi par une autre structure" in body
    assert f"n° {theirs.pk}" not in body
    person.refresh_from_db()
    assert not person.has_nir
    # Their file's journal says which structure learnt that it exists.
    told = AuditEvent.objects.get(action=AuditAction.DUPLICATE_SIGNALLED)
    assert (told.person_id, told.organisation_id) == (theirs.pk, organisation.pk)
