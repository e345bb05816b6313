import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from relais.audit.actions import AuditAction
from relais.audit.services import audit_record
from relais.audit.verification import verify_chain
from tests.audit.conftest import as_database_superuser, record_events

pytestmark = pytest.mark.django_db

# Both keep every column of an existing row but the ones the attacker chooses.
_INSERT_FORGED_AFTER = """
    INSERT INTO audit_auditevent (
        seq, created_at, action, actor_id, actor_label, organisation_id, organisation_label,
        person_id, person_label, category, object_type, object_id, reason, ip_address,
        details, prev_hash, hash
    )
    SELECT seq + 1, created_at, action, actor_id, %s, organisation_id, organisation_label,
        person_id, person_label, category, object_type, object_id, reason, ip_address,
        details, hash, %s
    FROM audit_auditevent WHERE seq = %s
"""
_INSERT_REPLAY = """
    INSERT INTO audit_auditevent (
        seq, created_at, action, actor_id, actor_label, organisation_id, organisation_label,
        person_id, person_label, category, object_type, object_id, reason, ip_address,
        details, prev_hash, hash
    )
    SELECT %s, created_at, action, actor_id, actor_label, organisation_id, organisation_label,
        person_id, person_label, category, object_type, object_id, reason, ip_address,
        details, prev_hash, hash
    FROM audit_auditevent WHERE seq = %s
"""


def verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def broken_row_of(error: CommandError) -> int:
    match = re.search(r"ligne n° (-?\d+) :", str(error))
    assert match, str(error)
    return int(match.group(1))


def test_it_reports_every_row_checked_when_the_journal_is_intact(journal):
    assert "5 lignes vérifiées" in verify_audit()


def test_it_reports_an_empty_journal_as_intact():
    assert "0 lignes vérifiées" in verify_audit()


def test_it_names_the_modified_row(journal):
    with as_database_superuser() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_label = %s WHERE seq = %s", ["Un autre agent", 3]
        )

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == 3
    assert "ne correspond pas à son empreinte" in str(raised.value)
    assert "2 lignes vérifiées avant elle" in str(raised.value)
    # manage.py turns a CommandError into this exit status.
    assert raised.value.returncode == 1


def test_it_names_the_modified_row_even_when_only_the_details_changed(journal):
    with as_database_superuser() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET details = %s WHERE seq = 4",
            ['{"commentaire": "déjà vérifié", "essai": 40}'],
        )

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == 4


def test_it_names_the_row_after_a_row_deleted_in_the_middle(journal):
    with as_database_superuser() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [3])

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == 4
    assert "ligne(s) 3 à 3 manquante(s)" in str(raised.value)
    assert raised.value.returncode == 1


def test_it_names_the_row_after_the_first_row_was_deleted(journal):
    with as_database_superuser() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 1")

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == 2


def test_it_names_a_forged_row_inserted_at_the_end(journal):
    # The forger links to the real head but cannot produce the row's hash.
    with as_database_superuser() as cursor:
        cursor.execute(_INSERT_FORGED_AFTER, ["Faussaire", "f" * 64, 5])

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == 6
    assert "ne correspond pas à son empreinte" in str(raised.value)
    assert raised.value.returncode == 1


def test_it_names_a_replayed_copy_of_an_earlier_row(journal):
    with as_database_superuser() as cursor:
        cursor.execute(_INSERT_REPLAY, [6, 2])

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == 6
    assert "empreinte précédente" in str(raised.value)


def test_it_names_a_replayed_copy_even_when_real_rows_follow_it(journal, actor):
    with as_database_superuser() as cursor:
        cursor.execute(_INSERT_REPLAY, [6, 2])
    # Later appends chain honestly onto the replayed row: only the replay itself is wrong.
    audit_record(action=AuditAction.LOGOUT, by=actor)

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == 6


@pytest.mark.parametrize("number", [0, -7])
def test_it_names_a_forged_row_numbered_before_the_first(journal, number):
    with as_database_superuser() as cursor:
        cursor.execute(_INSERT_REPLAY, [number, 2])

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == number
    assert "le journal commence à 1" in str(raised.value)


@pytest.mark.parametrize(("first", "second"), [(2, 4), (3, 4), (1, 5)])
def test_it_names_the_first_of_two_rows_whose_contents_were_swapped(journal, first, second):
    # Renumbering through a free number swaps every column but seq between the two rows.
    with as_database_superuser() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = -1 WHERE seq = %s", [first])
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [first, second])
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = -1", [second])

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == first
    assert raised.value.returncode == 1


def test_it_names_the_earliest_of_several_tamperings(actor):
    record_events(actor, 8)
    with as_database_superuser() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 7")
        cursor.execute("UPDATE audit_auditevent SET reason = 'Motif effacé' WHERE seq = 5")
        cursor.execute("UPDATE audit_auditevent SET ip_address = '203.0.113.9' WHERE seq = 2")

    with pytest.raises(CommandError) as raised:
        verify_audit()

    assert broken_row_of(raised.value) == 2
    assert verify_chain().broken_seq == 2
