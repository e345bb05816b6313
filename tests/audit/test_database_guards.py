import pytest
from django.db import DatabaseError, connection, transaction

from relais.audit.models import AuditEvent
from relais.audit.verification import verify_chain

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgresql,
    pytest.mark.usefixtures("on_postgresql"),
]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET actor_label = 'Un autre agent' WHERE seq = 2",
        "UPDATE audit_auditevent SET reason = ''",
        "DELETE FROM audit_auditevent WHERE seq = 3",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_it_refuses_direct_sql_that_changes_or_removes_rows(journal, statement):
    with (
        pytest.raises(DatabaseError, match="ajout seul"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert AuditEvent.objects.count() == 5
    assert verify_chain().intact


def test_it_refuses_truncate_even_on_an_empty_journal():
    with (
        pytest.raises(DatabaseError, match="TRUNCATE refusé"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditevent")


def test_it_still_accepts_appends_through_direct_sql(journal):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (seq, created_at, action, actor_label, "
            "organisation_label, person_label, category, object_type, object_id, reason, "
            "ip_address, details, prev_hash, hash) "
            "SELECT 6, created_at, action, '', '', '', '', '', '', '', '', '{}', hash, %s "
            "FROM audit_auditevent WHERE seq = 5",
            ["e" * 64],
        )

    assert AuditEvent.objects.count() == 6
