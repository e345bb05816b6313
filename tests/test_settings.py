"""Production settings refuse to start without their secrets, in demo mode, or with an SMS
backend that sends nothing; the application they serve is loaded whole before the fork."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relais.accounts.services import demo_totp_device_ensure
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "k" * 64
ENCRYPTION_KEYS = "prod-1:" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
IMPORT_PROD = (
    "import django; "
    "from django.conf import settings; "
    "django.setup(); "
    "print('DEMO', settings.RELAIS_DEMO_MODE, 'DEBUG', settings.DEBUG, "
    "'SMS', settings.RELAIS_SMS_BACKEND)"
)


def _run(code: str = IMPORT_PROD, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("RELAIS_")}
    clean |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    clean |= env
    return subprocess.run(  # noqa: S603 — fixed interpreter and code, no user input
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


LOAD_WSGI = (
    "import config.wsgi; "
    "from django.db import connections; "
    "from django.urls import get_resolver; "
    "resolver = get_resolver(); "
    "print('urls', 'url_patterns' in resolver.__dict__, 'reverse', bool(resolver._reverse_dict), "
    "'connections', [c.alias for c in connections.all() if c.connection is not None])"
)


def test_it_starts_with_both_secrets():
    result = _run(RELAIS_SECRET_KEY=SECRET_KEY, RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS)

    assert result.returncode == 0, result.stderr
    assert "DEMO False DEBUG False" in result.stdout


def test_it_refuses_to_start_without_the_secret_key():
    result = _run(RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "RELAIS_SECRET_KEY" in result.stderr


def test_it_refuses_a_short_secret_key():
    result = _run(RELAIS_SECRET_KEY="trop-court", RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "50 caractères" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("RELAIS_RETENTION_ACTIVE_DAYS", "0", "au moins 90, pas 0"),
        ("RELAIS_RETENTION_ARCHIVE_DAYS", "-5", "au moins 1, pas -5"),
        ("RELAIS_RETENTION_JOURNAL_DAYS", "30", "au moins 180, pas 30"),
        ("RELAIS_RETENTION_ACTIVE_DAYS", "deux ans", "nombre entier"),
    ],
)
def test_it_refuses_a_retention_period_that_would_archive_every_file(variable, value, said):
    result = _run(
        RELAIS_SECRET_KEY=SECRET_KEY, RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS, **{variable: value}
    )

    assert result.returncode != 0
    assert variable in result.stderr
    assert said in result.stderr


@pytest.mark.parametrize(
    "keys",
    ["cle-de-test", "prod-1:" + base64.b64encode(b"seize-octets-ici").decode(), ":" + "A" * 44],
    ids=["no-identifier-pair", "short-key", "no-identifier"],
)
def test_it_refuses_malformed_encryption_keys(keys):
    result = _run(RELAIS_SECRET_KEY=SECRET_KEY, RELAIS_ENCRYPTION_KEYS=keys)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "RELAIS_ENCRYPTION_KEYS attend des paires" in result.stderr


def test_it_refuses_to_start_without_the_encryption_keys():
    result = _run(RELAIS_SECRET_KEY=SECRET_KEY)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "RELAIS_ENCRYPTION_KEYS" in result.stderr


@pytest.mark.parametrize("value", ["1", "oui"])
def test_it_refuses_demo_mode_in_production(value):
    result = _run(
        RELAIS_SECRET_KEY=SECRET_KEY, RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS, RELAIS_DEMO_MODE=value
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Le mode démonstration est interdit en production." in result.stderr


@pytest.mark.parametrize(
    ("setting", "backend", "refusal"),
    [
        *(
            ("RELAIS_SMS_BACKEND", f"relais.notifications.sms.{name}", "n'envoie aucun SMS")
            for name in ("ConsoleBackend", "FileBackend", "LocmemBackend")
        ),
        *(
            (
                "RELAIS_EMAIL_BACKEND",
                f"django.core.mail.backends.{name}.EmailBackend",
                "n'envoie aucun courriel",
            )
            for name in ("console", "filebased", "locmem", "dummy")
        ),
    ],
)
def test_it_refuses_a_backend_that_sends_nothing(setting, backend, refusal):
    result = _run(
        RELAIS_SECRET_KEY=SECRET_KEY, RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS, **{setting: backend}
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert refusal in result.stderr
    assert "réservé au développement et interdit en production" in result.stderr


def test_it_refuses_an_sms_backend_that_does_not_exist():
    result = _run(
        RELAIS_SECRET_KEY=SECRET_KEY,
        RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS,
        RELAIS_SMS_BACKEND="relais.notifications.sms.PigeonBackend",
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ne désigne aucune classe d'envoi de SMS" in result.stderr


def test_it_sends_sms_through_the_provider_by_default():
    result = _run(
        RELAIS_SECRET_KEY=SECRET_KEY,
        RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS,
        RELAIS_SMS_BACKEND="relais.notifications.sms.BrevoBackend",
    )
    default = _run(RELAIS_SECRET_KEY=SECRET_KEY, RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS)

    assert result.returncode == 0, result.stderr
    assert "SMS relais.notifications.sms.BrevoBackend" in default.stdout


@pytest.mark.django_db
def test_it_refuses_the_shared_demo_authenticator_outside_demo_mode(settings):
    settings.RELAIS_DEMO_MODE = False
    user = UserFactory()

    with pytest.raises(RuntimeError, match="mode démonstration"):
        demo_totp_device_ensure(user=user)

    assert not user.totpdevice_set.exists()


@pytest.mark.django_db
def test_it_gives_the_shared_demo_authenticator_in_demo_mode(settings):
    user = UserFactory()

    device = demo_totp_device_ensure(user=user)
    again = demo_totp_device_ensure(user=user)

    assert device.pk == again.pk
    assert device.confirmed


def test_the_application_loads_every_view_before_the_fork_and_opens_no_database_connection():
    """What gunicorn's master loads before it forks its workers (preload_app)."""
    result = _run(LOAD_WSGI, RELAIS_SECRET_KEY=SECRET_KEY, RELAIS_ENCRYPTION_KEYS=ENCRYPTION_KEYS)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["urls", "True", "reverse", "True", "connections", "[]"]


READ_DATABASE = (
    "import django; "
    "from django.conf import settings; "
    "django.setup(); "
    "database = settings.DATABASES['default']; "
    "print('CURSORS', database.get('DISABLE_SERVER_SIDE_CURSORS', False), "
    "'PREPARE', database.get('OPTIONS', {}).get('prepare_threshold', 'psycopg'))"
)
PRODUCTION = {"RELAIS_SECRET_KEY": SECRET_KEY, "RELAIS_ENCRYPTION_KEYS": ENCRYPTION_KEYS}
POSTGRESQL = "postgres://relais@db:6432/relais"


def test_behind_a_transaction_pooler_no_cursor_or_prepared_statement_outlives_a_transaction():
    result = _run(
        READ_DATABASE, **PRODUCTION, DATABASE_URL=POSTGRESQL, RELAIS_DB_TRANSACTION_POOLER="1"
    )

    assert result.returncode == 0, result.stderr
    assert "CURSORS True PREPARE None" in result.stdout


def test_without_a_pooler_postgresql_keeps_its_cursors_and_prepared_statements():
    result = _run(READ_DATABASE, **PRODUCTION, DATABASE_URL=POSTGRESQL)

    assert result.returncode == 0, result.stderr
    assert "CURSORS False PREPARE psycopg" in result.stdout


def test_it_refuses_a_transaction_pooler_in_front_of_sqlite():
    result = _run(READ_DATABASE, **PRODUCTION, RELAIS_DB_TRANSACTION_POOLER="oui")

    assert result.returncode != 0
    assert "RELAIS_DB_TRANSACTION_POOLER ne vaut que pour PostgreSQL" in result.stderr


ANSWER_A_MISSING_PAGE = (
    "import django; "
    "from django.conf import settings; "
    "django.setup(); "
    "from django.test import Client; "
    "response = Client().get('/nulle-part/', headers={'host': '127.0.0.1:8000'}); "
    "print('DEBUG', settings.DEBUG, response.status_code, "
    "'FRENCH' if 'Page introuvable' in response.text else 'TECHNICAL')"
)


@pytest.mark.parametrize(
    ("debug", "expected"),
    [({}, "DEBUG False 404 FRENCH"), ({"RELAIS_DEBUG": "1"}, "DEBUG True 404 TECHNICAL")],
)
def test_the_demo_shows_the_platform_s_own_error_pages_unless_asked_for_django_s(debug, expected):
    result = _run(ANSWER_A_MISSING_PAGE, DJANGO_SETTINGS_MODULE="config.settings.dev", **debug)

    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
