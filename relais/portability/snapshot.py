"""The whole of a person's file as plain JSON values: what the export writes to
`relais-export.json`, in the shape that `schema/relais-export-1.schema.json` describes.

Codes are the domain's codes, each with its French label next to it; dates are ISO 8601;
amounts are decimal strings ("635.71"), never floats.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model, Prefetch
from django.utils import timezone

from relais.audit.models import AuditEvent
from relais.consent.models import Block, BreakGlassGrant, Consent
from relais.documents.models import Document, DocumentVersion
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
    display = getattr(instance, f"get_{field}_display")
    return {field: value, f"{field}_label": str(display()) if value else ""}


def _organisation(organisation: Any) -> dict[str, Any] | None:
    if organisation is None:
        return None
    return {"id": organisation.pk, "name": organisation.name}


def _full_name(user: Any) -> str | None:
    return user.get_full_name() if user is not None else None


def _identity(person: Person, nir: str | None) -> dict[str, Any]:
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


def _procedures(person: Person, exported_ids: set[int]) -> list[dict[str, Any]]:
    """`exported_ids`: the documents the export lists. A checklist line keeps the link to
    a document deleted since it was brought, which the export no longer holds: it then
    names none, as the procedure pages count that paper as missing."""
    procedures = (
        Procedure.objects.filter(person=person)
        .select_related("procedure_type", "organisation")
        .prefetch_related("transitions", "steps_done", "checklist")
        .order_by("requested_on", "pk")
    )
    rows = []
    for procedure in procedures:
        step_texts: list[str] = list(procedure.steps or [])
        rows.append(
            {
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
                        "text": step_texts[step.step_index]
                        if step.step_index < len(step_texts)
                        else "",
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
                        "not_applicable": line.not_applicable,
                        "document_id": line.document_id
                        if line.document_id in exported_ids
                        else None,
                    }
                    for line in procedure.checklist.all()
                ],
            }
        )
    return rows


def _documents(exported: list[tuple[Document, DocumentVersion | None, str | None]]) -> list[Any]:
    return [
        {
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
        for document, version, path in exported
    ]


def _access_history(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "at": _moment(event.created_at),
            **_labelled(event, "action"),
            "actor": event.actor_label,
            "organisation": event.organisation_label,
            "profession": str(event.details.get("profession", "")),
            "category": event.category,
            "reason": event.reason,
        }
        for event in AuditEvent.objects.for_file(person)
        .access_history()
        .order_by("seq")
        .iterator(chunk_size=1000)
    ]


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


def file_data(person: Person, *, nir: str | None) -> dict[str, Any]:
    """The file proper, category by category. Without `nir` (None), the identity says
    only whether a social security number is recorded (`has_nir`)."""
    return {
        "identity": _identity(person, nir),
        "household": [
            {
                "id": member.pk,
                **_labelled(member, "relation"),
                "first_names": member.first_names,
                "last_name": member.last_name,
                "birth_date": _day(member.birth_date),
                "is_dependent": member.is_dependent,
            }
            for member in person.household.order_by("birth_date", "pk")
        ],
        "resources": [
            {
                "id": resource.pk,
                "member_id": resource.member_id,
                "month": _day(resource.month),
                **_labelled(resource, "kind"),
                "amount": _amount(resource.amount),
            }
            for resource in person.resources.order_by("-month", "kind", "pk")
        ],
        "housing": _housing(person),
        "employment": _employment(person),
        "social_coverage": _social_coverage(person),
        "health": _health(person),
        "notes": [
            {
                "id": note.pk,
                "written_at": _moment(note.created_at),
                "author": _full_name(note.author),
                "organisation": _organisation(note.organisation),
                **_labelled(note, "visibility"),
                "text": note.text,
            }
            for note in notes_for_person(person)
            .select_related("author", "organisation")
            .order_by("created_at", "pk")
        ],
    }


def file_snapshot(
    person: Person,
    *,
    nir: str,
    documents: list[tuple[Document, DocumentVersion | None, str | None]],
    exported_at: datetime,
) -> dict[str, Any]:
    """What Relais holds about the person, as JSON values; of each present document, its
    current version only: the earlier versions of a replaced one stay in Relais, out of
    the export. `nir` is the number in clear, empty when there is none or when it cannot
    be decrypted (the identity then says null). `documents` gives each document's current
    version and its path in the ZIP (None when it cannot be given)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": _moment(exported_at),
        **file_data(person, nir=nir),
        "account": _account(person),
        "followed_by": [
            {
                "organisation": _organisation(referent.organisation),
                "professional": _full_name(referent.professional),
                "since": _day(referent.since),
                "until": _day(referent.until),
            }
            for referent in Referent.objects.filter(person=person)
            .select_related("organisation", "professional")
            .order_by("since", "pk")
        ],
        "consents": [
            {
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
                "live": consent.is_live(exported_at),
            }
            for consent in Consent.objects.filter(person=person)
            .select_related("organisation", "professional")
            .order_by("starts_at", "pk")
        ],
        "blocks": [
            {
                "id": block.pk,
                "organisation": _organisation(block.organisation),
                "professional": _full_name(block.professional),
                "created_at": _moment(block.created_at),
                "lifted_at": _moment(block.lifted_at),
            }
            for block in Block.objects.filter(person=person)
            .select_related("organisation", "professional")
            .order_by("created_at", "pk")
        ],
        "break_glass": [
            {
                "organisation": _organisation(grant.organisation),
                "professional": _full_name(grant.professional),
                "reason": grant.reason,
                "opened_at": _moment(grant.opened_at),
                "expires_at": _moment(grant.expires_at),
            }
            for grant in BreakGlassGrant.objects.filter(person=person)
            .select_related("organisation", "professional")
            .order_by("opened_at", "pk")
        ],
        "procedures": _procedures(person, {document.pk for document, _, _ in documents}),
        "documents": _documents(documents),
        "access_history": _access_history(person),
    }
