import re
from datetime import timedelta
from html import unescape
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from relais.accounts.models import User
from relais.accounts.sessions import MEMBERSHIP_ID
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.audit.services import audit_record
from relais.www.journal.views import PAGE_SIZE
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.procedures.factories import ProcedureTypeFactory

pytestmark = pytest.mark.django_db

JOURNAL = reverse("journal:list")
RANGE_ERROR = "La date de fin doit suivre la date de début."
TOO_EARLY = "Choisissez une date à partir du 01/01/2000."
TOO_LATE = "Choisissez une date jusqu'au 31/12/2100."


def _actor(membership, *, acting=True) -> Actor:
    return Actor(
        user_id=membership.user_id,
        label=membership.user.get_full_name(),
        organisation_id=membership.organisation_id if acting else None,
        organisation_label=membership.organisation.name if acting else "",
        ip_address="192.0.2.1",
    )


def _record(membership, action=AuditAction.ORGANISATION_UPDATED, *, acting=True, **fields):
    return audit_record(action=action, by=_actor(membership, acting=acting), **fields)


def _shown(response) -> list[AuditEvent]:
    return [event for event, _ in response.context["rows"]]


def _seqs(response) -> set[int]:
    return {event.seq for event in _shown(response)}


@pytest.fixture
def outsider():
    return MembershipFactory()


@pytest.fixture
def events(member_membership, manager_membership, outsider):
    return {
        "member_act": _record(member_membership, object_id="ici"),
        "member_login": _record(member_membership, AuditAction.LOGIN, acting=False),
        "manager_act": _record(manager_membership, AuditAction.INVITATION_SENT),
        "outsider_act": _record(outsider, object_id="ailleurs"),
        "outsider_login": _record(outsider, AuditAction.LOGIN, acting=False),
    }


def test_it_shows_the_manager_the_events_of_the_organisation(manager_client, events):
    response = manager_client.get(JOURNAL)

    assert response.status_code == 200
    assert _seqs(response) == {
        events["member_act"].seq,
        events["member_login"].seq,
        events["manager_act"].seq,
    }


def test_it_hides_the_events_of_another_organisation(manager_client, events, outsider):
    content = manager_client.get(JOURNAL).content.decode()

    assert outsider.organisation.name not in content
    assert outsider.user.get_full_name() not in content
    assert "ailleurs" not in content


def test_it_hides_what_a_member_does_for_another_organisation(
    manager_client, member_membership, events
):
    elsewhere = MembershipFactory(user=member_membership.user)
    secret = _record(elsewhere, object_id="autre-structure")

    response = manager_client.get(JOURNAL)

    assert secret.seq not in _seqs(response)
    assert elsewhere.organisation.name not in response.content.decode()


def test_it_hides_what_a_pilot_who_is_a_member_does_for_the_whole_platform(
    manager_client, organisation, events
):
    pilot = MembershipFactory(organisation=organisation, user__is_superuser=True)
    platform_acts = [
        _record(pilot, action, acting=False)
        for action in (AuditAction.ORGANISATION_CREATED, AuditAction.CHARTER_PUBLISHED)
    ]
    login = _record(pilot, AuditAction.LOGIN, acting=False)

    shown = _seqs(manager_client.get(JOURNAL))

    assert login.seq in shown
    assert not shown & {act.seq for act in platform_acts}


def test_the_pilots_acts_on_the_platform_belong_to_no_organisation(pilot_client, organisation):
    pilot = User.objects.get(is_superuser=True)
    MembershipFactory(organisation=organisation, user=pilot)
    session = pilot_client.session
    session[MEMBERSHIP_ID] = pilot.memberships.get().pk
    session.save()

    pilot_client.post(
        reverse("organisations:pilot_create"),
        {
            "name": "CCAS de Liévin",
            "siret": "21620510400013",
            "kind": "ccas",
            "commune_code": "62510",
            "commune_name": "Liévin",
            "territory": "Liévin",
        },
    )

    created = AuditEvent.objects.get(action=AuditAction.ORGANISATION_CREATED)
    assert (created.actor_id, created.organisation_id) == (pilot.pk, None)


def test_it_filters_by_user(manager_client, member_membership, events):
    response = manager_client.get(JOURNAL, {"actor": member_membership.user_id})

    assert _seqs(response) == {events["member_act"].seq, events["member_login"].seq}


def test_it_offers_only_members_as_users_to_filter_by(
    manager_client, member_membership, manager_membership, outsider
):
    response = manager_client.get(JOURNAL)

    choices = {value for value, _ in response.context["form"].fields["actor"].choices}
    assert choices == {"", member_membership.user_id, manager_membership.user_id}


def test_it_filters_by_action(manager_client, events):
    response = manager_client.get(JOURNAL, {"action": AuditAction.LOGIN})

    assert _seqs(response) == {events["member_login"].seq}


def test_it_filters_by_date(manager_client, member_membership, events):
    long_ago = timezone.now() - timedelta(days=40)
    with mock.patch("django.utils.timezone.now", return_value=long_ago):
        old = _record(member_membership, object_id="ancien")
    old_day = timezone.localdate(long_ago).isoformat()
    today = timezone.localdate().isoformat()

    on_old_day = manager_client.get(JOURNAL, {"start": old_day, "end": old_day})
    since_today = manager_client.get(JOURNAL, {"start": today})
    until_old_day = manager_client.get(JOURNAL, {"end": old_day})

    assert _seqs(on_old_day) == {old.seq}
    assert old.seq not in _seqs(since_today)
    assert _seqs(since_today) == {e.seq for k, e in events.items() if not k.startswith("out")}
    assert _seqs(until_old_day) == {old.seq}


def test_it_refuses_an_inverted_date_range_in_french(manager_client, events):
    response = manager_client.get(JOURNAL, {"start": "2026-03-10", "end": "2026-03-01"})

    assert response.status_code == 200
    assert response.context["form"].errors["end"] == [RANGE_ERROR]
    assert RANGE_ERROR in response.content.decode()
    assert _seqs(response) == set()


@pytest.mark.parametrize("persona", ["manager_client", "pilot_client"])
@pytest.mark.parametrize(
    ("field", "day", "error"),
    [
        ("start", "0001-01-01", TOO_EARLY),
        ("end", "0001-01-01", TOO_EARLY),
        ("start", "9999-12-31", TOO_LATE),
        ("end", "9999-12-31", TOO_LATE),
    ],
)
def test_it_refuses_a_date_out_of_bounds_in_french_and_shows_nothing(
    request, events, persona, field, day, error
):
    client = request.getfixturevalue(persona)
    recorded = AuditEvent.objects.count()

    response = client.get(JOURNAL, {field: day})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert error in unescape(response.content.decode())
    assert _seqs(response) == set()
    assert AuditEvent.objects.count() == recorded


def test_it_accepts_the_bounds_themselves(manager_client, events):
    response = manager_client.get(JOURNAL, {"start": "2000-01-01", "end": "2100-12-31"})

    assert response.context["form"].errors == {}
    assert _seqs(response) == {e.seq for k, e in events.items() if not k.startswith("out")}


def test_it_refuses_a_malformed_date(manager_client, events):
    response = manager_client.get(JOURNAL, {"start": "pas-une-date"})

    assert "start" in response.context["form"].errors
    assert _seqs(response) == set()


def test_it_shows_the_pilot_every_event(pilot_client, events):
    response = pilot_client.get(JOURNAL)

    assert response.status_code == 200
    assert {e.seq for e in events.values()} <= _seqs(response)
    assert response.context["scope"] == "plateforme"


def test_it_lets_the_pilot_filter_by_organisation(pilot_client, events, outsider):
    response = pilot_client.get(JOURNAL, {"organisation": outsider.organisation_id})

    assert _seqs(response) == {events["outsider_act"].seq}


def test_it_offers_the_pilot_the_chosen_organisation_not_every_one(pilot_client, events, outsider):
    others = OrganisationFactory.create_batch(5)

    unfiltered = pilot_client.get(JOURNAL)
    filtered = pilot_client.get(JOURNAL, {"organisation": outsider.organisation_id})

    assert "organisation" not in unfiltered.context["form"].fields
    assert filtered.context["form"].fields["organisation"].choices == [
        ("", "Toutes"),
        (outsider.organisation_id, outsider.organisation.name),
    ]
    for page in (unfiltered, filtered):
        assert not any(other.name in page.content.decode() for other in others)
        assert reverse("organisations:pilot_list") in page.content.decode()


@pytest.mark.parametrize("value", ["999999", "abc", "²"])
def test_it_refuses_an_unknown_organisation_in_french_and_shows_nothing(
    pilot_client, events, value
):
    response = pilot_client.get(JOURNAL, {"organisation": value})

    assert response.context["form"].errors["organisation"] == [
        "Cette structure n'existe pas : ouvrez son journal depuis la liste des structures."
    ]
    assert _seqs(response) == set()


def test_it_refuses_the_journal_to_a_professional(member_client, events):
    response = member_client.get(JOURNAL)

    assert response.status_code == 403


def test_it_pages_through_the_journal_without_counting(manager_client, member_membership):
    recorded = [_record(member_membership) for _ in range(PAGE_SIZE + 3)]

    first = manager_client.get(JOURNAL)
    second = manager_client.get(JOURNAL, {"avant": first.context["next_before"]})

    assert len(_shown(first)) == PAGE_SIZE
    assert _shown(first)[0].seq == recorded[-1].seq
    assert _seqs(second) == {e.seq for e in recorded[:3]}
    assert second.context["next_before"] is None


def test_it_pages_through_the_organisations_events_and_its_members_logins_in_order(
    manager_client, member_membership
):
    recorded = []
    for number in range(PAGE_SIZE + 5):
        acting = number % 3 != 0
        action = AuditAction.ORGANISATION_UPDATED if acting else AuditAction.LOGIN
        recorded.append(_record(member_membership, action, acting=acting))
    newest_first = [event.seq for event in reversed(recorded)]

    first = manager_client.get(JOURNAL)
    second = manager_client.get(JOURNAL, {"avant": first.context["next_before"]})

    assert [event.seq for event in _shown(first)] == newest_first[:PAGE_SIZE]
    assert [event.seq for event in _shown(second)] == newest_first[PAGE_SIZE:]


@pytest.mark.parametrize("before", ["²", "abc", "9" * 30])
def test_a_page_start_that_is_not_a_row_number_shows_the_newest(
    manager_client, member_membership, before
):
    recorded = _record(member_membership)

    response = manager_client.get(JOURNAL, {"avant": before})

    assert response.status_code == 200
    assert recorded.seq in _seqs(response)


def _queries_for(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(JOURNAL)
    assert response.status_code == 200
    return len(queries)


def test_it_reads_the_journal_in_a_fixed_number_of_queries(
    manager_client, member_membership, django_assert_num_queries
):
    # The first request of a session checks the device and membership once and keeps
    # them in the session; measure the pages after it.
    manager_client.get(JOURNAL)
    for _ in range(5):
        _record(member_membership, person_label="Dossier", details={"champ": "valeur"})
    with_five = _queries_for(manager_client)
    for _ in range(45):
        _record(member_membership, person_label="Dossier", details={"champ": "valeur"})
    with_fifty = _queries_for(manager_client)

    assert with_five == with_fifty
    # Session, user, users to filter by, one page of events.
    with django_assert_num_queries(4):
        manager_client.get(JOURNAL)


def test_it_stops_showing_a_former_members_logins(manager_client, member_membership):
    during = _record(member_membership, AuditAction.LOGIN, acting=False)
    member_membership.ended_on = timezone.localdate()
    member_membership.save()
    after = _record(member_membership, AuditAction.LOGIN, acting=False)

    seqs = _seqs(manager_client.get(JOURNAL))

    assert after.seq not in seqs
    assert during.seq not in seqs


def test_it_names_the_data_category_of_a_read_and_says_yes_or_no_in_french(
    manager_client, member_membership
):
    _record(
        member_membership,
        AuditAction.SECTION_VIEWED,
        person_id=1,
        person_label="MARTIN Léa (n° 1)",
        category="couverture_sociale",
        details={"exceptionnel": False},
    )

    page = manager_client.get(JOURNAL).content.decode()

    assert "MARTIN Léa (n° 1) (Couverture sociale)" in page
    assert "Accès exceptionnel : non" in page


def test_it_hides_a_new_members_logins_from_before_they_joined(manager_client, organisation):
    """Their logins at a former employer belong to that employer's journal."""
    former = MembershipFactory(started_on=timezone.localdate() - timedelta(days=800))
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=400)):
        before = _record(former, AuditAction.LOGIN, acting=False)
    joined = MembershipFactory(user=former.user, organisation=organisation)
    since = _record(joined, AuditAction.LOGIN, acting=False)

    seqs = _seqs(manager_client.get(JOURNAL))

    assert since.seq in seqs
    assert before.seq not in seqs


def test_it_says_an_empty_detail_with_a_dash_not_none(manager_client, member_membership):
    _record(member_membership, AuditAction.ORGANISATION_SWITCHED, details={"depuis": None})

    page = unescape(manager_client.get(JOURNAL).content.decode())

    assert "Depuis : —" in page
    assert "None" not in page


def test_it_says_how_long_rows_are_kept(manager_client, settings):
    settings.RELAIS_RETENTION_JOURNAL = timedelta(days=365)

    page = unescape(manager_client.get(JOURNAL).content.decode())

    assert "Ses lignes sont effacées 12 mois après leur écriture." in page
    assert "effacé :" not in page


def test_the_pilot_acting_for_an_organisation_reads_the_platforms_journal_under_its_name(
    client, organisation, outsider
):
    """Its rows are every organisation's: the title says so, not the name of the
    organisation the pilot acts for; once one organisation's journal is opened, its
    name."""
    pilot = MembershipFactory(organisation=organisation, user__is_superuser=True)
    log_in(client, pilot.user, pilot)
    _record(outsider)

    everything = unescape(client.get(JOURNAL).content.decode())
    opened = unescape(
        client.get(JOURNAL, {"organisation": outsider.organisation_id}).content.decode()
    )

    assert "Journal des accès — plateforme" in everything
    assert outsider.organisation.name in everything
    assert f"Journal des accès — {outsider.organisation.name}" in opened


def _details_cell(response, seq: int) -> str:
    """The text of the « Détails » cell of row `seq`, as the page shows it."""
    row = re.search(rf"<tr><td>{seq}</td>(.*?)</tr>", response.content.decode(), re.DOTALL)
    assert row is not None, f"row {seq} not shown"
    cell = re.findall(r"<td>(.*?)</td>", row.group(1), re.DOTALL)[-1]
    return unescape(re.sub(r"<[^>]+>", " ", cell))


@pytest.fixture
def family_allowance():
    return ProcedureTypeFactory(slug="allocations-familiales", title="Allocations familiales")


# What the services write (see each action's service), what the manager reads instead, and
# the codes and field names that must no longer show.
WRITTEN_AND_READ = {
    "consent": (
        AuditAction.CONSENT_GRANTED,
        {
            "categories": "identite, famille, demarches, documents",
            "duree": "6m",
            "recueil": "signe",
        },
        [
            "Catégories : identité et coordonnées, famille et foyer, démarches, "
            "pièces justificatives",
            "Durée : 6 mois",
            "Recueil : signé sur place",
        ],
        ["identite", "6m", "duree", "recueil :", "categories"],
    ),
    "second_factor": (
        AuditAction.SECOND_FACTOR_VERIFIED,
        {"type": "totp"},
        ["Second facteur : application d'authentification"],
        ["totp", "type :"],
    ),
    "security_key_failed": (
        AuditAction.SECOND_FACTOR_FAILED,
        {"type": "cle"},
        ["Second facteur : clé de sécurité"],
        ["cle ", "type :"],
    ),
    "lockout": (
        AuditAction.LOCKOUT,
        {"type": "second_facteur"},
        ["Bloqué à l'étape : second facteur"],
        ["second_facteur"],
    ),
    "charter": (
        AuditAction.CHARTER_ACCEPTED,
        {"droits": "ccas × cesf, centre_social × cesf, type_retire × cesf"},
        [
            "Droits : CCAS / CIAS × conseiller(ère) en économie sociale et familiale, "
            "Centre social × conseiller(ère) en économie sociale et familiale, "
            "type_retire × conseiller(ère) en économie sociale et familiale",
        ],
        ["× cesf", "droits :"],
    ),
    "transition": (
        AuditAction.PROCEDURE_TRANSITION,
        {
            "demarche": "allocations-familiales",
            "de": "en_cours",
            "vers": "deposee",
            "date": "2026-11-01",
            "completude": 0,
            "transition": 25,
        },
        [
            "Démarche : Allocations familiales",
            "de « En cours » à « Déposée »",
            "Date : 01/11/2026",
            "Complétude : 0 %",
        ],
        ["allocations-familiales", "en_cours", "deposee", "2026-11-01", "transition", "25"],
    ),
    "step": (
        AuditAction.PROCEDURE_STEP_RECORDED,
        {"demarche": "allocations-familiales", "etape": 2, "autonomie": "seule", "modifiee": False},
        ["Étape : 2", "Autonomie : par la personne seule", "Étape corrigée : non"],
        ["etape", "autonomie : seule", "modifiee"],
    ),
    "list": (
        AuditAction.SECTION_VIEWED,
        {"exceptionnel": False, "liste": "mes_demarches"},
        ["Accès exceptionnel : non", "Liste : Mes démarches"],
        ["mes_demarches", "liste :"],
    ),
    "own_space": (
        AuditAction.SECTION_VIEWED,
        {"espace_personnel": True},
        ["Depuis l'espace personnel : oui"],
        ["espace_personnel"],
    ),
    "space_updated": (
        AuditAction.PERSON_ACCOUNT_UPDATED,
        {
            "phone_changed": True,
            "email_changed": False,
            "identity_document": "Carte nationale d'identité",
        },
        [
            "Portable changé : oui",
            "Courriel changé : non",
            "Pièce d'identité vérifiée : carte nationale d'identité",
        ],
        ["identity_document", "phone_changed", "email_changed"],
    ),
    "space_opened": (
        AuditAction.PERSON_ACCOUNT_OPENED,
        {"phone": True, "email": False, "identity_document": "Passeport", "reopened": True},
        ["Portable : oui", "Courriel : non", "Réouverture : oui"],
        ["phone", "email :", "reopened"],
    ),
    "document": (
        AuditAction.DOCUMENT_UPLOADED,
        {"type": "avis_imposition", "taille": 2048, "format": "pdf"},
        ["Type de pièce : avis d'imposition", "Taille : 2 Ko", "Format : PDF"],
        ["avis_imposition", "taille", "2048"],
    ),
    "checklist": (
        AuditAction.PROCEDURE_DOCUMENT_LINKED,
        {"demarche": "allocations-familiales", "type": "rib", "piece": 31},
        ["Pièce demandée : RIB", "Pièce : n° 31"],
        ["piece :", "type :"],
    ),
    "invitation": (
        AuditAction.INVITATION_SENT,
        {"role": "professionnel", "profession": "cesf"},
        ["Rôle : professionnel(le)", "Métier : conseiller(ère) en économie sociale et familiale"],
        ["role :", "cesf"],
    ),
    "profession_of_a_file_row": (
        AuditAction.NOTE_ADDED,
        {
            "profession": "Assistant(e) de service social",
            "visibilite": "auteur",
            "termes_sensibles": False,
        },
        [
            "Métier : assistant(e) de service social",
            "Visible par : son auteur seulement",
            "Termes sensibles confirmés : non",
        ],
        ["visibilite", "auteur :", "termes_sensibles"],
    ),
    "organisation_updated": (
        AuditAction.ORGANISATION_UPDATED,
        {"champs": "commune_name, kind"},
        ["Champs : commune, type de structure"],
        ["commune_name", "kind"],
    ),
    "procedure_dates": (
        AuditAction.PROCEDURE_UPDATED,
        {"demarche": "allocations-familiales", "due_on": "2026-12-31", "next_due_on": None},
        ["À faire avant le : 31/12/2026", "À refaire avant le : —"],
        ["due_on", "2026-12-31"],
    ),
    "reopened_procedure": (
        AuditAction.PROCEDURE_RECURRED,
        {"demarche": "allocations-familiales", "version": 3, "precedente": 14},
        ["Version de la fiche : 3", "Démarche précédente : n° 14"],
        ["precedente"],
    ),
    "reminder": (
        AuditAction.PROCEDURE_REMINDER_SENT,
        {"demarche": "allocations-familiales", "canal": "sms"},
        ["Envoyé par : SMS"],
        ["canal"],
    ),
    "catalogue": (
        AuditAction.CATALOGUE_LOADED,
        {"files": 4, "created": 2, "updated": 1, "unchanged": 30, "deactivated": 0},
        [
            "Fichiers lus : 4",
            "Fiches créées : 2",
            "Fiches modifiées : 1",
            "Fiches inchangées : 30",
            "Fiches retirées : 0",
        ],
        ["files", "created", "unchanged", "deactivated"],
    ),
    "catalogue_entry": (
        AuditAction.CATALOGUE_ENTRY_UPDATED,
        {"version": 2, "fields": "title,required_documents"},
        ["Champs : intitulé, pièces à fournir"],
        ["required_documents", "fields"],
    ),
    "code_sent": (
        AuditAction.PERSON_LOGIN_CODE_SENT,
        {"channel": "email", "purpose": "connexion"},
        ["Envoyé par : courriel", "Pour : connexion"],
        ["channel", "purpose", "email"],
    ),
    "login_failed": (
        AuditAction.PERSON_LOGIN_FAILED,
        {"method": "carte", "known": False},
        ["Par : carte", "Identifiant connu : non"],
        ["method", "known"],
    ),
    "logout": (
        AuditAction.PERSON_LOGOUT,
        {"expired": True},
        ["Session expirée : oui"],
        ["expired"],
    ),
    "break_glass": (
        AuditAction.BREAK_GLASS_OPENED,
        {"jusqua": "2026-03-10T13:05:00+00:00"},
        ["Jusqu'au : 10/03/2026 à 14:05"],
        ["jusqua", "2026-03-10T"],
    ),
    "merge": (
        AuditAction.PERSONS_MERGED,
        {
            "membres_du_foyer_deplaces": 2,
            "membres_du_foyer_deja_presents": 1,
            "ressources_deplacees": 3,
            "ressources_deja_presentes": 0,
        },
        [
            "Membres du foyer déplacés : 2",
            "Membres du foyer déjà présents : 1",
            "Ressources déplacées : 3",
            "Ressources déjà présentes : 0",
        ],
        ["deplaces", "deja_presents"],
    ),
    "removed_resource": (
        AuditAction.SECTION_UPDATED,
        {"suppression": True, "membre_du_foyer": 5},
        ["Suppression : oui", "Membre du foyer : n° 5"],
        ["membre_du_foyer"],
    ),
    "trimmed": (
        AuditAction.JOURNAL_TRIMMED,
        {
            "premiere_ligne_gardee": 120,
            "empreinte_avant_elle": "ab" * 32,
            "lignes_effacees": 119,
            "avant_le": "2025-01-31T00:00:00+01:00",
        },
        [
            "Première ligne gardée : n° 120",
            "Empreinte avant elle : " + "ab" * 32,
            "Lignes effacées : 119",
            "Écrites avant le : 31/01/2025 à 00:00",
        ],
        ["premiere_ligne_gardee", "lignes_effacees", "avant_le"],
    ),
    "archived": (
        AuditAction.PERSON_ARCHIVED,
        {"dernier_contact": "2019-05-02"},
        ["Dernier contact : 02/05/2019"],
        ["dernier_contact", "2019-05-02"],
    ),
    "keys": (
        AuditAction.KEYS_ROTATED,
        {"pieces": 3, "echecs": 1, "en_echec": "7"},
        ["Pièces rechiffrées : 3", "Échecs : 1", "En échec : n° 7"],
        ["echecs :", "en_echec"],
    ),
    "export": (
        AuditAction.PERSON_DATA_EXPORTED,
        {"format_version": 1, "pieces": 4},
        ["Version du format : 1", "Pièces : 4"],
        ["format_version", "pieces"],
    ),
    "names_changed": (
        AuditAction.ADMIN_CHANGE,
        {"avant": "Léa Martin", "apres": "Léa Durand"},
        ["Avant : Léa Martin", "Après : Léa Durand"],
        ["apres"],
    ),
    "search": (
        AuditAction.PERSON_SEARCH,
        {"resultats": 3},
        ["Résultats : 3"],
        ["resultats"],
    ),
    "recovered": (
        AuditAction.PERSON_ACCOUNT_RECOVERED,
        {"identity_document": "Passeport", "new_card": True, "new_password": False},
        ["Nouvelle carte : oui", "Nouveau mot de passe : non"],
        ["new_card", "new_password"],
    ),
}


@pytest.mark.parametrize(
    ("action", "details", "french", "codes"),
    WRITTEN_AND_READ.values(),
    ids=WRITTEN_AND_READ.keys(),
)
def test_it_shows_each_detail_in_french_without_codes(
    pilot_client, member_membership, family_allowance, action, details, french, codes
):
    row = _record(member_membership, action, details=details)

    cell = _details_cell(pilot_client.get(JOURNAL), row.seq)

    for text in french:
        assert text in cell
    for code in codes:
        assert code not in cell


def test_it_names_the_organisation_a_consent_is_given_to(
    manager_client, member_membership, outsider
):
    row = _record(
        member_membership,
        AuditAction.CONSENT_GRANTED,
        details={"structure_id": outsider.organisation_id, "duree": "1a", "recueil": "code"},
    )

    cell = _details_cell(manager_client.get(JOURNAL), row.seq)

    assert f"Structure : {outsider.organisation.name}" in cell
    assert "Recueil : confirmé par un code envoyé à la personne" in cell
    assert "structure_id" not in cell


def test_it_numbers_an_organisation_that_no_longer_exists(manager_client, member_membership):
    row = _record(
        member_membership, AuditAction.SECOND_FACTOR_RESET, details={"structure_id": 999999}
    )

    cell = _details_cell(manager_client.get(JOURNAL), row.seq)

    assert "Structure : n° 999999" in cell


def test_it_shows_an_unknown_key_humanised_and_its_value_as_written(
    manager_client, member_membership
):
    row = _record(member_membership, details={"champ_nouveau": "valeur brute", "drapeau": True})

    cell = _details_cell(manager_client.get(JOURNAL), row.seq)

    assert "Champ nouveau : valeur brute" in cell
    assert "Drapeau : oui" in cell


def test_it_shows_a_value_it_cannot_read_as_written(manager_client, member_membership):
    row = _record(
        member_membership,
        AuditAction.PROCEDURE_TRANSITION,
        details={
            "demarche": "retiree-du-catalogue",
            "de": "etat_ancien",
            "vers": "deposee",
            "date": "pas une date",
            "duree": 12,
        },
    )

    cell = _details_cell(manager_client.get(JOURNAL), row.seq)

    assert "Démarche : retiree-du-catalogue" in cell
    assert "de « etat_ancien » à « Déposée »" in cell
    assert "Date : pas une date" in cell
    assert "Durée : 12" in cell


def test_it_reads_catalogue_titles_and_organisation_names_in_one_query_each(
    manager_client, member_membership, family_allowance, django_assert_num_queries
):
    manager_client.get(JOURNAL)
    others = ProcedureTypeFactory.create_batch(3)
    organisations = OrganisationFactory.create_batch(3)
    for number in range(PAGE_SIZE):
        _record(
            member_membership,
            AuditAction.PROCEDURE_STEP_RECORDED,
            details={"demarche": others[number % 3].slug, "etape": 1},
        )
        _record(
            member_membership,
            AuditAction.CONSENT_GRANTED,
            details={"structure_id": organisations[number % 3].pk},
        )

    # Session, user, users to filter by, one page of events, catalogue titles,
    # organisation names.
    with django_assert_num_queries(6):
        page = manager_client.get(JOURNAL).content.decode()

    assert all(other.title in unescape(page) for other in others)
    assert all(organisation.name in unescape(page) for organisation in organisations)
