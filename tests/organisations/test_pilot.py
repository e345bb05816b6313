import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.organisations.models import Invitation, Organisation, Role, Sector
from relais.organisations.services import (
    invitation_create,
    organisation_create,
    organisation_update,
)
from relais.www.organisations.views import PILOT_PAGE_SIZE
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory, valid_siret

pytestmark = pytest.mark.django_db

FORMAT_ERROR = "Le SIRET doit compter exactement 14 chiffres."
CHECKSUM_ERROR = "Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas."


def _form(**fields):
    return {
        "name": "CHRS Le Phare",
        "siret": valid_siret(),
        "kind": "chrs",
        "commune_code": "62193",
        "commune_name": "Calais",
        "territory": "Calaisis",
    } | fields


def _bad_luhn() -> str:
    siret = valid_siret()
    return siret[:-1] + str((int(siret[-1]) + 1) % 10)


def test_it_creates_an_organisation_and_derives_sector_and_departement(pilot_client):
    response = pilot_client.post(reverse("organisations:pilot_create"), _form())

    organisation = Organisation.objects.get()
    assert response.url == reverse("organisations:pilot_detail", args=[organisation.pk])
    assert organisation.sector == Sector.ESSMS_HOUSING == "essms_hebergement"
    assert organisation.departement == "62"


@pytest.mark.parametrize(
    ("kind", "commune_code", "sector", "departement"),
    [
        ("chrs", "62193", "essms_hebergement", "62"),
        ("ccas", "97105", "administration", "971"),
        ("savs", "2A004", "essms_milieu_ouvert", "2A"),
        ("centre_social", "2b033", "mediation", "2B"),
        ("cada", "02691", "essms_hebergement", "02"),
    ],
)
def test_it_derives_sector_and_departement(pilot_client, kind, commune_code, sector, departement):
    pilot_client.post(
        reverse("organisations:pilot_create"), _form(kind=kind, commune_code=commune_code)
    )

    organisation = Organisation.objects.get()
    assert organisation.sector == sector
    assert organisation.departement == departement
    assert organisation.commune_code == commune_code.upper()


def test_it_accepts_a_siret_typed_with_spaces(pilot_client):
    siret = valid_siret()
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"

    pilot_client.post(reverse("organisations:pilot_create"), _form(siret=spaced))

    assert Organisation.objects.get().siret == siret


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("1234567890123", FORMAT_ERROR),
        ("12345678901234A", FORMAT_ERROR),
        ("ABCDEFGHIJKLMN", FORMAT_ERROR),
        ("123456789012345", FORMAT_ERROR),
        (_bad_luhn(), CHECKSUM_ERROR),
        # Full-width digits: another string for the same SIRET, to a uniqueness check.
        (
            valid_siret().translate(str.maketrans("0123456789", "０１２３４５６７８９")),
            FORMAT_ERROR,
        ),
    ],
    ids=["13-digits", "letter", "letters", "15-digits", "bad-luhn", "full-width"],
)
def test_it_refuses_an_invalid_siret_in_french(pilot_client, siret, message):
    response = pilot_client.post(reverse("organisations:pilot_create"), _form(siret=siret))

    assert response.status_code == 400
    errors = response.context["form"].errors["siret"]
    assert any(error.startswith(message) for error in errors)
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Organisation.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ORGANISATION_CREATED).exists()


def test_it_refuses_a_siret_already_registered(pilot_client):
    existing = OrganisationFactory()

    response = pilot_client.post(reverse("organisations:pilot_create"), _form(siret=existing.siret))

    assert response.status_code == 400
    assert "siret" in response.context["form"].errors
    assert Organisation.objects.count() == 1


@pytest.mark.parametrize("commune_code", ["99999", "20004", "96001", "62000", "97100"])
def test_it_refuses_a_commune_code_of_no_departement_or_commune(pilot_client, commune_code):
    response = pilot_client.post(
        reverse("organisations:pilot_create"), _form(commune_code=commune_code)
    )

    assert response.status_code == 400
    assert f"Le code commune INSEE {commune_code} n'existe pas" in " ".join(
        response.context["form"].errors["commune_code"]
    )
    assert not Organisation.objects.exists()


@pytest.mark.parametrize("commune_code", ["2C004", "６２１９３", "٦٢١٩٣"])
def test_it_refuses_an_invalid_commune_code(pilot_client, commune_code):
    response = pilot_client.post(
        reverse("organisations:pilot_create"), _form(commune_code=commune_code)
    )

    assert response.status_code == 400
    assert "Le code commune INSEE compte 5 caractères" in " ".join(
        response.context["form"].errors["commune_code"]
    )
    assert not Organisation.objects.exists()


def test_it_records_the_creation(pilot_client):
    pilot_client.post(reverse("organisations:pilot_create"), _form())

    organisation = Organisation.objects.get()
    event = AuditEvent.objects.get(action=AuditAction.ORGANISATION_CREATED)
    assert event.object_type == "structure"
    assert event.object_id == str(organisation.pk)
    assert event.details == {"nom": "CHRS Le Phare", "siret": organisation.siret}
    assert event.actor_id == int(pilot_client.session["_auth_user_id"])


@pytest.mark.parametrize(
    "name", ["organisations:pilot_list", "organisations:pilot_create", "organisations:pilot_detail"]
)
def test_it_refuses_the_pilot_pages_to_a_manager(manager_client, organisation, name):
    args = [organisation.pk] if name == "organisations:pilot_detail" else []

    response = manager_client.get(reverse(name, args=args))

    assert response.status_code == 403


def test_it_refuses_a_creation_posted_by_a_manager(manager_client):
    response = manager_client.post(reverse("organisations:pilot_create"), _form())

    assert response.status_code == 403
    assert Organisation.objects.count() == 1


def test_it_lists_organisations_with_their_active_members(pilot_client, member_membership):
    response = pilot_client.get(reverse("organisations:pilot_list"))

    listed = {o.pk: o.member_count for o in response.context["organisations"]}
    assert listed == {member_membership.organisation_id: 1}


def _listed(response) -> list[str]:
    return [organisation.name for organisation in response.context["organisations"]]


def test_it_searches_organisations_by_name_town_or_siret_and_by_departement(pilot_client):
    phare = OrganisationFactory(name="CHRS Le Phare", commune_code="62193", commune_name="Calais")
    OrganisationFactory(name="CCAS d'Arras", commune_code="62041", commune_name="Arras")
    OrganisationFactory(name="CCAS de Lille", commune_code="59350", commune_name="Lille")
    spaced = f"{phare.siret[:3]} {phare.siret[3:6]} {phare.siret[6:9]}"
    pilot_list = reverse("organisations:pilot_list")

    assert _listed(pilot_client.get(pilot_list, {"q": "phare"})) == ["CHRS Le Phare"]
    assert _listed(pilot_client.get(pilot_list, {"q": "arras"})) == ["CCAS d'Arras"]
    assert _listed(pilot_client.get(pilot_list, {"q": spaced})) == ["CHRS Le Phare"]
    assert _listed(pilot_client.get(pilot_list, {"departement": "59"})) == ["CCAS de Lille"]
    assert _listed(pilot_client.get(pilot_list, {"q": "ccas", "departement": "62"})) == [
        "CCAS d'Arras"
    ]


def test_it_says_in_french_a_departement_with_no_organisation(pilot_client):
    OrganisationFactory(commune_code="62193")

    response = pilot_client.get(reverse("organisations:pilot_list"), {"departement": "99"})

    assert response.context["form"].errors == {
        "departement": [
            "Aucune structure de Relais n'est dans ce département : choisissez-en un dans la liste."
        ]
    }
    assert _listed(response) == []


def test_it_pages_through_organisations_with_the_same_queries_however_many(
    pilot_client, django_assert_num_queries
):
    OrganisationFactory.create_batch(3)
    pilot_list = reverse("organisations:pilot_list")
    pilot_client.get(pilot_list)
    with CaptureQueriesContext(connection) as few:
        pilot_client.get(pilot_list)
    OrganisationFactory.create_batch(PILOT_PAGE_SIZE)

    with django_assert_num_queries(len(few)):
        first = pilot_client.get(pilot_list)
    second = pilot_client.get(pilot_list, {"page": 2})

    assert len(first.context["organisations"]) == PILOT_PAGE_SIZE
    assert first.context["has_next"]
    assert len(second.context["organisations"]) == 3
    assert not second.context["has_next"]
    assert set(_listed(first)).isdisjoint(_listed(second))
    assert "page=2" in first.content.decode()


@pytest.mark.parametrize("page", ["0", "abc", "10001"])
def test_it_refuses_a_page_that_does_not_exist_in_french(pilot_client, page):
    OrganisationFactory()

    response = pilot_client.get(reverse("organisations:pilot_list"), {"page": page})

    assert response.context["form"].errors["page"] == [
        "Cette page de la liste n'existe pas : revenez à la première page."
    ]
    assert response.context["organisations"] == []


def test_it_links_each_organisation_to_its_journal(pilot_client, organisation):
    response = pilot_client.get(reverse("organisations:pilot_list"))

    journal = f"{reverse('journal:list')}?organisation={organisation.pk}"
    assert journal in response.content.decode()
    assert pilot_client.get(journal).context["form"].is_valid()


INVITE_MANAGER = {
    "first_name": "Julien",
    "last_name": "Caron",
    "email": "julien.caron@exemple.test",
    "role": "responsable",
    "profession": "es",
}


def _journal_of(manager) -> set[int]:
    response = log_in(Client(), manager.user, manager).get(reverse("journal:list"))
    return {event.seq for event, _ in response.context["rows"]}


def test_it_lets_the_pilot_invite_a_manager(
    pilot_client, organisation, mailoutbox, django_capture_on_commit_callbacks
):
    data = INVITE_MANAGER

    with django_capture_on_commit_callbacks(execute=True):
        response = pilot_client.post(
            reverse("organisations:pilot_detail", args=[organisation.pk]), data
        )

    assert response.status_code == 302
    assert organisation.invitations.get().role == "responsable"
    assert len(mailoutbox) == 1


def test_a_siret_registered_meanwhile_is_refused_in_french(monkeypatch):
    existing = OrganisationFactory()
    # Another pilot saved the same SIRET between the check and the save.
    monkeypatch.setattr(Organisation, "validate_unique", lambda self, exclude=None: None)

    with pytest.raises(ValidationError) as refused:
        organisation_create(
            name="CHRS Le Phare",
            siret=existing.siret,
            kind="chrs",
            commune_code="62193",
            by=SYSTEM,
        )

    assert refused.value.message_dict == {"siret": ["Une structure avec ce SIRET existe déjà."]}
    assert Organisation.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.ORGANISATION_CREATED).exists()


def test_a_siret_taken_meanwhile_by_an_update_is_refused_in_french(monkeypatch):
    existing, updated = OrganisationFactory(), OrganisationFactory()
    # Another pilot saved the same SIRET between the check and the save.
    monkeypatch.setattr(Organisation, "validate_unique", lambda self, exclude=None: None)

    with pytest.raises(ValidationError) as refused:
        organisation_update(organisation=updated, siret=existing.siret, by=SYSTEM)

    assert refused.value.message_dict == {"siret": ["Une structure avec ce SIRET existe déjà."]}
    assert Organisation.objects.filter(siret=existing.siret).count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.ORGANISATION_UPDATED).exists()


def test_it_answers_400_to_an_empty_creation_form(pilot_client):
    response = pilot_client.post(reverse("organisations:pilot_create"), {})

    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert not Organisation.objects.exists()


def test_a_refused_invitation_from_the_pilot_answers_400_and_keeps_what_was_typed(
    pilot_client, organisation, mailoutbox
):
    data = {
        "first_name": "Julien",
        "last_name": "Caron",
        "email": "julien.caron@exemple.test",
        "role": "responsable",
        "profession": "",
    }

    response = pilot_client.post(
        reverse("organisations:pilot_detail", args=[organisation.pk]), data
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["profession"]
    assert 'value="julien.caron@exemple.test"' in response.content.decode()
    assert not organisation.invitations.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("pilot_is_a_member_elsewhere", [False, True])
def test_the_pilots_invitation_is_journaled_under_the_invited_organisation(
    client, organisation, pilot_is_a_member_elsewhere
):
    pilot = UserFactory(pilot=True)
    elsewhere = OrganisationFactory(name="CAF du Nord")
    acting = MembershipFactory(user=pilot, organisation=elsewhere)
    log_in(client, pilot, acting if pilot_is_a_member_elsewhere else None)

    client.post(reverse("organisations:pilot_detail", args=[organisation.pk]), INVITE_MANAGER)

    sent = AuditEvent.objects.get(action=AuditAction.INVITATION_SENT)
    assert (sent.actor_id, sent.organisation_id, sent.organisation_label) == (
        pilot.pk,
        organisation.pk,
        organisation.name,
    )
    assert sent.seq in _journal_of(MembershipFactory(organisation=organisation, manager=True))
    assert sent.seq not in _journal_of(MembershipFactory(organisation=elsewhere, manager=True))


def _pending_invitation(organisation, *, by) -> Invitation:
    invitation, _ = invitation_create(
        organisation=organisation,
        email="julien.caron@exemple.test",
        first_name="Julien",
        last_name="Caron",
        role=Role.MANAGER,
        profession="es",
        invited_by=by,
        by=SYSTEM,
    )
    return invitation


def test_the_pilot_cancels_an_invitation_it_sent_and_it_is_journaled_under_the_organisation(
    client, organisation
):
    pilot = UserFactory(pilot=True)
    elsewhere = MembershipFactory(user=pilot, organisation=OrganisationFactory())
    log_in(client, pilot, elsewhere)
    invitation = _pending_invitation(organisation, by=pilot)
    revoke = reverse("organisations:pilot_revoke_invitation", args=[organisation.pk, invitation.pk])

    page = client.get(reverse("organisations:pilot_detail", args=[organisation.pk]))
    response = client.post(revoke, follow=True)

    assert f'action="{revoke}"' in page.content.decode()
    assert response.redirect_chain == [
        (reverse("organisations:pilot_detail", args=[organisation.pk]), 302)
    ]
    assert "L'invitation est annulée." in response.content.decode().replace("&#x27;", "'")
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    revoked = AuditEvent.objects.get(action=AuditAction.INVITATION_REVOKED)
    assert (revoked.actor_id, revoked.organisation_id, revoked.object_id) == (
        pilot.pk,
        organisation.pk,
        str(invitation.pk),
    )
    assert revoked.seq in _journal_of(MembershipFactory(organisation=organisation, manager=True))
    assert revoked.seq not in _journal_of(
        MembershipFactory(organisation=elsewhere.organisation, manager=True)
    )


def test_the_pilot_cancels_an_invitation_only_through_its_organisation(pilot_client, organisation):
    invitation = _pending_invitation(organisation, by=UserFactory())
    other = OrganisationFactory()

    response = pilot_client.post(
        reverse("organisations:pilot_revoke_invitation", args=[other.pk, invitation.pk])
    )

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_it_refuses_the_pilots_cancellation_to_a_manager(
    manager_client, manager_membership, organisation
):
    invitation = _pending_invitation(organisation, by=manager_membership.user)

    response = manager_client.post(
        reverse("organisations:pilot_revoke_invitation", args=[organisation.pk, invitation.pk])
    )

    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_the_administration_deletes_no_invitation(pilot_client, organisation):
    invitation = _pending_invitation(organisation, by=UserFactory())

    single = pilot_client.post(
        reverse("admin:organisations_invitation_delete", args=[invitation.pk]), {"post": "yes"}
    )
    pilot_client.post(
        reverse("admin:organisations_invitation_changelist"),
        {"action": "delete_selected", "_selected_action": [invitation.pk], "post": "yes"},
    )

    assert single.status_code == 403
    assert Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).exists()


def test_an_organisation_s_page_leads_to_its_journal_and_back_to_the_list(pilot_client):
    organisation = OrganisationFactory(name="CHRS Le Phare")

    page = pilot_client.get(
        reverse("organisations:pilot_detail", args=[organisation.pk])
    ).content.decode()

    journal = f"{reverse('journal:list')}?organisation={organisation.pk}"
    assert f'href="{journal}">Journal de CHRS Le Phare</a>' in page
    assert f'href="{reverse("organisations:pilot_list")}">Toutes les structures</a>' in page


def test_an_organisation_created_without_its_town_s_name_is_shown_by_its_code(pilot_client):
    """The town's name is optional: no empty name before the code in brackets."""
    pilot_client.post(reverse("organisations:pilot_create"), _form(commune_name=""))
    organisation = Organisation.objects.get()

    listed = pilot_client.get(reverse("organisations:pilot_list")).content.decode()
    detail = pilot_client.get(
        reverse("organisations:pilot_detail", args=[organisation.pk])
    ).content.decode()

    assert "<td>commune 62193</td>" in listed
    assert "— commune 62193 (département 62) —" in detail
    assert "— (62193" not in detail
