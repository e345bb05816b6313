"""The data migrations of the procedures, run on rows written by the previous schema."""

import datetime

import pytest

from tests.factories import OrganisationFactory
from tests.migrations import migrate_to, migrate_to_latest
from tests.persons.factories import PersonFactory

STEPS = ["Préparez vos papiers.", "Allez sur le site de la CAF."]


@pytest.fixture(autouse=True)
def _latest_schema_after():
    """The tests that follow run on the current schema."""
    yield
    migrate_to_latest()


def _entry(apps):
    return apps.get_model("procedures", "ProcedureType").objects.create(
        slug="rsa-demande",
        title="Demander le RSA",
        organisme="CAF",
        category="social",
        summary="Une aide en argent.",
        steps=STEPS,
        info_url="https://www.service-public.fr/particuliers/vosdroits/N19775",
        verified_on="2025-01-15",
    )


def test_the_procedures_opened_before_take_the_steps_of_their_entry(transactional_db):
    apps = migrate_to(("procedures", "0001_initial"))
    entry = _entry(apps)
    opened = apps.get_model("procedures", "Procedure").objects.create(
        person_id=PersonFactory().pk,
        procedure_type_id=entry.pk,
        organisation_id=OrganisationFactory().pk,
        requested_on="2025-03-03",
    )

    apps = migrate_to(("procedures", "0002_procedure_steps"))

    assert apps.get_model("procedures", "Procedure").objects.get(pk=opened.pk).steps == STEPS


def test_the_changes_logged_before_take_the_day_they_happened(transactional_db):
    apps = migrate_to(("procedures", "0002_procedure_steps"))
    refused = apps.get_model("procedures", "Procedure").objects.create(
        person_id=PersonFactory().pk,
        procedure_type_id=_entry(apps).pk,
        organisation_id=OrganisationFactory().pk,
        status="refusee",
        requested_on="2025-03-03",
        taken_on="2025-03-05",
        submitted_on="2025-03-20",
        decided_on="2025-04-18",
        refusal_reason="Ressources trop élevées.",
    )
    moves = [
        ("", "a_faire", "2025-03-10T09:00:00+00:00"),
        ("a_faire", "en_cours", "2025-03-10T09:05:00+00:00"),
        # Entered late in the evening: the French day is already the next one.
        ("en_cours", "pieces_manquantes", "2025-03-10T23:30:00+00:00"),
        ("pieces_manquantes", "en_cours", "2025-03-12T10:00:00+00:00"),
        ("en_cours", "deposee", "2025-03-25T10:00:00+00:00"),
        ("deposee", "refusee", "2025-04-22T10:00:00+00:00"),
    ]
    transitions = [
        apps.get_model("procedures", "ProcedureTransition").objects.create(
            procedure_id=refused.pk,
            from_status=from_status,
            to_status=to_status,
            at=datetime.datetime.fromisoformat(at),
            actor_label="Prénom Nom",
        )
        for from_status, to_status, at in moves
    ]

    apps = migrate_to(("procedures", "0003_proceduretransition_on"))

    migrated = apps.get_model("procedures", "ProcedureTransition").objects.in_bulk(
        [transition.pk for transition in transitions]
    )
    assert [migrated[transition.pk].on for transition in transitions] == [
        datetime.date(2025, 3, 3),
        datetime.date(2025, 3, 5),
        datetime.date(2025, 3, 11),
        datetime.date(2025, 3, 12),
        datetime.date(2025, 3, 20),
        datetime.date(2025, 4, 18),
    ]


def _opened(apps, slug, lines):
    entry = _entry(apps)
    entry.slug = slug
    entry.save()
    procedure = apps.get_model("procedures", "Procedure").objects.create(
        person_id=PersonFactory().pk,
        procedure_type_id=entry.pk,
        organisation_id=OrganisationFactory().pk,
        requested_on="2025-03-03",
    )
    RequiredDocument = apps.get_model("procedures", "RequiredDocument")
    return [RequiredDocument.objects.create(procedure_id=procedure.pk, **line).pk for line in lines]


def test_the_lines_opened_before_take_what_the_catalogue_says_of_them(transactional_db):
    apps = migrate_to(("procedures", "0004_checklist_groups_and_situations"))
    payslip = apps.get_model("documents", "Document").objects.create(
        person_id=PersonFactory().pk, kind="bulletin_salaire"
    )
    registration = _opened(
        apps,
        "france-travail-inscription",
        [
            {"kind": "cni", "condition": "si vous êtes de nationalité française"},
            {
                "kind": "titre_sejour",
                "condition": "si vous n'êtes pas de nationalité française : il doit vous "
                "permettre de travailler",
            },
            {"kind": "bulletin_salaire", "condition": "si vous avez travaillé"},
            {"kind": "rib", "condition": ""},
        ],
    )
    linked = _opened(
        apps,
        "france-travail-actualisation",
        [
            {
                "kind": "bulletin_salaire",
                "condition": "si vous avez travaillé ce mois-ci",
                "document_id": payslip.pk,
            }
        ],
    )
    # An entry the catalogue no longer holds: the former rule pairs the exact words.
    former = _opened(
        apps,
        "une-demarche-retiree",
        [
            {"kind": "cni", "condition": "si vous êtes de nationalité française"},
            {"kind": "titre_sejour", "condition": "si vous n'êtes pas de nationalité française"},
            {"kind": "livret_famille", "condition": "si vous avez des enfants"},
        ],
    )
    alone = _opened(
        apps, "une-autre", [{"kind": "cni", "condition": "si vous êtes de nationalité française"}]
    )

    apps = migrate_to(("procedures", "0005_checklist_lines_from_the_catalogue"))

    lines = apps.get_model("procedures", "RequiredDocument").objects.in_bulk()

    def marks(pk):
        line = lines[pk]
        return (line.group, line.conditional, line.concerned)

    assert [marks(pk) for pk in registration] == [
        ("identite", False, False),
        ("identite", False, False),
        ("", True, False),
        ("", False, False),
    ]
    assert [marks(pk) for pk in linked] == [("", True, True)]
    assert [marks(pk) for pk in former] == [
        ("identite", False, False),
        ("identite", False, False),
        ("", False, False),
    ]
    assert [marks(pk) for pk in alone] == [("", False, False)]


def test_the_lines_opened_before_take_the_freshness_rule_their_words_say(transactional_db):
    apps = migrate_to(("procedures", "0006_requireddocument_fresh_months"))
    lines = _opened(
        apps,
        "carte-identite",
        [
            {"kind": "photo_identite", "condition": "de moins de 6 mois"},
            {"kind": "justificatif_domicile", "condition": "de moins de 1 an", "group": "adresse"},
            {
                "kind": "certificat_medical",
                "condition": "le certificat pour la MDPH, de moins de 1 an",
            },
            {"kind": "cni", "condition": "l'ancienne carte, si vous la renouvelez"},
            {"kind": "rib", "condition": ""},
        ],
    )

    apps = migrate_to(("procedures", "0007_checklist_freshness_from_the_catalogue"))

    migrated = apps.get_model("procedures", "RequiredDocument").objects.in_bulk()
    assert [migrated[pk].fresh_months for pk in lines] == [6, 12, 12, None, None]
    assert [migrated[pk].condition for pk in lines][:2] == [
        "de moins de 6 mois",
        "de moins de 1 an",
    ]
