"""Wrong passwords for one account sent by threads at the same time, against a fresh SQLite
file as in production: `python -m tests.accounts.parallel_logins PATH THREADS` prints
how many passwords were checked and what the journal holds.

Checking a password is slowed down, as a real hash is slow: every guess is under way
before the first one fails.
"""

import json
import os
import sys
import threading
import time
from unittest.mock import patch


def main(path: str, threads: int) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.contrib.auth import authenticate
    from django.core.management import call_command
    from django.db import connection

    from relais.accounts.services import password_check
    from relais.audit.models import AuditEvent
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    user = UserFactory()
    checked: list[object] = []
    failures: list[str] = []
    start = threading.Barrier(threads)

    def slow_authenticate(**credentials: object) -> object:
        checked.append(credentials)
        time.sleep(0.5)
        return authenticate(**credentials)

    def guess() -> None:
        try:
            start.wait()
            password_check(identifier=user.email, password="pas-le-bon", ip_address="192.0.2.1")
        except Exception as error:
            failures.append(repr(error))
        finally:
            connection.close()

    with patch("relais.accounts.services.authenticate", slow_authenticate):
        workers = [threading.Thread(target=guess) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
    journal = {
        action: AuditEvent.objects.filter(action=action).count()
        for action in ("login_failed", "lockout")
    }
    connection.close()
    print(json.dumps({"checked": len(checked), "failures": failures, "journal": journal}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
