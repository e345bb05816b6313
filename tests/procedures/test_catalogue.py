import datetime
import shutil
import tomllib
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.procedures.catalogue import (
    CATALOGUE_DIR,
    CatalogueError,
    catalogue_dump,
    catalogue_dump_all,
    load_catalogue,
    procedure_type_update,
)
from relais.procedures.models import ProcedureCategory, ProcedureType
from relais.procedures.services import procedure_open
from tests.persons.factories import PersonFactory
from tests.procedures.factories import ProcedureFactory, ProcedureTypeFactory

pytestmark = pytest.mark.django_db

GOOD = Path(__file__).parent / "catalogue_fixtures" / "good"
PILOT = Actor(user_id=1, label="Pilote régional")
ENTRY_1 = "social.toml, démarche n° 1 (« rsa-demande ») : "


@pytest.fixture
def catalogue(tmp_path) -> Path:
    """A writable copy of the good fixture files."""
    folder = tmp_path / "catalogue"
    shutil.copytree(GOOD, folder)
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _load_error(folder: Path) -> str:
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(folder)
    return str(raised.value)


def test_it_loads_the_good_files():
    report = load_catalogue(GOOD)

    assert (report.files, report.created, report.updated, report.unchanged) == (2, 3, 0, 0)
    rsa = ProcedureType.objects.get(slug="rsa-demande")
    assert rsa.title == "Demander le RSA"
    assert rsa.category == ProcedureCategory.SOCIAL
    assert rsa.source_file == "social.toml"
    assert rsa.steps[1] == "Allez sur le site de la CAF."
    assert rsa.required_documents == [
        {"kind": "cni", "condition": ""},
        {"kind": "justificatif_domicile", "condition": "si vous êtes hébergé"},
    ]
    assert (rsa.processing_days, rsa.recurrence_months, rsa.benefit) == (30, None, "rsa")
    assert rsa.verified_on == datetime.date(2025, 1, 15)
    assert (rsa.version, rsa.is_active) == (1, True)
    declaration = ProcedureType.objects.get(slug="rsa-declaration-trimestrielle")
    assert (declaration.recurrence_months, declaration.online_url) == (3, "")
    assert ProcedureType.objects.get(slug="aide-logement-demande").category == "logement"


def test_it_loads_groups_situations_and_papers_of_someone_else(catalogue, actor, organisation):
    _edit(
        catalogue,
        "social.toml",
        'type = "cni"\n',
        'type = "cni"\ngroupe = "identite"\n\n[[demarche.pieces]]\ntype = "titre_sejour"\n'
        'groupe = "identite"\n',
    )
    _edit(
        catalogue,
        "social.toml",
        'condition = "si vous êtes hébergé"\n',
        'condition = "si vous êtes hébergé"\nselon_situation = true\nautre_personne = true\n',
    )

    load_catalogue(catalogue)

    rsa = ProcedureType.objects.get(slug="rsa-demande")
    assert rsa.required_documents == [
        {"kind": "cni", "condition": "", "group": "identite"},
        {"kind": "titre_sejour", "condition": "", "group": "identite"},
        {
            "kind": "justificatif_domicile",
            "condition": "si vous êtes hébergé",
            "conditional": True,
            "someone_else": True,
        },
    ]
    opened = procedure_open(
        person=PersonFactory(), procedure_type=rsa, organisation=organisation, by=actor
    )
    assert list(opened.checklist.values_list("kind", "group", "conditional", "someone_else")) == [
        ("cni", "identite", False, False),
        ("titre_sejour", "identite", False, False),
        ("justificatif_domicile", "", True, True),
    ]
    assert tomllib.loads(catalogue_dump(rsa))["demarche"][0]["pieces"] == [
        {"type": "cni", "groupe": "identite"},
        {"type": "titre_sejour", "groupe": "identite"},
        {
            "type": "justificatif_domicile",
            "condition": "si vous êtes hébergé",
            "selon_situation": True,
            "autre_personne": True,
        },
    ]


def test_it_loads_a_freshness_rule_onto_the_lines_it_opens(catalogue, actor, organisation):
    _edit(
        catalogue,
        "social.toml",
        'condition = "si vous êtes hébergé"\n',
        'condition = "de moins de 1 an"\nmoins_de_mois = 12\n',
    )

    load_catalogue(catalogue)

    rsa = ProcedureType.objects.get(slug="rsa-demande")
    assert rsa.required_documents[1] == {
        "kind": "justificatif_domicile",
        "condition": "de moins de 1 an",
        "fresh_months": 12,
    }
    opened = procedure_open(
        person=PersonFactory(), procedure_type=rsa, organisation=organisation, by=actor
    )
    assert list(opened.checklist.values_list("kind", "condition", "fresh_months")) == [
        ("cni", "", None),
        ("justificatif_domicile", "de moins de 1 an", 12),
    ]
    assert tomllib.loads(catalogue_dump(rsa))["demarche"][0]["pieces"][1] == {
        "type": "justificatif_domicile",
        "condition": "de moins de 1 an",
        "moins_de_mois": 12,
    }


def test_it_journals_one_event_with_the_counts():
    load_catalogue(GOOD, by=PILOT)

    event = AuditEvent.objects.get(action=AuditAction.CATALOGUE_LOADED)
    assert event.actor_label == "Pilote régional"
    assert event.details == {
        "files": 2,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "deactivated": 0,
    }


def test_it_keeps_the_version_when_nothing_changed(catalogue):
    load_catalogue(catalogue)
    before = dict(ProcedureType.objects.values_list("slug", "updated_at"))

    report = load_catalogue(catalogue)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert set(ProcedureType.objects.values_list("version", flat=True)) == {1}
    assert dict(ProcedureType.objects.values_list("slug", "updated_at")) == before
    assert AuditEvent.objects.filter(action=AuditAction.CATALOGUE_LOADED).count() == 1


def test_it_bumps_the_version_of_a_changed_entry(catalogue):
    load_catalogue(catalogue)
    _edit(catalogue, "social.toml", "delai_jours = 30", "delai_jours = 45")

    report = load_catalogue(catalogue)

    assert (report.updated, report.unchanged) == (1, 2)
    rsa = ProcedureType.objects.get(slug="rsa-demande")
    assert (rsa.processing_days, rsa.version) == (45, 2)
    assert ProcedureType.objects.get(slug="aide-logement-demande").version == 1


def test_it_withdraws_a_removed_entry_without_deleting_it(catalogue):
    load_catalogue(catalogue)
    housing = ProcedureType.objects.get(slug="aide-logement-demande")
    procedure = ProcedureFactory(procedure_type=housing)
    (catalogue / "logement.toml").unlink()

    report = load_catalogue(catalogue)

    assert report.deactivated == 1
    housing.refresh_from_db()
    assert (housing.is_active, housing.version) == (False, 2)
    assert ProcedureType.objects.filter(pk=procedure.procedure_type_id).exists()


def test_it_puts_back_an_entry_that_returns(catalogue):
    load_catalogue(catalogue)
    logement = (catalogue / "logement.toml").read_text(encoding="utf-8")
    (catalogue / "logement.toml").unlink()
    load_catalogue(catalogue)
    (catalogue / "logement.toml").write_text(logement, encoding="utf-8")

    report = load_catalogue(catalogue)

    assert report.updated == 1
    housing = ProcedureType.objects.get(slug="aide-logement-demande")
    assert (housing.is_active, housing.version) == (True, 3)


def test_it_withdraws_an_entry_marked_inactive(catalogue):
    load_catalogue(catalogue)
    _edit(
        catalogue,
        "logement.toml",
        "verifie_le = 2024-12-01",
        "verifie_le = 2024-12-01\nactif = false",
    )

    report = load_catalogue(catalogue)

    assert (report.updated, report.deactivated) == (1, 0)
    assert not ProcedureType.objects.get(slug="aide-logement-demande").is_active


RSA_STEPS = (
    "etapes = [\n"
    '  "Préparez vos papiers : la liste est plus bas.",\n'
    '  "Allez sur le site de la CAF.",\n'
    '  "Remplissez la demande en ligne.",\n'
    "]"
)


def _long(length: int) -> str:
    return "a" * length


BAD_ENTRIES = [
    ('titre = "Demander le RSA"\n', "", "le champ « titre » est obligatoire."),
    (
        'titre = "Demander le RSA"',
        f'titre = "{_long(151)}"',
        "le champ « titre » ne doit pas dépasser 150 caractères.",
    ),
    (
        'titre = "Demander le RSA"',
        'titre = "   "',
        "le champ « titre » ne doit pas être vide",
    ),
    (
        'organisme = "CAF"\nresume = "Le RSA',
        'organisme = 12\nresume = "Le RSA',
        "le champ « organisme » doit être un texte entre guillemets.",
    ),
    (
        'organisme = "CAF"\nresume = "Le RSA',
        f'organisme = "{_long(101)}"\nresume = "Le RSA',
        "le champ « organisme » ne doit pas dépasser 100 caractères.",
    ),
    (
        'resume = "Le RSA est',
        f'resume = "{_long(400)} Le RSA est',
        "le champ « resume » ne doit pas dépasser 400 caractères.",
    ),
    (
        'lien_information = "https://www.service-public.fr/particuliers/vosdroits/N19775"',
        'lien_information = "http://www.service-public.fr/particuliers/vosdroits/N19775"',
        "le champ « lien_information » doit être une adresse https.",
    ),
    (
        'lien_information = "https://www.service-public.fr/particuliers/vosdroits/N19775"',
        'lien_information = "https://pas une adresse"',
        "le champ « lien_information » n'est pas une adresse web valide.",
    ),
    (
        'lien_information = "https://www.service-public.fr/particuliers/vosdroits/N19775"',
        "",
        "le champ « lien_information » est obligatoire.",
    ),
    (
        'lien_en_ligne = "https://wwwd.caf.fr',
        'lien_en_ligne = "ftp://wwwd.caf.fr',
        "le champ « lien_en_ligne » doit être une adresse https.",
    ),
    (
        RSA_STEPS,
        'etapes = ["Allez sur le site de la CAF."]',
        "le champ « etapes » doit compter de 2 à 12 étapes (1).",
    ),
    (
        RSA_STEPS,
        "etapes = [" + ", ".join(f'"Étape {n}."' for n in range(13)) + "]",
        "le champ « etapes » doit compter de 2 à 12 étapes (13).",
    ),
    (
        '"Allez sur le site de la CAF.",\n  "Remplissez',
        f'"{_long(301)}",\n  "Remplissez',
        "le champ « etapes » contient une étape n° 2 trop longue (plus de 300 caractères)",
    ),
    (
        '"Allez sur le site de la CAF.",\n  "Remplissez',
        '2,\n  "Remplissez',
        "le champ « etapes » doit être une liste de phrases entre guillemets.",
    ),
    (
        "delai_jours = 30",
        "delai_jours = 0",
        "le champ « delai_jours » doit être un nombre entier de 1 à 3650.",
    ),
    (
        "delai_jours = 30",
        'delai_jours = "30"',
        "le champ « delai_jours » doit être un nombre entier",
    ),
    (
        "delai_jours = 30",
        "delai_jours = true",
        "le champ « delai_jours » doit être un nombre entier",
    ),
    (
        "delai_jours = 30",
        "recurrence_mois = 61",
        "le champ « recurrence_mois » doit être un nombre entier de 1 à 60.",
    ),
    (
        "delai_jours = 30",
        "recurrence_mois = 0",
        "le champ « recurrence_mois » doit être un nombre entier de 1 à 60.",
    ),
    (
        'prestation = "rsa"\nverifie_le = 2025-01-15',
        'prestation = "RSA"\nverifie_le = 2025-01-15',
        "le champ « prestation » ne doit contenir que des lettres minuscules",
    ),
    (
        "verifie_le = 2025-01-15",
        "verifie_le = 2999-01-01",
        "le champ « verifie_le » ne peut pas être dans le futur.",
    ),
    (
        "verifie_le = 2025-01-15",
        'verifie_le = "2025-01-15"',
        "le champ « verifie_le » doit être une date écrite AAAA-MM-JJ.",
    ),
    (
        "verifie_le = 2025-01-15",
        "verifie_le = 2025-01-15T10:00:00",
        "le champ « verifie_le » doit être une date écrite AAAA-MM-JJ.",
    ),
    ("verifie_le = 2025-01-15", "", "le champ « verifie_le » est obligatoire."),
    (
        "verifie_le = 2025-01-15",
        'verifie_le = 2025-01-15\nactif = "oui"',
        "le champ « actif » doit valoir true ou false.",
    ),
    (
        "delai_jours = 30",
        'delai_jours = 30\nlien_info = "https://www.caf.fr"',
        "le champ « lien_info » n'est pas prévu par le format (une faute de frappe ?)",
    ),
    (
        'type = "cni"',
        'type = "carte_identite"',
        "le champ « type » de la pièce n° 1 vaut « carte_identite », qui n'est pas un type de "
        "pièce connu",
    ),
    (
        'type = "cni"',
        'type = "cni"\nconditions = "toujours"',
        "le champ « conditions » de la pièce n° 1 n'est pas prévu par le format",
    ),
    (
        'type = "cni"',
        'condition = "toujours"',
        "le champ « type » de la pièce n° 1 est obligatoire.",
    ),
    (
        'condition = "si vous êtes hébergé"',
        'condition = ""',
        "le champ « condition » de la pièce n° 2 ne doit pas être vide",
    ),
    (
        'type = "cni"',
        'type = "cni"\ngroupe = "identite"',
        "le champ « groupe » de la pièce n° 1 vaut « identite », qui ne nomme que cette pièce",
    ),
    (
        'type = "cni"',
        'type = "cni"\ngroupe = "Identité"',
        "le champ « groupe » de la pièce n° 1 doit être un nom en lettres minuscules",
    ),
    (
        'type = "cni"',
        'type = "cni"\nselon_situation = "oui"',
        "le champ « selon_situation » de la pièce n° 1 doit valoir true ou false.",
    ),
    (
        'type = "cni"',
        'type = "cni"\nselon_situation = true',
        "le champ « selon_situation » de la pièce n° 1 demande une condition",
    ),
    (
        'type = "cni"',
        'type = "cni"\nautre_personne = 1',
        "le champ « autre_personne » de la pièce n° 1 doit valoir true ou false.",
    ),
    (
        'type = "cni"',
        'type = "cni"\ncondition = "de moins de 6 mois"\nmoins_de_mois = "6"',
        "le champ « moins_de_mois » de la pièce n° 1 doit être un nombre de mois, de 1 à 120.",
    ),
    (
        'type = "cni"',
        'type = "cni"\ncondition = "de moins de 6 mois"\nmoins_de_mois = 0',
        "le champ « moins_de_mois » de la pièce n° 1 doit être un nombre de mois, de 1 à 120.",
    ),
    (
        'type = "cni"',
        'type = "cni"\nmoins_de_mois = 6',
        "le champ « moins_de_mois » de la pièce n° 1 vaut 6 : la condition doit le dire, avec "
        "les mots « de moins de 6 mois ».",
    ),
    (
        'condition = "si vous êtes hébergé"',
        'condition = "si vous êtes hébergé, de moins de 6 mois"\nmoins_de_mois = 12',
        "le champ « moins_de_mois » de la pièce n° 2 vaut 12 : la condition doit le dire, avec "
        "les mots « de moins de 1 an ».",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_ENTRIES)
def test_it_refuses_a_wrong_entry_naming_file_entry_and_field(catalogue, old, new, message):
    _edit(catalogue, "social.toml", old, new)

    assert ENTRY_1 + message in _load_error(catalogue)


def test_it_names_the_entry_by_index_when_the_slug_is_missing(catalogue):
    _edit(catalogue, "social.toml", 'slug = "rsa-demande"\n', "")

    assert "social.toml, démarche n° 1 : le champ « slug » est obligatoire." in _load_error(
        catalogue
    )


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("RSA_demande", "ne doit contenir que des lettres minuscules sans accent"),
        ("démarche", "ne doit contenir que des lettres minuscules sans accent"),
        (_long(81), "ne doit pas dépasser 80 caractères."),
    ],
)
def test_it_refuses_a_wrong_slug(catalogue, slug, message):
    _edit(catalogue, "social.toml", 'slug = "rsa-demande"', f'slug = "{slug}"')

    assert f"social.toml, démarche n° 1 (« {slug} ») : le champ « slug » {message}" in (
        _load_error(catalogue)
    )


def test_it_refuses_a_slug_used_twice_in_one_file(catalogue):
    _edit(
        catalogue, "social.toml", 'slug = "rsa-declaration-trimestrielle"', 'slug = "rsa-demande"'
    )

    assert (
        "social.toml, démarche n° 2 (« rsa-demande ») : le champ « slug » reprend l'identifiant "
        "de social.toml, démarche n° 1 : chaque identifiant doit être unique."
    ) in _load_error(catalogue)


def test_it_refuses_a_slug_used_in_two_files(catalogue):
    _edit(catalogue, "logement.toml", 'slug = "aide-logement-demande"', 'slug = "rsa-demande"')

    assert (
        "social.toml, démarche n° 1 (« rsa-demande ») : le champ « slug » reprend "
        "l'identifiant de logement.toml, démarche n° 1"
    ) in _load_error(catalogue)


def test_it_refuses_a_file_not_named_after_a_theme(catalogue):
    shutil.copy(catalogue / "logement.toml", catalogue / "divers.toml")

    assert "divers.toml : ce nom de fichier n'est pas un thème du catalogue" in _load_error(
        catalogue
    )


def test_it_names_the_line_of_a_syntax_error(catalogue):
    _edit(catalogue, "logement.toml", 'organisme = "CAF"', 'organisme "CAF"')

    assert "logement.toml, ligne 4 : le fichier n'est pas du TOML valide" in _load_error(catalogue)


def test_it_refuses_an_unknown_top_level_key(catalogue):
    path = catalogue / "logement.toml"
    path.write_text("version = 2\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")

    assert "logement.toml : la clé « version » n'est pas prévue" in _load_error(catalogue)


def test_it_refuses_an_empty_folder(tmp_path):
    assert "aucun fichier .toml à charger" in _load_error(tmp_path)


@pytest.mark.parametrize("text", ["", "# Rien pour l'instant.\n", "demarche = []\n"])
def test_it_refuses_a_theme_file_with_no_entry_and_withdraws_nothing(catalogue, text):
    load_catalogue(catalogue)
    events = AuditEvent.objects.count()
    (catalogue / "logement.toml").write_text(text, encoding="utf-8")
    err = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("load_procedures", directory=catalogue, stderr=err)

    assert exited.value.code == 1
    assert "logement.toml : le fichier ne contient aucune entrée [[demarche]]" in err.getvalue()
    assert ProcedureType.objects.get(slug="aide-logement-demande").is_active
    assert AuditEvent.objects.count() == events


def test_it_refuses_a_load_with_no_entry_at_all(catalogue):
    load_catalogue(catalogue)
    for path in catalogue.glob("*.toml"):
        path.write_text("", encoding="utf-8")

    errors = _load_error(catalogue)

    assert "logement.toml : le fichier ne contient aucune entrée" in errors
    assert "social.toml : le fichier ne contient aucune entrée" in errors
    assert ProcedureType.objects.filter(is_active=True).count() == 3


def test_it_lists_every_error_at_once(catalogue):
    _edit(catalogue, "social.toml", "delai_jours = 30", "delai_jours = 0")
    _edit(catalogue, "logement.toml", "delai_jours = 60", "delai_jours = -1")

    with pytest.raises(CatalogueError) as raised:
        load_catalogue(catalogue)

    assert len(raised.value.errors) == 2
    assert raised.value.errors[0].startswith("logement.toml, démarche n° 1")
    assert raised.value.errors[1].startswith(ENTRY_1)


def test_it_writes_nothing_when_one_entry_is_wrong(catalogue):
    load_catalogue(catalogue)
    events = AuditEvent.objects.count()
    _edit(catalogue, "social.toml", "delai_jours = 30", "delai_jours = 45")
    _edit(catalogue, "logement.toml", "delai_jours = 60", "delai_jours = 0")
    (catalogue / "papiers.toml").write_text(
        (GOOD / "logement.toml")
        .read_text(encoding="utf-8")
        .replace("aide-logement-demande", "nouvelle"),
        encoding="utf-8",
    )

    _load_error(catalogue)

    assert ProcedureType.objects.count() == 3
    assert ProcedureType.objects.get(slug="rsa-demande").processing_days == 30
    assert AuditEvent.objects.count() == events


def test_it_loads_from_the_command(capsys):
    out = StringIO()

    call_command("load_procedures", directory=GOOD, stdout=out)

    assert "3 démarche(s) ajoutée(s), 0 modifiée(s), 0 inchangée(s), 0 retirée(s)" in (
        out.getvalue()
    )


def test_the_command_reports_errors_on_stderr_and_fails(catalogue):
    _edit(catalogue, "social.toml", "delai_jours = 30", "delai_jours = 0")
    err = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("load_procedures", directory=catalogue, stderr=err)

    assert exited.value.code == 1
    assert ENTRY_1 + "le champ « delai_jours »" in err.getvalue()
    assert not ProcedureType.objects.exists()


def test_the_files_of_the_project_load():
    if not sorted(CATALOGUE_DIR.glob("*.toml")):
        pytest.skip("le catalogue du projet est encore vide")

    report = load_catalogue()

    assert report.created == ProcedureType.objects.count() > 0


# Dump and edit


def test_a_dump_loads_back_unchanged(tmp_path, catalogue):
    load_catalogue(catalogue)
    out = tmp_path / "dumped"
    out.mkdir()
    for category in ("social", "logement"):
        entries = ProcedureType.objects.filter(category=category).order_by("pk")
        (out / f"{category}.toml").write_text(catalogue_dump_all(entries), encoding="utf-8")

    report = load_catalogue(out)

    assert (report.created, report.updated, report.unchanged, report.deactivated) == (0, 0, 3, 0)


def test_a_dump_keeps_quotes_backslashes_and_new_lines():
    procedure_type = ProcedureTypeFactory(
        slug="tricky",
        title='Dire « oui » ou "non" \\ ici',
        summary="Première ligne.\nDeuxième ligne\tavec tabulation.",
        is_active=False,
    )

    entry = tomllib.loads(catalogue_dump(procedure_type))["demarche"][0]

    assert entry["titre"] == procedure_type.title
    assert entry["resume"] == procedure_type.summary
    assert entry["actif"] is False
    assert entry["pieces"] == [
        {"type": "cni"},
        {"type": "justificatif_domicile", "condition": "si vous êtes hébergé"},
    ]
    assert "lien_en_ligne" not in entry


def test_the_pilot_edits_an_entry():
    procedure_type = ProcedureTypeFactory(source_file="", version=4)

    procedure_type_update(
        procedure_type=procedure_type,
        by=PILOT,
        title="Demander la prime d'activité",
        online_url="https://www.caf.fr/allocataires/mes-services-en-ligne",
        category=ProcedureCategory.WORK,
    )

    procedure_type.refresh_from_db()
    assert procedure_type.title == "Demander la prime d'activité"
    assert (procedure_type.version, procedure_type.source_file) == (5, "travail.toml")
    event = AuditEvent.objects.get(action=AuditAction.CATALOGUE_ENTRY_UPDATED)
    assert event.object_id == procedure_type.slug
    assert event.details == {"version": 5, "fields": "title,category,online_url"}


def test_an_edited_entry_dumps_and_loads_back_unchanged(tmp_path):
    load_catalogue(GOOD)
    rsa = ProcedureType.objects.get(slug="rsa-demande")
    procedure_type_update(procedure_type=rsa, by=PILOT, steps=[*rsa.steps, "Attendez la réponse."])
    out = tmp_path / "edited"
    shutil.copytree(GOOD, out)
    others = ProcedureType.objects.filter(category="social").order_by("pk")
    (out / "social.toml").write_text(catalogue_dump_all(others), encoding="utf-8")

    report = load_catalogue(out)

    assert (report.updated, report.unchanged) == (0, 3)
    assert ProcedureType.objects.get(slug="rsa-demande").version == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"info_url": "http://www.caf.fr"}, "info_url", "Ce champ doit être une adresse https."),
        ({"title": ""}, "title", "Ce champ est obligatoire."),
        ({"steps": ["Une seule étape."]}, "steps", "Ce champ doit compter de 2 à 12 étapes (1)."),
        (
            {"recurrence_months": 0},
            "recurrence_months",
            "Ce champ doit être un nombre entier de 1 à 60.",
        ),
        (
            {"verified_on": datetime.date(2999, 1, 1)},
            "verified_on",
            "Ce champ ne peut pas être dans le futur.",
        ),
        (
            {"required_documents": [{"kind": "inconnu"}]},
            "required_documents",
            "Pièce n° 1 : le champ « type » vaut « inconnu », qui n'est pas un type de pièce connu",
        ),
        ({"category": "divers"}, "category", "Ce thème n'existe pas."),
    ],
)
def test_the_pilot_edit_follows_the_loader_rules(fields, field, message):
    procedure_type = ProcedureTypeFactory()

    with pytest.raises(ValidationError) as raised:
        procedure_type_update(procedure_type=procedure_type, by=PILOT, **fields)

    assert any(m.startswith(message) for m in raised.value.message_dict[field])
    procedure_type.refresh_from_db()
    assert procedure_type.version == 1
    assert not AuditEvent.objects.exists()


def test_two_edits_made_from_the_same_page_get_a_version_each():
    """Two pilots opened the entry at the same time: each edit is made on what the other
    saved, and neither undoes the other's change."""
    ProcedureTypeFactory(slug="css-demande", version=1)
    seen_by_one = ProcedureType.objects.get(slug="css-demande")
    seen_by_the_other = ProcedureType.objects.get(slug="css-demande")

    procedure_type_update(procedure_type=seen_by_one, by=PILOT, title="Demander la CSS")
    procedure_type_update(procedure_type=seen_by_the_other, by=PILOT, processing_days=45)

    entry = ProcedureType.objects.get(slug="css-demande")
    assert (entry.version, entry.title, entry.processing_days) == (3, "Demander la CSS", 45)
    assert [
        event.details["version"]
        for event in AuditEvent.objects.filter(action=AuditAction.CATALOGUE_ENTRY_UPDATED).order_by(
            "seq"
        )
    ] == [2, 3]


def test_an_edit_that_changes_nothing_keeps_the_version():
    procedure_type = ProcedureTypeFactory()

    procedure_type_update(procedure_type=procedure_type, by=PILOT, title=procedure_type.title)

    assert procedure_type.version == 1
    assert not AuditEvent.objects.exists()


def test_the_slug_cannot_be_edited():
    with pytest.raises(TypeError):
        procedure_type_update(procedure_type=ProcedureTypeFactory(), by=PILOT, slug="autre")


def test_it_loads_an_entry_that_asks_for_no_document(catalogue):
    (catalogue / "justice.toml").write_text(
        """[[demarche]]
slug = "point-justice"
titre = "Trouver un point-justice"
organisme = "Ministère de la Justice"
resume = "Un point-justice donne des conseils gratuits sur vos droits."
etapes = ["Cherchez le point-justice le plus proche.", "Prenez rendez-vous."]
lien_information = "https://www.justice.fr/"
verifie_le = 2025-01-15
""",
        encoding="utf-8",
    )

    load_catalogue(catalogue)

    assert ProcedureType.objects.get(slug="point-justice").required_documents == []
