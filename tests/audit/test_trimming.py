"""The journal's oldest rows are erased once their retention period is over, and the chain
still proves that nothing else went missing."""

import json
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from relais.audit import trimming, verification
from relais.audit.actions import AuditAction
from relais.audit.chain import CHAINED_FIELDS, row_hash
from relais.audit.models import AuditEvent
from relais.audit.trimming import ANCHOR, FIRST_KEPT, journal_kept_months, journal_trim
from relais.audit.verification import verify_chain
from tests.audit.conftest import as_database_superuser, record_events
from tests.portal.helpers import Clock

pytestmark = pytest.mark.django_db

A_YEAR = timedelta(days=365)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def old_and_recent(actor, clock):
    """Rows 1 to 4 written two years ago, rows 5 to 7 a month ago; now is today."""
    clock.advance(days=-730)
    record_events(actor, 4)
    clock.advance(days=700)
    record_events(actor, 3)
    clock.advance(days=30)


def seqs() -> list[int]:
    return list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))


def trims() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.JOURNAL_TRIMMED).order_by("seq"))


def test_it_erases_the_rows_older_than_the_limit_and_keeps_an_intact_chain(old_and_recent):
    row_5_prev_hash = AuditEvent.objects.get(seq=5).prev_hash

    trim = journal_trim(before=timezone.now() - A_YEAR)

    assert trim.removed == 4
    assert trim.first_kept == 5
    assert seqs() == [5, 6, 7, 8]
    [event] = trims()
    assert event.seq == 8
    assert event.details[FIRST_KEPT] == 5
    assert event.details[ANCHOR] == row_5_prev_hash
    assert event.details["lignes_effacees"] == 4
    assert event.actor_label == "Relais (traitement automatique)"
    result = verify_chain()
    assert result.intact
    assert result.rows_checked == 4


def test_a_second_run_the_same_day_erases_nothing_and_writes_nothing(old_and_recent):
    journal_trim(before=timezone.now() - A_YEAR)

    trim = journal_trim(before=timezone.now() - A_YEAR)

    assert trim.removed == 0
    assert trim.first_kept == 5
    assert len(trims()) == 1
    assert seqs() == [5, 6, 7, 8]


def test_a_journal_with_nothing_old_enough_is_left_untouched(actor):
    record_events(actor, 3)

    trim = journal_trim(before=timezone.now() - A_YEAR)

    assert trim == trimming.JournalTrim(removed=0, first_kept=1)
    assert seqs() == [1, 2, 3]


def test_an_empty_journal_stays_empty():
    assert journal_trim(before=timezone.now()) == trimming.JournalTrim(removed=0, first_kept=None)
    assert not AuditEvent.objects.exists()


def test_when_every_row_is_too_old_the_trim_event_itself_starts_the_journal(actor, clock):
    clock.advance(days=-400)
    record_events(actor, 3)
    clock.advance(days=400)

    trim = journal_trim(before=timezone.now() - A_YEAR)

    assert trim.removed == 3
    assert seqs() == [4]
    assert trims()[0].details[FIRST_KEPT] == 4
    assert verify_chain().intact


def test_successive_trims_keep_the_chain_verifiable(actor, clock):
    clock.advance(days=-800)
    for _ in range(4):
        record_events(actor, 2)
        clock.advance(days=200)
        journal_trim(before=timezone.now() - A_YEAR)

    assert verify_chain().intact
    assert AuditEvent.objects.filter(created_at__lt=timezone.now() - A_YEAR).count() == 0
    assert len(trims()) >= 2


def test_a_trim_cut_short_leaves_a_verifiable_journal_and_the_next_one_finishes_it(
    old_and_recent, monkeypatch
):
    deletes = []
    real_sql = trimming._delete_sql

    def failing_after_the_first_chunk() -> str:
        deletes.append(1)
        if len(deletes) > 1:
            raise DatabaseError("disque plein")
        return real_sql()

    monkeypatch.setattr(trimming, "_delete_sql", failing_after_the_first_chunk)
    with pytest.raises(DatabaseError):
        journal_trim(before=timezone.now() - A_YEAR, chunk_size=2)
    assert seqs() == [3, 4, 5, 6, 7, 8]
    assert verify_chain().intact

    monkeypatch.setattr(trimming, "_delete_sql", real_sql)
    trim = journal_trim(before=timezone.now() - A_YEAR)

    assert trim.removed == 2
    assert seqs() == [5, 6, 7, 8]
    assert len(trims()) == 1
    assert verify_chain().intact


def test_rows_erased_without_a_trim_are_named_by_the_verification(old_and_recent):
    with as_database_superuser() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq < 5")

    result = verify_chain()

    assert result.broken_seq == 5
    assert "ligne(s) 1 à 4 manquante(s)" in result.problem
    assert "sans élagage" in result.problem


def test_rows_erased_beyond_what_the_trim_allowed_are_named_by_the_verification(
    old_and_recent,
):
    journal_trim(before=timezone.now() - A_YEAR)
    with as_database_superuser() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq < 7")

    result = verify_chain()

    assert result.broken_seq == 7
    assert result.problem == (
        "ligne(s) 5 à 6 manquante(s) avant la ligne 7, sans élagage inscrit au journal"
    )


def test_a_break_later_in_the_chain_is_reported_at_an_unallowed_start_first(old_and_recent):
    with as_database_superuser() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq < 3")
        cursor.execute("UPDATE audit_auditevent SET reason = 'autre' WHERE seq = 6")

    assert verify_chain().broken_seq == 3


def test_a_first_row_that_does_not_start_from_genesis_is_named(actor):
    record_events(actor, 2)
    with as_database_superuser() as cursor:
        cursor.execute("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 1", ["a" * 64])

    result = verify_chain()

    assert result.broken_seq == 1
    assert "empreinte précédente" in result.problem


def test_it_names_a_row_changed_between_the_first_row_kept_and_the_trim_event(old_and_recent):
    journal_trim(before=timezone.now() - A_YEAR)
    with as_database_superuser() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'autre' WHERE seq = 6")

    result = verify_chain()

    assert result.broken_seq == 6
    assert result.problem == "le contenu ne correspond pas à son empreinte"
    assert result.rows_checked == 1


def test_it_names_a_row_missing_between_the_first_row_kept_and_the_trim_event(old_and_recent):
    journal_trim(before=timezone.now() - A_YEAR)
    with as_database_superuser() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 6")

    result = verify_chain()

    assert result.broken_seq == 7
    assert result.problem == "ligne(s) 6 à 6 manquante(s) avant la ligne 7"


def test_it_names_a_trim_event_whose_anchor_is_not_the_first_row_kept_s_prev_hash(old_and_recent):
    journal_trim(before=timezone.now() - A_YEAR)
    [event] = trims()
    row = {name: getattr(event, name) for name in CHAINED_FIELDS}
    row["details"] = {**event.details, ANCHOR: "f" * 64}
    with as_database_superuser() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET details = %s, hash = %s WHERE seq = %s",
            [json.dumps(row["details"]), row_hash(row), event.seq],
        )

    result = verify_chain()

    assert result.broken_seq == 8
    assert result.problem == (
        "la première ligne gardée ne porte pas l'empreinte que l'élagage a notée"
    )


def test_a_verification_that_a_trim_overtakes_still_finds_the_journal_intact(
    old_and_recent, monkeypatch
):
    walk = verification._raw_rows

    def trimmed_after_the_first_chunk(chunk_size: int):
        for n, row in enumerate(walk(chunk_size)):
            yield row
            if n == 0:
                journal_trim(before=timezone.now() - A_YEAR)

    monkeypatch.setattr(verification, "_raw_rows", trimmed_after_the_first_chunk)

    result = verify_chain(chunk_size=2)

    assert result.intact, result.problem


def test_rows_erased_while_it_walks_without_a_trim_are_still_named(old_and_recent, monkeypatch):
    walk = verification._raw_rows

    def erased_after_the_first_chunk(chunk_size: int):
        for n, row in enumerate(walk(chunk_size)):
            yield row
            if n == 0:
                with as_database_superuser() as cursor:
                    cursor.execute("DELETE FROM audit_auditevent WHERE seq < 5")

    monkeypatch.setattr(verification, "_raw_rows", erased_after_the_first_chunk)

    result = verify_chain(chunk_size=2)

    assert result.broken_seq == 5
    assert "manquante(s) avant la ligne 5" in result.problem


@pytest.mark.postgresql
def test_postgresql_accepts_the_deletes_a_trim_allows_and_refuses_the_others(
    old_and_recent,
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL seulement (DATABASE_URL=postgres://…)")
    journal_trim(before=timezone.now() - A_YEAR)

    with (
        pytest.raises(DatabaseError, match="DELETE refusé hors élagage"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 5")
    assert seqs() == [5, 6, 7, 8]


@pytest.mark.postgresql
def test_postgresql_refuses_to_erase_rows_younger_than_six_months_even_when_a_trim_allows_it(
    actor, clock
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL seulement (DATABASE_URL=postgres://…)")
    clock.advance(days=-100)
    record_events(actor, 3)
    clock.advance(days=100)

    with pytest.raises(DatabaseError, match="DELETE refusé hors élagage"):
        journal_trim(before=timezone.now() - timedelta(days=30))

    assert seqs() == [1, 2, 3, 4]
    assert trims()[0].details[FIRST_KEPT] == 4


@pytest.mark.parametrize(
    ("days", "months"), [(180, 6), (183, 6), (200, 6), (213, 7), (365, 12), (730, 24)]
)
def test_the_months_said_are_never_more_than_the_days_kept(settings, days, months):
    settings.RELAIS_RETENTION_JOURNAL = timedelta(days=days)

    assert journal_kept_months() == months
