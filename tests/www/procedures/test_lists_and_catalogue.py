"""The lists across files (« Mes démarches », the organisation's procedures) and the
catalogue with its printable guides and the pilot's edit."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.audit.verification import verify_chain
from relais.documents.models import DocumentKind
from relais.persons.categories import DataCategory
from relais.procedures.models import ProcedureStatus, ProcedureType
from tests.conftest import log_in
from tests.factories import MembershipFactory, UserFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import (
    DocumentFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    RequiredDocumentFactory,
)

pytestmark = pytest.mark.django_db

ALL_BUT_PROCEDURES = [c for c in DataCategory.values if c != DataCategory.PROCEDURES]
MINE = reverse("procedures:mine")
ORGANISATION = reverse("procedures:organisation")


def _followed(organisation, **consent):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation, **consent)
    return person


def _tracked(person, organisation, *, title="Demander le RSA", documents=1, **fields):
    """A procedure with `documents` checklist lines, the first one satisfied."""
    procedure = ProcedureFactory(
        person=person,
        organisation=organisation,
        procedure_type=ProcedureTypeFactory(title=title),
        **fields,
    )
    for index in range(documents):
        RequiredDocumentFactory(
            procedure=procedure,
            document=DocumentFactory(person=person) if index == 0 else None,
        )
    return procedure


def _days(n):
    return timezone.localdate() + timedelta(days=n)


# « Mes démarches ».


def test_it_lists_the_procedures_of_the_persons_i_may_see(member_client, organisation):
    mine = _followed(organisation)
    without_procedures = _followed(organisation, categories=ALL_BUT_PROCEDURES)
    elsewhere = MembershipFactory().organisation
    stranger = _followed(elsewhere)
    _tracked(mine, organisation, title="Demander la prime d'activité", documents=2)
    _tracked(mine, elsewhere, title="Renouveler le titre de séjour")
    _tracked(without_procedures, organisation, title="Demander l'AAH")
    _tracked(stranger, elsewhere, title="Demander une carte Vitale")

    response = member_client.get(MINE)

    text = response.content.decode()
    assert response.status_code == 200
    assert "Demander la prime d&#x27;activité" in text
    assert "Renouveler le titre de séjour" in text
    assert "50 %" in text
    assert mine.display_name in text
    assert "Demander l&#x27;AAH" not in text
    assert "Demander une carte Vitale" not in text
    assert 'aria-current="page">Mes démarches' in text


def test_it_shows_the_procedures_in_progress_by_default(member_client, organisation):
    person = _followed(organisation)
    _tracked(person, organisation, title="Une démarche en cours")
    _tracked(person, organisation, title="Une démarche accordée", granted=True)

    default = member_client.get(MINE).content.decode()
    every = member_client.get(MINE, {"etat": ""}).content.decode()

    assert "Une démarche en cours" in default
    assert "Une démarche accordée" not in default
    assert "Une démarche accordée" in every


def test_it_filters_by_due_date(member_client, organisation):
    person = _followed(organisation)
    _tracked(person, organisation, title="Bientôt", due_on=_days(5))
    _tracked(person, organisation, title="Plus tard", due_on=_days(40))
    _tracked(person, organisation, title="Sans échéance")

    text = member_client.get(MINE, {"etat": "ouvertes", "echeance": "10"}).content.decode()

    assert "Bientôt" in text
    assert "Plus tard" not in text
    assert "Sans échéance" not in text


def test_it_filters_the_procedures_with_missing_documents(member_client, organisation):
    person = _followed(organisation)
    _tracked(person, organisation, title="Complète", documents=1)
    _tracked(person, organisation, title="Incomplète", documents=2)

    text = member_client.get(MINE, {"pieces_manquantes": "on"}).content.decode()

    assert "Incomplète" in text
    assert "Complète" not in text.replace("Incomplète", "")


def test_it_filters_the_procedures_waiting_for_an_answer(member_client, organisation):
    person = _followed(organisation)
    _tracked(
        person,
        organisation,
        title="Déposée il y a longtemps",
        status=ProcedureStatus.AWAITING,
        requested_on=_days(-60),
        submitted_on=_days(-45),
    )
    _tracked(
        person,
        organisation,
        title="Déposée récemment",
        status=ProcedureStatus.SUBMITTED,
        requested_on=_days(-20),
        submitted_on=_days(-10),
    )

    text = member_client.get(MINE, {"attente": "30"}).content.decode()

    assert "Déposée il y a longtemps" in text
    assert "Déposée récemment" not in text


def test_it_filters_by_status(member_client, organisation):
    person = _followed(organisation)
    _tracked(person, organisation, title="À commencer")
    _tracked(person, organisation, title="Chez l'organisme", submitted=True)

    text = member_client.get(MINE, {"etat": "deposee"}).content.decode()

    assert "Chez l&#x27;organisme" in text
    assert "À commencer" not in text


@pytest.mark.parametrize(
    "query",
    [
        {"echeance": "-3"},
        {"attente": "beaucoup"},
        {"etat": "perdue"},
        {"page": "0"},
        {"page": "99999999999999999999"},
    ],
)
def test_it_explains_a_bad_filter_and_lists_nothing(member_client, organisation, query):
    _tracked(_followed(organisation), organisation, title="Une démarche")

    response = member_client.get(MINE, query)

    text = response.content.decode()
    assert response.status_code == 200
    assert "fr-error-text" in text
    assert "Une démarche" not in text


def test_it_pages_the_list(member_client, organisation):
    person = _followed(organisation)
    for n in range(23):
        _tracked(person, organisation, title=f"Démarche n° {n:02d}", due_on=_days(n + 1))

    first = member_client.get(MINE).content.decode()
    second = member_client.get(MINE, {"etat": "ouvertes", "page": "2"}).content.decode()

    assert first.count("Démarche n° ") == 20
    assert "Démarche n° 00" in first and "Démarche n° 20" not in first
    assert "?etat=ouvertes&amp;page=2" in first
    assert second.count("Démarche n° ") == 3
    assert "Démarche n° 22" in second


def test_submitted_declarations_do_not_hide_a_deadline_to_meet(member_client, organisation):
    """Two years of monthly declarations, each submitted on time (a declaration is never
    « accordée »), and one procedure not started, due in two days."""
    person = _followed(organisation)
    monthly = ProcedureTypeFactory(title="Déclarer ses ressources", recurrence_months=1)
    previous = None
    for month in range(24, 0, -1):
        due_on = _days(-30 * month)
        previous = ProcedureFactory(
            person=person,
            organisation=organisation,
            procedure_type=monthly,
            previous=previous,
            status=ProcedureStatus.SUBMITTED,
            requested_on=due_on - timedelta(days=30),
            submitted_on=due_on,
            due_on=due_on,
        )
    _tracked(person, organisation, title="Demander la CSS avant la fin du mois", due_on=_days(2))

    first_page = member_client.get(MINE).content.decode()
    due_soon = member_client.get(MINE, {"etat": "ouvertes", "echeance": "7"}).content.decode()
    waiting = member_client.get(MINE, {"etat": "ouvertes", "attente": "30"}).content.decode()

    assert "Demander la CSS avant la fin du mois" in first_page
    assert "Demander la CSS avant la fin du mois" in due_soon
    assert "Déclarer ses ressources" not in due_soon
    # Only the last declaration, whose next occurrence is not open yet.
    assert waiting.count("Déclarer ses ressources") == 1


@pytest.mark.parametrize(
    ("url", "query", "said"),
    [
        (MINE, {}, "Aucune démarche en cours pour le moment."),
        (MINE, {"etat": ""}, "Aucune démarche pour le moment."),
        (ORGANISATION, {}, "Aucune démarche pour le moment."),
    ],
)
def test_an_empty_list_says_there_is_no_procedure_yet(manager_client, url, query, said):
    """Without a filter, an empty list is not a search that found nothing."""
    text = manager_client.get(url, query).content.decode()

    assert said in text
    assert "ne correspond" not in text
    assert f'href="{reverse("persons:list")}">Mes personnes accompagnées</a>' in text


@pytest.mark.parametrize(
    "query",
    [
        {"etat": "deposee"},
        {"etat": "ouvertes", "echeance": "10"},
        {"etat": "", "pieces_manquantes": "on"},
        {"attente": "30"},
    ],
)
def test_an_empty_filtered_list_says_nothing_matches(member_client, organisation, query):
    _tracked(_followed(organisation), organisation, documents=0)

    text = member_client.get(MINE, query).content.decode()

    assert "Aucune démarche ne correspond à ces critères." in text
    assert "pour le moment" not in text


@pytest.mark.parametrize("query", [{"etat": "ouvertes"}, {"pieces_manquantes": "on"}])
def test_a_page_past_the_end_says_it_is_empty(member_client, organisation, query):
    _tracked(_followed(organisation), organisation, documents=2)

    text = member_client.get(MINE, query | {"page": "2"}).content.decode()

    assert "Aucune démarche sur cette page." in text


def test_it_answers_404_to_a_pilot_without_an_organisation(pilot_client):
    assert pilot_client.get(MINE).status_code == 404


# The organisation's list.


def test_it_keeps_the_organisation_list_for_managers(member_client):
    assert member_client.get(ORGANISATION).status_code == 403


def test_it_lists_the_organisations_procedures_with_the_median_times(manager_client, organisation):
    person = _followed(organisation)
    hidden = _followed(organisation, categories=ALL_BUT_PROCEDURES)
    elsewhere = MembershipFactory().organisation
    for handled, decided in ((10, 4), (20, 6), (31, None)):
        requested = _days(-60)
        _tracked(
            person,
            organisation,
            title=f"Traitée en {handled} jours",
            status=ProcedureStatus.GRANTED if decided else ProcedureStatus.SUBMITTED,
            requested_on=requested,
            taken_on=requested + timedelta(days=handled // 10),
            submitted_on=requested + timedelta(days=handled),
            decided_on=requested + timedelta(days=handled + decided) if decided else None,
        )
    _tracked(person, elsewhere, title="Suivie ailleurs")
    _tracked(hidden, organisation, title="Sans accord sur les démarches")

    response = manager_client.get(ORGANISATION)

    text = response.content.decode()
    assert response.status_code == 200
    assert "Traitée en 10 jours" in text and "Traitée en 31 jours" in text
    assert "Suivie ailleurs" not in text
    assert "Sans accord sur les démarches" not in text
    assert "2 jours, de la demande à sa prise en charge (3 démarches prises en charge)" in text
    assert "20 jours, de la demande au dépôt (3 démarches déposées)" in text
    assert "5 jours, du dépôt à la décision (2 décisions)" in text


# Query counts: the same whatever the number of procedures listed (session, user, one
# page of procedures, their checklists, the linked documents; the medians for the
# organisation).

# Four of them journal what the page shows (see the test below), in one statement whatever
# the number of files.
QUERIES = {"mine": 10, "organisation": 11}


def test_the_list_journals_the_procedures_of_each_file_it_shows(member_client, organisation):
    shown = [_followed(organisation) for _ in range(3)]
    for person in shown:
        _tracked(person, organisation)
    others = _followed(organisation)

    member_client.get(MINE)

    viewed = AuditEvent.objects.filter(action=AuditAction.SECTION_VIEWED)
    assert sorted(viewed.values_list("person_id", "category")) == sorted(
        (person.pk, DataCategory.PROCEDURES) for person in shown
    )
    assert {event.details["liste"] for event in viewed} == {"mes_demarches"}
    assert not viewed.filter(person_id=others.pk).exists()
    assert verify_chain().intact


@pytest.mark.parametrize("size", [5, 15])
def test_it_pins_the_queries_of_my_procedures(
    member_client, organisation, size, django_assert_num_queries
):
    for n in range(size):
        _tracked(_followed(organisation), organisation, documents=n % 3, due_on=_days(n))
    member_client.get(MINE)

    with django_assert_num_queries(QUERIES["mine"]):
        response = member_client.get(MINE)

    assert response.content.decode().count("Demander le RSA") == size


@pytest.mark.parametrize("size", [5, 15])
def test_it_pins_the_queries_of_the_organisation_list(
    manager_client, organisation, size, django_assert_num_queries
):
    for n in range(size):
        _tracked(_followed(organisation), organisation, documents=n % 3, submitted=True)
    manager_client.get(ORGANISATION)

    with django_assert_num_queries(QUERIES["organisation"]):
        response = manager_client.get(ORGANISATION)

    assert response.content.decode().count("Demander le RSA") == size


# The catalogue.


@pytest.fixture
def entries():
    return {
        "cni": ProcedureTypeFactory(
            slug="cni-demande",
            title="Demander une carte d'identité",
            organisme="Mairie",
            category="papiers",
        ),
        "apl": ProcedureTypeFactory(
            slug="apl-demande",
            title="Demander l'aide au logement",
            category="logement",
            online_url="https://wwwd.caf.fr/wps/portal/caffr/aidesetdemarches",
        ),
        "old": ProcedureTypeFactory(slug="ancienne", title="Une démarche retirée", inactive=True),
    }


def test_it_lists_the_catalogue_by_theme(member_client, entries):
    text = member_client.get(reverse("procedures:catalogue")).content.decode()

    assert text.index(">Papiers</h2>") < text.index("Demander une carte d&#x27;identité")
    assert text.index(">Logement</h2>") < text.index("Demander l&#x27;aide au logement")
    assert "Une démarche retirée" not in text


def test_it_searches_the_catalogue(member_client, entries):
    response = member_client.get(reverse("procedures:catalogue"), {"q": "logement"})

    text = response.content.decode()
    assert "Demander l&#x27;aide au logement" in text
    assert "Demander une carte d&#x27;identité" not in text


def test_it_shows_a_catalogue_entry(member_client, entries):
    response = member_client.get(reverse("procedures:catalogue_entry", args=["apl-demande"]))

    text = response.content.decode()
    assert response.status_code == 200
    assert "Allez sur le site de la CAF." in text
    assert "Justificatif de domicile (si vous êtes hébergé)" in text
    assert "https://wwwd.caf.fr/wps/portal/caffr/aidesetdemarches" in text
    assert reverse("procedures:guide", args=["apl-demande"]) in text
    assert reverse("procedures:catalogue_edit", args=["apl-demande"]) not in text


def test_an_empty_catalogue_is_not_a_search_that_found_nothing(member_client):
    ProcedureType.objects.update(is_active=False)

    listing = member_client.get(reverse("procedures:catalogue")).content.decode()
    search = member_client.get(reverse("procedures:catalogue"), {"q": "RSA"}).content.decode()

    assert "Le catalogue ne propose aucune démarche pour le moment." in listing
    assert "ne correspond" not in listing
    assert "Aucune démarche ne correspond à votre recherche." in search


def test_a_search_that_finds_nothing_says_so(member_client, entries):
    text = member_client.get(reverse("procedures:catalogue"), {"theme": "justice"}).content.decode()

    assert "Aucune démarche ne correspond à votre recherche." in text


def test_it_hides_a_withdrawn_entry_from_professionals(member_client, entries):
    response = member_client.get(reverse("procedures:catalogue_entry", args=["ancienne"]))

    assert response.status_code == 403
    assert "Une démarche retirée" not in response.content.decode()


def test_it_answers_404_for_an_entry_that_does_not_exist(entries):
    member = MembershipFactory()
    for client in (
        log_in(Client(), member.user, member),
        log_in(Client(), UserFactory(pilot=True)),
    ):
        for name in ("catalogue_entry", "guide"):
            response = client.get(reverse(f"procedures:{name}", args=["inconnue"]))

            assert response.status_code == 404


def test_it_prints_an_easy_to_read_guide_without_personal_data(
    member_client, entries, organisation
):
    person = _followed(organisation)

    response = member_client.get(reverse("procedures:guide", args=["apl-demande"]))

    text = response.content.decode()
    assert response.status_code == 200
    steps = text[text.index("<ol>") : text.index("</ol>")]
    assert steps.count("<li>") == 3
    assert text.count('class="relais-box"') == 2
    assert "Organisme : CAF" in text
    assert "https://www.service-public.fr/particuliers/vosdroits/N19775</span>" in text
    assert "Guide vérifié le 15 janvier 2025" in text
    assert "font-size: 16pt" in text
    assert "relais/print.js" in text
    assert "data-relais-print" in text
    assert person.display_name not in text
    assert f"/personnes/{person.pk}/" not in text
    assert "<title>Guide à imprimer : " in text


def test_it_lists_the_withdrawn_entries_for_the_pilot(pilot_client, entries):
    listing = pilot_client.get(reverse("procedures:catalogue")).content.decode()
    withdrawn = pilot_client.get(reverse("procedures:catalogue_withdrawn"))
    entry = pilot_client.get(reverse("procedures:catalogue_entry", args=["ancienne"]))
    guide = pilot_client.get(reverse("procedures:guide", args=["ancienne"]))

    assert "Une démarche retirée" not in listing
    assert reverse("procedures:catalogue_withdrawn") in listing
    assert withdrawn.status_code == 200
    text = withdrawn.content.decode()
    assert "Une démarche retirée" in text
    assert "Demander l&#x27;aide au logement" not in text
    assert reverse("procedures:catalogue_entry", args=["ancienne"]) in text
    assert reverse("procedures:catalogue_edit", args=["ancienne"]) in text
    assert entry.status_code == guide.status_code == 200
    assert "non proposée aux professionnels" in entry.content.decode()
    assert reverse("procedures:catalogue_edit", args=["ancienne"]) in entry.content.decode()


def test_it_keeps_the_withdrawn_entries_to_the_pilot(entries):
    member, manager = MembershipFactory(), MembershipFactory(manager=True)
    for membership in (member, manager):
        client = log_in(Client(), membership.user, membership)
        listing = client.get(reverse("procedures:catalogue")).content.decode()

        assert reverse("procedures:catalogue_withdrawn") not in listing
        for name, args in (
            ("catalogue_withdrawn", []),
            ("catalogue_entry", ["ancienne"]),
            ("guide", ["ancienne"]),
        ):
            assert client.get(reverse(f"procedures:{name}", args=args)).status_code == 403


def test_it_brings_a_withdrawn_entry_back(pilot_client, entries):
    response = _edit(pilot_client, "ancienne", title="Une démarche proposée à nouveau")

    assert response.status_code == 302
    assert ProcedureType.objects.get(slug="ancienne").is_active
    member = MembershipFactory()
    listing = log_in(Client(), member.user, member).get(reverse("procedures:catalogue"))
    assert "Une démarche proposée à nouveau" in listing.content.decode()


def _edit(client, slug, **changes):
    data = {
        "title": "Demander l'aide au logement (APL)",
        "summary": "Une aide pour payer le loyer.",
        "steps": "Préparez vos papiers.\r\nAllez sur le site de la CAF.\r\n\r\nEnvoyez la demande.",
        "info_url": "https://www.service-public.fr/particuliers/vosdroits/F12006",
        "online_url": "",
        "processing_days": "60",
        "recurrence_months": "",
        "benefit": "aide_logement",
        "verified_on": "2025-06-01",
        "is_active": "on",
    } | changes
    return client.post(reverse("procedures:catalogue_edit", args=[slug]), data)


def test_it_saves_the_pilots_edit_and_journals_it(pilot_client, entries):
    page = pilot_client.get(reverse("procedures:catalogue_edit", args=["apl-demande"]))
    assert page.status_code == 200
    assert "Allez sur le site de la CAF." in page.content.decode()

    response = _edit(pilot_client, "apl-demande")

    assert response.status_code == 302
    entry = ProcedureType.objects.get(slug="apl-demande")
    assert entry.title == "Demander l'aide au logement (APL)"
    assert entry.steps == [
        "Préparez vos papiers.",
        "Allez sur le site de la CAF.",
        "Envoyez la demande.",
    ]
    assert (entry.processing_days, entry.benefit, entry.online_url) == (60, "aide_logement", "")
    assert entry.verified_on == date(2025, 6, 1)
    assert entry.version == 2
    assert AuditEvent.objects.filter(
        action=AuditAction.CATALOGUE_ENTRY_UPDATED, object_id="apl-demande"
    ).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"steps": "Une seule étape."},
        {"steps": "Une étape.\n" + "x" * 301},
        {"info_url": "http://www.service-public.fr/"},
        {"info_url": "pas une adresse"},
        {"verified_on": (timezone.localdate() + timedelta(days=1)).isoformat()},
        {"title": ""},
        {"benefit": "Aide Logement"},
        {"recurrence_months": "99"},
        {"processing_days": "99999999999999999999"},
    ],
    ids=[
        "une-etape",
        "etape-trop-longue",
        "http",
        "pas-une-adresse",
        "verifie-dans-le-futur",
        "sans-titre",
        "prestation-invalide",
        "recurrence-trop-longue",
        "delai-demesure",
    ],
)
def test_it_refuses_a_bad_edit_and_changes_nothing(pilot_client, entries, changes):
    before = ProcedureType.objects.values().get(slug="apl-demande")

    response = _edit(pilot_client, "apl-demande", **changes)

    assert response.status_code == 400
    assert "fr-error-text" in response.content.decode()
    assert ProcedureType.objects.values().get(slug="apl-demande") == before
    assert not AuditEvent.objects.filter(action=AuditAction.CATALOGUE_ENTRY_UPDATED).exists()


def test_it_keeps_the_edit_and_the_file_for_the_pilot(member_client, manager_client, entries):
    for url in (
        reverse("procedures:catalogue_edit", args=["apl-demande"]),
        reverse("procedures:catalogue_toml", args=["apl-demande"]),
    ):
        assert member_client.get(url).status_code == 403
    assert _edit(manager_client, "apl-demande").status_code == 403
    assert ProcedureType.objects.get(slug="apl-demande").version == 1


def test_it_gives_the_pilot_the_entry_as_toml(pilot_client, entries):
    response = pilot_client.get(reverse("procedures:catalogue_toml", args=["apl-demande"]))

    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="apl-demande.toml"'
    assert text.startswith('[[demarche]]\nslug = "apl-demande"')
    assert 'type = "justificatif_domicile"' in text


def test_it_opens_the_catalogue_to_a_professional_of_another_organisation(entries):
    membership = MembershipFactory()
    client = log_in(Client(), membership.user, membership)

    assert client.get(reverse("procedures:guide", args=["cni-demande"])).status_code == 200


def test_it_names_health_documents_in_the_guide_too(member_client):
    ProcedureTypeFactory(
        slug="aah",
        required_documents=[
            {"kind": DocumentKind.MEDICAL_CERTIFICATE.value, "condition": ""},
        ],
    )

    text = member_client.get(reverse("procedures:guide", args=["aah"])).content.decode()

    assert "Certificat médical" in text
