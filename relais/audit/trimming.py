"""Erasing the journal's oldest rows once their retention period is over.

The chain must not lose rows silently. A trim first appends a JOURNAL_TRIMMED event that
names the first row kept and that row's previous hash (the anchor), and commits it; then it
deletes the rows before it, oldest first, a chunk per transaction, so that the journal is
always a whole chain's end. The verifier accepts a journal that starts after row 1 only if
one of its own rows authorises it; on PostgreSQL, the triggers refuse any DELETE that no
such row authorises. A trim cut short is finished by the next one.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.audit.services import audit_record, lock_chain_head

FIRST_KEPT = "premiere_ligne_gardee"
ANCHOR = "empreinte_avant_elle"


# An average month, and how many days short of whole months a duration may fall and
# still be said in them: 183 days is « 6 mois », 365 days « 12 mois ».
_MONTH_DAYS = 30.44
_MONTH_SLACK_DAYS = 3


def journal_kept_months() -> int:
    """How long the journal keeps its rows, in whole months, as the access histories say it:
    rounded down, so that what they promise is kept (200 days is 6 months, not 7)."""
    days = settings.RELAIS_RETENTION_JOURNAL.days
    return max(1, int((days + _MONTH_SLACK_DAYS) / _MONTH_DAYS))


@dataclass(frozen=True)
class JournalTrim:
    removed: int
    first_kept: int | None


def journal_trim(*, before: datetime, chunk_size: int = 10_000) -> JournalTrim:
    """Erase every row written before `before`; the rows erased and the first row kept
    (None for an empty journal)."""
    with transaction.atomic():
        lock_chain_head()
        oldest, newest = _bounds()
        if oldest is None:
            return JournalTrim(removed=0, first_kept=None)
        authorised = first_row_allowed()
        first_kept = _first_row_since(before) or newest + 1
        if first_kept > max(oldest, authorised):
            audit_record(
                action=AuditAction.JOURNAL_TRIMMED,
                by=SYSTEM,
                reason="Durée de conservation du journal atteinte.",
                details={
                    FIRST_KEPT: first_kept,
                    ANCHOR: _hash_before(first_kept),
                    "lignes_effacees": first_kept - oldest,
                    "avant_le": timezone.localtime(before).isoformat(timespec="seconds"),
                },
            )
            authorised = first_kept
    removed = 0
    for start in range(oldest, authorised, chunk_size):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_delete_sql(), [min(start + chunk_size, authorised)])
            removed += cursor.rowcount
    return JournalTrim(removed=removed, first_kept=max(oldest, authorised))


def _bounds() -> tuple[int | None, int]:
    bounds = AuditEvent.objects.aggregate(oldest=Min("seq"), newest=Max("seq"))
    return bounds["oldest"], bounds["newest"] or 0


def first_row_allowed(*, since: int = 1) -> int:
    """The first row the trim rows of the journal, from row `since` on, allow it to start
    with: 1 where none does."""
    trims = AuditEvent.objects.filter(action=AuditAction.JOURNAL_TRIMMED, seq__gte=since)
    allowed = (trimmed_from(seq, details) for seq, details in trims.values_list("seq", "details"))
    return max((first for first in allowed if first is not None), default=1)


def trimmed_from(seq: int, details: Any) -> int | None:
    """The first row kept that the trim row `seq` names, if it names a valid one: after
    row 1, and not after the trim row itself (which is written before the erasure)."""
    first_kept = details.get(FIRST_KEPT) if isinstance(details, dict) else None
    if isinstance(first_kept, int) and 1 < first_kept <= seq:
        return first_kept
    return None


def _first_row_since(moment: datetime) -> int | None:
    # Walks the primary key from the oldest row: it reads the rows to erase, then stops.
    since = AuditEvent.objects.filter(created_at__gte=moment).order_by("seq")
    return since.values_list("seq", flat=True).first()


def _hash_before(seq: int) -> str:
    """The hash row `seq` chains to: its own `prev_hash`, or the head's for the next row."""
    before = AuditEvent.objects.filter(seq__lt=seq).order_by("-seq")
    return before.values_list("hash", flat=True)[0]


@cache
def _delete_sql() -> str:
    # Raw SQL: the journal's querysets refuse to delete, on purpose.
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    return f"DELETE FROM {table} WHERE seq < %s"  # noqa: S608 (identifiers only)
