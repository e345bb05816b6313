"""The whole of a person's file as plain JSON values: what the export writes to
`relais-export.json`, in the shape that `schema/relais-export-1.schema.json` describes.

Codes are the domain's codes, each with its French label next to it; dates are ISO 8601;
amounts are decimal strings ("635.71"), never floats.

A file's lists are read and written a few hundred rows at a time, never held whole: a
file followed for years holds tens of thousands of rows of access history.
"""

import json
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from django.db.models import Model, Prefetch, QuerySet
from django.utils import timezone, translation

from relais.audit.models import AuditEvent, AuditEventQuerySet
from relais.consent.models import Block, BreakGlassGrant, Consent
from relais.documents.models import Document, DocumentKind, DocumentVersion
from relais.persons.models import (
    Employment,
    HealthRecord,
    Housing,
    Note,
    NoteQuerySet,
    NoteVisibility,
    Person,
    Referent,
    SocialCoverage,
)
from relais.portability.words import NOTE_VISIBILITIES
from relais.procedures.models import Procedure

FORMAT = "relais-export"
FORMAT_VERSION = 1
JSON_NAME = "relais-export.json"
SUMMARY_NAME = "resume.html"
DOCUMENTS_DIR = "documents"

# The right of access gives the person the notes that belong to the shared file: those
# written for the organisation or for every organisation the person allowed. A note kept
# for its author only is the professional's working memo, not yet part of the file; the
# professional shares it (and the person then sees it) once it matters to the file.
PERSON_VISIBLE_NOTES = (NoteVisibility.ORGANISATION, NoteVisibility.SHARED)

# Rows read from the database at once for a list of the file.
ROWS_AT_ONCE = 500
_Row = TypeVar("_Row", bound=Model)


def notes_for_person(person: Person) -> NoteQuerySet:
    return Note.objects.filter(person=person, visibility__in=PERSON_VISIBLE_NOTES)


@dataclass(frozen=True)
class ExportedDocument:
    """A document's current version and its name inside the ZIP."""

    document: Document
    version: DocumentVersion
    path: str


def document_path(document: Document, version: DocumentVersion) -> str:
    return f"{DOCUMENTS_DIR}/{document.pk}-{document.kind}.{version.extension}"


def missing_path(document: Document) -> str:
    """The note left in a document's place when its file could not be added."""
    return f"{DOCUMENTS_DIR}/{document.pk}-{document.kind}-indisponible.txt"


def current_versions(person: Person) -> list[tuple[Document, DocumentVersion | None]]:
    """Each present document with its newest version still stored (None once purged)."""
    documents = (
        Document.objects.filter(person=person)
        .present()
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=DocumentVersion.objects.filter(purged_at__isnull=True).order_by("-number"),
            )
        )
        .order_by("kind", "pk")
    )
    return [(document, next(iter(document.versions.all()), None)) for document in documents]


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _amount(value: Decimal | None) -> str | None:
    return f"{value:.2f}" if value is not None else None


def _labelled(instance: Model, field: str) -> dict[str, Any]:
    value = getattr(instance, field)
    label = _labels(type(instance), field).get(value, value) if value else ""
    return {field: value, f"{field}_label": str(label)}


@cache
def _labels(model: type[Model], field: str) -> dict[Any, Any]:
    """A field's labels by value, as get_<field>_display() reads them: it builds this
    dict again at each call, which costs more than the rest of a row of the history."""
    return dict(model._meta.get_field(field).flatchoices)  # type: ignore[union-attr]


@cache
def _note_visibility_labels() -> dict[str, str]:
    """Who may read a note, in the person's words: the professionals' label of a note
    kept within its organisation, « Ma structure », read by the person would name a
    structure of their own. In French, as every label of the file; the readable summary
    is the part written in the person's language."""
    with translation.override("fr"):
        return {code: str(label) for code, label in NOTE_VISIBILITIES.items()}


def _organisation(organisation: Any) -> dict[str, Any] | None:
    if organisation is None:
        return None
    return {"id": organisation.pk, "name": organisation.name}


def _full_name(user: Any) -> str | None:
    return user.get_full_name() if user is not None else None


def file_identity(person: Person, *, nir: str | None) -> dict[str, Any]:
    secret: dict[str, Any] = (
        {"nir": nir or None} if nir is not None else {"has_nir": person.has_nir}
    )
    return {
        "id": person.pk,
        "first_names": person.first_names,
        "birth_name": person.birth_name,
        "usage_name": person.usage_name,
        **_labelled(person, "sex"),
        "birth_date": _day(person.birth_date),
        "birth_place": person.birth_place,
        **_labelled(person, "nationality"),
        "phone": person.phone,
        "email": person.email,
        "address_line": person.address_line,
        "postal_code": person.postal_code,
        "commune_code": person.commune_code,
        "commune_name": person.commune_name,
        "domiciliation": person.domiciliation,
        **secret,
        "caf_number": person.caf_number,
        "france_travail_id": person.france_travail_id,
        "refuses_break_glass": person.refuses_break_glass,
        "created_at": _moment(person.created_at),
        "last_contact_at": _moment(person.last_contact_at),
    }


def _housing(person: Person) -> dict[str, Any] | None:
    housing = Housing.objects.filter(person=person).first()
    if housing is None:
        return None
    return {
        **_labelled(housing, "status"),
        "monthly_rent": _amount(housing.monthly_rent),
        "monthly_charges": _amount(housing.monthly_charges),
        "commune_code": housing.commune_code,
        "since": _day(housing.since),
    }


def _employment(person: Person) -> dict[str, Any] | None:
    employment = Employment.objects.filter(person=person).first()
    if employment is None:
        return None
    return {
        **_labelled(employment, "status"),
        "registered_france_travail": employment.registered_france_travail,
        "since": _day(employment.since),
    }


def _social_coverage(person: Person) -> dict[str, Any] | None:
    coverage = SocialCoverage.objects.filter(person=person).first()
    if coverage is None:
        return None
    return {
        **_labelled(coverage, "regime"),
        **_labelled(coverage, "complementary"),
        "ame": coverage.ame,
        "rights_until": _day(coverage.rights_until),
    }


def _health(person: Person) -> dict[str, Any] | None:
    health = HealthRecord.objects.filter(person=person).first()
    if health is None:
        return None
    return {
        **_labelled(health, "disability_rate"),
        "rqth": health.rqth,
        "mdph_pending": health.mdph_pending,
        "long_term_condition": health.long_term_condition,
        "remarks": health.remarks,
    }


def _procedure(procedure: Procedure, exported_ids: Collection[int]) -> dict[str, Any]:
    """`exported_ids`: the documents the export lists. A checklist line keeps the link to
    a document deleted since it was brought, which the export no longer holds: it then
    names none, as the procedure pages count that paper as missing."""
    step_texts: list[str] = list(procedure.steps or [])
    return {
        "id": procedure.pk,
        "title": procedure.procedure_type.title,
        "organisme": procedure.procedure_type.organisme,
        "catalogue_slug": procedure.procedure_type.slug,
        "organisation": _organisation(procedure.organisation),
        **_labelled(procedure, "status"),
        "requested_on": _day(procedure.requested_on),
        "taken_on": _day(procedure.taken_on),
        "submitted_on": _day(procedure.submitted_on),
        "decided_on": _day(procedure.decided_on),
        "due_on": _day(procedure.due_on),
        "next_due_on": _day(procedure.next_due_on),
        "amount_granted": _amount(procedure.amount_granted),
        "rights_start_on": _day(procedure.rights_start_on),
        "refusal_reason": procedure.refusal_reason,
        "transitions": [
            {
                "from_status": transition.from_status,
                "to_status": transition.to_status,
                "on": _day(transition.on),
                "at": _moment(transition.at),
                "actor": transition.actor_label,
                "organisation": transition.organisation_label,
                "comment": transition.comment,
            }
            for transition in procedure.transitions.all()
        ],
        "steps": [
            {
                "number": step.step_index + 1,
                "text": step_texts[step.step_index] if step.step_index < len(step_texts) else "",
                **_labelled(step, "autonomy"),
                "reason": step.reason,
                "done_on": _day(step.done_on),
                "actor": step.actor_label,
            }
            for step in procedure.steps_done.all()
        ],
        "checklist": [
            {
                **_labelled(line, "kind"),
                "condition": line.condition,
                "group": line.group,
                "conditional": line.conditional,
                "concerned": line.concerned,
                "not_applicable": line.not_applicable,
                "someone_else": line.someone_else,
                "document_id": line.document_id if line.document_id in exported_ids else None,
            }
            for line in procedure.checklist.all()
        ],
    }


def _document(
    document: Document, version: DocumentVersion | None, path: str | None
) -> dict[str, Any]:
    return {
        "id": document.pk,
        **_labelled(document, "kind"),
        "title": document.title,
        "issued_on": _day(document.issued_on),
        "expires_on": _day(document.expires_on),
        "added_at": _moment(document.created_at),
        "version": version.number if version else None,
        "size": version.size if version else None,
        "sha256": version.sha256 if version else None,
        "content_type": version.content_type if version else None,
        "file": path,
    }


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": _moment(event.created_at),
        **_labelled(event, "action"),
        "actor": event.actor_label,
        "organisation": event.organisation_label,
        "profession": str(event.details.get("profession", "")),
        "category": event.category,
        **_paper_type(event),
        "reason": event.reason,
    }


# French labels, as every label of the JSON.
_PAPER_TYPES = {kind.value: str(kind.label) for kind in DocumentKind}


def _paper_type(event: AuditEvent) -> dict[str, str]:
    """The type of the paper an act touched, as its journal row records it (the oldest
    rows do not). Of a row's details, only this one and the profession are exported."""
    code = event.details.get("type")
    if not isinstance(code, str) or code not in _PAPER_TYPES:
        return {"document_type": "", "document_type_label": ""}
    return {"document_type": code, "document_type_label": _PAPER_TYPES[code]}


def _account(person: Person) -> dict[str, Any] | None:
    account = getattr(person, "account", None)
    if account is None:
        return None
    return {
        "card_identifier": account.card_identifier,
        "phone": account.phone,
        "email": account.email,
        "opened_at": _moment(account.opened_at),
        "last_login_at": _moment(account.last_login_at),
    }


def _rows(
    queryset: QuerySet[_Row], to_json: Callable[[_Row], dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """A list of the file as JSON values, read ROWS_AT_ONCE rows at a time, and only once
    it is iterated."""
    return map(to_json, queryset.iterator(chunk_size=ROWS_AT_ONCE))


def _file_members(person: Person, identity: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The file proper, category by category; each list as an iterator of its rows."""
    yield "identity", identity
    yield (
        "household",
        _rows(
            person.household.order_by("birth_date", "pk"),
            lambda member: {
                "id": member.pk,
                **_labelled(member, "relation"),
                "first_names": member.first_names,
                "last_name": member.last_name,
                "birth_date": _day(member.birth_date),
                "is_dependent": member.is_dependent,
            },
        ),
    )
    yield (
        "resources",
        _rows(
            person.resources.order_by("-month", "kind", "pk"),
            lambda resource: {
                "id": resource.pk,
                "member_id": resource.member_id,
                "month": _day(resource.month),
                **_labelled(resource, "kind"),
                "amount": _amount(resource.amount),
            },
        ),
    )
    yield "housing", _housing(person)
    yield "employment", _employment(person)
    yield "social_coverage", _social_coverage(person)
    yield "health", _health(person)
    yield (
        "notes",
        _rows(
            notes_for_person(person)
            .select_related("author", "organisation")
            .order_by("created_at", "pk"),
            lambda note: {
                "id": note.pk,
                "written_at": _moment(note.created_at),
                "author": _full_name(note.author),
                "organisation": _organisation(note.organisation),
                "visibility": note.visibility,
                "visibility_label": _note_visibility_labels()[note.visibility],
                "text": note.text,
            },
        ),
    )


def file_data(person: Person, *, nir: str | None) -> dict[str, Any]:
    """The file proper, category by category. Without `nir` (None), the identity says
    only whether a social security number is recorded (`has_nir`)."""
    return {
        key: list(value) if isinstance(value, Iterator) else value
        for key, value in _file_members(person, file_identity(person, nir=nir))
    }


@dataclass(frozen=True)
class ExportedFile:
    """What Relais holds about the person, as the export gives it; of each present
    document, its current version only: the earlier versions of a replaced one stay in
    Relais, out of the export.

    The identity carries the number in clear (null when there is none or when it cannot
    be decrypted); each document its path in the ZIP (None when it cannot be given). Every
    list is read as it is written, twice (the data, then the summary), inside the export's
    one snapshot: both passes, and every section, say the file as it stood at one moment."""

    person: Person
    identity: dict[str, Any]
    documents: list[tuple[Document, DocumentVersion | None, str | None]]
    exported_at: datetime
    history: AuditEventQuerySet

    def members(self, *, unsent: Collection[int]) -> Iterator[tuple[str, Any]]:
        """The members of the JSON object, in order, each read when it is asked for; a
        list as an iterator of its rows. `unsent`: the documents whose file could not be
        added after all, listed without one."""
        yield "format", FORMAT
        yield "format_version", FORMAT_VERSION
        yield "exported_at", _moment(self.exported_at)
        yield from _file_members(self.person, self.identity)
        yield "account", _account(self.person)
        yield (
            "followed_by",
            _rows(
                Referent.objects.filter(person=self.person)
                .select_related("organisation", "professional")
                .order_by("since", "pk"),
                lambda referent: {
                    "organisation": _organisation(referent.organisation),
                    "professional": _full_name(referent.professional),
                    "since": _day(referent.since),
                    "until": _day(referent.until),
                },
            ),
        )
        yield (
            "consents",
            _rows(
                Consent.objects.filter(person=self.person)
                .select_related("organisation", "professional")
                .order_by("starts_at", "pk"),
                lambda consent: {
                    "id": consent.pk,
                    "organisation": _organisation(consent.organisation),
                    "professional": _full_name(consent.professional),
                    "categories": list(consent.categories),
                    "purpose": consent.purpose,
                    **_labelled(consent, "duration"),
                    **_labelled(consent, "method"),
                    "starts_at": _moment(consent.starts_at),
                    "expires_at": _moment(consent.expires_at),
                    "revoked_at": _moment(consent.revoked_at),
                    "revoked_by": consent.revoked_by_label,
                    "live": consent.is_live(self.exported_at),
                },
            ),
        )
        yield (
            "blocks",
            _rows(
                Block.objects.filter(person=self.person)
                .select_related("organisation", "professional")
                .order_by("created_at", "pk"),
                lambda block: {
                    "id": block.pk,
                    "organisation": _organisation(block.organisation),
                    "professional": _full_name(block.professional),
                    "created_at": _moment(block.created_at),
                    "lifted_at": _moment(block.lifted_at),
                },
            ),
        )
        yield (
            "break_glass",
            _rows(
                BreakGlassGrant.objects.filter(person=self.person)
                .select_related("organisation", "professional")
                .order_by("opened_at", "pk"),
                lambda grant: {
                    "organisation": _organisation(grant.organisation),
                    "professional": _full_name(grant.professional),
                    "reason": grant.reason,
                    "opened_at": _moment(grant.opened_at),
                    "expires_at": _moment(grant.expires_at),
                },
            ),
        )
        exported_ids = {document.pk for document, _, _ in self.documents}
        yield (
            "procedures",
            _rows(
                Procedure.objects.filter(person=self.person)
                .select_related("procedure_type", "organisation")
                .prefetch_related("transitions", "steps_done", "checklist")
                .order_by("requested_on", "pk"),
                lambda procedure: _procedure(procedure, exported_ids),
            ),
        )
        yield (
            "documents",
            (
                _document(document, version, None if document.pk in unsent else path)
                for document, version, path in self.documents
            ),
        )
        yield "access_history", map(_event, _in_pages_by_seq(self.history))


def _in_pages_by_seq(history: AuditEventQuerySet) -> Iterator[AuditEvent]:
    """The history in the chain's order, one short query per ROWS_AT_ONCE rows, each
    starting after the last row read: behind a pooler in transaction mode, Django reads a
    whole list through one query at once (no server-side cursor, see the settings), which
    for the longest list of the file would hold it whole in memory."""
    after = 0
    while True:
        page = list(history.filter(seq__gt=after).order_by("seq")[:ROWS_AT_ONCE])
        yield from page
        if len(page) < ROWS_AT_ONCE:
            return
        after = page[-1].seq


def file_history(person: Person) -> AuditEventQuerySet:
    """The file's access history. Read in the export's snapshot, it holds the journal row
    of every change the other sections show, written in the same transaction as the
    change, and of no change they do not."""
    return AuditEvent.objects.for_file(person).access_history()


def json_text(members: Iterable[tuple[str, Any]]) -> Iterator[str]:
    """The JSON object of these members, as `json.dumps(..., ensure_ascii=False,
    indent=2)` would write it, a piece at a time: a member whose value is an iterator is
    written as an array, one row after the other."""
    opening = "{"
    for key, value in members:
        yield f"{opening}\n  {_indented(key, 1)}: "
        opening = ","
        if not isinstance(value, Iterator):
            yield _indented(value, 1)
            continue
        first = "["
        for row in value:
            yield f"{first}\n    {_indented(row, 2)}"
            first = ","
        yield "[]" if first == "[" else "\n  ]"
    yield "{}" if opening == "{" else "\n}"


def _indented(value: Any, depth: int) -> str:
    # A newline in json.dumps's output is always between two tokens: inside a string, it
    # is written \n.
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * depth)
