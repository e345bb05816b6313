"""What the server's processes share when there is no Redis: gunicorn runs several on one
machine, and a request may reach any of them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent.parent


class ServerProcess:
    def __init__(self, database: Path, cache_dir: Path) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (fixed arguments, no outside input)
            [sys.executable, "-m", "tests.accounts.server_process", str(database), str(cache_dir)],
            cwd=PROJECT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.ask_line() == "ready"

    def ask_line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, *command: str) -> object:
        assert self.process.stdin is not None
        self.process.stdin.write(" ".join(command) + "\n")
        self.process.stdin.flush()
        return json.loads(self.ask_line())

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def two_processes(tmp_path):
    first = ServerProcess(tmp_path / "relais.sqlite3", tmp_path / "cache")
    second = ServerProcess(tmp_path / "relais.sqlite3", tmp_path / "cache")
    yield first, second
    first.stop()
    second.stop()


def test_a_session_changed_or_ended_by_one_process_is_so_for_the_others(two_processes):
    first, second = two_processes
    key = first.ask("create")
    first.ask("write", key, "organisation", "1")
    assert second.ask("read", key) == {"organisation": "1"}

    first.ask("write", key, "organisation", "2")
    assert second.ask("read", key) == {"organisation": "2"}

    first.ask("end", key)
    assert second.ask("read", key) == {}


def test_login_attempts_are_counted_across_processes(two_processes, settings):
    first, second = two_processes
    limit = settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT
    answers = [
        (first if n % 2 else second).ask("attempt", "claire@example.org") for n in range(limit + 2)
    ]

    assert answers == [True] * limit + [False, False]
