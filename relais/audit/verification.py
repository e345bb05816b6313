"""Walking the chain from the first row to the last and naming the first broken row.

Reads raw rows, not model instances: the ORM's per-row conversions would make checking a
journal of millions of rows several times slower.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from relais.audit.chain import CHAINED_FIELDS, GENESIS_HASH, canonical_bytes
from relais.audit.models import AuditEvent

DETAILS = CHAINED_FIELDS.index("details")
PREV_HASH = CHAINED_FIELDS.index("prev_hash")
HASH = len(CHAINED_FIELDS)


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
    last_seq = 0
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
    expected_seq = 1
    expected_prev = GENESIS_HASH
    checked = 0
    for raw in _raw_rows(chunk_size):
        seq = raw[0]
        if seq != expected_seq:
            problem = f"ligne(s) {expected_seq} à {seq - 1} manquante(s) avant la ligne {seq}"
            return VerificationResult(checked, seq, problem)
        if raw[PREV_HASH] != expected_prev:
            return VerificationResult(
                checked, seq, "l'empreinte précédente ne correspond pas à la ligne d'avant"
            )
        values = list(raw[:HASH])
        details = values[DETAILS]
        values[DETAILS] = {} if details == "{}" else json.loads(details)
        if hashlib.sha256(canonical_bytes(values)).hexdigest() != raw[HASH]:
            return VerificationResult(checked, seq, "le contenu ne correspond pas à son empreinte")
        checked += 1
        expected_seq = seq + 1
        expected_prev = raw[HASH]
    return VerificationResult(checked)
