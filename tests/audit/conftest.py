from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.backends.utils import CursorWrapper

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.audit.services import audit_record


@pytest.fixture
def actor() -> Actor:
    return Actor(
        user_id=7,
        label="Hélène Dupré-Lefèvre",
        organisation_id=3,
        organisation_label="CCAS de Saint-Étienne-du-Rouvray",
        ip_address="192.0.2.10",
    )


def record_events(by: Actor, count: int) -> list[AuditEvent]:
    return [
        audit_record(
            action=AuditAction.LOGIN,
            by=by,
            person_id=100 + n,
            person_label=f"Personne accompagnée n° {n} — Zoé Bénard",
            category="identité",
            object_type="person",
            object_id=100 + n,
            reason="Premier accueil",
            details={"essai": n, "commentaire": "déjà vérifié"},
        )
        for n in range(1, count + 1)
    ]


@pytest.fixture
def journal(actor: Actor) -> list[AuditEvent]:
    return record_events(actor, 5)


@contextmanager
def as_database_superuser() -> Iterator[CursorWrapper]:
    """A raw cursor as an attacker holding the database's superuser rights would use it.

    On PostgreSQL such an attacker silences the append-only triggers by switching the
    session to replica mode; SQLite has no such triggers to silence.
    """
    on_postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if on_postgresql:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if on_postgresql:
                cursor.execute("SET session_replication_role = origin")


@pytest.fixture
def on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL seulement (DATABASE_URL=postgres://…)")
