"""A concurrent request, played by another thread on its own database connection."""

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

# On SQLite the whole transaction waits at BEGIN, so no check can run alongside another
# write: the race is PostgreSQL's.
needs_row_locks = pytest.mark.skipif(
    not connection.features.has_select_for_update, reason="SELECT … FOR UPDATE is PostgreSQL's"
)


@contextmanager
def meanwhile(write: Callable[[], object], *, commit_after: float = 0.5) -> Iterator[None]:
    """Run `write` in another thread, in a transaction left open `commit_after` seconds
    once written: what the body of the `with` does races with it."""
    written = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                write()
                written.set()
                time.sleep(commit_after)
        except BaseException as failure:  # reported in the test's thread, below
            failures.append(failure)
            written.set()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert written.wait(10)
    try:
        yield
    finally:
        thread.join()
    assert failures == []


PROJECT = Path(__file__).resolve().parent.parent


def report_of(module: str, *arguments: str) -> Any:
    """Run `python -m module arguments` from the project (a race played by processes or
    threads on a SQLite file of its own, which the in-memory test database cannot be) and
    return the JSON report it prints last."""
    completed = subprocess.run(  # noqa: S603 (fixed arguments, no outside input)
        [sys.executable, "-m", module, *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])
