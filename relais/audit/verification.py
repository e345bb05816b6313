"""Walking the chain from the first row to the last and naming the first broken row.

Reads raw rows, not model instances: the ORM's per-row conversions would make checking a
journal of millions of rows several times slower.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from django.db import connection

from relais.audit.actions import AuditAction
from relais.audit.chain import CHAINED_FIELDS, GENESIS_HASH, canonical_bytes
from relais.audit.models import AuditEvent
from relais.audit.trimming import ANCHOR, first_row_allowed, trimmed_from

ACTION = CHAINED_FIELDS.index("action")
DETAILS = CHAINED_FIELDS.index("details")
PREV_HASH = CHAINED_FIELDS.index("prev_hash")
HASH = len(CHAINED_FIELDS)
TRIMMED = AuditAction.JOURNAL_TRIMMED.value


@dataclass(frozen=True)
class VerificationResult:
    rows_checked: int
    broken_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def _select_list() -> str:
    """Columns in CHAINED_FIELDS order, the date already in `timestamp_text` form and the
    details as JSON text: the database does these conversions far faster than Python."""
    if connection.vendor == "postgresql":
        created_at = (
            "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
        )
        details = "details::text"
    else:
        # Django keeps SQLite datetimes as naive UTC text, without a zero fraction.
        created_at = (
            "replace(created_at, ' ', 'T') "
            "|| CASE WHEN instr(created_at, '.') = 0 THEN '.000000' ELSE '' END || '+00:00'"
        )
        details = "details"
    expressions = {"created_at": created_at, "details": details}
    names = (*CHAINED_FIELDS, "hash")
    return ", ".join(expressions.get(name, connection.ops.quote_name(name)) for name in names)


def _raw_rows(chunk_size: int) -> Iterator[tuple[Any, ...]]:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    columns = _select_list()
    # From the smallest number there is: a row numbered 0 or below is read too, and refused.
    last_seq = -(2**63)
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT {columns} FROM {table} WHERE seq > %s ORDER BY seq LIMIT %s",  # noqa: S608
                [last_seq, chunk_size],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            yield from rows
            last_seq = rows[-1][0]


def verify_chain(chunk_size: int = 10_000) -> VerificationResult:
    rows = _raw_rows(chunk_size)
    first = next(rows, None)
    if first is None:
        return VerificationResult(0)
    if first[0] < 1:
        return VerificationResult(0, first[0], "numéro de ligne invalide : le journal commence à 1")
    # A journal may start after row 1 only where one of its own trim events allows it.
    start = _Start(first[0], first[PREV_HASH])
    expected_seq = first[0]
    expected_prev = GENESIS_HASH if first[0] == 1 else first[PREV_HASH]
    checked = 0
    for raw in chain([first], rows):
        seq = raw[0]
        if seq != expected_seq and _nothing_before(seq):
            # A trim erased the rows already walked while the walk went on: the journal now
            # starts here, and its trim events must allow that start like any other.
            start = _Start(seq, raw[PREV_HASH], start.allowed)
            expected_seq, expected_prev = seq, raw[PREV_HASH]
        problem = ""
        if seq != expected_seq:
            problem = f"ligne(s) {expected_seq} à {seq - 1} manquante(s) avant la ligne {seq}"
        elif raw[PREV_HASH] != expected_prev:
            problem = "l'empreinte précédente ne correspond pas à la ligne d'avant"
        else:
            values = list(raw[:HASH])
            details = values[DETAILS]
            values[DETAILS] = {} if details == "{}" else json.loads(details)
            if hashlib.sha256(canonical_bytes(values)).hexdigest() != raw[HASH]:
                problem = "le contenu ne correspond pas à son empreinte"
            elif raw[ACTION] == TRIMMED:
                problem = start.allow(seq, values[DETAILS])
        if problem:
            return start.refusal(broken_at=seq) or VerificationResult(checked, seq, problem)
        checked += 1
        expected_seq = seq + 1
        expected_prev = raw[HASH]
    return start.refusal() or VerificationResult(checked)


class _Start:
    """The journal's first row, and the first row its trim events allow it to start with."""

    def __init__(self, seq: int, prev_hash: str, allowed: int = 1) -> None:
        self.seq = seq
        self.prev_hash = prev_hash
        self.allowed = allowed

    def allow(self, seq: int, details: dict[str, Any]) -> str:
        """Take in the trim event at row `seq`; the problem it holds, or an empty text."""
        first_kept = trimmed_from(seq, details)
        if first_kept is None:
            return "élagage du journal sans première ligne gardée valable"
        if first_kept == self.seq and details.get(ANCHOR) != self.prev_hash:
            return "la première ligne gardée ne porte pas l'empreinte que l'élagage a notée"
        self.allowed = max(self.allowed, first_kept)
        return ""

    def refusal(self, broken_at: int | None = None) -> VerificationResult | None:
        """The journal starts after row 1 and none of its trim events allows it. Where the
        chain breaks at row `broken_at`, before the walk reached the trim event that allows
        the start (the newest one, near the end), that event is read without being
        verified: the start is then not the fault, the break is."""
        if self.seq <= self.allowed:
            return None
        if broken_at is not None and first_row_allowed(since=broken_at) >= self.seq:
            return None
        # Rows before the first row allowed went with a trim the journal records.
        problem = (
            f"ligne(s) {self.allowed} à {self.seq - 1} manquante(s) avant la ligne {self.seq}, "
            "sans élagage inscrit au journal"
        )
        return VerificationResult(0, self.seq, problem)


def _nothing_before(seq: int) -> bool:
    return not AuditEvent.objects.filter(seq__lt=seq).exists()
