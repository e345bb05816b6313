"""The hash chain: how one journal row is turned into bytes and hashed.

Kept apart from the model so that the writer and the verifier share exactly one definition
of a row's canonical content.
"""

import hashlib
import json
from datetime import datetime
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


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def canonical_bytes(row: dict[str, Any]) -> bytes:
    payload = [_canonical_value(row[name]) for name in CHAINED_FIELDS]
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def row_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(row)).hexdigest()
