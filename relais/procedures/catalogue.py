"""The catalogue of procedures: the versioned TOML data files, checked, loaded, written back.

The files in `catalogue/` are the reference: one file per theme, named after it, holding
`[[demarche]]` entries (docs/exploitation.md and the format notes describe the keys). The
loader checks every entry of every file first and writes nothing if one is wrong; then, in
one transaction, it creates or updates each entry by slug, bumping its version when its
content changed, and withdraws (never deletes) the entries no longer in the files, since
persons' procedures refer to them.
"""

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM, Actor
from relais.audit.services import audit_record
from relais.documents.models import DocumentKind
from relais.procedures.checklist import freshness_words
from relais.procedures.models import ProcedureCategory, ProcedureType

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"

# TOML key → model field, in the order the format lists them (the dump follows it).
KEY_TO_FIELD: dict[str, str] = {
    "slug": "slug",
    "titre": "title",
    "organisme": "organisme",
    "resume": "summary",
    "etapes": "steps",
    "lien_information": "info_url",
    "lien_en_ligne": "online_url",
    "delai_jours": "processing_days",
    "recurrence_mois": "recurrence_months",
    "prestation": "benefit",
    "verifie_le": "verified_on",
    "actif": "is_active",
    "pieces": "required_documents",
}
FIELD_TO_KEY = {field: key for key, field in KEY_TO_FIELD.items()}
REQUIRED_KEYS = ("slug", "titre", "organisme", "resume", "etapes", "lien_information", "verifie_le")
# A piece's TOML key → its key in the model's `required_documents`. `groupe` names the
# pieces of an entry one of which is enough; `selon_situation` marks a piece asked only
# in the situation its condition names; `autre_personne` one that is someone else's
# paper (the parents' tax notice), never taken from the person's own papers.
# `moins_de_mois` a freshness rule: the paper must have been issued less than that many
# months before (« de moins de 6 mois »), which the condition says in words.
PIECE_KEY_TO_FIELD = {
    "type": "kind",
    "condition": "condition",
    "groupe": "group",
    "selon_situation": "conditional",
    "autre_personne": "someone_else",
    "moins_de_mois": "fresh_months",
}
PIECE_KEYS = tuple(PIECE_KEY_TO_FIELD)
_PIECE_FLAGS = ("selon_situation", "autre_personne")
# The fields whose change makes a new version of an entry.
CONTENT_FIELDS = (
    "title",
    "organisme",
    "category",
    "summary",
    "steps",
    "required_documents",
    "info_url",
    "online_url",
    "processing_days",
    "recurrence_months",
    "benefit",
    "verified_on",
    "is_active",
)
EDITABLE_FIELDS = frozenset(CONTENT_FIELDS)

TEXT_LIMITS = {"titre": 150, "organisme": 100, "resume": 400}
STEP_LIMIT = 300
STEPS_MIN, STEPS_MAX = 2, 12
URL_LIMIT = 300
SLUG_LIMIT = 80
BENEFIT_LIMIT = 40
CONDITION_LIMIT = 200
GROUP_LIMIT = 40
PROCESSING_DAYS_MAX = 3650
RECURRENCE_MIN, RECURRENCE_MAX = 1, 60

_SLUG = re.compile(r"[a-z0-9-]+")
_BENEFIT = re.compile(r"[a-z_]+")
_GROUP = re.compile(r"[a-z_]+")
_TOML_LINE = re.compile(r"at line (\d+)")
_https = URLValidator(schemes=["https"])


class CatalogueError(Exception):
    """The data files hold at least one error; nothing was written. The message names,
    for each error, the file, the entry (index and slug when known) and the field."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class CatalogueReport:
    files: int
    created: int
    updated: int
    unchanged: int
    deactivated: int


@dataclass(frozen=True)
class _Problem:
    """One wrong value. `fragment` completes a sentence whose subject is the field."""

    key: str
    fragment: str
    piece: int | None = None
    piece_key: str = ""

    def in_file(self) -> str:
        if self.piece is not None:
            return f"le champ « {self.piece_key} » de la pièce n° {self.piece} {self.fragment}"
        return f"le champ « {self.key} » {self.fragment}"

    def in_form(self) -> str:
        if self.piece is not None:
            return f"Pièce n° {self.piece} : le champ « {self.piece_key} » {self.fragment}"
        return f"Ce champ {self.fragment}"


def _text(
    entry: dict[str, Any], key: str, limit: int, problems: list[_Problem], *, default: str = ""
) -> str:
    value = entry.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        problems.append(_Problem(key, "doit être un texte entre guillemets."))
        return default
    value = value.strip()
    if not value:
        problems.append(
            _Problem(key, "ne doit pas être vide : retirez la ligne s'il n'y a rien à dire.")
        )
    elif len(value) > limit:
        problems.append(_Problem(key, f"ne doit pas dépasser {limit} caractères."))
    return value


def _url(entry: dict[str, Any], key: str, problems: list[_Problem]) -> str:
    value = _text(entry, key, URL_LIMIT, problems)
    if not value:
        return value
    if not value.startswith("https://"):
        problems.append(_Problem(key, "doit être une adresse https."))
        return value
    try:
        _https(value)
    except ValidationError:
        problems.append(_Problem(key, "n'est pas une adresse web valide."))
    return value


def _integer(
    entry: dict[str, Any], key: str, low: int, high: int, problems: list[_Problem]
) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    # bool is an int in Python: `true` must not pass for 1.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(_Problem(key, f"doit être un nombre entier de {low} à {high}."))
        return None
    return int(value)


def _steps(entry: dict[str, Any], problems: list[_Problem]) -> list[str]:
    value = entry.get("etapes")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(step, str) for step in value):
        problems.append(_Problem("etapes", "doit être une liste de phrases entre guillemets."))
        return []
    steps = [step.strip() for step in value]
    if not STEPS_MIN <= len(steps) <= STEPS_MAX:
        problems.append(
            _Problem("etapes", f"doit compter de {STEPS_MIN} à {STEPS_MAX} étapes ({len(steps)}).")
        )
    for number, step in enumerate(steps, start=1):
        if not step:
            problems.append(_Problem("etapes", f"contient une étape n° {number} vide."))
        elif len(step) > STEP_LIMIT:
            problems.append(
                _Problem(
                    "etapes",
                    f"contient une étape n° {number} trop longue (plus de {STEP_LIMIT} "
                    "caractères) : coupez-la en deux.",
                )
            )
    return steps


def _piece_group(piece: dict[str, Any], number: int, problems: list[_Problem]) -> str:
    group = piece.get("groupe", "")
    if not isinstance(group, str) or not _GROUP.fullmatch(group) or len(group) > GROUP_LIMIT:
        if "groupe" in piece:
            problems.append(
                _Problem(
                    "pieces",
                    "doit être un nom en lettres minuscules sans accent et soulignés (_), "
                    f"de {GROUP_LIMIT} caractères au plus.",
                    number,
                    "groupe",
                )
            )
        return ""
    return group


def _piece_flags(
    piece: dict[str, Any], number: int, condition: str, problems: list[_Problem]
) -> dict[str, bool]:
    flags = {}
    for key in _PIECE_FLAGS:
        value = piece.get(key, False)
        if not isinstance(value, bool):
            problems.append(_Problem("pieces", "doit valoir true ou false.", number, key))
        elif value:
            flags[PIECE_KEY_TO_FIELD[key]] = True
    if flags.get("conditional") and not condition:
        problems.append(
            _Problem(
                "pieces",
                "demande une condition : elle dit dans quelle situation la pièce est demandée.",
                number,
                "selon_situation",
            )
        )
    return flags


def _piece_freshness(
    piece: dict[str, Any], number: int, condition: str, problems: list[_Problem]
) -> int | None:
    """The freshness rule, in months; the condition says it in the words the pages show."""
    if "moins_de_mois" not in piece:
        return None
    value = piece["moins_de_mois"]
    months = value if isinstance(value, int) and not isinstance(value, bool) else 0
    if not 1 <= months <= 120:
        problems.append(
            _Problem("pieces", "doit être un nombre de mois, de 1 à 120.", number, "moins_de_mois")
        )
        return None
    if freshness_words(months) not in condition:
        problems.append(
            _Problem(
                "pieces",
                f"vaut {months} : la condition doit le dire, avec les mots « "
                f"{freshness_words(months)} ».",
                number,
                "moins_de_mois",
            )
        )
    return months


def _lonely_groups(documents: list[dict[str, Any]], problems: list[_Problem]) -> None:
    """A group holds two pieces at least: one of them is enough."""
    members: dict[str, list[int]] = {}
    for number, document in enumerate(documents, start=1):
        if document.get("group"):
            members.setdefault(document["group"], []).append(number)
    for group, numbers in members.items():
        if len(numbers) == 1:
            problems.append(
                _Problem(
                    "pieces",
                    f"vaut « {group} », qui ne nomme que cette pièce : un groupe réunit les "
                    "pièces dont une seule suffit.",
                    numbers[0],
                    "groupe",
                )
            )


def _pieces(entry: dict[str, Any], problems: list[_Problem]) -> list[dict[str, Any]]:
    value = entry.get("pieces")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(piece, dict) for piece in value):
        problems.append(_Problem("pieces", "doit être une suite de tables [[demarche.pieces]]."))
        return []
    documents = []
    for number, piece in enumerate(value, start=1):
        for key in sorted(set(piece) - set(PIECE_KEYS)):
            problems.append(
                _Problem(
                    "pieces",
                    f"n'est pas prévu par le format (champs possibles : {', '.join(PIECE_KEYS)}).",
                    number,
                    key,
                )
            )
        kind = piece.get("type")
        if kind is None:
            problems.append(_Problem("pieces", "est obligatoire.", number, "type"))
        elif kind not in DocumentKind.values:
            problems.append(
                _Problem(
                    "pieces",
                    f"vaut « {kind} », qui n'est pas un type de pièce connu (voir DocumentKind).",
                    number,
                    "type",
                )
            )
        condition = piece.get("condition", "")
        if not isinstance(condition, str):
            problems.append(
                _Problem("pieces", "doit être un texte entre guillemets.", number, "condition")
            )
            condition = ""
        elif "condition" in piece and not condition.strip():
            problems.append(
                _Problem(
                    "pieces",
                    "ne doit pas être vide : retirez la ligne si la pièce est toujours demandée.",
                    number,
                    "condition",
                )
            )
        elif len(condition.strip()) > CONDITION_LIMIT:
            problems.append(
                _Problem(
                    "pieces",
                    f"ne doit pas dépasser {CONDITION_LIMIT} caractères.",
                    number,
                    "condition",
                )
            )
        condition = condition.strip()
        document: dict[str, Any] = {"kind": str(kind), "condition": condition}
        group = _piece_group(piece, number, problems)
        if group:
            document["group"] = group
        document.update(_piece_flags(piece, number, condition, problems))
        fresh_months = _piece_freshness(piece, number, condition, problems)
        if fresh_months:
            document["fresh_months"] = fresh_months
        documents.append(document)
    _lonely_groups(documents, problems)
    return documents


def _check_entry(entry: dict[str, Any], *, today: date) -> tuple[dict[str, Any], list[_Problem]]:
    """The model values of one entry (TOML keys in, model fields out) and its problems.
    The category is not in the entry: it is the file's name."""
    problems: list[_Problem] = []
    for key in entry:
        if key not in KEY_TO_FIELD:
            problems.append(
                _Problem(
                    key,
                    "n'est pas prévu par le format (une faute de frappe ?). Champs possibles : "
                    + ", ".join(KEY_TO_FIELD)
                    + ".",
                )
            )
    for key in REQUIRED_KEYS:
        if key not in entry:
            problems.append(_Problem(key, "est obligatoire."))

    slug = _text(entry, "slug", SLUG_LIMIT, problems)
    if slug and not _SLUG.fullmatch(slug):
        problems.append(
            _Problem(
                "slug",
                "ne doit contenir que des lettres minuscules sans accent, des chiffres et des "
                "tirets.",
            )
        )
    benefit = _text(entry, "prestation", BENEFIT_LIMIT, problems)
    if benefit and not _BENEFIT.fullmatch(benefit):
        problems.append(
            _Problem(
                "prestation",
                "ne doit contenir que des lettres minuscules sans accent et des soulignés (_).",
            )
        )
    verified_on = entry.get("verifie_le")
    # A TOML date-time is a datetime, itself a date in Python: only a plain date passes.
    if verified_on is not None and (
        not isinstance(verified_on, date) or isinstance(verified_on, datetime)
    ):
        problems.append(_Problem("verifie_le", "doit être une date écrite AAAA-MM-JJ."))
        verified_on = None
    elif verified_on is not None and verified_on > today:
        problems.append(_Problem("verifie_le", "ne peut pas être dans le futur."))
    is_active = entry.get("actif", True)
    if not isinstance(is_active, bool):
        problems.append(_Problem("actif", "doit valoir true ou false."))
        is_active = True

    values = {
        "slug": slug,
        "title": _text(entry, "titre", TEXT_LIMITS["titre"], problems),
        "organisme": _text(entry, "organisme", TEXT_LIMITS["organisme"], problems),
        "summary": _text(entry, "resume", TEXT_LIMITS["resume"], problems),
        "steps": _steps(entry, problems),
        "required_documents": _pieces(entry, problems),
        "info_url": _url(entry, "lien_information", problems),
        "online_url": _url(entry, "lien_en_ligne", problems),
        "processing_days": _integer(entry, "delai_jours", 1, PROCESSING_DAYS_MAX, problems),
        "recurrence_months": _integer(
            entry, "recurrence_mois", RECURRENCE_MIN, RECURRENCE_MAX, problems
        ),
        "benefit": benefit,
        "verified_on": verified_on,
        "is_active": is_active,
    }
    return values, problems


@dataclass(frozen=True)
class CatalogueEntry:
    file: str
    number: int
    values: dict[str, Any]


def _entry_label(file: str, number: int, raw: Any) -> str:
    slug = raw.get("slug") if isinstance(raw, dict) else None
    if isinstance(slug, str) and slug.strip():
        return f"{file}, démarche n° {number} (« {slug.strip()} »)"
    return f"{file}, démarche n° {number}"


def _read_file(path: Path, errors: list[str]) -> list[Any]:
    name = path.name
    if path.stem not in ProcedureCategory.values:
        errors.append(
            f"{name} : ce nom de fichier n'est pas un thème du catalogue (noms possibles : "
            + ", ".join(f"{value}.toml" for value in ProcedureCategory.values)
            + ")."
        )
        return []
    try:
        with path.open("rb") as stream:
            data = tomllib.load(stream)
    except UnicodeDecodeError:
        errors.append(f"{name} : le fichier doit être enregistré en UTF-8.")
        return []
    except tomllib.TOMLDecodeError as error:
        line = _TOML_LINE.search(str(error))
        where = f"{name}, ligne {line.group(1)}" if line else name
        errors.append(
            f"{where} : le fichier n'est pas du TOML valide : vérifiez les guillemets, les "
            f"crochets et les signes « = » (détail : {error})."
        )
        return []
    for key in sorted(set(data) - {"demarche"}):
        errors.append(
            f"{name} : la clé « {key} » n'est pas prévue : le fichier ne contient que des "
            "entrées [[demarche]]."
        )
    entries = data.get("demarche", [])
    if not isinstance(entries, list):
        errors.append(f"{name} : « demarche » doit être une suite de tables [[demarche]].")
        return []
    if not entries:
        # Most likely a file emptied by mistake: loading it would withdraw every entry of
        # its theme. A theme is withdrawn on purpose by deleting its file.
        errors.append(
            f"{name} : le fichier ne contient aucune entrée [[demarche]] : toutes les "
            "démarches de ce thème seraient retirées. Pour retirer le thème, supprimez le "
            "fichier."
        )
    return entries


def check_catalogue(
    directory: Path | None = None, *, today: date | None = None
) -> list[CatalogueEntry]:
    """Read and check every data file; raise CatalogueError listing every error found."""
    folder = directory or CATALOGUE_DIR
    day = today or timezone.localdate()
    paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not paths:
        raise CatalogueError(
            [f"{folder} : aucun fichier .toml à charger (le catalogue serait vidé)."]
        )
    errors: list[str] = []
    entries: list[CatalogueEntry] = []
    seen: dict[str, CatalogueEntry] = {}
    for path in paths:
        for number, raw in enumerate(_read_file(path, errors), start=1):
            label = _entry_label(path.name, number, raw)
            if not isinstance(raw, dict):
                errors.append(f"{label} : l'entrée doit être une table [[demarche]].")
                continue
            values, problems = _check_entry(raw, today=day)
            errors.extend(f"{label} : {problem.in_file()}" for problem in problems)
            if problems:
                continue
            entry = CatalogueEntry(path.name, number, values | {"category": path.stem})
            errors.extend(f"{label} : {message}" for message in _model_errors(values, path.stem))
            if values["slug"] in seen:
                errors.append(
                    f"{label} : le champ « slug » reprend l'identifiant de "
                    f"{seen[values['slug']].file}, démarche n° {seen[values['slug']].number} : "
                    "chaque identifiant doit être unique."
                )
                continue
            seen[values["slug"]] = entry
            entries.append(entry)
    if errors:
        raise CatalogueError(errors)
    return entries


def _model_errors(values: dict[str, Any], category: str) -> list[str]:
    """The model's own checks, as a last net under the format's rules."""
    try:
        ProcedureType(**values, category=category).full_clean(
            validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        return [
            f"le champ « {FIELD_TO_KEY.get(field, field)} » : {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        ]
    return []


def _differs(procedure_type: ProcedureType, values: dict[str, Any]) -> bool:
    return any(getattr(procedure_type, field) != values[field] for field in CONTENT_FIELDS)


def load_catalogue(
    directory: Path | None = None, *, by: Actor = SYSTEM, today: date | None = None
) -> CatalogueReport:
    """Check every file, then create, update or withdraw the catalogue entries at once."""
    entries = check_catalogue(directory, today=today)
    now = timezone.now()
    created: list[ProcedureType] = []
    updated: list[ProcedureType] = []
    # Same content, but written down in the files for the first time (e.g. an entry made
    # before the files held it): the file is recorded, the version stays.
    relocated: list[ProcedureType] = []
    with transaction.atomic():
        existing = {pt.slug: pt for pt in ProcedureType.objects.select_for_update()}
        for entry in entries:
            procedure_type = existing.pop(entry.values["slug"], None)
            if procedure_type is None:
                created.append(
                    ProcedureType(**entry.values, source_file=entry.file, updated_at=now)
                )
            elif _differs(procedure_type, entry.values):
                for field in CONTENT_FIELDS:
                    setattr(procedure_type, field, entry.values[field])
                procedure_type.version += 1
                procedure_type.source_file = entry.file
                procedure_type.updated_at = now
                updated.append(procedure_type)
            elif procedure_type.source_file != entry.file:
                procedure_type.source_file = entry.file
                relocated.append(procedure_type)
        withdrawn = [pt for pt in existing.values() if pt.is_active]
        for procedure_type in withdrawn:
            procedure_type.is_active = False
            procedure_type.version += 1
            procedure_type.updated_at = now
        ProcedureType.objects.bulk_create(created)
        ProcedureType.objects.bulk_update(
            [*updated, *withdrawn, *relocated],
            [*CONTENT_FIELDS, "source_file", "version", "updated_at"],
        )
        report = CatalogueReport(
            files=len({entry.file for entry in entries}),
            created=len(created),
            updated=len(updated),
            unchanged=len(entries) - len(created) - len(updated),
            deactivated=len(withdrawn),
        )
        if report.created or report.updated or report.deactivated:
            # A load that changes nothing (every deployment runs one) is not an event.
            audit_record(
                action=AuditAction.CATALOGUE_LOADED,
                by=by,
                object_type="catalogue",
                details={
                    "files": report.files,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "deactivated": report.deactivated,
                },
            )
    return report


def _piece_entry(piece: dict[str, Any]) -> dict[str, Any]:
    """A checklist line of the model as the files write it (keys left out when empty)."""
    entry: dict[str, Any] = {"type": piece.get("kind")}
    for key, field in PIECE_KEY_TO_FIELD.items():
        if key != "type" and piece.get(field):
            entry[key] = piece[field]
    return entry


def catalogue_entry(procedure_type: ProcedureType) -> dict[str, Any]:
    """The entry as the data files write it (TOML keys; empty optional keys left out)."""
    entry: dict[str, Any] = {}
    for key, field in KEY_TO_FIELD.items():
        value = getattr(procedure_type, field)
        if field == "required_documents":
            value = [_piece_entry(piece) for piece in value]
        if field == "is_active" and value:
            continue
        if value is None or value == "" or value == []:
            continue
        entry[key] = value
    return entry


def procedure_type_update(
    *, procedure_type: ProcedureType, by: Actor, today: date | None = None, **fields: Any
) -> ProcedureType:
    """The pilot's edit of one entry, checked by the loader's rules. A change bumps the
    version; the entry's file is its theme's, so that `catalogue_dump` can go back there."""
    unknown = sorted(set(fields) - EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Champs non modifiables : {', '.join(unknown)}.")
    with transaction.atomic():
        # Two pilots may save the same entry at once: the row is locked and the edit is
        # made on its committed state, so that each change gets a version of its own and
        # the fields one of them left alone keep the other's change.
        procedure_type.refresh_from_db(from_queryset=ProcedureType.objects.select_for_update())
        entry = catalogue_entry(procedure_type)
        for field, value in fields.items():
            if field == "category":
                continue
            key = FIELD_TO_KEY[field]
            if field == "required_documents" and isinstance(value, list):
                value = [
                    _piece_entry(piece) if isinstance(piece, dict) else piece for piece in value
                ]
            if value is None or value == "" or value == []:
                entry.pop(key, None)
            else:
                entry[key] = value
        values, problems = _check_entry(entry, today=today or timezone.localdate())
        category = fields.get("category", procedure_type.category)
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(KEY_TO_FIELD.get(problem.key, problem.key), []).append(
                problem.in_form()
            )
        if category not in ProcedureCategory.values:
            errors.setdefault("category", []).append("Ce thème n'existe pas.")
        if errors:
            raise ValidationError(errors)
        values["category"] = category
        changed = [
            field for field in CONTENT_FIELDS if getattr(procedure_type, field) != values[field]
        ]
        if not changed:
            return procedure_type
        for field in changed:
            setattr(procedure_type, field, values[field])
        procedure_type.version += 1
        procedure_type.source_file = f"{category}.toml"
        procedure_type.updated_at = timezone.now()
        procedure_type.full_clean(validate_unique=False)
        procedure_type.save()
        audit_record(
            action=AuditAction.CATALOGUE_ENTRY_UPDATED,
            by=by,
            object_type="demarche_catalogue",
            object_id=procedure_type.slug,
            details={"version": procedure_type.version, "fields": ",".join(changed)},
        )
    return procedure_type


def _toml_string(value: str) -> str:
    escaped = []
    for char in value:
        if char == "\\":
            escaped.append("\\\\")
        elif char == '"':
            escaped.append('\\"')
        elif char == "\n":
            escaped.append("\\n")
        elif char == "\t":
            escaped.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[\n" + "".join(f"  {_toml_string(item)},\n" for item in value) + "]"
    return _toml_string(str(value))


def catalogue_dump(procedure_type: ProcedureType) -> str:
    """The entry written back in the data files' format, to paste into `<theme>.toml`."""
    entry = catalogue_entry(procedure_type)
    pieces = entry.pop("pieces", [])
    lines = ["[[demarche]]"]
    lines.extend(f"{key} = {_toml_value(value)}" for key, value in entry.items())
    for piece in pieces:
        lines.append("")
        lines.append("[[demarche.pieces]]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in piece.items())
    return "\n".join(lines) + "\n"


def catalogue_dump_all(procedure_types: Iterable[ProcedureType]) -> str:
    """Several entries, one after the other, as one data file holds them."""
    return "\n".join(catalogue_dump(procedure_type) for procedure_type in procedure_types)
