import pytest

from relais.audit.models import AuditEvent
from relais.audit.verification import verify_chain
from tests.audit.concurrent_appends import append_concurrently
from tests.concurrency import report_of


@pytest.mark.postgresql
@pytest.mark.usefixtures("on_postgresql", "transactional_db")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("one_transaction", [False, True], ids=["per-event", "per-thread"])
def test_it_keeps_one_unbroken_chain_when_8_threads_append_on_postgresql(one_transaction):
    failures = append_concurrently(8, 25, one_transaction=one_transaction)

    assert failures == []
    result = verify_chain()
    assert result.intact, result.problem
    assert result.rows_checked == 200
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 201))
    assert AuditEvent.objects.values("object_id").distinct().count() == 200


def test_it_keeps_one_unbroken_chain_when_4_threads_append_to_a_sqlite_file(tmp_path):
    report = report_of(
        "tests.audit.concurrent_appends", str(tmp_path / "relais.sqlite3"), "4", "25"
    )

    # Both rounds append to the same file: the second one continues the first's chain.
    assert report["per-event"]["failures"] == []
    assert report["per-event"]["intact"], report["per-event"]["problem"]
    assert report["per-event"]["seqs"] == list(range(1, 101))
    assert report["per-thread"]["failures"] == []
    assert report["per-thread"]["intact"], report["per-thread"]["problem"]
    assert report["per-thread"]["seqs"] == list(range(1, 201))
    assert report["per-thread"]["rows_checked"] == 200
