"""What gunicorn's master loads before it forks its workers (preload_app)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD_AND_REPORT = (
    "import config.wsgi; "
    "from django.db import connections; "
    "from django.urls import get_resolver; "
    "resolver = get_resolver(); "
    "print('urls', 'url_patterns' in resolver.__dict__, 'reverse', bool(resolver._reverse_dict), "
    "'connections', [c.alias for c in connections.all() if c.connection is not None])"
)


def test_the_application_loads_every_view_and_opens_no_database_connection(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAIS_")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'relais.sqlite3'}",
        "RELAIS_SECRET_KEY": "s" * 64,
        "RELAIS_ENCRYPTION_KEYS": "k:a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",
    }
    result = subprocess.run(  # noqa: S603 — fixed interpreter and code, no user input
        [sys.executable, "-c", LOAD_AND_REPORT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["urls", "True", "reverse", "True", "connections", "[]"]
