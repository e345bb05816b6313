"""One server process, as gunicorn forks several: `python -m tests.accounts.server_process
DATABASE CACHE_DIR` sets Django up with the production settings (no Redis) on the SQLite
file DATABASE, then answers one command per line of its standard input with one line:

    create                  a new session; answers its key
    read KEY                the session's data, as JSON ({} when it has ended)
    write KEY NAME VALUE    stores VALUE under NAME in the session
    end KEY                 ends the session, as a logout does
    attempt IDENTIFIER      counts one login attempt; answers whether it may be checked
"""

import base64
import json
import os
import sys
from importlib import import_module


def main() -> None:
    database, cache_dir = sys.argv[1], sys.argv[2]
    os.environ |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DATABASE_URL": f"sqlite:///{database}",
        "RELAIS_CACHE_DIR": cache_dir,
        "RELAIS_SECRET_KEY": "s" * 64,
        "RELAIS_ENCRYPTION_KEYS": "k:" + base64.b64encode(b"k" * 32).decode(),
    }
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from relais.accounts.throttling import login_attempt

    call_command("migrate", "sessions", verbosity=0)
    call_command("migrate", "accounts", verbosity=0)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    print("ready", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "create":
            session = store()
            session.create()
            answer: object = session.session_key
        elif command == "read":
            answer = dict(store(args[0]).items())
        elif command == "write":
            session = store(args[0])
            session[args[1]] = args[2]
            session.save()
            answer = "ok"
        elif command == "end":
            store(args[0]).delete()
            answer = "ok"
        else:
            answer = login_attempt(identifier=args[0], ip_address="192.0.2.1").allowed
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
