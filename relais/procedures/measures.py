"""What the procedures measure: completeness of the documents, autonomy of the person over
time, and the time taken to handle and to decide a request, all from real dates."""

import calendar
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from relais.documents.models import Document, DocumentKind, category_of
from relais.persons.categories import DataCategory
from relais.procedures.checklist import UNKNOWN, Situation, applies, contradicted, units
from relais.procedures.models import (
    BEFORE_SUBMISSION,
    Autonomy,
    Procedure,
    ProcedureStep,
    RequiredDocument,
)

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@dataclass(frozen=True)
class Completeness:
    """The checklist on one day, counted unit by unit (`checklist.units`): a line on its
    own, or a group of lines one of which is enough. Lines marked not applicable, those
    the person does not need, and those asked only in a situation not known to apply
    are left out of every count."""

    day: date
    total: int
    satisfied: int
    # Lines of the units counted and not met: with no document, or whose document was
    # deleted, or was not yet issued or brought on that day.
    missing: list[RequiredDocument] = field(default_factory=list)
    # Lines of the units counted and not met whose document had expired on that day.
    expired: list[RequiredDocument] = field(default_factory=list)
    # Lines the file shows the person does not need, and the other lines of a group one
    # line of which is valid.
    not_needed: list[RequiredDocument] = field(default_factory=list)
    # Units of several lines, one of which is enough.
    alternatives: list[tuple[RequiredDocument, ...]] = field(default_factory=list)
    # Lines asked only in a situation not known to apply (« si vous en avez un »): said
    # apart, never missing.
    conditional: list[RequiredDocument] = field(default_factory=list)

    @property
    def rate(self) -> int:
        """0 to 100, rounded down so that 100 always means complete; 100 when nothing is
        required."""
        return 100 if self.total == 0 else self.satisfied * 100 // self.total

    @property
    def is_complete(self) -> bool:
        return self.satisfied == self.total


def completeness_day(procedure: Procedure) -> date:
    """The day a checklist is judged on: the submission, once submitted (what the organisme
    received), otherwise today (what is still to gather); models.checklist_day in SQL."""
    if procedure.submitted_on is not None and procedure.status not in BEFORE_SUBMISSION:
        return procedure.submitted_on
    return timezone.localdate()


def state_on(item: RequiredDocument, day: date) -> str:
    """« valid », « expired » (out of date, or too old for the line's freshness rule), or
    « missing » (no document, deleted, or not yet issued or brought on that day)."""
    document = item.attached
    if document is None or not document.existed_on(day):
        return "missing"
    return "valid" if item.is_satisfied_on(day) else "expired"


def completeness(
    procedure: Procedure, *, on: date | None = None, situation: Situation = UNKNOWN
) -> Completeness:
    """Judged from what `situation` says of the person (by default nothing: only the
    groups and the lines asked always count). Uses the checklist prefetched with its
    documents when the caller did so (`prefetch_related("checklist__document")`), else
    reads it in one query."""
    day = on or completeness_day(procedure)
    items = procedure.checklist.all()
    if "checklist" not in getattr(procedure, "_prefetched_objects_cache", {}):
        items = items.select_related("document")
    not_needed = [
        item
        for item in items
        if not item.not_applicable and contradicted(item.condition, situation)
    ]
    total = satisfied = 0
    missing: list[RequiredDocument] = []
    expired: list[RequiredDocument] = []
    conditional: list[RequiredDocument] = []
    groups = units(items, situation)
    for unit in groups:
        if not any(applies(item, situation) for item in unit):
            conditional.extend(unit)
            continue
        total += 1
        states = {item.pk: state_on(item, day) for item in unit}
        if "valid" in states.values():
            satisfied += 1
            not_needed.extend(item for item in unit if states[item.pk] != "valid")
            continue
        missing.extend(item for item in unit if states[item.pk] == "missing")
        expired.extend(item for item in unit if states[item.pk] == "expired")
    return Completeness(
        day=day,
        total=total,
        satisfied=satisfied,
        missing=missing,
        expired=expired,
        not_needed=not_needed,
        alternatives=[unit for unit in groups if len(unit) > 1],
        conditional=conditional,
    )


def add_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative), or the month's last day when
    it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def valid_until(item: RequiredDocument, document: Document) -> date | None:
    """The last day `document` is valid for the line (None: with no end): the day its
    freshness rule ends when it has one and the issue day is known
    (`RequiredDocument.accepts`), else the paper's own end."""
    if item.fresh_months is not None and document.issued_on is not None:
        return add_months(document.issued_on, item.fresh_months)
    return document.expires_on


def french_date(day: date) -> str:
    """« 1er mars 2026 », « 3 mars 2026 »: the way a letter writes it."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def _lower_first(label: str) -> str:
    # "Avis d'imposition" → "avis d'imposition", but "RIB" stays "RIB".
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def document_category(item: RequiredDocument) -> str:
    """The access rule's category of what a checklist line holds: its linked document's
    own (an « autre pièce » may stand on a health line), else its kind's."""
    if item.attached is not None:
        return item.attached.category
    return category_of(item.kind)


# Said instead of the details of a line the reader may not read: neither its kind nor
# its dates.
_UNREADABLE = {
    DataCategory.HEALTH: ("Une pièce de santé est à vérifier.", "pièces de santé"),
    DataCategory.DOCUMENTS: ("Une pièce justificative est à vérifier.", "pièces justificatives"),
}


def _described(item: RequiredDocument) -> str:
    """The kind of paper, and for an « autre pièce » what the catalogue says it is."""
    label = item.get_kind_display()
    if item.kind == DocumentKind.OTHER and item.condition:
        return f"{label} : {item.condition}"
    return label


def _one_of(unit: Iterable[RequiredDocument]) -> str:
    """« Carte nationale d'identité ou titre de séjour »."""
    labels = [item.get_kind_display() for item in unit]
    return " ou ".join([labels[0], *(_lower_first(label) for label in labels[1:])])


def missing_in_plain_words(
    result: Completeness, *, readable_categories: Collection[str] | None = None
) -> list[str]:
    """What is still to bring, for the professional: one short sentence per paper, or per
    group of papers one of which is enough, naming the papers; the catalogue's
    conditions, written to the person (« si vous… »), stay beside each line of the list.
    The papers asked only in a situation not known yet, not brought, are named in one
    sentence, to see with the person. Lines whose document falls outside
    `readable_categories` (None: all readable) are only counted, in one neutral sentence
    per category."""
    sentences = []
    hidden: Counter[str] = Counter()

    def shown(category: str) -> bool:
        if readable_categories is None or category in readable_categories:
            return True
        hidden[category] += 1
        return False

    lacking = {item.pk for item in [*result.missing, *result.expired]}
    unmet = [unit for unit in result.alternatives if all(item.pk in lacking for item in unit)]
    grouped = {item.pk for unit in unmet for item in unit}
    for item in result.missing:
        if item.pk not in grouped and shown(document_category(item)):
            sentences.append(f"{_described(item)}.")
    for unit in unmet:
        unreadable = [
            document_category(item)
            for item in unit
            if readable_categories is not None
            and document_category(item) not in readable_categories
        ]
        if unreadable:
            hidden[unreadable[0]] += 1
            continue
        enough = "une des deux pièces suffit" if len(unit) == 2 else "une de ces pièces suffit"
        sentences.append(f"{_one_of(unit)} : {enough}.")
    for item in result.expired:
        document = item.attached
        last_day = None if document is None else valid_until(item, document)
        if item.pk in grouped or document is None or last_day is None:
            # Unlinked or made permanent since the measure was taken: nothing to renew.
            continue
        if shown(document.category):
            since = french_date(last_day + timedelta(days=1))
            sentences.append(
                f"{item.get_kind_display()} : plus valable depuis le {since}, à renouveler."
            )
    to_see: dict[object, list[RequiredDocument]] = {}
    for item in result.conditional:
        if state_on(item, result.day) != "valid":
            to_see.setdefault(item.group or ("line", item.pk), []).append(item)
    named = [
        _lower_first(_one_of(unit))
        for unit in to_see.values()
        if all(shown(document_category(item)) for item in unit)
    ]
    if named:
        sentences.append(f"Selon la situation de la personne, peut-être : {', '.join(named)}.")
    for category, count in sorted(hidden.items()):
        one, several = _UNREADABLE[DataCategory(category)]
        sentences.append(one if count == 1 else f"{count} {several} sont à vérifier.")
    return sentences


@dataclass(frozen=True)
class AutonomyPoint:
    """Steps done in one month, by how they were done."""

    month: date
    with_person: int = 0
    for_person: int = 0
    person_alone: int = 0

    @property
    def total(self) -> int:
        return self.with_person + self.for_person + self.person_alone

    @property
    def alone_rate(self) -> int | None:
        """Share of the steps the person did alone, 0 to 100; None when no step."""
        return None if self.total == 0 else self.person_alone * 100 // self.total


def autonomy_by_period(
    person_id: int, *, months: int = 12, today: date | None = None
) -> list[AutonomyPoint]:
    """The person's steps counted per month and autonomy mode, oldest month first, the
    current month last, months without steps included; one query."""
    day = today or timezone.localdate()
    starts = [add_months(day.replace(day=1), -back) for back in range(months - 1, -1, -1)]
    counts: dict[tuple[date, str], int] = {}
    rows = (
        ProcedureStep.objects.filter(
            procedure__person_id=person_id, done_on__gte=starts[0], done_on__lte=day
        )
        .annotate(month=TruncMonth("done_on"))
        .values_list("month", "autonomy")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for month, autonomy, count in rows:
        counts[(month, autonomy)] = count
    return [
        AutonomyPoint(
            month=start,
            with_person=counts.get((start, Autonomy.WITH_PERSON), 0),
            for_person=counts.get((start, Autonomy.FOR_PERSON), 0),
            person_alone=counts.get((start, Autonomy.PERSON_ALONE), 0),
        )
        for start in starts
    ]


@dataclass(frozen=True)
class HandlingSummary:
    """Medians in days over the procedures that have the dates: from the request to its
    taking in charge (the study's « délai de prise en charge d'une demande »), from the
    request to the submission (time to handle), and from the submission to the first
    decision (time to decide)."""

    taken: int
    median_taking_days: float | None
    handled: int
    median_handling_days: float | None
    decided: int
    median_decision_days: float | None


_HANDLING_FIELDS = (
    "requested_on",
    "taken_on",
    "submitted_on",
    "decided_on",
    "previous_id",
    "created_by_id",
)


def handling_times(procedures: QuerySet[Procedure] | Iterable[Procedure]) -> HandlingSummary:
    """A queryset is read in one query of its dates; a list is used as it is."""
    rows: Iterable[tuple[date, date | None, date | None, date | None, int | None, int | None]]
    if isinstance(procedures, QuerySet):
        rows = procedures.values_list(*_HANDLING_FIELDS)
    else:
        rows = [
            (
                p.requested_on,
                p.taken_on,
                p.submitted_on,
                p.decided_on,
                p.previous_id,
                p.created_by_id,
            )
            for p in procedures
        ]
    taking: list[int] = []
    handling: list[int] = []
    decision: list[int] = []
    for requested_on, taken_on, submitted_on, decided_on, previous_id, created_by_id in rows:
        # An occurrence the daily task opened (the only ones with a previous occurrence
        # and no author) is dated the day it was opened: nobody asked anything that day,
        # so there is no request whose taking in charge to time.
        opened_by_task = previous_id is not None and created_by_id is None
        if taken_on is not None and not opened_by_task:
            taking.append((taken_on - requested_on).days)
        if submitted_on is None:
            continue
        handling.append((submitted_on - requested_on).days)
        if decided_on is not None:
            decision.append((decided_on - submitted_on).days)
    return HandlingSummary(
        taken=len(taking),
        median_taking_days=median(taking) if taking else None,
        handled=len(handling),
        median_handling_days=median(handling) if handling else None,
        decided=len(decision),
        median_decision_days=median(decision) if decision else None,
    )
