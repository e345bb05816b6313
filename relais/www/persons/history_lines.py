"""A file's access history as its pages show it. The consultations one professional of one
organisation made of the file in a row, the same day, are one line (« Consultation —
Identité et coordonnées, Démarches — 12 fois entre 20:41 et 20:48 »); every other access — a
change, the NIR shown, an exceptional access — is a line of its own. The journal keeps a
row per page seen: only its display groups them.

The professionals' history and the person's « Qui a regardé mon dossier » group alike; each
says a line in its own words, from what a line holds: the categories read and the first and
last times."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent, AuditEventQuerySet
from relais.www.templatetags.dates import date as date_format
from relais.www.templatetags.journal import category_label

# Rows read at a time to make a page of lines: one line may hold many.
ROWS_READ_AT_ONCE = 500

Key = tuple[object, ...]


def consultation_key(event: AuditEvent) -> Key | None:
    """What the consultations of one line share; None for an access shown on its own."""
    if (
        event.action != AuditAction.SECTION_VIEWED
        or event.reason
        or event.details.get("exceptionnel")
    ):
        return None
    return (
        event.actor_id,
        event.actor_label,
        event.organisation_id,
        event.organisation_label,
        event.details.get("profession"),
        timezone.localdate(event.created_at),
    )


@dataclass
class Line:
    """One line of the history: a row of the journal, or consultations in a row. It keeps
    its newest and oldest rows and what it counts, never each of its rows: a line may hold
    thousands of reads, and the export of a file groups its whole history."""

    event: AuditEvent  # the newest row of the line
    key: Key | None
    oldest: AuditEvent = field(init=False)
    count: int = field(init=False, default=1)
    # Each category consulted, with the seq of its first consultation.
    _first_reads: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.oldest = self.event
        self._read(self.event)

    def add(self, event: AuditEvent) -> None:
        """Put on the line a row older than those it holds."""
        self.oldest = event
        self.count += 1
        self._read(event)

    def _read(self, event: AuditEvent) -> None:
        if event.category:
            self._first_reads[event.category] = event.seq

    @property
    def oldest_seq(self) -> int:
        return self.oldest.seq

    @property
    def stands_out(self) -> bool:
        """Anything but a plain consultation: a change, the NIR shown, an exceptional
        access."""
        return self.key is None

    @property
    def first_at(self) -> datetime:
        return self.oldest.created_at

    @property
    def last_at(self) -> datetime:
        return self.event.created_at

    @property
    def read_categories(self) -> list[str]:
        """The codes of the categories consulted, each once, in the order first consulted."""
        return sorted(self._first_reads, key=self._first_reads.__getitem__)

    @property
    def categories(self) -> str:
        """The categories consulted, as the professionals' pages name them."""
        return ", ".join(category_label(category) for category in self.read_categories)

    @property
    def span(self) -> str:
        """« 12 fois entre 20:41 et 20:48 », or « 3 fois à 20:41 » within one minute, as
        the professionals' pages say it."""
        first, last = _time(self.first_at), _time(self.last_at)
        when = f"à {first}" if first == last else f"entre {first} et {last}"
        return f"{self.count} fois {when}"


def _time(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "H:i")


def lines_of(rows: Iterable[AuditEvent], lines: list[Line] | None = None) -> list[Line]:
    """The rows, newest first, as lines, added to `lines` (whose last line they may go on)."""
    lines = [] if lines is None else lines
    for event in rows:
        key = consultation_key(event)
        if key is not None and lines and lines[-1].key == key:
            lines[-1].add(event)
        else:
            lines.append(Line(event, key))
    return lines


def page_of_lines(
    history: AuditEventQuerySet, before: int | None, size: int
) -> tuple[list[Line], int | None]:
    """`size` lines of the history, newest first, made of the rows older than row `before`
    (from the newest without it), and the row the next, older page starts below (None at
    the end). A line is never cut between two pages: rows are read until the line after the
    last one shown begins, and the next page starts with that line, which groups the rows
    after it just as the whole history read at once would."""
    rows = history.filter(seq__lt=before) if before else history
    lines: list[Line] = []
    while True:
        read = list(rows.newest_first()[:ROWS_READ_AT_ONCE])
        lines_of(read, lines)
        if len(lines) > size:
            shown = lines[:size]
            return shown, shown[-1].oldest_seq
        if len(read) < ROWS_READ_AT_ONCE:
            return lines, None
        rows = rows.filter(seq__lt=read[-1].seq)
