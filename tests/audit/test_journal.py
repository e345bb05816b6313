import itertools

import pytest
from django.db import IntegrityError, transaction

from relais.audit.actions import AuditAction
from relais.audit.chain import CHAINED_FIELDS, GENESIS_HASH, row_hash
from relais.audit.context import SYSTEM, Actor
from relais.audit.models import AppendOnlyError, AuditEvent
from relais.audit.services import Event, audit_record, audit_record_many
from relais.audit.verification import verify_chain
from relais.organisations.models import Organisation
from tests.audit.conftest import record_events
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_it_numbers_the_rows_1_2_3_in_order(actor):
    events = record_events(actor, 3)

    assert [event.seq for event in events] == [1, 2, 3]
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]


def test_it_chains_the_first_row_to_genesis_and_each_next_row_to_the_one_before(actor):
    events = record_events(actor, 4)

    assert events[0].prev_hash == GENESIS_HASH
    for previous, current in itertools.pairwise(events):
        assert current.prev_hash == previous.hash
    assert len({event.hash for event in events}) == 4


def test_it_stores_a_hash_that_matches_the_row_read_back_from_the_database(actor):
    written = audit_record(
        action=AuditAction.ORGANISATION_UPDATED,
        by=actor,
        person_id=42,
        person_label="Çédric Ñúñez — élève « à part »",
        category="santé",
        object_type="organisation",
        object_id=3,
        reason="Mise à jour demandée par l'intéressé·e",
        details={"ancien nom": "Maison de l'Été", "vérifié": True, "nombre": 12, "vide": None},
    )

    stored = AuditEvent.objects.values(*CHAINED_FIELDS, "hash").get(seq=written.seq)

    assert stored["hash"] == written.hash == row_hash(stored)
    assert stored["created_at"] == written.created_at
    assert stored["person_label"] == "Çédric Ñúñez — élève « à part »"
    assert stored["actor_label"] == "Hélène Dupré-Lefèvre"
    assert stored["organisation_label"] == "CCAS de Saint-Étienne-du-Rouvray"
    assert stored["details"] == {
        "ancien nom": "Maison de l'Été",
        "vérifié": True,
        "nombre": 12,
        "vide": None,
    }
    assert stored["object_id"] == "3"


def test_it_cuts_labels_to_the_column_width_and_hashes_what_it_stored():
    long_label = "é" * 250
    written = audit_record(
        action=AuditAction.LOGIN,
        by=Actor(user_id=1, label=long_label, organisation_label=long_label),
        person_label=long_label,
    )

    stored = AuditEvent.objects.values(*CHAINED_FIELDS, "hash").get(seq=written.seq)

    assert stored["actor_label"] == stored["organisation_label"] == "é" * 200
    assert stored["person_label"] == "é" * 200
    assert stored["hash"] == row_hash(stored)


def test_it_records_an_automatic_event_without_actor_or_details():
    written = audit_record(action=AuditAction.SESSION_EXPIRED, by=SYSTEM)

    stored = AuditEvent.objects.values(*CHAINED_FIELDS, "hash").get(seq=written.seq)

    assert stored["actor_id"] is None
    assert stored["details"] == {}
    assert stored["hash"] == row_hash(stored)
    assert verify_chain().rows_checked == 1


@pytest.mark.parametrize("value", [1e20, 0.5, ["liste"], {"imbrique": 1}])
def test_it_refuses_a_detail_whose_form_the_database_would_change(actor, value):
    with pytest.raises(TypeError, match="Détail « montant » du journal"):
        audit_record(action=AuditAction.LOGIN, by=actor, details={"montant": value})

    assert not AuditEvent.objects.exists()


def test_it_refuses_to_save_an_existing_row_again(journal):
    event = journal[1]
    event.actor_label = "Quelqu'un d'autre"

    with pytest.raises(AppendOnlyError):
        event.save()

    reread = AuditEvent.objects.get(seq=event.seq)
    reread.reason = "Motif réécrit"
    with pytest.raises(AppendOnlyError):
        reread.save()
    assert AuditEvent.objects.get(seq=event.seq).actor_label == "Hélène Dupré-Lefèvre"
    assert AuditEvent.objects.get(seq=event.seq).reason == "Premier accueil"


def test_it_refuses_to_overwrite_a_row_through_a_new_instance_with_its_number(journal):
    original = journal[2]
    forged = AuditEvent(
        seq=original.seq,
        created_at=original.created_at,
        action=AuditAction.LOGOUT,
        prev_hash=original.prev_hash,
        hash=original.hash,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()

    assert AuditEvent.objects.get(seq=original.seq).action == AuditAction.LOGIN


def test_it_refuses_to_delete_a_row(journal):
    with pytest.raises(AppendOnlyError):
        journal[0].delete()

    assert AuditEvent.objects.count() == 5


def test_it_refuses_update_and_delete_on_querysets(journal):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(actor_label="Effacé")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=2).update(reason="")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq__gte=3).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.for_person(101).delete()

    assert AuditEvent.objects.count() == 5
    assert not AuditEvent.objects.exclude(actor_label="Hélène Dupré-Lefèvre").exists()
    assert verify_chain().intact


def test_it_refuses_bulk_update(journal):
    for event in journal:
        event.reason = "Réécrit en masse"

    # bulk_update opens an atomic block without a savepoint: give it one of its own.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update(journal, ["reason"])

    assert not AuditEvent.objects.filter(reason="Réécrit en masse").exists()


def test_it_forgets_the_trace_when_the_change_it_records_is_rolled_back(actor):
    with pytest.raises(RuntimeError), transaction.atomic():
        organisation = OrganisationFactory(name="Structure jamais créée")
        audit_record(
            action=AuditAction.ORGANISATION_CREATED,
            by=actor,
            object_type="organisation",
            object_id=organisation.pk,
        )
        raise RuntimeError("échec après l'écriture de la trace")

    assert not AuditEvent.objects.exists()
    assert not Organisation.objects.filter(name="Structure jamais créée").exists()


def test_it_continues_the_chain_without_a_gap_after_a_rolled_back_append(journal, actor):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action=AuditAction.LOGOUT, by=actor)
        raise RuntimeError("annulé")

    after = audit_record(action=AuditAction.LOGOUT, by=actor)

    assert after.seq == 6
    assert after.prev_hash == journal[-1].hash
    assert verify_chain().rows_checked == 6


def test_it_appends_several_events_in_one_statement_chained_in_their_order(
    django_assert_num_queries,
):
    first = audit_record(action=AuditAction.LOGIN, by=Actor(user_id=1, label="A"))
    events = [
        Event(AuditAction.SECTION_VIEWED, person_id=person_id, category="demarches")
        for person_id in (7, 8, 9)
    ]

    with django_assert_num_queries(4):  # savepoint, chain head, one INSERT, release
        audit_record_many(events, by=Actor(user_id=1, label="A"))

    appended = list(AuditEvent.objects.filter(seq__gt=first.seq).order_by("seq"))
    assert [event.person_id for event in appended] == [7, 8, 9]
    assert [event.seq for event in appended] == [first.seq + 1, first.seq + 2, first.seq + 3]
    assert appended[0].prev_hash == first.hash
    assert verify_chain().intact


def test_it_appends_a_long_list_in_batches_still_chained():
    events = [
        Event(AuditAction.SECTION_VIEWED, person_id=n, category="documents") for n in range(120)
    ]

    audit_record_many(events, by=Actor(user_id=1, label="A"))

    assert list(AuditEvent.objects.order_by("seq").values_list("person_id", flat=True)) == list(
        range(120)
    )
    assert verify_chain().intact
