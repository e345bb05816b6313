"""The « Détails » of journal rows in French.

Services write details as codes and field names (slugs, states, enumeration values, ids),
and rows are never rewritten: the words are chosen here, when a row is read, from the
domain's own enumerations and labels. A key or a value this module does not know is shown
humanised and as written, never hidden.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone

from relais.accounts.models import WebAuthnDevice
from relais.accounts.services import RECOVERY_DEVICE_NAME, TOTP_DEVICE_NAME
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.audit.trimming import ANCHOR, FIRST_KEPT
from relais.consent.models import ConsentDuration, ConsentMethod
from relais.documents.models import DocumentKind
from relais.organisations.models import Organisation, OrganisationKind, Profession, Role
from relais.persons.categories import DataCategory
from relais.persons.models import NoteVisibility
from relais.portal.models import CodeChannel, CodePurpose
from relais.procedures.models import Autonomy, Procedure, ProcedureStatus, ProcedureType
from relais.www.templatetags.journal import journal_value
from relais.www.templatetags.sizes import file_size


@dataclass(frozen=True)
class Names:
    """What the details name by slug or id, read once for a whole page of rows."""

    procedures: Mapping[str, str] = field(default_factory=dict)
    organisations: Mapping[int, str] = field(default_factory=dict)


Format = Callable[[Any, Names], str]


@dataclass(frozen=True)
class Detail:
    label: str
    format: Format


def _as_written(value: Any, names: Names) -> str:
    return str(journal_value(value))


def _lower_first(label: object) -> str:
    """An enumeration's label inside a sentence: « signé sur place », but « CCAS / CIAS »
    and « RIB » as they are."""
    text = str(label)
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _choice(labels: Mapping[str, object], *, lower: bool = True) -> Format:
    def format_value(value: Any, names: Names) -> str:
        if isinstance(value, str) and value in labels:
            return _lower_first(labels[value]) if lower else str(labels[value])
        return _as_written(value, names)

    return format_value


def _choices(enumeration: type[models.TextChoices], *, lower: bool = True) -> Format:
    return _choice(dict(enumeration.choices), lower=lower)


def _each(format_one: Format, separator: str = ",") -> Format:
    """A list the service joined into one text (« identite, famille »)."""

    def format_value(value: Any, names: Names) -> str:
        if not isinstance(value, str):
            return _as_written(value, names)
        parts = (part.strip() for part in value.split(separator))
        return ", ".join(format_one(part, names) for part in parts if part)

    return format_value


def _verbose_name(model: type[models.Model], name: str) -> str:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(field.verbose_name) if isinstance(field, models.Field) else name


def _field_names(model: type[models.Model]) -> Format:
    return _each(lambda name, names: _verbose_name(model, name))


def _numbered(value: Any, names: Names) -> str:
    return f"n° {value}" if value not in (None, "") else _as_written(value, names)


def _day(value: Any, names: Names) -> str:
    return f"{date.fromisoformat(value):%d/%m/%Y}" if value else _as_written(value, names)


def _moment(value: Any, names: Names) -> str:
    moment = datetime.fromisoformat(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{moment:%d/%m/%Y à %H:%M}"


def _percent(value: Any, names: Names) -> str:
    return f"{value} %"


def _size(value: Any, names: Names) -> str:
    return file_size(value) if isinstance(value, int) else _as_written(value, names)


def _upper(value: Any, names: Names) -> str:
    return str(value).upper()


def _phrase(value: Any, names: Names) -> str:
    """A label the service wrote in words (the identity document checked)."""
    return _lower_first(value) if isinstance(value, str) else _as_written(value, names)


def _procedure(value: Any, names: Names) -> str:
    return names.procedures.get(value, str(value)) if isinstance(value, str) else str(value)


def _organisation(value: Any, names: Names) -> str:
    if isinstance(value, int) and value in names.organisations:
        return names.organisations[value]
    return _numbered(value, names)


_KINDS = _choices(OrganisationKind, lower=False)
_PROFESSIONS = dict(Profession.choices)
_PROFESSION_LABELS = frozenset(str(label) for label in _PROFESSIONS.values())


def _profession(value: Any, names: Names) -> str:
    """Rows on a file carry the professional's profession as its label; an invitation
    carries its code."""
    if isinstance(value, str) and (value in _PROFESSIONS or value in _PROFESSION_LABELS):
        return _lower_first(_PROFESSIONS.get(value, value))
    return _as_written(value, names)


def _right(value: Any, names: Names) -> str:
    kind, _, profession = str(value).partition(" × ")
    if not profession:
        return str(value)
    return f"{_KINDS(kind, names)} × {_profession(profession, names)}"


def _ids(value: Any, names: Names) -> str:
    return f"n° {value}" if value else "aucun"


# A note is read by others than its author: « Moi seulement » is the author's own word.
_VISIBILITY = {
    **dict(NoteVisibility.choices),
    NoteVisibility.AUTHOR: "son auteur seulement",
}
_SECOND_FACTORS = {
    "totp": TOTP_DEVICE_NAME,
    "cle_securite": WebAuthnDevice._meta.verbose_name,
    "cle": WebAuthnDevice._meta.verbose_name,
    "recours": RECOVERY_DEVICE_NAME,
}
_LOCKED_STEPS = {"second_facteur": "second facteur"}
_LISTS = {
    "mes_demarches": "Mes démarches",
    "demarches_structure": "Démarches suivies par la structure",
    "pieces_a_renouveler": "Pièces à renouveler",
    "fusion": "Fusion de deux dossiers",
}
_STATUSES = dict(ProcedureStatus.choices)


def _status(value: Any, names: Names) -> str:
    """A state of a procedure, quoted as its page shows it: « En cours »."""
    label = _STATUSES.get(value, value) if isinstance(value, str) else value
    return f"« {label} »"


def _procedure_field(name: str) -> Detail:
    label = _verbose_name(Procedure, name)
    return Detail(label[:1].upper() + label[1:], _day)


# Every key the services write, in the order a row shows them.
_DETAILS: dict[str, Detail] = {
    "demarche": Detail("Démarche", _procedure),
    "structure_id": Detail("Structure", _organisation),
    "categories": Detail("Catégories", _each(_choices(DataCategory))),
    "duree": Detail("Durée", _choices(ConsentDuration)),
    "recueil": Detail("Recueil", _choices(ConsentMethod)),
    "depuis": Detail("Depuis", _as_written),
    "de": Detail("De", _as_written),
    "vers": Detail("Vers", _as_written),
    "date": Detail("Date", _day),
    "completude": Detail("Complétude", _percent),
    "etape": Detail("Étape", _as_written),
    "autonomie": Detail("Autonomie", _choices(Autonomy)),
    "modifiee": Detail("Étape corrigée", _as_written),
    "type_avant": Detail("Type de pièce avant", _choices(DocumentKind)),
    "type": Detail("Type de pièce", _choices(DocumentKind)),
    "issued_on_avant": Detail("Délivrée le, avant", _day),
    "issued_on": Detail("Délivrée le", _day),
    "expires_on_avant": Detail("Valable jusqu'au, avant", _day),
    "expires_on": Detail("Valable jusqu'au", _day),
    "piece": Detail("Pièce", _numbered),
    "non_concernee": Detail("Personne non concernée", _as_written),
    "requested_on": _procedure_field("requested_on"),
    "due_on": _procedure_field("due_on"),
    "next_due_on": _procedure_field("next_due_on"),
    "version": Detail("Version", _as_written),
    "precedente": Detail("Démarche précédente", _numbered),
    "canal": Detail("Envoyé par", _choices(CodeChannel)),
    "taille": Detail("Taille", _size),
    "format": Detail("Format", _upper),
    "liste": Detail("Liste", _choice(_LISTS, lower=False)),
    "espace_personnel": Detail("Depuis l'espace personnel", _as_written),
    "exceptionnel": Detail("Accès exceptionnel", _as_written),
    "export": Detail("Pour le téléchargement de ses données", _as_written),
    "jusqua": Detail("Jusqu'au", _moment),
    "par_code": Detail("Levé avec le code envoyé à la personne", _as_written),
    "refuse": Detail("Refuse les accès exceptionnels", _as_written),
    "resultats": Detail("Résultats", _as_written),
    "suppression": Detail("Suppression", _as_written),
    "membre_du_foyer": Detail("Membre du foyer", _numbered),
    "visibilite": Detail("Visible par", _choice(_VISIBILITY)),
    "termes_sensibles": Detail("Termes sensibles confirmés", _as_written),
    "membres_du_foyer_deplaces": Detail("Membres du foyer déplacés", _as_written),
    "membres_du_foyer_deja_presents": Detail("Membres du foyer déjà présents", _as_written),
    "ressources_deplacees": Detail("Ressources déplacées", _as_written),
    "ressources_deja_presentes": Detail("Ressources déjà présentes", _as_written),
    "droits": Detail("Droits", _each(_right)),
    "nom": Detail("Nom", _as_written),
    "siret": Detail("SIRET", _as_written),
    "champs": Detail("Champs", _field_names(Organisation)),
    "fields": Detail("Champs", _field_names(ProcedureType)),
    "invite": Detail("Personne invitée", _as_written),
    "adresse_invite": Detail("Adresse", _as_written),
    "role_avant": Detail("Rôle avant", _choices(Role)),
    "role": Detail("Rôle", _choices(Role)),
    "membre": Detail("Membre", _as_written),
    "compte_reactive": Detail("Compte réactivé", _as_written),
    "avant": Detail("Avant", _as_written),
    "apres": Detail("Après", _as_written),
    "files": Detail("Fichiers lus", _as_written),
    "created": Detail("Fiches créées", _as_written),
    "updated": Detail("Fiches modifiées", _as_written),
    "unchanged": Detail("Fiches inchangées", _as_written),
    "deactivated": Detail("Fiches retirées", _as_written),
    "channel": Detail("Envoyé par", _choices(CodeChannel)),
    "purpose": Detail("Pour", _choices(CodePurpose)),
    "method": Detail("Par", _as_written),
    "known": Detail("Identifiant connu", _as_written),
    "expired": Detail("Session expirée", _as_written),
    "identity_document": Detail("Pièce d'identité vérifiée", _phrase),
    "phone": Detail("Portable", _as_written),
    "email": Detail("Courriel", _as_written),
    "phone_changed": Detail("Portable changé", _as_written),
    "email_changed": Detail("Courriel changé", _as_written),
    "reopened": Detail("Réouverture", _as_written),
    "new_card": Detail("Nouvelle carte", _as_written),
    "new_password": Detail("Nouveau mot de passe", _as_written),
    FIRST_KEPT: Detail("Première ligne gardée", _numbered),
    ANCHOR: Detail("Empreinte avant elle", _as_written),
    "lignes_effacees": Detail("Lignes effacées", _as_written),
    "avant_le": Detail("Écrites avant le", _moment),
    "dernier_contact": Detail("Dernier contact", _day),
    "format_version": Detail("Version du format", _as_written),
    "pieces": Detail("Pièces", _as_written),
    "nir": Detail("NIR rechiffrés", _as_written),
    "echecs": Detail("Échecs", _as_written),
    "en_echec": Detail("En échec", _ids),
    "profession_avant": Detail("Métier avant", _profession),
    "profession": Detail("Métier", _profession),
}

# The same key written by several actions, with another meaning.
_SECOND_FACTOR = Detail("Second facteur", _choice(_SECOND_FACTORS))
_BY_ACTION: dict[tuple[str, str], Detail] = {
    (AuditAction.SECOND_FACTOR_ENROLLED, "type"): _SECOND_FACTOR,
    (AuditAction.SECOND_FACTOR_VERIFIED, "type"): _SECOND_FACTOR,
    (AuditAction.SECOND_FACTOR_FAILED, "type"): _SECOND_FACTOR,
    (AuditAction.SECOND_FACTOR_REMOVED, "type"): _SECOND_FACTOR,
    (AuditAction.LOCKOUT, "type"): Detail("Bloqué à l'étape", _choice(_LOCKED_STEPS)),
    (AuditAction.PROCEDURE_DOCUMENT_LINKED, "type"): Detail(
        "Pièce demandée", _choices(DocumentKind)
    ),
    (AuditAction.PROCEDURE_DOCUMENT_UNLINKED, "type"): Detail(
        "Pièce demandée", _choices(DocumentKind)
    ),
    (AuditAction.PROCEDURE_UPDATED, "type"): Detail("Pièce demandée", _choices(DocumentKind)),
    (AuditAction.PROCEDURE_TRANSITION, "de"): Detail("De", _status),
    (AuditAction.PROCEDURE_TRANSITION, "vers"): Detail("Vers", _status),
    (AuditAction.PROCEDURE_OPENED, "version"): Detail("Version de la fiche", _as_written),
    (AuditAction.PROCEDURE_RECURRED, "version"): Detail("Version de la fiche", _as_written),
    (AuditAction.KEYS_ROTATED, "pieces"): Detail("Pièces rechiffrées", _as_written),
}

# The number of the line the change of state added to the procedure's own history: the
# row already says the change, and the number means nothing on this page.
_UNSHOWN = frozenset({"transition"})
_ORDER = {key: position for position, key in enumerate(_DETAILS)}


def _humanised(key: str) -> str:
    words = key.replace("_", " ")
    return words[:1].upper() + words[1:]


def _line(action: str, key: str, value: Any, names: Names) -> str:
    detail = _BY_ACTION.get((action, key)) or _DETAILS.get(key)
    if detail is None:
        return f"{_humanised(key)} : {_as_written(value, names)}"
    try:
        text = detail.format(value, names)
    except (TypeError, ValueError):
        # Rows are never rewritten: an old row may hold a value in a form the services
        # no longer write. It reads as written.
        text = _as_written(value, names)
    return f"{detail.label} : {text}"


def detail_lines(action: str, details: object, names: Names) -> list[str]:
    """The lines of one row's details, in French."""
    if not isinstance(details, dict):
        return [] if details in (None, "") else [str(details)]
    shown = sorted(
        (key for key in details if key not in _UNSHOWN),
        key=lambda key: _ORDER.get(key, len(_ORDER)),
    )
    # A change of state reads as one move: de « En cours » à « Déposée ».
    move = action == AuditAction.PROCEDURE_TRANSITION and {"de", "vers"} <= details.keys()
    lines = []
    for key in shown:
        if move and key == "de":
            lines.append(f"de {_status(details['de'], names)} à {_status(details['vers'], names)}")
        elif not (move and key == "vers"):
            lines.append(_line(action, key, details[key], names))
    return lines


def _values(events: Iterable[AuditEvent], key: str, kind: type) -> set[Any]:
    return {
        value
        for event in events
        if isinstance(event.details, dict)
        and isinstance(value := event.details.get(key), kind)
        and not isinstance(value, bool)
    }


def names_for(events: Sequence[AuditEvent]) -> Names:
    """The catalogue titles and organisation names the rows' details refer to, in one query
    each, and none when no row refers to any."""
    slugs = _values(events, "demarche", str)
    organisation_ids = _values(events, "structure_id", int)
    return Names(
        procedures=dict(ProcedureType.objects.filter(slug__in=slugs).values_list("slug", "title"))
        if slugs
        else {},
        organisations=dict(
            Organisation.objects.filter(pk__in=organisation_ids).values_list("pk", "name")
        )
        if organisation_ids
        else {},
    )


def describe(events: Sequence[AuditEvent]) -> list[list[str]]:
    """Each row's details in French, in the order of `events`."""
    names = names_for(events)
    return [detail_lines(event.action, event.details, names) for event in events]
