"""The one access rule of Relais. Every view, queryset and export goes through it.

A professional may do ACTION on CATEGORY of person X only if:
- their account is active and their second factor was verified in this session;
- they act for an organisation through an active membership;
- X has not blocked them nor their organisation;
- the charter lets their organisation kind and profession read IDENTITY (every page of a
  file, every list of persons names the person) and allows ACTION on CATEGORY;
- and X has a live (unexpired, unrevoked) consent to their organisation, or to them,
  covering CATEGORY — or they hold a live break-glass grant on X, which allows reading
  only.
Everything else is denied, and a file outside the rule is answered with 404.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest
from django.utils import timezone

from relais.consent.charter import levels_for
from relais.consent.models import Block, BreakGlassGrant, CharterVersion, Consent
from relais.organisations.models import Membership, Organisation
from relais.persons.categories import Action, DataCategory, Level, level_allows
from relais.persons.models import Person, PersonQuerySet, PersonStatus
from relais.prepared import columns, fetch


@dataclass(frozen=True)
class Professional:
    """The acting professional, as the rule sees them."""

    user_id: int
    label: str
    organisation_id: int
    organisation_label: str
    organisation_kind: str
    profession: str
    profession_label: str
    # The charter version the request's checks read (None: the current one).
    charter_version: CharterVersion | None = None

    @classmethod
    def acting(
        cls, user: Any, membership: Membership, charter_version: CharterVersion | None = None
    ) -> "Professional":
        """`user` acting for the organisation of `membership`."""
        return cls(
            user_id=user.pk,
            label=user.get_full_name(),
            organisation_id=membership.organisation_id,
            organisation_label=membership.organisation.name,
            organisation_kind=membership.organisation.kind,
            profession=membership.profession,
            profession_label=membership.profession_label,
            charter_version=charter_version,
        )


def professional_of(request: HttpRequest) -> Professional | None:
    """The request's professional, or None when the request may not reach any file."""
    user = request.user
    membership = getattr(request, "membership", None)
    if (
        membership is None
        or not user.is_authenticated
        or not user.is_active
        or not getattr(user, "is_verified", lambda: False)()
    ):
        return None
    return Professional.acting(
        user, membership, charter_version=getattr(request, "charter_version", None)
    )


@dataclass(frozen=True)
class FileAccess:
    """What one professional may do on one person's file, right now."""

    person: Person
    levels: dict[str, str] = field(default_factory=dict)
    break_glass: BreakGlassGrant | None = None
    # Every live consent of the person (all organisations), read once for the rule and
    # reused by the pages that list them.
    live_consents: list[Consent] = field(default_factory=list)

    def can(self, action: str, category: str) -> bool:
        return level_allows(self.levels.get(category, Level.NONE), action)

    def readable_categories(self) -> list[DataCategory]:
        return [c for c in DataCategory if self.can(Action.VIEW, c)]


def file_access(pro: Professional, person_id: int, *, at: datetime | None = None) -> FileAccess:
    """Evaluate the rule for one file; raise Http404 when the file is outside it."""
    charter = levels_for(pro.organisation_kind, pro.profession, pro.charter_version)
    if not _names_persons(charter):
        raise Http404("Dossier introuvable.")
    moment = at or timezone.now()
    # Two prepared statements rather than ORM querysets: every file page runs them, and
    # building the queries cost more than running them.
    found = fetch(
        Person,
        _person_sql(),
        [pro.organisation_id, pro.user_id, person_id, PersonStatus.ACTIVE.value],
        extra=["blocked"],
    )
    if not found or found[0].blocked:  # type: ignore[attr-defined]
        raise Http404("Dossier introuvable.")
    person = found[0]
    live_consents = fetch(
        Consent,
        _live_consents_sql(),
        [person_id, *[connection.ops.adapt_datetimefield_value(moment)] * 2],
        extra=[
            "organisation_name",
            "organisation_kind",
            "organisation_blocked",
            "professional_blocked",
        ],
    )
    for consent in live_consents:
        consent.organisation = Organisation.from_db(
            connection.alias,
            ["id", "name", "kind"],
            [
                consent.organisation_id,
                consent.organisation_name,  # type: ignore[attr-defined]
                consent.organisation_kind,  # type: ignore[attr-defined]
            ],
        )
    consented: set[str] = set()
    for consent in live_consents:
        if consent.organisation_id == pro.organisation_id and consent.professional_id in (
            None,
            pro.user_id,
        ):
            consented.update(consent.categories)
    levels = {c: charter.get(c, Level.NONE) for c in consented}
    grant = None
    if not consented:
        # A grant opens the file for the organisation it was opened for, and no longer
        # once the person has said they refuse break-glass.
        grant = (
            None
            if person.refuses_break_glass
            else BreakGlassGrant.objects.live(moment)
            .filter(
                person_id=person_id,
                professional_id=pro.user_id,
                organisation_id=pro.organisation_id,
            )
            .order_by("-expires_at")
            .first()
        )
        if grant is None:
            raise Http404("Dossier introuvable.")
        levels = {c: Level.READ for c, level in charter.items() if level_allows(level, Action.VIEW)}
    return FileAccess(person=person, levels=levels, break_glass=grant, live_consents=live_consents)


# Built once from the models' metadata: identifiers only, every value is a parameter.
@cache
def _person_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {columns(Person, 'p')}, EXISTS (SELECT 1 FROM {quote(Block._meta.db_table)} b"  # noqa: S608
        f" WHERE b.person_id = p.id AND {_active_block('b')}) AS blocked"
        f" FROM {quote(Person._meta.db_table)} p WHERE p.id = %s AND p.status = %s"
    )


@cache
def _live_consents_sql() -> str:
    """The person's live consents, each with its organisation, and whether a block the
    person set holds it in abeyance: one against its organisation, or against the one
    professional it was given to."""
    quote = connection.ops.quote_name
    blocks = (
        f"SELECT 1 FROM {quote(Block._meta.db_table)} b"  # noqa: S608
        " WHERE b.person_id = c.person_id AND b.lifted_at IS NULL"
    )
    return (
        f"SELECT {columns(Consent, 'c')}, o.name, o.kind,"  # noqa: S608
        f" EXISTS ({blocks} AND b.organisation_id = c.organisation_id),"
        f" EXISTS ({blocks} AND b.professional_id = c.professional_id)"
        f" FROM {quote(Consent._meta.db_table)} c"
        f" JOIN {quote(Organisation._meta.db_table)} o ON o.id = c.organisation_id"
        f" WHERE c.person_id = %s AND {_live('c')} ORDER BY c.expires_at, c.id"
    )


def can(
    pro: Professional | None,
    action: str,
    person_id: int,
    category: str,
    *,
    at: datetime | None = None,
) -> bool:
    if pro is None:
        return False
    try:
        return file_access(pro, person_id, at=at).can(action, category)
    except Http404:
        return False


def visible_persons(pro: Professional, *, at: datetime | None = None) -> PersonQuerySet:
    """The persons whose file this professional may open (consent or break-glass), minus
    those who blocked them: none when the charter does not let them read IDENTITY."""
    if not _names_persons(levels_for(pro.organisation_kind, pro.profession, pro.charter_version)):
        return Person.objects.none()
    # Driven by the organisation's consents (one IN sub-query), not by the persons table:
    # the cost follows the size of one caseload, not the size of the whole platform. One
    # sub-query over a UNION ALL, not two joined by OR: PostgreSQL cannot start from a
    # disjunction of sub-queries, and would walk the persons in name order instead.
    # The sub-queries are written once as SQL: built and compiled by the ORM on every
    # call, they took longer than the search they serve took to run.
    moment = connection.ops.adapt_datetimefield_value(at or timezone.now())
    acting = [pro.organisation_id, pro.user_id]
    # Identifiers only in the statements; every value is a parameter.
    caseload = RawSQL(_caseload_sql(), [moment, moment, *acting, moment, *acting])  # noqa: S611
    blocked = RawSQL(_blocked_sql(), acting)  # noqa: S611
    return Person.objects.active().filter(pk__in=caseload).exclude(pk__in=blocked)


def persons_readable_in(
    pro: Professional, category: str, *, at: datetime | None = None
) -> QuerySet[Person, Any]:
    """The ids of the persons whose CATEGORY this professional may read, as a sub-query
    for lists across files (`.filter(person_id__in=...)`): the rule of `file_access`
    applied to every file at once. A live consent to their organisation (or to them)
    covering the category, or — when they hold no live consent at all — a live
    break-glass grant opened for their organisation on a person who does not refuse
    break-glass; the charter allowing them to read the category, and the identity that
    such a list names; and no block."""
    charter = levels_for(pro.organisation_kind, pro.profession, pro.charter_version)
    if not _names_persons(charter) or not level_allows(
        charter.get(category, Level.NONE), Action.VIEW
    ):
        return Person.objects.none().values("pk")
    when = connection.ops.adapt_datetimefield_value(at or timezone.now())
    acting = [pro.organisation_id, pro.user_id]
    readable = RawSQL(  # noqa: S611 (identifiers only; every value is a parameter)
        _readable_sql(),
        [when, when, *acting, _covered(category), when, *acting, when, when, *acting],
    )
    # Not `visible_persons(...).filter(pk__in=readable)`: the readers are in the caseload
    # already, and two sub-queries over unions, joined, may be planned as each row of the
    # one compared with each row of the other.
    blocked = RawSQL(_blocked_sql(), acting)  # noqa: S611
    return Person.objects.active().filter(pk__in=readable).exclude(pk__in=blocked).values("pk")


def _names_persons(charter: dict[str, str]) -> bool:
    """Whether the charter lets its reader read identities: every page of a file and every
    list of persons names the person, so that without it no file opens to them."""
    return level_allows(charter.get(DataCategory.IDENTITY, Level.NONE), Action.VIEW)


# The rule's conditions, each written once, on a table alias; their parameters in order.


def _live(alias: str) -> str:
    """A consent neither revoked nor expired, and started. Parameters: the moment twice."""
    return f"{alias}.revoked_at IS NULL AND {alias}.starts_at <= %s AND {alias}.expires_at > %s"


def _live_consent(alias: str) -> str:
    """A live consent given to the organisation or to the professional. Parameters: the
    moment twice, the organisation, the professional."""
    return (
        f"{_live(alias)} AND {alias}.organisation_id = %s"
        f" AND ({alias}.professional_id IS NULL OR {alias}.professional_id = %s)"
    )


def _active_block(alias: str) -> str:
    """A block not lifted, against the organisation or the professional. Parameters: the
    organisation, the professional."""
    return (
        f"{alias}.lifted_at IS NULL"
        f" AND ({alias}.organisation_id = %s OR {alias}.professional_id = %s)"
    )


def _covers(alias: str) -> str:
    """A consent whose categories hold one category. Parameter: `_covered(category)`."""
    if connection.vendor == "postgresql":
        # Containment, which PostgreSQL estimates from the column's statistics: it took a
        # LIKE on the JSON text to keep a row or two, and compared each person of the
        # caseload with each of its consents in every list query (0.7 s for a caseload of
        # 2,000 persons, 13 s for 10,000).
        return f"{alias}.categories @> %s::jsonb"
    # A JSON list of plain slugs: the quoted slug matches one element exactly.
    return f"{alias}.categories LIKE %s ESCAPE '\\'"


def _covered(category: str) -> str:
    if connection.vendor == "postgresql":
        return json.dumps([category])
    return '%"' + connection.ops.prep_for_like_query(category) + '"%'


def _live_grant(alias: str, person: str) -> str:
    """As in `file_access`: a grant opens the file only for the organisation it was opened
    for, and not once the person has said they refuse break-glass. Parameters: the
    moment, the organisation, the professional."""
    return (
        f"{alias}.expires_at > %s AND {alias}.organisation_id = %s"
        f" AND {alias}.professional_id = %s AND NOT {person}.refuses_break_glass"
    )


# Built once from the models' metadata: identifiers only, every value is a parameter.
@cache
def _caseload_sql() -> str:
    """The persons with a live consent to the organisation or to the professional, and
    those on whom they hold a live break-glass grant."""
    quote = connection.ops.quote_name
    return (
        f"SELECT c.person_id FROM {quote(Consent._meta.db_table)} c"  # noqa: S608
        f" WHERE {_live_consent('c')}"
        f" UNION ALL SELECT g.person_id FROM {quote(BreakGlassGrant._meta.db_table)} g"
        f" JOIN {quote(Person._meta.db_table)} gp ON gp.id = g.person_id"
        f" WHERE {_live_grant('g', 'gp')}"
    )


@cache
def _blocked_sql() -> str:
    """The persons who blocked the organisation or the professional."""
    quote = connection.ops.quote_name
    table = quote(Block._meta.db_table)
    return f"SELECT b.person_id FROM {table} b WHERE {_active_block('b')}"  # noqa: S608


@cache
def _readable_sql() -> str:
    """The persons whose live consent to the organisation or to the professional covers
    a category, and those on whom the professional holds a live grant while no live
    consent exists: as in `file_access`, a consent that leaves the category out is the
    person's word, not something to go around."""
    quote = connection.ops.quote_name
    consents = quote(Consent._meta.db_table)
    return (
        f"SELECT c.person_id FROM {consents} c"  # noqa: S608
        f" WHERE {_live_consent('c')} AND {_covers('c')}"
        f" UNION ALL SELECT g.person_id FROM {quote(BreakGlassGrant._meta.db_table)} g"
        f" JOIN {quote(Person._meta.db_table)} gp ON gp.id = g.person_id"
        f" WHERE {_live_grant('g', 'gp')} AND NOT EXISTS (SELECT 1 FROM {consents} l"
        f" WHERE l.person_id = g.person_id AND {_live_consent('l')})"
    )


def readable_categories_by_person(
    pro: Professional, person_ids: list[int], *, at: datetime | None = None
) -> dict[int, set[str]]:
    """For lists across many files (e.g. documents to renew): which categories the
    professional may read in each, from their consents and the charter, in one query.
    Callers pass persons already taken from `visible_persons`."""
    charter = levels_for(pro.organisation_kind, pro.profession, pro.charter_version)
    readable: dict[int, set[str]] = {}
    for person_id, categories in (
        Consent.objects.live(at or timezone.now())
        .for_professional(organisation_id=pro.organisation_id, user_id=pro.user_id)
        .filter(person_id__in=person_ids)
        .values_list("person_id", "categories")
    ):
        readable.setdefault(person_id, set()).update(
            c for c in categories if level_allows(charter.get(c, Level.NONE), Action.VIEW)
        )
    return readable
