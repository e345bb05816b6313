import threading

import pytest
from django.db import connection, transaction

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.audit.services import audit_record
from relais.audit.verification import verify_chain


def append_concurrently(threads: int, events_per_thread: int, *, one_transaction: bool) -> None:
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def append(thread: int) -> None:
        by = Actor(user_id=thread, label=f"Fil n° {thread} — Émilie")

        def one(n: int) -> None:
            audit_record(
                action=AuditAction.LOGIN,
                by=by,
                object_id=f"{thread}-{n}",
                details={"fil": thread, "rang": n},
            )

        try:
            start.wait()
            if one_transaction:
                with transaction.atomic():
                    for n in range(events_per_thread):
                        one(n)
            else:
                for n in range(events_per_thread):
                    with transaction.atomic():
                        one(n)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=append, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert not any(worker.is_alive() for worker in workers)
    assert failures == []


def assert_whole_chain(rows: int) -> None:
    result = verify_chain()
    assert result.intact, result.problem
    assert result.rows_checked == rows
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, rows + 1)
    )


@pytest.mark.postgresql
@pytest.mark.usefixtures("on_postgresql", "flushable_journal")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("one_transaction", [False, True], ids=["per-event", "per-thread"])
def test_it_keeps_one_unbroken_chain_when_8_threads_append_on_postgresql(one_transaction):
    append_concurrently(8, 25, one_transaction=one_transaction)

    assert_whole_chain(200)
    assert AuditEvent.objects.values("object_id").distinct().count() == 200


@pytest.mark.usefixtures("flushable_journal")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("one_transaction", [False, True], ids=["per-event", "per-thread"])
def test_it_keeps_one_unbroken_chain_when_4_threads_append(one_transaction):
    append_concurrently(4, 25, one_transaction=one_transaction)

    assert_whole_chain(100)
