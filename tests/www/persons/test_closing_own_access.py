"""An act in the person's name that closes the file to the professional's own organisation
(a block of it, the withdrawal of the last consent that opens the file to them) asks
first, on a page that says so, and then leads to the list of persons, not to a page they
can no longer open. Other organisations' blocks and withdrawals stay one step."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.consent.models import Block, Consent
from relais.organisations.models import OrganisationKind
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import ConsentFactory, ReferentFactory

pytestmark = pytest.mark.django_db

CLOSES_ORGANISATION = "Votre structure ne pourra plus ouvrir ce dossier."
CLOSES_ME = "Vous ne pourrez plus ouvrir ce dossier."


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _block(client, person, organisation, **confirmed):
    return client.post(
        reverse("persons:blocks", args=[person.pk]), {"organisation": organisation.pk, **confirmed}
    )


def _revoke(client, person, consent, **confirmed):
    return client.post(reverse("persons:consent_revoke", args=[person.pk, consent.pk]), confirmed)


def _file(client, person) -> int:
    return client.get(reverse("persons:file", args=[person.pk])).status_code


def _acts(person) -> list[str]:
    return list(
        AuditEvent.objects.for_person(person.pk)
        .exclude(action=AuditAction.SECTION_VIEWED)
        .values_list("action", flat=True)
    )


def test_it_offers_its_own_organisation_last_and_named_as_such(member_client, person, organisation):
    other = OrganisationFactory(name="CAF du Nord", kind=OrganisationKind.CAF)
    ConsentFactory(person=person, organisation=other)

    page = member_client.get(reverse("persons:consents", args=[person.pk]))

    assert page.context["block_choices"] == [
        (other.pk, "CAF du Nord"),
        (organisation.pk, f"{organisation.name} (votre structure)"),
    ]


def test_blocking_its_own_organisation_asks_first_and_changes_nothing(
    member_client, person, organisation
):
    response = _block(member_client, person, organisation)

    page = _page(response)
    assert response.status_code == 200
    assert CLOSES_ORGANISATION in page
    assert "Seule la personne pourra le lever" in page
    assert 'name="confirme" value="oui"' in page
    assert f'name="organisation" value="{organisation.pk}"' in page
    assert f'href="{reverse("persons:consents", args=[person.pk])}">Annuler' in page
    assert not Block.objects.exists()
    assert _acts(person) == []
    assert _file(member_client, person) == 200


def test_the_question_is_journaled_as_a_view_of_the_file(member_client, person, organisation):
    _block(member_client, person, organisation)

    viewed = AuditEvent.objects.get(action=AuditAction.SECTION_VIEWED, person_id=person.pk)
    assert viewed.category == "identite"


def test_blocking_its_own_organisation_once_confirmed_lands_on_the_list_of_persons(
    member_client, person, organisation, member_membership
):
    colleague = MembershipFactory(organisation=organisation)

    response = _block(member_client, person, organisation, confirme="oui")

    assert response.status_code == 302
    assert response.url == reverse("persons:list")
    landing = member_client.get(response.url)
    assert landing.status_code == 200
    assert (
        f"Le blocage est enregistré : le dossier n° {person.pk} ne s'ouvre plus pour votre "
        "structure. Seule la personne peut lever ce blocage." in _page(landing)
    )
    block = Block.objects.get(person=person)
    assert (block.organisation_id, block.lifted_at) == (organisation.pk, None)
    assert block.created_by_label == member_membership.user.get_full_name()
    event = AuditEvent.objects.get(action=AuditAction.BLOCK_ADDED)
    assert (event.person_id, event.object_type, event.object_id) == (
        person.pk,
        "structure",
        str(organisation.pk),
    )
    assert _file(member_client, person) == 404
    assert _file(log_in(Client(), colleague.user, colleague), person) == 404


def test_blocking_another_organisation_is_one_step(member_client, person):
    other = OrganisationFactory(kind=OrganisationKind.CAF)
    ConsentFactory(person=person, organisation=other)

    response = _block(member_client, person, other)

    assert response.status_code == 302
    assert response.url == reverse("persons:consents", args=[person.pk])
    assert Block.objects.get(person=person).organisation_id == other.pk
    assert _acts(person) == [AuditAction.BLOCK_ADDED]


def test_withdrawing_the_last_consent_of_its_organisation_asks_first(
    member_client, person, organisation, member_membership
):
    # Being the file's referent opens nothing by itself: the consent is the only way in.
    ReferentFactory(person=person, organisation=organisation, professional=member_membership.user)
    consent = Consent.objects.get(person=person)

    response = _revoke(member_client, person, consent)

    page = _page(response)
    assert response.status_code == 200
    assert CLOSES_ORGANISATION in page
    assert "Seule la personne pourra vous le rouvrir" in page
    assert f'action="{reverse("persons:consent_revoke", args=[person.pk, consent.pk])}"' in page
    consent.refresh_from_db()
    assert consent.revoked_at is None
    assert _acts(person) == []


def test_withdrawing_the_last_consent_once_confirmed_lands_on_the_list_of_persons(
    member_client, person
):
    consent = Consent.objects.get(person=person)

    response = _revoke(member_client, person, consent, confirme="oui")

    assert response.url == reverse("persons:list")
    assert f"le dossier n° {person.pk} ne s'ouvre plus pour vous" in _page(
        member_client.get(response.url)
    )
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert _acts(person) == [AuditAction.CONSENT_REVOKED]
    assert _file(member_client, person) == 404


def test_withdrawing_a_consent_is_one_step_while_another_opens_the_file(
    member_client, person, organisation, member_membership
):
    # A second consent to the organisation, and one to this professional by name.
    ConsentFactory(person=person, organisation=organisation)
    ConsentFactory(person=person, organisation=organisation, professional=member_membership.user)
    first = Consent.objects.filter(person=person).order_by("pk").first()

    response = _revoke(member_client, person, first)

    assert response.url == reverse("persons:consents", args=[person.pk])
    assert _acts(person) == [AuditAction.CONSENT_REVOKED]
    assert _file(member_client, person) == 200


def test_a_colleague_s_own_consent_keeps_the_file_open_to_them_not_to_me(
    member_client, person, organisation
):
    colleague = MembershipFactory(organisation=organisation)
    ConsentFactory(person=person, organisation=organisation, professional=colleague.user)
    whole = Consent.objects.get(person=person, professional=None)

    page = _page(_revoke(member_client, person, whole))

    assert CLOSES_ME in page
    assert CLOSES_ORGANISATION not in page


def test_withdrawing_another_organisation_s_consent_is_one_step(member_client, person):
    other = ConsentFactory(person=person, organisation=OrganisationFactory())

    response = _revoke(member_client, person, other)

    assert response.url == reverse("persons:consents", args=[person.pk])
    other.refresh_from_db()
    assert other.revoked_at is not None


def test_a_confirmation_sent_twice_records_one_withdrawal_and_lands_on_the_list(
    member_client, person
):
    consent = Consent.objects.get(person=person)
    _revoke(member_client, person, consent, confirme="oui")

    again = _revoke(member_client, person, consent, confirme="oui")

    # The file no longer opens to them: the second answer is the rule's 404, nothing more.
    assert again.status_code == 404
    assert _acts(person) == [AuditAction.CONSENT_REVOKED]
