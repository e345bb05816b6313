"""« Je n'accepte pas »: a professional who does not accept the charter is logged out, told
why and whom to talk to, and the refusal is in their organisation's journal."""

from html import unescape

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_accept, charter_publish, current_matrix, current_version
from relais.consent.models import CharterAcceptance
from relais.organisations.models import OrganisationKind, Profession
from tests.conftest import log_in
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHARTER = reverse("consent:charter")
REFUSAL = reverse("consent:charter_refusal")
REFUSED = (
    "Vous n'avez pas accepté la charte d'usages : vous êtes déconnecté(e). Sans l'accepter, "
    "vous ne pouvez ouvrir aucun dossier. Parlez-en au responsable de votre structure ; vous "
    "pourrez accepter la charte à votre prochaine connexion."
)


@pytest.fixture
def unaccepted(organisation):
    """A verified professional of `organisation` who has not accepted the charter yet."""
    membership = MembershipFactory(organisation=organisation)
    client = log_in(Client(), membership.user, device=TOTPDeviceFactory(user=membership.user))
    session = client.session
    session["relais_membership_id"] = membership.pk
    session.save()
    return client, membership


def _read(membership) -> dict[str, object]:
    """What the charter page posts: the version and the rights it showed."""
    return {
        "version": current_version().number,
        "droits": [f"{membership.organisation.kind}/{membership.profession}"],
    }


def _refusals():
    return AuditEvent.objects.filter(action=AuditAction.CHARTER_REFUSED)


def test_the_charter_page_offers_to_refuse_it(unaccepted):
    client, _ = unaccepted

    page = unescape(client.get(CHARTER).content.decode())

    assert f'formaction="{REFUSAL}">Je n\'accepte pas</button>' in page
    assert "Parlez-en alors au responsable de votre structure." in page


def test_the_charter_page_offers_no_refusal_once_accepted(member_client):
    page = unescape(member_client.get(CHARTER).content.decode())

    assert "Je n'accepte pas" not in page


def test_it_logs_out_a_professional_who_refuses_and_tells_them_whom_to_talk_to(unaccepted):
    client, membership = unaccepted

    response = client.post(REFUSAL, _read(membership), follow=True)

    assert response.redirect_chain == [(reverse("accounts:login"), 302)]
    assert REFUSED in unescape(response.content.decode())
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("persons:list")).url.startswith(reverse("accounts:login"))
    assert not CharterAcceptance.objects.filter(user=membership.user).exists()


def test_the_refusal_is_journaled_for_the_organisation_and_told_to_no_one(unaccepted):
    client, membership = unaccepted

    client.post(REFUSAL, _read(membership))

    refusal = _refusals().get()
    assert refusal.actor_id == membership.user_id
    assert refusal.organisation_id == membership.organisation_id
    assert (refusal.object_type, refusal.object_id) == ("charte", str(current_version().number))
    assert refusal.details == {
        "droits": f"{membership.organisation.kind} × {membership.profession}"
    }
    assert not AuditEvent.objects.filter(action=AuditAction.LOGOUT).exists()
    assert mail.outbox == []


def test_the_manager_reads_the_refusal_in_the_organisation_s_journal(unaccepted, manager_client):
    client, membership = unaccepted
    client.post(REFUSAL, _read(membership))

    response = manager_client.get(reverse("journal:list"))

    assert _refusals().get() in [event for event, _ in response.context["rows"]]
    assert "Charte d'usages refusée (déconnexion)" in unescape(response.content.decode())


def test_a_manager_of_another_organisation_does_not_read_the_refusal(unaccepted):
    client, membership = unaccepted
    client.post(REFUSAL, _read(membership))
    other = MembershipFactory(manager=True)

    response = log_in(Client(), other.user, other).get(reverse("journal:list"))

    assert _refusals().get() not in [event for event, _ in response.context["rows"]]


def test_it_refuses_a_refusal_of_a_version_published_while_the_page_was_read(
    unaccepted, django_capture_on_commit_callbacks
):
    client, membership = unaccepted
    read = _read(membership)
    with django_capture_on_commit_callbacks(execute=True):
        published = charter_publish(levels=current_matrix(), summary="Mise à jour", by=SYSTEM)

    response = client.post(REFUSAL, read)

    assert response.status_code == 400
    assert (
        f"La charte a changé pendant votre lecture : relisez la version {published.number}."
        in unescape(response.content.decode())
    )
    assert not _refusals().exists()
    assert "_auth_user_id" in client.session


def test_a_refusal_sent_once_the_charter_was_accepted_takes_nothing_back(unaccepted):
    client, membership = unaccepted
    charter_accept(user_id=membership.user_id, version=current_version(), by=SYSTEM)

    response = client.post(REFUSAL, _read(membership))

    assert response.url == CHARTER
    assert not _refusals().exists()
    assert CharterAcceptance.objects.filter(user=membership.user).exists()
    assert client.get(reverse("persons:list")).status_code == 200


def test_a_pilot_acting_for_no_organisation_has_nothing_to_refuse():
    pilot = log_in(Client(), UserFactory(pilot=True))

    response = pilot.post(REFUSAL, {"version": current_version().number})

    assert response.url == CHARTER
    assert not _refusals().exists()
    assert "_auth_user_id" in pilot.session


def test_a_refusal_is_sent_only_by_the_page_s_button(unaccepted):
    client, _ = unaccepted

    assert client.get(REFUSAL).status_code == 405
    assert not _refusals().exists()


def test_a_refusal_closes_the_files_only_where_the_charter_is_not_accepted(organisation):
    """Accepted as it applies in the CCAS, then taken on in a CHRS: refusing it there
    leaves the CCAS's files open once logged in again, and the page and the message say so."""
    ccas = MembershipFactory(organisation=organisation, profession=Profession.ASS)
    charter_accept(user_id=ccas.user.pk, version=current_version(), by=SYSTEM)
    chrs = MembershipFactory(
        user=ccas.user,
        organisation=OrganisationFactory(name="CHRS Le Phare", kind=OrganisationKind.CHRS),
        profession=Profession.ME,
    )
    client = log_in(Client(), ccas.user, device=TOTPDeviceFactory(user=ccas.user))
    session = client.session
    session["relais_membership_id"] = chrs.pk
    session.save()
    rights = sorted(f"{m.organisation.kind}/{m.profession}" for m in (ccas, chrs))

    page = unescape(client.get(CHARTER).content.decode())
    response = client.post(
        REFUSAL, {"version": current_version().number, "droits": rights}, follow=True
    )

    closed = "vous ne pouvez ouvrir aucun dossier pour CHRS Le Phare."
    assert f"sans elle, {closed}" in page
    assert f"Sans l'accepter, {closed}" in unescape(response.content.decode())
