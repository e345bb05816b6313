"""The charte d'usages: its documented default, its versions, and fast look-ups.

The default follows least privilege (docs/charte.md explains each choice):
- every professional of the social field reads and writes what the accompaniment needs;
- reception agents see identity and contacts only, to welcome and orient;
- digital mediators read what a procedure needs and write procedures and documents, never
  notes on the person's situation beyond their own;
- HEALTH is closed, except for nurses, the guardianship officers (MJPM, who manage the
  person's affairs) and the social workers of medico-social services (SAMSAH, SAVS, LHSS,
  LAM, CSAPA, MDPH), who read it.
"""

import re
import time
from dataclasses import dataclass
from datetime import datetime
from itertools import product

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import pluralize

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM, Actor
from relais.audit.services import audit_record
from relais.consent.models import CharterAcceptance, CharterRule, CharterVersion
from relais.organisations.models import Membership, OrganisationKind, Profession
from relais.persons.categories import DataCategory as C
from relais.persons.categories import Level

R, W, N = Level.READ, Level.WRITE, Level.NONE

# What a professional commits to in accepting the default charter, one paragraph each.
DEFAULT_COMMITMENTS = (
    "Je n'ouvre un dossier que pour accompagner la personne, avec son consentement, dans la "
    "limite de ce qu'elle a accepté de partager.\n"
    "\n"
    "Je saisis avec la personne plutôt qu'à sa place, et je lui explique ce que je fais.\n"
    "\n"
    "J'écris des notes objectives et nécessaires ; je n'écris ni diagnostic, ni opinion, ni "
    "jugement.\n"
    "\n"
    "Je n'utilise l'accès exceptionnel qu'en cas de nécessité, en écrivant pourquoi : la "
    "personne et mon responsable le verront.\n"
    "\n"
    "Je ne partage ni mon mot de passe, ni mon second facteur, et je me déconnecte en quittant "
    "le poste.\n"
    "\n"
    "Chacun de mes accès est inscrit dans un journal que la personne peut consulter."
)
COMMITMENTS_MAX_LENGTH = 5000
# Why a version edited from one that is no longer the last is not published.
PUBLISHED_MEANWHILE = (
    "La version {number} a été publiée pendant votre modification : la grille montre "
    "maintenant ses niveaux. Refaites vos changements, puis publiez."
)

_SOCIAL_WORK = {
    C.IDENTITY: W, C.FAMILY: W, C.RESOURCES: W, C.HOUSING: W, C.EMPLOYMENT: W,
    C.SOCIAL_COVERAGE: W, C.HEALTH: N, C.NOTES: W, C.PROCEDURES: W, C.DOCUMENTS: W,
    C.APPOINTMENTS: W, C.MESSAGES: W,
}  # fmt: skip
_EDUCATIONAL = _SOCIAL_WORK | {C.RESOURCES: R, C.SOCIAL_COVERAGE: R}
_INSERTION = _SOCIAL_WORK | {C.FAMILY: R, C.HOUSING: R, C.SOCIAL_COVERAGE: R}
_DIGITAL = {
    C.IDENTITY: R, C.FAMILY: R, C.RESOURCES: R, C.HOUSING: R, C.EMPLOYMENT: R,
    C.SOCIAL_COVERAGE: R, C.HEALTH: N, C.NOTES: W, C.PROCEDURES: W, C.DOCUMENTS: W,
    C.APPOINTMENTS: W, C.MESSAGES: W,
}  # fmt: skip
_RECEPTION = dict.fromkeys(C, N) | {
    C.IDENTITY: R, C.APPOINTMENTS: W, C.MESSAGES: R,
}  # fmt: skip
_NURSE = dict.fromkeys(C, N) | {
    C.IDENTITY: R, C.SOCIAL_COVERAGE: W, C.HEALTH: W, C.NOTES: W, C.DOCUMENTS: R,
    C.APPOINTMENTS: W, C.MESSAGES: W,
}  # fmt: skip
_MJPM = _SOCIAL_WORK | {C.HEALTH: R}
_OTHER = dict.fromkeys(C, N) | {C.IDENTITY: R, C.APPOINTMENTS: R}

_BY_PROFESSION: dict[str, dict[C, Level]] = {
    Profession.ASS: _SOCIAL_WORK,
    Profession.CESF: _SOCIAL_WORK,
    Profession.ES: _SOCIAL_WORK,
    Profession.TISF: _EDUCATIONAL,
    Profession.ME: _EDUCATIONAL,
    Profession.AES: _EDUCATIONAL,
    Profession.ETS: _INSERTION,
    Profession.CIP: _INSERTION,
    Profession.DIGITAL_ADVISER: _DIGITAL,
    Profession.DIGITAL_MEDIATOR: _DIGITAL,
    Profession.RECEPTION_AGENT: _RECEPTION,
    Profession.NURSE: _NURSE,
    Profession.MJPM: _MJPM,
    Profession.OTHER: _OTHER,
}
_MEDICO_SOCIAL_KINDS = {
    OrganisationKind.SAMSAH,
    OrganisationKind.SAVS,
    OrganisationKind.LHSS,
    OrganisationKind.LAM,
    OrganisationKind.CSAPA,
    OrganisationKind.MDPH,
}
_HEALTH_READERS_IN_MEDICO_SOCIAL = {Profession.ASS, Profession.CESF, Profession.ES}

# Seconds a process trusts the current version it read from the database; `_current_read`
# holds it, with the moment it stops trusting it. A version published by another process
# is in force here at most this long after its commit: no shared cache sits in between,
# where a version read just before a commit could be put back once the commit emptied it,
# and kept there for the cache's own timeout.
CURRENT_VERSION_KEPT_FOR = 2.0
_current_read: dict[str, tuple[float, CharterVersion]] = {}

# A published version's rules never change: each process keeps those it has read, by
# version (its number in the database and its publication time), organisation kind and
# profession. No shared cache, no round trip to it.
_levels_read: dict[tuple[int, datetime, str, str], dict[str, str]] = {}


def default_level(kind: str, profession: str, category: str) -> Level:
    if (
        category == C.HEALTH
        and kind in _MEDICO_SOCIAL_KINDS
        and profession in _HEALTH_READERS_IN_MEDICO_SOCIAL
    ):
        return R
    return _BY_PROFESSION[profession][C(category)]


def _rules_from(version: CharterVersion, levels: dict[tuple[str, str, str], str]) -> None:
    CharterRule.objects.bulk_create(
        CharterRule(
            version=version,
            organisation_kind=kind,
            profession=profession,
            category=category,
            level=levels[(kind, profession, category)],
        )
        for kind in OrganisationKind.values
        for profession in Profession.values
        for category in C.values
    )


def _cells() -> list[tuple[str, str, str]]:
    """Every cell of a matrix: organisation kind × profession × category, as this release
    of Relais knows them."""
    return list(product(OrganisationKind.values, Profession.values, C.values))


def default_matrix() -> dict[tuple[str, str, str], str]:
    return {cell: default_level(*cell) for cell in _cells()}


def current_matrix() -> dict[tuple[str, str, str], str]:
    """Each cell's level under the version in force. A version published before a release
    added an organisation kind, a profession or a category holds no row for it: no access,
    as the access rule reads it, until the pilot publishes a version that opens it."""
    version = current_version()
    stored = {
        (rule.organisation_kind, rule.profession, rule.category): rule.level
        for rule in CharterRule.objects.filter(version=version).only(
            "organisation_kind", "profession", "category", "level"
        )
    }
    return {cell: stored.get(cell, N) for cell in _cells()}


def _matrix_errors(levels: dict[tuple[str, str, str], str]) -> list[str]:
    """What keeps `levels` from being a whole matrix: one known level for each organisation
    kind × profession × category, and nothing else."""
    cells = set(_cells())
    errors = []
    unknown = len(levels.keys() - cells)
    if unknown:
        errors.append(
            f"La grille nomme {unknown} case{pluralize(unknown)} inconnue{pluralize(unknown)} "
            "(type de structure, profession ou catégorie) : rechargez la page."
        )
    missing = len(cells - levels.keys())
    if missing:
        errors.append(
            f"{missing} case{pluralize(missing)} de la grille n'{pluralize(missing, 'a,ont')} "
            "pas de niveau d'accès : rechargez la page."
        )
    wrong = sum(1 for cell in cells if cell in levels and levels[cell] not in Level.values)
    if wrong:
        errors.append(
            f"Niveau d'accès inconnu pour {wrong} case{pluralize(wrong)} de la grille : "
            "choisissez aucun accès, lecture, ou lecture et écriture."
        )
    return errors


def commitments_cleaned(text: str) -> str:
    """The commitments as a version keeps them: the line breaks a browser sends (CR LF) as
    one, no blank before or after the text, no space at the end of a line, one blank line
    between two paragraphs however many were typed (the page shows one paragraph break).
    Two texts that read the same are the same text: publishing one over the other changes
    nothing."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def commitments_errors(text: str) -> list[str]:
    """What keeps `text`, cleaned, from being the commitments of a version."""
    if not text:
        return [
            "Écrivez les engagements que chaque professionnel accepte avec cette version : "
            "le texte ne peut pas être vide."
        ]
    if "\x00" in text:
        return ["Le texte des engagements contient un caractère invisible interdit : récrivez-le."]
    if len(text) > COMMITMENTS_MAX_LENGTH:
        return [
            f"Le texte des engagements dépasse {COMMITMENTS_MAX_LENGTH} caractères : "
            "raccourcissez-le."
        ]
    return []


def charter_publish(
    *,
    levels: dict[tuple[str, str, str], str],
    summary: str,
    by: Actor,
    commitments: str | None = None,
    edited_from: int | None = None,
) -> CharterVersion:
    """Publish a new version: every professional accepts it at their next request (at
    most `CURRENT_VERSION_KEPT_FOR` seconds after the commit on another server process),
    and the access rule reads the rights it gives from then on. Without `commitments`, the
    version keeps those of the last one (the default ones for the first). With
    `edited_from`, the number of the version the pilot's page showed, refused if another
    pilot has published one since: its changes would be overwritten unseen. A matrix that
    is not whole, or holds a level that does not exist, and empty commitments are refused
    before anything is written."""
    errors = _matrix_errors(levels)
    if commitments is not None:
        commitments = commitments_cleaned(commitments)
        errors.extend(commitments_errors(commitments))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Every publication locks the same row, the first version, and reads the last one
        # once it holds the lock: under PostgreSQL, a locking read that waited for another
        # publication's commit answers the rows it began with, without the one added, and
        # the last version, locked instead, is no longer the last once the other commits.
        CharterVersion.objects.select_for_update().order_by("number").first()
        last = CharterVersion.objects.order_by("-number").first()
        if edited_from is not None and last is not None and last.number != edited_from:
            raise ValidationError(PUBLISHED_MEANWHILE.format(number=last.number))
        if commitments is None:
            commitments = last.commitments if last else DEFAULT_COMMITMENTS
        version = CharterVersion.objects.create(
            number=(last.number + 1) if last else 1,
            published_by_label=by.label,
            summary=summary,
            commitments=commitments,
        )
        _rules_from(version, levels)
        audit_record(
            action=AuditAction.CHARTER_PUBLISHED,
            by=by,
            object_type="charte",
            object_id=version.number,
        )
        transaction.on_commit(forget_current_version)
    return version


def forget_current_version() -> None:
    """Read the current version from the database at the next call in this process; the
    others read it again within `CURRENT_VERSION_KEPT_FOR` seconds."""
    _current_read.clear()


def current_version() -> CharterVersion:
    """The version in force. Every professional page asks for it: each process reads it
    from the database at most once every `CURRENT_VERSION_KEPT_FOR` seconds."""
    kept = _current_read.get("version")
    if kept is not None and time.monotonic() < kept[0]:
        return kept[1]
    version = CharterVersion.objects.order_by("-number").first()
    if version is None:
        version = charter_publish(
            levels=default_matrix(),
            summary="Version initiale : la charte par défaut de Relais.",
            by=SYSTEM,
        )
    _current_read["version"] = (time.monotonic() + CURRENT_VERSION_KEPT_FOR, version)
    return version


def levels_for(kind: str, profession: str, version: CharterVersion | None = None) -> dict[str, str]:
    """Category → level for one organisation kind and profession, under `version` (the
    current charter by default). Read once per process: it is read on every page of a
    file. A version published before a release added the kind, the profession or a
    category holds no row for it: no access."""
    version = version or current_version()
    key = (version.pk, version.published_at, kind, profession)
    levels = _levels_read.get(key)
    if levels is None:
        levels = dict.fromkeys(C.values, N) | dict(
            CharterRule.objects.filter(
                version=version, organisation_kind=kind, profession=profession
            ).values_list("category", "level")
        )
        _levels_read[key] = levels
    return levels


@dataclass(frozen=True)
class VersionChanges:
    """What a version changed from the version before it, as the pilot checks it after
    publishing: whether the text of the commitments changed, and the (profession, category,
    level before, level after) of each right it changed for one kind of organisation."""

    commitments: bool
    rights: list[tuple[str, str, str, str]]


def version_changes(version: CharterVersion, kind: str) -> VersionChanges | None:
    """None for the first version: there is none before it to compare it with."""
    before = CharterVersion.objects.filter(number__lt=version.number).order_by("-number").first()
    if before is None:
        return None
    old, new = (
        {
            (rule.profession, rule.category): rule.level
            for rule in CharterRule.objects.filter(version=read, organisation_kind=kind)
        }
        for read in (before, version)
    )
    return VersionChanges(
        commitments=version.commitments != before.commitments,
        rights=[
            (profession, category, old.get((profession, category), N), level)
            for profession in Profession.values
            for category in C.values
            if (level := new.get((profession, category), N)) != old.get((profession, category), N)
        ],
    )


def _rights_shown(user_id: int) -> list[tuple[str, str]]:
    """The (organisation kind, profession) pairs whose rights the charter page shows the
    user: those of each of their current memberships."""
    return sorted(
        set(
            Membership.objects.active()
            .filter(user_id=user_id)
            .values_list("organisation__kind", "profession")
        )
    )


def rights_accepted(user_id: int, version: CharterVersion) -> set[tuple[str, str]]:
    return set(
        CharterAcceptance.objects.filter(user_id=user_id, version=version).values_list(
            "organisation_kind", "profession"
        )
    )


def has_accepted(user_id: int, version: CharterVersion, kind: str, profession: str) -> bool:
    return CharterAcceptance.objects.filter(
        user_id=user_id, version=version, organisation_kind=kind, profession=profession
    ).exists()


def charter_accept(*, user_id: int, version: CharterVersion, by: Actor) -> None:
    """Record that the user accepted `version` as it applies to each of their current
    memberships, the rights the charter page shows them."""
    with transaction.atomic():
        accepted = [
            (kind, profession)
            for kind, profession in _rights_shown(user_id)
            if CharterAcceptance.objects.get_or_create(
                user_id=user_id, version=version, organisation_kind=kind, profession=profession
            )[1]
        ]
        if accepted:
            audit_record(
                action=AuditAction.CHARTER_ACCEPTED,
                by=by,
                object_type="charte",
                object_id=version.number,
                details={
                    "droits": ", ".join(f"{kind} × {profession}" for kind, profession in accepted)
                },
            )


def charter_refuse(*, user_id: int, version: CharterVersion, by: Actor) -> bool:
    """Record that the user refused `version` for the rights it gives them that they have
    not accepted: what the charter page asked of them. The journal of the organisation they
    act for shows it to its manager; nobody else is told. False, and nothing recorded, when
    every right was accepted meanwhile: a refusal does not take an acceptance back."""
    accepted = rights_accepted(user_id, version)
    refused = [right for right in _rights_shown(user_id) if right not in accepted]
    if not refused:
        return False
    audit_record(
        action=AuditAction.CHARTER_REFUSED,
        by=by,
        object_type="charte",
        object_id=version.number,
        details={"droits": ", ".join(f"{kind} × {profession}" for kind, profession in refused)},
    )
    return True
