"""Retention enforced by the daily task: archived two years after the last contact, then
anonymised five years later, nothing half-done."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.audit.verification import verify_chain
from relais.consent.models import BreakGlassGrant, Consent
from relais.consent.services import consent_grant, persons_merge
from relais.documents import vault
from relais.documents.models import Document, DocumentVersion
from relais.persons import retention
from relais.persons.models import (
    HealthRecord,
    HouseholdMember,
    Housing,
    MonthlyResource,
    Note,
    Person,
    PersonStatus,
    Referent,
)
from relais.persons.retention import retention_apply
from relais.persons.services import record_on_file
from relais.portal.models import PersonAccount
from relais.portal.services import person_login_with_password
from relais.portal.tasks import send_login_code
from relais.procedures.models import Autonomy, Procedure, ProcedureStep
from relais.procedures.services import procedure_step_record
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import PersonFactory
from tests.portability.builders import actor, full_file
from tests.portal.factories import PERSON_PASSWORD, PersonAccountFactory
from tests.portal.helpers import VISITOR, Clock, committed

pytestmark = pytest.mark.django_db

TWO_YEARS = timedelta(days=730)
FIVE_YEARS = timedelta(days=1826)


def _last_contact(person: Person, ago: timedelta) -> None:
    Person.objects.filter(pk=person.pk).update(last_contact_at=timezone.now() - ago)


def _archived_since(person: Person, ago: timedelta) -> None:
    Person.objects.filter(pk=person.pk).update(
        status=PersonStatus.ARCHIVED, archived_at=timezone.now() - ago
    )


def test_a_file_without_contact_for_two_years_is_archived():
    membership = MembershipFactory()
    quiet = PersonFactory(created_by_organisation=membership.organisation)
    recent = PersonFactory(created_by_organisation=membership.organisation)
    _last_contact(quiet, TWO_YEARS + timedelta(days=1))
    _last_contact(recent, TWO_YEARS - timedelta(days=1))

    run = retention_apply()

    quiet.refresh_from_db()
    recent.refresh_from_db()
    assert (run.archived, run.anonymised) == (1, 0)
    assert quiet.status == PersonStatus.ARCHIVED
    assert quiet.archived_at is not None
    assert recent.status == PersonStatus.ACTIVE
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ARCHIVED)
    assert (event.person_id, event.actor_label, event.actor_id) == (quiet.pk, SYSTEM.label, None)
    assert retention_apply().archived == 0


def test_archiving_closes_the_persons_space():
    account = PersonAccountFactory(with_password=True)
    _last_contact(account.person, TWO_YEARS + timedelta(days=1))

    retention_apply()

    account.refresh_from_db()
    assert not account.is_active
    assert AuditEvent.objects.filter(
        action=AuditAction.PERSON_ACCOUNT_CLOSED, person_id=account.person_id
    ).exists()


def test_an_archived_file_answers_404_to_its_referent(client):
    built = full_file()
    _last_contact(built.person, TWO_YEARS + timedelta(days=1))
    log_in(client, built.referent.user, built.referent)
    url = reverse("persons:file", args=[built.person.pk])
    assert client.get(url).status_code == 200

    retention_apply()

    assert client.get(url).status_code == 404


def test_a_file_worked_on_after_it_was_selected_is_not_archived():
    person = PersonFactory()
    selected_at = timezone.now() + TWO_YEARS + timedelta(days=1)

    assert not retention.person_archive(person_id=person.pk, now=timezone.now())
    assert retention.person_archive(person_id=person.pk, now=selected_at)
    assert not retention.person_archive(person_id=person.pk, now=selected_at)


def test_a_consent_and_the_persons_login_are_contacts():
    membership = MembershipFactory()
    person = PersonFactory()
    account = PersonAccountFactory(person=person, with_password=True)
    _last_contact(person, TWO_YEARS)
    consent_grant(
        person=person,
        organisation_id=membership.organisation_id,
        professional_id=None,
        categories=["identite"],
        purpose="Accompagnement",
        duration="1m",
        method="signe",
        recorded_by_id=membership.user_id,
        by=actor(membership),
    )
    person.refresh_from_db()
    assert timezone.now() - person.last_contact_at < timedelta(minutes=1)

    _last_contact(person, TWO_YEARS)
    person_login_with_password(
        identifier=account.card_identifier, password=PERSON_PASSWORD, by=VISITOR
    )
    person.refresh_from_db()
    assert timezone.now() - person.last_contact_at < timedelta(minutes=1)


def _tables_holding(trace: str) -> list[str]:
    """Every table but the journal's whose rows hold `trace`."""
    return [
        model._meta.label
        for model in apps.get_models()
        if model is not AuditEvent
        and trace in serializers.serialize("json", model._default_manager.all())
    ]


def test_an_archive_older_than_five_years_is_anonymised_and_names_no_one():
    built = full_file(first_names="Léocadie", birth_name="Vandermeersch")
    person = built.person
    birth_year = person.birth_date.year
    blobs = list(
        DocumentVersion.objects.filter(document__person=person).values_list(
            "storage_name", flat=True
        )
    )
    assert blobs and all(vault.blob_exists(name) for name in blobs)
    _archived_since(person, FIVE_YEARS + timedelta(days=1))

    with committed():
        run = retention_apply()

    assert (run.archived, run.anonymised) == (0, 1)
    person.refresh_from_db()
    assert person.status == PersonStatus.ANONYMISED
    assert (person.first_names, person.birth_name, person.address_line) == ("", "", "")
    assert person.birth_date == date(birth_year, 1, 1)
    assert person.nir_encrypted is None and person.nir_digest == ""
    for trace in ("Léocadie", "Vandermeersch", "Noé", "Dupré", "Mouettes", "Hospitalisation"):
        assert _tables_holding(trace) == [], trace
    for model in (HouseholdMember, MonthlyResource, Housing, HealthRecord, Note, Referent):
        assert not model.objects.filter(person=person).exists()
    assert not PersonAccount.objects.filter(person=person).exists()
    assert set(Consent.objects.filter(person=person).values_list("purpose", flat=True)) == {""}
    assert set(BreakGlassGrant.objects.filter(person=person).values_list("reason", flat=True)) == {
        ""
    }
    versions = DocumentVersion.objects.filter(document__person=person)
    assert all(v.purged_at and bytes(v.wrapped_key) == b"" for v in versions)
    assert not any(vault.blob_exists(name) for name in blobs)
    assert not Document.objects.filter(person=person, deleted_at__isnull=True).exists()
    # What the evaluation counts stays, without a name.
    assert Procedure.objects.filter(person=person).count() == 1
    assert ProcedureStep.objects.filter(procedure=built.procedure).count() == 1
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ANONYMISED)
    assert event.person_label == f"Dossier anonymisé (n° {person.pk})"
    assert verify_chain().intact
    assert retention_apply().anonymised == 0


def test_nothing_is_anonymised_before_the_archive_period_ends():
    archived = PersonFactory()
    active = PersonFactory()
    _archived_since(archived, FIVE_YEARS - timedelta(days=1))
    Person.objects.filter(pk=active.pk).update(archived_at=timezone.now() - 2 * FIVE_YEARS)

    assert retention_apply().anonymised == 0
    assert Person.objects.get(pk=archived.pk).birth_name == archived.birth_name
    assert Person.objects.get(pk=active.pk).status == PersonStatus.ACTIVE


def _shredding_fails_for(monkeypatch: pytest.MonkeyPatch, person: Person) -> None:
    """The documents of that file cannot be shredded (storage down, a bug): its
    anonymisation fails, the others' do not."""
    shred = retention.person_documents_shred

    def broken(*, person_id, by):
        if person_id == person.pk:
            raise OSError("stockage indisponible")
        shred(person_id=person_id, by=by)

    monkeypatch.setattr(retention, "person_documents_shred", broken)


def test_an_anonymisation_that_fails_leaves_the_file_whole(monkeypatch):
    built = full_file()
    person = built.person
    _archived_since(person, FIVE_YEARS + timedelta(days=1))
    _shredding_fails_for(monkeypatch, person)

    run = retention_apply()

    assert (run.anonymised, run.failed) == (0, (person.pk,))
    person.refresh_from_db()
    assert person.status == PersonStatus.ARCHIVED
    assert person.birth_name == "Dupré"
    assert HouseholdMember.objects.filter(person=person).exists()
    assert Note.objects.filter(person=person).count() == 3
    assert not AuditEvent.objects.filter(action=AuditAction.PERSON_ANONYMISED).exists()


def test_a_file_that_fails_stops_neither_the_other_files_nor_the_journal_nor_the_queue(
    monkeypatch, settings
):
    """One file in error every night must not keep every other file, a year and more of
    journal and the queue's tasks beyond their retention."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    clock = Clock(monkeypatch)
    clock.advance(days=-400)
    failing, other = PersonFactory(), PersonFactory()
    record_on_file(AuditAction.SECTION_VIEWED, person=other, by=SYSTEM)
    _login_code_task(TaskResultStatus.SUCCESSFUL, finished_days_ago=8)
    clock.advance(days=400)
    for person in (failing, other):
        _archived_since(person, FIVE_YEARS + timedelta(days=1))
    _shredding_fails_for(monkeypatch, failing)

    run = retention_apply()

    assert (run.anonymised, run.failed) == (1, (failing.pk,))
    assert Person.objects.get(pk=other.pk).status == PersonStatus.ANONYMISED
    assert Person.objects.get(pk=failing.pk).birth_name == failing.birth_name
    assert run.journal_rows_erased > 0
    assert not AuditEvent.objects.filter(created_at__lt=timezone.now() - timedelta(days=365))
    assert verify_chain().intact
    assert run.task_results_erased == 1


def test_the_command_names_the_files_it_could_not_process_and_fails(monkeypatch):
    failing = PersonFactory()
    _archived_since(failing, FIVE_YEARS + timedelta(days=1))
    _shredding_fails_for(monkeypatch, failing)
    out = StringIO()

    with pytest.raises(CommandError) as error:
        call_command("apply_retention", stdout=out)

    assert out.getvalue().startswith("0 dossier(s) archivé(s), 0 dossier(s) anonymisé(s)")
    assert str(error.value) == (
        f"1 dossier(s) non traité(s) (n° {failing.pk}) : voir les journaux techniques ; "
        "la prochaine exécution réessaiera."
    )


def test_a_merged_duplicate_starts_its_archive_period_at_the_merge():
    membership = MembershipFactory()
    keep, absorb = PersonFactory(), PersonFactory()

    persons_merge(keep=keep, absorb=absorb, by=actor(membership))

    absorb.refresh_from_db()
    assert absorb.status == PersonStatus.ARCHIVED
    assert timezone.now() - absorb.archived_at < timedelta(minutes=1)
    assert not retention.person_anonymise(person_id=absorb.pk, now=timezone.now())
    later = timezone.now() + FIVE_YEARS + timedelta(days=1)
    assert retention.person_anonymise(person_id=absorb.pk, now=later)


def test_the_command_says_what_it_did_in_french():
    _last_contact(PersonFactory(), TWO_YEARS + timedelta(days=1))
    out = StringIO()

    call_command("apply_retention", stdout=out)

    assert out.getvalue().strip() == (
        "1 dossier(s) archivé(s), 0 dossier(s) anonymisé(s), 0 ligne(s) du journal effacée(s), "
        "0 tâche(s) terminée(s) effacée(s) de la file."
    )


def test_the_daily_run_erases_the_journal_rows_older_than_a_year(monkeypatch):
    clock = Clock(monkeypatch)
    clock.advance(days=-400)
    person = PersonFactory()
    record_on_file(AuditAction.SECTION_VIEWED, person=person, by=SYSTEM)
    old_rows = AuditEvent.objects.count()
    clock.advance(days=400)
    record_on_file(AuditAction.SECTION_VIEWED, person=person, by=SYSTEM)

    run = retention_apply()

    assert run.journal_rows_erased == old_rows
    assert not AuditEvent.objects.filter(created_at__lt=timezone.now() - timedelta(days=365))
    assert verify_chain().intact


def _login_code_task(status: TaskResultStatus, *, finished_days_ago: int | None) -> str:
    """A login code's task in the database's queue, finished that many days ago (None:
    not finished); it names an account and the visitor's address."""
    held = send_login_code.enqueue(
        account_id=1, channel="sms", actor_label=VISITOR.label, ip_address=VISITOR.ip_address
    )
    finished_at = (
        None if finished_days_ago is None else timezone.now() - timedelta(days=finished_days_ago)
    )
    DBTaskResult.objects.filter(pk=held.id).update(status=status, finished_at=finished_at)
    return held.id


def test_the_daily_run_erases_the_queues_tasks_finished_over_a_week_ago(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    done = TaskResultStatus.SUCCESSFUL
    _login_code_task(done, finished_days_ago=8)
    _login_code_task(TaskResultStatus.FAILED, finished_days_ago=8)
    kept = {
        _login_code_task(done, finished_days_ago=6),
        _login_code_task(TaskResultStatus.FAILED, finished_days_ago=6),
        _login_code_task(TaskResultStatus.READY, finished_days_ago=None),
        _login_code_task(TaskResultStatus.RUNNING, finished_days_ago=None),
    }
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(days=30))

    run = retention_apply()

    assert run.task_results_erased == 2
    assert {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)} == kept
    settings.RELAIS_RETENTION_TASKS = timedelta(days=5)
    assert retention_apply().task_results_erased == 2


def test_a_file_with_a_step_done_for_the_person_is_anonymised():
    built = full_file()
    membership = MembershipFactory(organisation=built.procedure.organisation)
    procedure_step_record(
        procedure=built.procedure,
        step_index=0,
        autonomy=Autonomy.FOR_PERSON,
        reason="Mme Dupré ne lit pas encore le français.",
        by=actor(membership),
    )
    _archived_since(built.person, FIVE_YEARS + timedelta(days=1))

    with committed():
        assert retention_apply().anonymised == 1

    step = ProcedureStep.objects.get(procedure=built.procedure)
    assert step.autonomy == Autonomy.FOR_PERSON
    assert "Dupré" not in step.reason
    assert _tables_holding("Dupré") == []


def test_an_anonymised_file_keeps_no_fingerprint_of_its_documents():
    """Whoever holds a copy of a document (an identity card's scan) could find the file it
    was part of by its SHA-256."""
    built = full_file()
    fingerprints = list(
        DocumentVersion.objects.filter(document__person=built.person).values_list(
            "sha256", flat=True
        )
    )
    assert fingerprints
    _archived_since(built.person, FIVE_YEARS + timedelta(days=1))

    with committed():
        assert retention_apply().anonymised == 1

    for fingerprint in fingerprints:
        assert _tables_holding(fingerprint) == [], fingerprint


def test_a_task_left_running_by_a_stopped_worker_is_erased_a_week_after_it_started(settings):
    """django-tasks-db never marks failed a task whose worker was killed: it stays
    « running », its arguments (an account, an IP address) with it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    abandoned = _login_code_task(TaskResultStatus.RUNNING, finished_days_ago=None)
    running = _login_code_task(TaskResultStatus.RUNNING, finished_days_ago=None)
    DBTaskResult.objects.filter(pk=abandoned).update(started_at=timezone.now() - timedelta(days=8))
    DBTaskResult.objects.filter(pk=running).update(started_at=timezone.now())

    assert retention_apply().task_results_erased == 1

    assert [str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)] == [running]
