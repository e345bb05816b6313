"""Walking the chain from the first row to the last and naming the first broken row."""

from dataclasses import dataclass
from typing import Any

from relais.audit.chain import CHAINED_FIELDS, GENESIS_HASH, row_hash
from relais.audit.models import AuditEvent


@dataclass(frozen=True)
class VerificationResult:
    rows_checked: int
    broken_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def verify_chain(chunk_size: int = 5000) -> VerificationResult:
    columns = (*CHAINED_FIELDS, "hash")
    rows = AuditEvent.objects.order_by("seq").values_list(*columns).iterator(chunk_size)
    expected_seq = 1
    expected_prev = GENESIS_HASH
    checked = 0
    for values in rows:
        row: dict[str, Any] = dict(zip(columns, values, strict=True))
        seq = row["seq"]
        if seq != expected_seq:
            if seq > expected_seq:
                problem = f"ligne(s) {expected_seq} à {seq - 1} manquante(s) avant la ligne {seq}"
            else:
                problem = f"numéro {seq} hors séquence (attendu {expected_seq})"
            return VerificationResult(checked, seq, problem)
        if row["prev_hash"] != expected_prev:
            return VerificationResult(
                checked, seq, "l'empreinte précédente ne correspond pas à la ligne d'avant"
            )
        if row_hash(row) != row["hash"]:
            return VerificationResult(checked, seq, "le contenu ne correspond pas à son empreinte")
        checked += 1
        expected_seq = seq + 1
        expected_prev = row["hash"]
    return VerificationResult(checked)
