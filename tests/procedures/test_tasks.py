import datetime
from io import StringIO
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.models import Consent
from relais.consent.services import persons_merge
from relais.notifications import sms
from relais.persons.categories import DataCategory
from relais.persons.models import Person, PersonStatus
from relais.procedures import tasks
from relais.procedures.measures import add_months
from relais.procedures.models import Procedure, ProcedureStatus
from relais.procedures.services import procedure_update
from relais.procedures.tasks import (
    REMINDER_BODY,
    ChecklistRun,
    ReminderRun,
    RenewalRun,
    checklists_fill_due,
    fill_checklists,
    open_next_occurrences,
    recurring_open_due,
    reminders_send_due,
    send_due_reminders,
)
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import BlockFactory, ConsentFactory, PersonFactory
from tests.portal.factories import PersonAccountFactory
from tests.procedures.factories import (
    DocumentFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    RequiredDocumentFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
TODAY = datetime.date(2026, 3, 10)
NOW = datetime.datetime(2026, 3, 10, 7, 30, tzinfo=PARIS)


def _consent(person, organisation, **fields):
    """A consent of the person to the organisation for every category, live on the runs'
    day unless told otherwise."""
    fields.setdefault("starts_at", NOW - datetime.timedelta(days=30))
    fields.setdefault("expires_at", NOW + datetime.timedelta(days=150))
    return ConsentFactory(person=person, organisation=organisation, **fields)


def _procedure(*, followed=True, **fields):
    """A procedure to do, followed with the person's consent unless `followed` is False."""
    procedure = ProcedureFactory(**fields)
    if followed:
        _consent(procedure.person, procedure.organisation)
    return procedure


def _declaration(next_due_on, *, followed=True, **fields):
    """A quarterly declaration already submitted, due again on `next_due_on`, followed
    with the person's consent unless `followed` is False."""
    fields.setdefault("procedure_type", ProcedureTypeFactory(recurring=True))
    return _procedure(
        followed=followed,
        status=ProcedureStatus.SUBMITTED,
        requested_on=datetime.date(2025, 12, 1),
        taken_on=datetime.date(2025, 12, 1),
        submitted_on=datetime.date(2025, 12, 20),
        due_on=datetime.date(2025, 12, 31),
        next_due_on=next_due_on,
        **fields,
    )


def _colleague(organisation, **fields):
    """A professional of the organisation since a year before the runs' day."""
    fields.setdefault("started_on", TODAY - datetime.timedelta(days=365))
    return MembershipFactory(organisation=organisation, **fields).user


def _word(case, procedure):
    """What the person said to the procedure's organisation, in `case`."""
    person, organisation = procedure.person, procedure.organisation
    if case == "never given":
        return
    if case == "withdrawn":
        _consent(
            person,
            organisation,
            revoked_at=NOW - datetime.timedelta(days=1),
            revoked_by_label="La personne",
        )
    if case == "expired":
        _consent(
            person,
            organisation,
            starts_at=NOW - datetime.timedelta(days=200),
            expires_at=NOW - datetime.timedelta(days=1),
        )
    if case == "not started yet":
        _consent(person, organisation, starts_at=NOW + datetime.timedelta(hours=1))
    if case == "not covering procedures":
        everything_else = [c for c in DataCategory.values if c != DataCategory.PROCEDURES]
        _consent(person, organisation, categories=everything_else)
    if case == "to another organisation only":
        _consent(person, OrganisationFactory())
    if case == "organisation blocked":
        _consent(person, organisation)
        BlockFactory(person=person, organisation=organisation)
    if case == "to a professional who left":
        former = _colleague(organisation, ended_on=TODAY - datetime.timedelta(days=1))
        _consent(person, organisation, professional=former)
    if case == "to a professional blocked":
        colleague = _colleague(organisation)
        _consent(person, organisation, professional=colleague)
        BlockFactory(person=person, professional=colleague)
    if case == "to one of its professionals":
        _consent(person, organisation, professional=_colleague(organisation))
    if case == "block lifted":
        _consent(person, organisation)
        BlockFactory(person=person, organisation=organisation, lifted_at=NOW)
    if case == "another organisation blocked":
        _consent(person, organisation)
        BlockFactory(person=person, organisation=OrganisationFactory())
    if case == "a colleague blocked":
        _consent(person, organisation)
        BlockFactory(person=person, professional=_colleague(organisation))


# The person no longer lets the procedure's organisation follow their procedures.
NOT_ALLOWED = [
    "never given",
    "withdrawn",
    "expired",
    "not started yet",
    "not covering procedures",
    "to another organisation only",
    "organisation blocked",
    "to a professional who left",
    "to a professional blocked",
]
# They still do, as the access rule reads their consents and blocks.
ALLOWED = [
    "to one of its professionals",
    "block lifted",
    "another organisation blocked",
    "a colleague blocked",
]


class Meanwhile:
    """Stands for `django.db.transaction` in the tasks' module: `change` is made, and
    committed, right after the run has read its list, before its first transaction."""

    def __init__(self, change):
        self.change = change

    def atomic(self, *args, **kwargs):
        if self.change is not None:
            change, self.change = self.change, None
            change()
        return transaction.atomic(*args, **kwargs)


# Next occurrences


def test_it_opens_the_next_occurrence_a_month_ahead():
    previous = _declaration(datetime.date(2026, 3, 31))

    assert recurring_open_due(now=NOW) == RenewalRun(opened=1)

    following = previous.next
    assert following.previous == previous
    assert (following.person, following.procedure_type, following.organisation) == (
        previous.person,
        previous.procedure_type,
        previous.organisation,
    )
    assert (following.due_on, following.requested_on) == (datetime.date(2026, 3, 31), TODAY)
    assert (following.status, following.created_by) == (ProcedureStatus.NOT_STARTED, None)
    assert following.checklist.count() == 2
    event = AuditEvent.objects.get(action=AuditAction.PROCEDURE_RECURRED)
    assert (event.actor_id, event.actor_label) == (None, "Relais (traitement automatique)")
    assert event.details["precedente"] == previous.pk
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_OPENED).exists()


def test_it_opens_an_occurrence_whose_deadline_passed():
    previous = _declaration(datetime.date(2026, 2, 28))

    assert recurring_open_due(now=NOW) == RenewalRun(opened=1)
    assert previous.next.due_on == datetime.date(2026, 2, 28)


def test_it_opens_each_next_occurrence_once():
    _declaration(datetime.date(2026, 3, 31))
    _declaration(datetime.date(2026, 4, 9))

    assert recurring_open_due(now=NOW) == RenewalRun(opened=2)
    assert recurring_open_due(now=NOW) == RenewalRun()
    assert recurring_open_due(now=NOW + datetime.timedelta(days=1)) == RenewalRun()
    assert Procedure.objects.count() == 4
    assert AuditEvent.objects.filter(action=AuditAction.PROCEDURE_RECURRED).count() == 2


@pytest.mark.parametrize(
    "case",
    [
        "too far",
        "no next deadline",
        "withdrawn from the catalogue",
        "archived file",
    ],
)
def test_it_opens_nothing_when_not_due(case):
    fields = {}
    next_due_on = datetime.date(2026, 3, 31)
    if case == "too far":
        next_due_on = datetime.date(2026, 4, 10)
    if case == "no next deadline":
        next_due_on = None
    if case == "withdrawn from the catalogue":
        fields["procedure_type"] = ProcedureTypeFactory(recurring=True, is_active=False)
    if case == "archived file":
        fields["person__status"] = PersonStatus.ARCHIVED
    _declaration(next_due_on, **fields)

    assert recurring_open_due(now=NOW) == RenewalRun()
    assert Procedure.objects.count() == 1


def test_a_renewal_follows_a_merge_made_while_the_run_reads_its_list(monkeypatch):
    """The run read the declaration on the duplicate; a merge moved it to the file kept
    and archived the duplicate before the renewal was opened: the renewal is opened on
    the file kept, not on the archived duplicate."""
    previous = _declaration(datetime.date(2026, 3, 31))
    duplicate, kept = previous.person, PersonFactory()
    merge = Meanwhile(lambda: persons_merge(keep=kept, absorb=duplicate, by=SYSTEM))
    monkeypatch.setattr(tasks, "transaction", merge)

    assert recurring_open_due(now=NOW) == RenewalRun(opened=1)

    previous.refresh_from_db()
    assert previous.person_id == previous.next.person_id == kept.pk
    assert not Procedure.objects.filter(person=duplicate).exists()
    recurred = AuditEvent.objects.get(action=AuditAction.PROCEDURE_RECURRED)
    assert recurred.person_id == kept.pk


def test_it_opens_no_renewal_on_a_file_archived_while_the_run_reads_its_list(monkeypatch):
    previous = _declaration(datetime.date(2026, 3, 31))
    archive = Meanwhile(
        lambda: Person.objects.filter(pk=previous.person_id).update(status=PersonStatus.ARCHIVED)
    )
    monkeypatch.setattr(tasks, "transaction", archive)

    assert recurring_open_due(now=NOW) == RenewalRun()

    assert Procedure.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_RECURRED).exists()


def test_the_task_uses_today():
    _declaration(datetime.date(2026, 3, 31))

    with patch("django.utils.timezone.now", return_value=NOW):
        assert open_next_occurrences.call() == {"opened": 1, "not_allowed": 0}

    assert Procedure.objects.get(previous__isnull=False).requested_on == TODAY


@pytest.mark.parametrize("case", NOT_ALLOWED)
def test_it_opens_no_renewal_for_an_organisation_the_person_no_longer_allows(case):
    previous = _declaration(datetime.date(2026, 3, 31), followed=False)
    _word(case, previous)

    assert recurring_open_due(now=NOW) == RenewalRun(not_allowed=1)

    assert Procedure.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_RECURRED).exists()


@pytest.mark.parametrize("case", ALLOWED)
def test_it_opens_the_renewal_while_the_person_allows_the_organisation(case):
    previous = _declaration(datetime.date(2026, 3, 31), followed=False)
    _word(case, previous)

    assert recurring_open_due(now=NOW) == RenewalRun(opened=1)


def test_it_opens_the_renewal_once_the_person_consents_again():
    previous = _declaration(datetime.date(2026, 3, 31), followed=False)
    _word("withdrawn", previous)
    assert recurring_open_due(now=NOW) == RenewalRun(not_allowed=1)

    _consent(previous.person, previous.organisation, starts_at=NOW + datetime.timedelta(hours=1))

    assert recurring_open_due(now=NOW + datetime.timedelta(hours=2)) == RenewalRun(opened=1)
    assert previous.next.due_on == datetime.date(2026, 3, 31)


def test_it_opens_no_renewal_when_consent_is_withdrawn_while_the_run_reads_its_list(
    monkeypatch,
):
    previous = _declaration(datetime.date(2026, 3, 31))
    withdraw = Meanwhile(
        lambda: Consent.objects.filter(person=previous.person).update(revoked_at=NOW)
    )
    monkeypatch.setattr(tasks, "transaction", withdraw)

    assert recurring_open_due(now=NOW) == RenewalRun(not_allowed=1)

    assert Procedure.objects.count() == 1


# Reminders


def test_it_reminds_the_person_of_a_deadline():
    procedure = _procedure(due_on=TODAY + datetime.timedelta(days=7))

    assert reminders_send_due(now=NOW) == ReminderRun(sent=1)

    assert [(message.to, message.body) for message in sms.outbox] == [
        ("+33612345678", REMINDER_BODY)
    ]
    procedure.refresh_from_db()
    assert procedure.reminder_sent_at == NOW
    event = AuditEvent.objects.get(action=AuditAction.PROCEDURE_REMINDER_SENT)
    assert (event.person_id, event.object_id) == (procedure.person_id, str(procedure.pk))
    assert event.details == {"demarche": procedure.procedure_type.slug, "canal": "sms"}


def test_the_reminder_carries_no_personal_data():
    procedure = ProcedureFactory()

    for private in (procedure.person.first_names, procedure.procedure_type.title, "CAF"):
        assert private not in REMINDER_BODY


def test_it_reminds_once():
    _procedure(due_on=TODAY)

    assert reminders_send_due(now=NOW).sent == 1
    assert reminders_send_due(now=NOW + datetime.timedelta(hours=1)) == ReminderRun()

    assert len(sms.outbox) == 1
    assert AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).count() == 1


def test_a_deadline_moved_after_its_reminder_is_reminded_again():
    procedure = _procedure(requested_on=TODAY, due_on=TODAY + datetime.timedelta(days=2))
    assert reminders_send_due(now=NOW).sent == 1

    procedure_update(procedure=procedure, by=SYSTEM, due_on=TODAY + datetime.timedelta(days=20))
    procedure.refresh_from_db()
    assert procedure.reminder_sent_at is None
    assert reminders_send_due(now=NOW + datetime.timedelta(days=14)).sent == 1

    assert len(sms.outbox) == 2


def test_a_correction_that_leaves_the_deadline_keeps_its_reminder():
    procedure = _procedure(requested_on=TODAY, due_on=TODAY)
    reminders_send_due(now=NOW)

    procedure_update(
        procedure=procedure, by=SYSTEM, requested_on=TODAY - datetime.timedelta(days=1)
    )

    procedure.refresh_from_db()
    assert procedure.reminder_sent_at == NOW
    assert reminders_send_due(now=NOW + datetime.timedelta(hours=1)) == ReminderRun()


@pytest.mark.parametrize(
    "fields",
    [
        {"due_on": TODAY + datetime.timedelta(days=8)},
        {"due_on": TODAY - datetime.timedelta(days=1)},
        {"due_on": None},
        {"due_on": TODAY, "person__phone": ""},
        {"due_on": TODAY, "person__status": PersonStatus.ARCHIVED},
        {"due_on": TODAY, "status": ProcedureStatus.ABANDONED},
        {"due_on": TODAY, "status": ProcedureStatus.SUBMITTED},
        {"due_on": TODAY, "status": ProcedureStatus.AWAITING},
        {"due_on": TODAY, "status": ProcedureStatus.APPEAL},
        {"due_on": TODAY, "reminder_sent_at": NOW - datetime.timedelta(days=3)},
    ],
)
def test_it_reminds_nobody_when_not_due(fields):
    _procedure(**fields)

    assert reminders_send_due(now=NOW) == ReminderRun()

    assert sms.outbox == []
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).exists()


def test_it_reminds_nobody_on_a_file_archived_while_the_run_reads_its_list(monkeypatch):
    procedure = _procedure(due_on=TODAY)
    archive = Meanwhile(
        lambda: Person.objects.filter(pk=procedure.person_id).update(status=PersonStatus.ARCHIVED)
    )
    monkeypatch.setattr(tasks, "transaction", archive)

    assert reminders_send_due(now=NOW) == ReminderRun()

    assert sms.outbox == []
    procedure.refresh_from_db()
    assert procedure.reminder_sent_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).exists()


def test_a_reminder_follows_a_merge_made_while_the_run_reads_its_list(monkeypatch):
    """The run read the procedure on the duplicate, with its number; a merge moved it to
    the file kept and archived the duplicate before the reminder was claimed: nothing is
    sent in the duplicate's name, and the next run reminds the file kept."""
    procedure = _procedure(due_on=TODAY + datetime.timedelta(days=1))
    duplicate, kept = procedure.person, PersonFactory(phone="07 98 76 54 32")
    merge = Meanwhile(lambda: persons_merge(keep=kept, absorb=duplicate, by=SYSTEM))
    monkeypatch.setattr(tasks, "transaction", merge)

    assert reminders_send_due(now=NOW) == ReminderRun()
    assert sms.outbox == []

    assert reminders_send_due(now=NOW + datetime.timedelta(hours=1)).sent == 1
    assert [message.to for message in sms.outbox] == ["+33798765432"]
    reminded = AuditEvent.objects.get(action=AuditAction.PROCEDURE_REMINDER_SENT)
    assert reminded.person_id == kept.pk


class RefusingBackend:
    def send(self, message):
        raise sms.SmsError("Fournisseur indisponible.")


def test_a_refused_sms_is_tried_again_next_time(settings):
    procedure = _procedure(due_on=TODAY)
    settings.RELAIS_SMS_BACKEND = "tests.procedures.test_tasks.RefusingBackend"

    assert reminders_send_due(now=NOW) == ReminderRun(refused=1)

    procedure.refresh_from_db()
    assert procedure.reminder_sent_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).exists()
    settings.RELAIS_SMS_BACKEND = "relais.notifications.sms.LocmemBackend"
    assert reminders_send_due(now=NOW + datetime.timedelta(hours=1)).sent == 1
    assert len(sms.outbox) == 1


class WitnessBackend:
    """Notes, at the moment the SMS leaves, whether a transaction is open and what the
    database already holds."""

    seen: list[dict] = []

    def send(self, message):
        procedure = Procedure.objects.get()
        WitnessBackend.seen.append(
            {
                "in_transaction": connection.in_atomic_block,
                "claimed": procedure.reminder_sent_at is not None,
                "journalled": AuditEvent.objects.filter(
                    action=AuditAction.PROCEDURE_REMINDER_SENT
                ).exists(),
            }
        )


def test_it_sends_the_sms_outside_any_transaction(transactional_db, settings):
    """The journal's append locks every audited write of the platform until its
    transaction ends: a slow provider must never be waited for inside it."""
    _procedure(due_on=TODAY)
    settings.RELAIS_SMS_BACKEND = "tests.procedures.test_tasks.WitnessBackend"
    WitnessBackend.seen = []

    assert reminders_send_due(now=NOW).sent == 1

    assert WitnessBackend.seen == [{"in_transaction": False, "claimed": True, "journalled": False}]
    assert AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).count() == 1


def test_a_refused_sms_releases_the_claim_outside_any_transaction(transactional_db, settings):
    procedure = _procedure(due_on=TODAY)
    settings.RELAIS_SMS_BACKEND = "tests.procedures.test_tasks.RefusingBackend"

    assert reminders_send_due(now=NOW) == ReminderRun(refused=1)

    procedure.refresh_from_db()
    assert procedure.reminder_sent_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).exists()


@pytest.mark.skipif(
    not connection.features.has_select_for_update_skip_locked,
    reason="SKIP LOCKED is PostgreSQL's",
)
def test_it_leaves_a_reminder_another_run_is_claiming(transactional_db):
    procedure = _procedure(due_on=TODAY)
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Procedure._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
                [procedure.pk],
            )
        with connection.cursor() as cursor:
            # Waiting for the other run would fail here instead of hanging the test.
            cursor.execute("SET lock_timeout = '2s'")

        assert reminders_send_due(now=NOW) == ReminderRun()
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert sms.outbox == []
    assert reminders_send_due(now=NOW).sent == 1


@pytest.mark.parametrize(
    ("typed", "sent_to"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 7 81 23 45 67", "+33781234567"),
        ("0033612345678", "+33612345678"),
    ],
)
def test_it_sends_to_the_file_phone_written_in_any_usual_way(typed, sent_to):
    _procedure(due_on=TODAY, person__phone=typed)

    assert reminders_send_due(now=NOW).sent == 1

    assert [message.to for message in sms.outbox] == [sent_to]


@pytest.mark.parametrize(
    "typed", ["03 21 46 00 00", "0612", "pas de portable", "08 00 00 00 00", "+33 9 70 00 00 00"]
)
def test_it_skips_and_counts_a_number_that_is_not_a_mobile(typed):
    procedure = _procedure(due_on=TODAY, person__phone=typed)

    assert reminders_send_due(now=NOW) == ReminderRun(not_mobile=1)

    assert sms.outbox == []
    procedure.refresh_from_db()
    assert procedure.reminder_sent_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).exists()


@pytest.mark.parametrize("file_phone", ["0612345678", "03 21 46 00 00", ""])
def test_it_prefers_the_phone_of_the_persons_own_space(file_phone):
    procedure = _procedure(due_on=TODAY, person__phone=file_phone)
    PersonAccountFactory(person=procedure.person, phone="+33798765432")

    assert reminders_send_due(now=NOW).sent == 1

    assert [message.to for message in sms.outbox] == ["+33798765432"]


def test_it_reminds_by_email_a_person_with_no_mobile_but_an_address_in_their_space(
    mailoutbox,
):
    procedure = _procedure(due_on=TODAY, person__phone="03 21 46 00 00")
    PersonAccountFactory(person=procedure.person, email="lea@exemple.test")

    assert reminders_send_due(now=NOW) == ReminderRun(sent=1)

    assert sms.outbox == []
    (message,) = mailoutbox
    assert (message.to, message.body) == (["lea@exemple.test"], REMINDER_BODY)
    event = AuditEvent.objects.get(action=AuditAction.PROCEDURE_REMINDER_SENT)
    assert event.details["canal"] == "courriel"


def test_a_reminder_whose_email_cannot_leave_is_tried_again(mailoutbox, monkeypatch):
    procedure = _procedure(due_on=TODAY, person__phone="")
    PersonAccountFactory(person=procedure.person, email="lea@exemple.test")

    def server_down(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(tasks, "send_mail", server_down)
    assert reminders_send_due(now=NOW) == ReminderRun(refused=1)
    monkeypatch.undo()
    assert reminders_send_due(now=NOW) == ReminderRun(sent=1)


def test_it_uses_the_file_phone_once_the_own_space_is_closed():
    procedure = _procedure(due_on=TODAY)
    PersonAccountFactory(person=procedure.person, closed=True)

    assert reminders_send_due(now=NOW).sent == 1

    assert [message.to for message in sms.outbox] == ["+33612345678"]


@pytest.mark.parametrize("case", NOT_ALLOWED)
def test_it_sends_no_reminder_for_an_organisation_the_person_no_longer_allows(case):
    procedure = _procedure(due_on=TODAY, followed=False)
    _word(case, procedure)

    assert reminders_send_due(now=NOW) == ReminderRun(not_allowed=1)

    assert sms.outbox == []
    procedure.refresh_from_db()
    assert procedure.reminder_sent_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).exists()


@pytest.mark.parametrize("case", ALLOWED)
def test_it_sends_the_reminder_while_the_person_allows_the_organisation(case):
    procedure = _procedure(due_on=TODAY, followed=False)
    _word(case, procedure)

    assert reminders_send_due(now=NOW) == ReminderRun(sent=1)


def test_it_sends_the_reminder_once_the_person_consents_again():
    procedure = _procedure(due_on=TODAY + datetime.timedelta(days=3), followed=False)
    _word("withdrawn", procedure)
    assert reminders_send_due(now=NOW) == ReminderRun(not_allowed=1)

    _consent(procedure.person, procedure.organisation, starts_at=NOW + datetime.timedelta(days=1))

    assert reminders_send_due(now=NOW + datetime.timedelta(days=2)) == ReminderRun(sent=1)
    assert len(sms.outbox) == 1


def test_it_sends_no_reminder_when_consent_is_withdrawn_while_the_run_reads_its_list(
    monkeypatch,
):
    procedure = _procedure(due_on=TODAY)
    withdraw = Meanwhile(
        lambda: Consent.objects.filter(person=procedure.person).update(revoked_at=NOW)
    )
    monkeypatch.setattr(tasks, "transaction", withdraw)

    assert reminders_send_due(now=NOW) == ReminderRun()

    assert sms.outbox == []
    procedure.refresh_from_db()
    assert procedure.reminder_sent_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_REMINDER_SENT).exists()


def test_the_task_uses_now():
    procedure = _procedure(due_on=TODAY + datetime.timedelta(days=2))

    with patch("django.utils.timezone.now", return_value=NOW):
        assert send_due_reminders.call() == {
            "sent": 1,
            "not_mobile": 0,
            "refused": 0,
            "not_allowed": 0,
        }

    procedure.refresh_from_db()
    assert procedure.reminder_sent_at == NOW


# Papers already in the file


def _gathering(*, followed=True, kind="cni", **line):
    """A procedure opened before papers joined checklists by themselves: one empty line
    asking `kind`, and a paper of that kind valid on the runs' day in the person's file."""
    procedure = _procedure(followed=followed)
    RequiredDocumentFactory(procedure=procedure, kind=kind, **line)
    paper = DocumentFactory(person=procedure.person, kind=kind)
    return procedure, paper


def _linked():
    return AuditEvent.objects.filter(action=AuditAction.PROCEDURE_DOCUMENT_LINKED)


def test_it_attaches_a_paper_of_the_file_to_a_procedure_opened_before():
    procedure, paper = _gathering()

    assert checklists_fill_due(now=NOW) == ChecklistRun(attached=1)

    assert procedure.checklist.get().document == paper
    event = _linked().get()
    assert (event.actor_id, event.actor_label) == (None, "Relais (traitement automatique)")
    assert (event.person_id, event.object_type, event.object_id) == (
        procedure.person_id,
        "demarche",
        str(procedure.pk),
    )
    assert event.details == {
        "demarche": procedure.procedure_type.slug,
        "type": "cni",
        "piece": paper.pk,
        "automatique": True,
    }


def test_it_attaches_each_paper_once():
    procedure, paper = _gathering()

    checklists_fill_due(now=NOW)

    assert checklists_fill_due(now=NOW) == ChecklistRun()
    assert procedure.checklist.get().document == paper
    assert _linked().count() == 1


def test_it_replaces_a_deleted_paper():
    procedure, paper = _gathering()
    procedure.checklist.update(document=DocumentFactory(person=procedure.person, deleted_at=NOW))

    assert checklists_fill_due(now=NOW) == ChecklistRun(attached=1)
    assert procedure.checklist.get().document == paper


@pytest.mark.parametrize(
    "paper",
    [
        {"expires_on": TODAY - datetime.timedelta(days=1)},
        {"deleted_at": NOW - datetime.timedelta(days=1)},
        {"issued_on": TODAY + datetime.timedelta(days=1)},
    ],
    ids=["expired", "deleted", "issued after the run's day"],
)
def test_it_attaches_no_paper_that_is_not_valid(paper):
    procedure, _ = _gathering()
    procedure.person.documents.update(**paper)

    assert checklists_fill_due(now=NOW) == ChecklistRun()
    assert procedure.checklist.get().document is None
    assert not _linked().exists()


def test_it_attaches_a_paper_past_its_own_validity_that_the_freshness_rule_accepts():
    issued = add_months(TODAY, -7)
    procedure, paper = _gathering(kind="justificatif_domicile", fresh_months=12)
    procedure.person.documents.update(issued_on=issued, expires_on=add_months(issued, 3))

    assert checklists_fill_due(now=NOW) == ChecklistRun(attached=1)
    assert procedure.checklist.get().document == paper


def test_it_attaches_no_paper_too_old_for_the_freshness_rule():
    procedure, _ = _gathering(kind="photo_identite", fresh_months=6)
    procedure.person.documents.update(issued_on=add_months(TODAY, -8), expires_on=None)

    assert checklists_fill_due(now=NOW) == ChecklistRun()
    assert procedure.checklist.get().document is None


@pytest.mark.parametrize(
    "case",
    [
        "two valid papers of the kind",
        "another person's paper asked",
        "not concerned",
        "autre pièce",
        "kind asked twice",
        "submitted",
        "file archived",
        "paper of another file",
    ],
)
def test_it_leaves_what_a_paper_added_would_leave(case):
    procedure, paper = _gathering(kind="autre" if case == "autre pièce" else "cni")
    if case == "two valid papers of the kind":
        DocumentFactory(person=procedure.person, kind="cni")
    if case == "another person's paper asked":
        procedure.checklist.update(someone_else=True)
    if case == "not concerned":
        procedure.checklist.update(not_applicable=True, condition="si vous êtes hébergé")
    if case == "kind asked twice":
        RequiredDocumentFactory(procedure=procedure, kind="cni")
    if case == "submitted":
        Procedure.objects.filter(pk=procedure.pk).update(
            status=ProcedureStatus.SUBMITTED,
            taken_on=F("requested_on"),
            submitted_on=F("requested_on"),
        )
    if case == "file archived":
        Person.objects.filter(pk=procedure.person_id).update(status=PersonStatus.ARCHIVED)
    if case == "paper of another file":
        paper.person = PersonFactory()
        paper.save()

    assert checklists_fill_due(now=NOW) == ChecklistRun()
    assert set(procedure.checklist.values_list("document_id", flat=True)) == {None}


def test_it_leaves_a_line_already_filled():
    procedure, _ = _gathering()
    # Expired: the professional replaces it, the run does not.
    earlier = DocumentFactory(
        person=procedure.person, kind="cni", expires_on=TODAY - datetime.timedelta(days=1)
    )
    procedure.checklist.update(document=earlier)

    assert checklists_fill_due(now=NOW) == ChecklistRun()
    assert procedure.checklist.get().document == earlier


@pytest.mark.parametrize("case", NOT_ALLOWED)
def test_it_attaches_nothing_for_an_organisation_the_person_no_longer_allows(case):
    procedure, _ = _gathering(followed=False)
    _word(case, procedure)

    assert checklists_fill_due(now=NOW) == ChecklistRun()
    assert procedure.checklist.get().document is None
    assert not _linked().exists()


@pytest.mark.parametrize("case", ALLOWED)
def test_it_attaches_while_the_person_allows_the_organisation(case):
    procedure, paper = _gathering(followed=False)
    _word(case, procedure)

    assert checklists_fill_due(now=NOW) == ChecklistRun(attached=1)
    assert procedure.checklist.get().document == paper


def test_it_attaches_nothing_when_consent_is_withdrawn_while_the_run_reads_its_list(
    monkeypatch,
):
    procedure, _ = _gathering()
    withdraw = Meanwhile(
        lambda: Consent.objects.filter(person=procedure.person).update(revoked_at=NOW)
    )
    monkeypatch.setattr(tasks, "transaction", withdraw)

    assert checklists_fill_due(now=NOW) == ChecklistRun()
    assert procedure.checklist.get().document is None
    assert not _linked().exists()


def test_it_leaves_a_line_a_professional_fills_while_the_run_reads_its_list(monkeypatch):
    procedure, _ = _gathering()
    chosen = DocumentFactory(person=procedure.person, kind="cni")
    attach = Meanwhile(lambda: procedure.checklist.update(document=chosen))
    monkeypatch.setattr(tasks, "transaction", attach)

    assert checklists_fill_due(now=NOW) == ChecklistRun()
    assert procedure.checklist.get().document == chosen


def test_it_fills_the_persons_by_batches(monkeypatch):
    monkeypatch.setattr(tasks, "CHECKLIST_BATCH", 2)
    procedures = [_gathering()[0] for _ in range(5)]

    assert checklists_fill_due(now=NOW) == ChecklistRun(attached=5)
    for procedure in procedures:
        assert procedure.checklist.get().document is not None


def test_the_checklists_task_uses_today():
    procedure, _ = _gathering()
    procedure.person.documents.update(expires_on=TODAY)

    with patch("django.utils.timezone.now", return_value=NOW + datetime.timedelta(days=1)):
        assert fill_checklists.call() == {"attached": 0}
    with patch("django.utils.timezone.now", return_value=NOW):
        assert fill_checklists.call() == {"attached": 1}


# Daily command


def test_the_daily_command_runs_both():
    _declaration(datetime.date(2026, 3, 15))
    out = StringIO()

    with patch("django.utils.timezone.now", return_value=NOW):
        call_command("procedures_daily", stdout=out)

    # The renewal opened today is due in five days: it is reminded in the same run.
    assert out.getvalue().strip() == (
        "1 démarche(s) à renouveler ouverte(s), 1 rappel(s) envoyé(s), pièces rattachées : 0."
    )
    assert len(sms.outbox) == 1


def test_the_daily_command_counts_the_papers_attached():
    _gathering()
    _gathering(kind="rib")
    out = StringIO()

    with patch("django.utils.timezone.now", return_value=NOW):
        call_command("procedures_daily", stdout=out)

    assert out.getvalue().strip() == (
        "0 démarche(s) à renouveler ouverte(s), 0 rappel(s) envoyé(s), pièces rattachées : 2."
    )


def test_the_daily_command_tells_the_reminders_it_could_not_send():
    _procedure(due_on=TODAY, person__phone="03 21 46 00 00")
    out = StringIO()

    with patch("django.utils.timezone.now", return_value=NOW):
        call_command("procedures_daily", stdout=out)

    assert out.getvalue().strip() == (
        "0 démarche(s) à renouveler ouverte(s), 0 rappel(s) envoyé(s), pièces rattachées : 0. "
        "1 rappel(s) non envoyé(s) : ni numéro de portable, ni adresse électronique."
    )


def test_the_daily_command_tells_what_the_persons_no_longer_allow():
    _declaration(datetime.date(2026, 3, 15), followed=False)
    _procedure(due_on=TODAY, followed=False)
    out = StringIO()

    with patch("django.utils.timezone.now", return_value=NOW):
        call_command("procedures_daily", stdout=out)

    assert out.getvalue().strip() == (
        "0 démarche(s) à renouveler ouverte(s), 0 rappel(s) envoyé(s), pièces rattachées : 0. "
        "1 démarche(s) à renouveler non ouverte(s) : la personne ne permet plus à la structure "
        "de suivre ses démarches. 1 rappel(s) non envoyé(s) : la personne ne permet plus à la "
        "structure de suivre ses démarches."
    )
    assert sms.outbox == []


def test_the_daily_command_can_hand_the_work_to_the_queue():
    _declaration(datetime.date(2026, 3, 15))
    _gathering()
    out = StringIO()

    with patch("django.utils.timezone.now", return_value=NOW):
        call_command("procedures_daily", "--en-tache", stdout=out)

    assert "confiés à la file de tâches" in out.getvalue()
    # The test backend runs enqueued tasks at once.
    assert Procedure.objects.filter(previous__isnull=False).count() == 1
    assert _linked().count() == 1


# Query-count pins: each run reads its list in two queries whatever its length (the
# procedures left aside are counted, the others listed), then costs the same for each
# procedure it acts on.
RENEWAL_LIST = 2
# The lock with the consent read again, the next occurrence and the file looked up again,
# then the opening: its checks, its rows and its journal row, and the checklist with the
# person's papers of the kinds it asks, which fill its lines (none here).
RENEWAL_EACH = 27
REMINDER_LIST = 2
# The claim (savepoint, update, release, and the lock before the update on PostgreSQL),
# then the journal row.
REMINDER_EACH = 7 + connection.features.has_select_for_update_skip_locked


@pytest.mark.parametrize("size", [1, 4])
def test_the_renewals_run_a_fixed_number_of_queries(size, django_assert_num_queries):
    for case in NOT_ALLOWED[:size]:
        _word(case, _declaration(datetime.date(2026, 3, 31), followed=False))
    for _ in range(size):
        _declaration(datetime.date(2026, 3, 31))

    with django_assert_num_queries(RENEWAL_LIST + size * RENEWAL_EACH):
        assert recurring_open_due(now=NOW) == RenewalRun(opened=size, not_allowed=size)


@pytest.mark.parametrize("size", [1, 4])
def test_the_reminders_run_a_fixed_number_of_queries(size, django_assert_num_queries):
    for case in NOT_ALLOWED[:size]:
        _word(case, _procedure(due_on=TODAY, followed=False))
    for _ in range(size):
        _procedure(due_on=TODAY)

    with django_assert_num_queries(REMINDER_LIST + size * REMINDER_EACH):
        assert reminders_send_due(now=NOW) == ReminderRun(sent=size, not_allowed=size)


# The persons with lines to fill, then one transaction (savepoint and release) per batch
# of persons: their lines locked and read again, their papers, the lines' update, and the
# journal's head and rows in a savepoint of their own.
CHECKLIST_QUERIES = 10


@pytest.mark.parametrize("size", [1, 20])
def test_the_checklists_run_a_fixed_number_of_queries(size, django_assert_num_queries):
    for case in (NOT_ALLOWED * 3)[:size]:
        _word(case, _gathering(followed=False)[0])
    for _ in range(size):
        _gathering()

    with django_assert_num_queries(CHECKLIST_QUERIES):
        assert checklists_fill_due(now=NOW) == ChecklistRun(attached=size)
