"""Threads appending to the journal at the same time, shared by the concurrency tests.

Run as a module it does the same against a fresh SQLite file, the way Relais runs on
SQLite in production: `python -m tests.audit.concurrent_appends PATH THREADS EVENTS`.
The test database on SQLite lives in shared-cache memory instead, where a writer waiting
for the lock fails at once ("database table is locked") rather than after the busy
timeout, so it cannot stand for production.
"""

import json
import os
import sys
import threading

from django.db import connection, transaction


def append_concurrently(
    threads: int, events_per_thread: int, *, one_transaction: bool
) -> list[str]:
    """Return the errors the threads met, as text."""
    # Imported here: run as a module, Django is set up only once main() has chosen the file.
    from relais.audit.actions import AuditAction
    from relais.audit.context import Actor
    from relais.audit.services import audit_record

    start = threading.Barrier(threads)
    failures: list[str] = []

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
        except Exception as error:
            failures.append(repr(error))
        finally:
            connection.close()

    workers = [threading.Thread(target=append, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    if any(worker.is_alive() for worker in workers):
        failures.append("un fil n'a pas fini en 120 s")
    return failures


def main(path: str, threads: int, events_per_thread: int) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from relais.audit.models import AuditEvent
    from relais.audit.verification import verify_chain

    call_command("migrate", verbosity=0)
    report: dict[str, object] = {}
    for one_transaction in (False, True):
        failures = append_concurrently(threads, events_per_thread, one_transaction=one_transaction)
        result = verify_chain()
        report["per-thread" if one_transaction else "per-event"] = {
            "failures": failures,
            "intact": result.intact,
            "problem": result.problem,
            "rows_checked": result.rows_checked,
            "seqs": list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)),
        }
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
