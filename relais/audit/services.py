"""Writing to the journal. One function, called inside the transaction of the change."""

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.chain import GENESIS_HASH, row_hash
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.prepared import write_transaction

# Any constant works: it names the one lock that serialises appends on PostgreSQL. The
# function audit_chain_head() of migration 0008 takes the same.
_CHAIN_LOCK_KEY = 0x52454C414953


def lock_chain_head() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # SQLite: transactions start with BEGIN IMMEDIATE (see settings), so the enclosing
    # transaction already holds the only write lock.


class Event(NamedTuple):
    """One event to append, its actor given apart (see audit_record_many)."""

    action: AuditAction
    person_id: int | None = None
    person_label: str = ""
    category: str = ""
    object_type: str = ""
    object_id: str | int = ""
    reason: str = ""
    details: dict[str, str | int | bool | None] | None = None


def audit_record(
    *,
    action: AuditAction,
    by: Actor,
    person_id: int | None = None,
    person_label: str = "",
    category: str = "",
    object_type: str = "",
    object_id: str | int = "",
    reason: str = "",
    details: dict[str, str | int | bool | None] | None = None,
) -> AuditEvent:
    """Append one event to the chain and return it.

    Call it inside the transaction that makes the change, so that the change and its
    trace are committed together or not at all.
    """
    event = Event(
        action, person_id, person_label, category, object_type, object_id, reason, details
    )
    (row,) = _append([event], by)
    return AuditEvent.from_db(DEFAULT_DB_ALIAS, _ATTNAMES, [row[name] for name in _ATTNAMES])


def audit_record_many(events: Sequence[Event], *, by: Actor) -> None:
    """Append several events by one actor, chained in their order, in one statement: for a
    page that shows many files at once, as many rows as files for the cost of one."""
    if events:
        _append(events, by)


def _append(events: Sequence[Event], by: Actor) -> list[dict[str, Any]]:
    # The connection itself, not the proxy: each attribute read through the proxy looks
    # the connection up again.
    database = connections[DEFAULT_DB_ALIAS]
    with write_transaction(database) as run:
        # Takes the chain's lock first on PostgreSQL (see _head_sql).
        head = run(_head_sql(), ())
        seq, prev_hash = (head[0][0] + 1, head[0][1]) if head else (1, GENESIS_HASH)
        now = timezone.now()
        rows = []
        for event in events:
            row: dict[str, Any] = {
                "seq": seq,
                "created_at": now,
                "action": str(event.action),
                "actor_id": by.user_id,
                "actor_label": by.label[:200],
                "organisation_id": by.organisation_id,
                "organisation_label": by.organisation_label[:200],
                "person_id": event.person_id,
                "person_label": event.person_label[:200],
                "category": event.category,
                "object_type": event.object_type,
                "object_id": str(event.object_id),
                "reason": event.reason,
                "ip_address": by.ip_address,
                "details": _details(event.details or {}, by, event.person_id),
                "prev_hash": prev_hash,
            }
            row["hash"] = prev_hash = row_hash(row)
            seq += 1
            rows.append(row)
        # Prepared INSERTs rather than Model.save(): the journal is written on every page
        # that shows a file, and the ORM's query building would cost more than the write
        # itself. At most _BATCH rows each, so that few statements are ever prepared.
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            run(
                _insert_sql(len(batch)),
                [
                    row[name] if field is None else field.get_db_prep_save(row[name], database)
                    for row in batch
                    for name, field in _PREPARATION
                ],
            )
    return rows


def _details(
    details: dict[str, str | int | bool | None], by: Actor, person_id: int | None
) -> dict[str, str | int | bool | None]:
    """Every act of a professional on a file names their profession, as the person's
    access history shows it.

    Values are text, integers, booleans or None only: PostgreSQL writes a JSON decimal
    number back in its own form (1e20 as 100000000000000000000), and the row's hash, taken
    over the form given here, would never verify again."""
    for key, value in details.items():
        if value is not None and not isinstance(value, str | int):
            raise TypeError(f"Détail « {key} » du journal : {type(value).__name__} refusé.")
    if person_id is None or not by.profession or "profession" in details:
        return details
    return {"profession": by.profession, **details}


_FIELDS = AuditEvent._meta.concrete_fields
_ATTNAMES = [field.attname for field in _FIELDS]
# Text and integer columns go to the database as they are (the row above builds them as
# str and int); the others (date, JSON, IP address) through their field's preparation.
_PREPARATION = [
    (
        field.attname,
        None
        if isinstance(field, models.CharField | models.TextField | models.BigIntegerField)
        else field,
    )
    for field in _FIELDS
]


# Both statements are built once from the model's metadata (identifiers only, no value).
@cache
def _head_sql() -> str:
    if connection.vendor == "postgresql":
        # Locks, then reads the head, in one round trip (migration 0008).
        return "SELECT seq, hash FROM audit_chain_head()"
    quote = connection.ops.quote_name
    table = quote(AuditEvent._meta.db_table)
    return f"SELECT {quote('seq')}, {quote('hash')} FROM {table} ORDER BY 1 DESC LIMIT 1"  # noqa: S608


_BATCH = 50


@lru_cache(maxsize=_BATCH)
def _insert_sql(rows: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _FIELDS)
    values = ", ".join([f"({', '.join(['%s'] * len(_FIELDS))})"] * rows)
    return f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) VALUES {values}"  # noqa: S608
