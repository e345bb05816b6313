"""The hash chain: how one journal row is turned into bytes and hashed.

Kept apart from the model so that the writer and the verifier share exactly one definition
of a row's canonical content.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The order of this tuple is part of the chain's format: changing it breaks every
# existing journal. Add new columns at the end only.
CHAINED_FIELDS: tuple[str, ...] = (
    "seq",
    "created_at",
    "action",
    "actor_id",
    "actor_label",
    "organisation_id",
    "organisation_label",
    "person_id",
    "person_label",
    "category",
    "object_type",
    "object_id",
    "reason",
    "ip_address",
    "details",
    "prev_hash",
)
CREATED_AT = CHAINED_FIELDS.index("created_at")


def timestamp_text(moment: datetime) -> str:
    """The one textual form of a row's date: UTC, microseconds, ISO 8601."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_bytes(values: list[Any]) -> bytes:
    """`values` in CHAINED_FIELDS order, the date already as `timestamp_text`."""
    return _ENCODER.encode(values).encode()


def row_hash(row: dict[str, Any]) -> str:
    values = [row[name] for name in CHAINED_FIELDS]
    values[CREATED_AT] = timestamp_text(values[CREATED_AT])
    return hashlib.sha256(canonical_bytes(values)).hexdigest()
