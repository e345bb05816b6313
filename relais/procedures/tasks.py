"""The daily jobs of the procedures: open the next occurrence of recurring procedures,
attach to the checklists the papers already in the file, and remind the persons of a
deadline by SMS. `python manage.py procedures_daily` runs them (docs/exploitation.md: a
daily cron line). They may run twice a day without doing anything twice.

All act for the organisation that follows the procedure: a renewal is opened in its name,
a paper joins its checklist, and a reminder sends the person to their accompanying
professional. So all act only while the person lets that organisation follow their
procedures: a live consent (started, not expired, not revoked) to it covering PROCEDURES,
and no block of it. A consent given to one of its professionals only counts as the access
rule counts it: while that professional is an active member of the organisation and not
blocked by the person. Every procedure has an organisation (the person's own space opens
none), so no reminder is exempt. A renewal or a reminder left aside is counted in the
run's summary and neither opened nor claimed: once the person consents again, the next
run opens or reminds it if still due, and attaches the papers its checklist lacks.
"""

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from django.core.mail import send_mail
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django_tasks import task

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.services import Event, audit_record, audit_record_many
from relais.consent.models import Block, Consent
from relais.documents.models import Document
from relais.notifications.sms import SmsError, send_sms
from relais.organisations.models import Membership
from relais.persons.categories import DataCategory
from relais.persons.models import Person, PersonStatus
from relais.persons.validators import mobile_number
from relais.portal.models import PersonAccount
from relais.procedures.models import BEFORE_SUBMISSION, Procedure, RequiredDocument
from relais.procedures.services import procedure_open_next

logger = logging.getLogger(__name__)

RECURRENCE_NOTICE_DAYS = 30
REMINDER_DAYS = 7
REMINDER_BODY = (
    "Relais : vous avez une démarche à faire bientôt. Parlez-en à votre accompagnant(e)."
)
REMINDER_SUBJECT = "Relais : une démarche à faire bientôt"


def _followed_with_consent(at: datetime) -> Q:
    """Procedures whose organisation the person still lets follow them at `at`, as a
    filter on procedures. The access rule's own helpers (`persons_readable_in`) are
    bound to one acting professional and their organisation; here each procedure brings
    its own organisation, so the same conditions are written as sub-queries correlated to
    the procedure's row, from the models' own `live`, `covering` and `active` querysets."""
    member = Membership.objects.active(on=timezone.localdate(at)).filter(
        user_id=OuterRef("professional_id"), organisation_id=OuterRef("organisation_id")
    )
    professional_blocked = Block.objects.active().filter(
        person_id=OuterRef("person_id"), professional_id=OuterRef("professional_id")
    )
    consent = (
        Consent.objects.live(at)
        .filter(person_id=OuterRef("person_id"), organisation_id=OuterRef("organisation_id"))
        .filter(Q(professional__isnull=True) | (Exists(member) & ~Exists(professional_blocked)))
        .covering(DataCategory.PROCEDURES)
    )
    organisation_blocked = Block.objects.active().filter(
        person_id=OuterRef("person_id"), organisation_id=OuterRef("organisation_id")
    )
    return Q(Exists(consent)) & ~Q(Exists(organisation_blocked))


@dataclass
class RenewalRun:
    """What one run of the renewals did."""

    opened: int = 0
    # Due, but the person no longer lets the organisation follow their procedures.
    not_allowed: int = 0


def recurring_open_due(*, now: datetime) -> RenewalRun:
    """Open the next occurrence of every recurring procedure whose next deadline falls
    within RECURRENCE_NOTICE_DAYS (or has passed) and which has none yet. Given the
    moment of the run, as the reminders are: the deadlines are read on its local day."""
    today = timezone.localdate(now)
    due = Procedure.objects.filter(
        procedure_type__recurrence_months__isnull=False,
        procedure_type__is_active=True,
        person__status=PersonStatus.ACTIVE,
        next_due_on__isnull=False,
        next_due_on__lte=today + timedelta(days=RECURRENCE_NOTICE_DAYS),
        next__isnull=True,
    )
    allowed = _followed_with_consent(now)
    run = RenewalRun(not_allowed=due.exclude(allowed).count())
    for previous in due.filter(allowed).select_related("person", "procedure_type", "organisation"):
        with transaction.atomic():
            # Lock the previous occurrence, then look again: a run started at the same
            # time may have opened the next one since the list was read, and the person
            # may have withdrawn their consent or blocked the organisation since.
            if not list(
                Procedure.objects.select_for_update().filter(allowed, pk=previous.pk).values("pk")
            ):
                run.not_allowed += 1
                continue
            if Procedure.objects.filter(previous_id=previous.pk).exists():
                continue
            # Its file too: a merge may have moved it to the file kept, or the file may
            # have left the active base, since the list was read.
            person = Person.objects.active().filter(procedures=previous.pk).first()
            if person is None:
                continue
            previous.person = person
            procedure_open_next(previous=previous, by=SYSTEM, today=today)
            run.opened += 1
    return run


# Persons whose checklists one transaction fills: their lines, their papers, the lines'
# update and the journal rows are each read or written in one statement per batch.
CHECKLIST_BATCH = 200


@dataclass
class ChecklistRun:
    """What one run of the checklists did."""

    attached: int = 0


def checklists_fill_due(*, now: datetime) -> ChecklistRun:
    """Attach to the empty lines of the procedures still gathering their papers the
    person's document of the kind each asks, when exactly one is valid on the run's day:
    what `checklist_fill` does when a procedure is opened or a paper added, for the
    procedures opened before it did, or whose paper was valid only from a later day.
    Only where the procedure's organisation may still follow the person's procedures;
    journalled as links by the system, marked automatic. A line once filled is no longer
    empty: a second run attaches nothing more."""
    today = timezone.localdate(now)
    lines = _lines_to_fill(now)
    persons = list(
        lines.values_list("procedure__person_id", flat=True)
        .distinct()
        .order_by("procedure__person_id")
    )
    run = ChecklistRun()
    for start in range(0, len(persons), CHECKLIST_BATCH):
        run.attached += _checklists_fill(lines, persons[start : start + CHECKLIST_BATCH], today)
    return run


def _lines_to_fill(now: datetime) -> models.QuerySet[RequiredDocument]:
    """The lines `checklist_fill` would fill, on the procedures the organisation may still
    follow, whose person has a present paper of the kind not expired on the run's day."""
    today = timezone.localdate(now)
    followed = Procedure.objects.filter(
        _followed_with_consent(now),
        status__in=BEFORE_SUBMISSION,
        person__status=PersonStatus.ACTIVE,
    )
    in_file = Document.objects.present().filter(
        person_id=OuterRef("procedure__person_id"), kind=OuterRef("kind")
    )
    # A freshness rule may take a paper past its own validity: `accepts` decides.
    return (
        RequiredDocument.objects.filter(procedure__in=followed)
        .fillable()
        .filter(
            Exists(in_file.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today)))
            | Q(fresh_months__isnull=False) & Exists(in_file.filter(issued_on__isnull=False))
        )
    )


def _checklists_fill(
    lines: models.QuerySet[RequiredDocument], person_ids: list[int], today: date
) -> int:
    """Fill the lines of these persons, in one transaction: the lines (and their
    procedures) are locked and read again inside it, so that a paper a professional
    attaches, a consent withdrawn or a merge made since the list was read are seen."""
    with transaction.atomic():
        batch = list(
            lines.filter(procedure__person_id__in=person_ids)
            .select_related("procedure__procedure_type", "procedure__person")
            .select_for_update(of=("self", "procedure"))
        )
        present: dict[tuple[int, str], list[Document]] = defaultdict(list)
        for document in Document.objects.filter(
            person_id__in=person_ids, kind__in={line.kind for line in batch}
        ).present():
            present[(document.person_id, document.kind)].append(document)
        filled = []
        for line in batch:
            valid = [
                document
                for document in present[line.procedure.person_id, line.kind]
                if line.accepts(document, today)
            ]
            if len(valid) == 1:
                line.document = valid[0]
                filled.append(line)
        RequiredDocument.objects.bulk_update(filled, ["document"])
        audit_record_many(
            [
                Event(
                    AuditAction.PROCEDURE_DOCUMENT_LINKED,
                    person_id=line.procedure.person_id,
                    person_label=line.procedure.person.journal_label,
                    category=DataCategory.PROCEDURES,
                    object_type="demarche",
                    object_id=line.procedure_id,
                    details={
                        "demarche": line.procedure.procedure_type.slug,
                        "type": line.kind,
                        "piece": line.document_id,
                        "automatique": True,
                    },
                )
                for line in filled
            ],
            by=SYSTEM,
        )
    return len(filled)


@dataclass
class ReminderRun:
    """What one run of the reminders did."""

    sent: int = 0
    # Due, but the only number known is not a mobile one (a landline, a typo): no SMS
    # can reach the person, the professional has to tell them.
    not_mobile: int = 0
    # Refused by the provider: the claim is released and the next run tries again.
    refused: int = 0
    # Due, but the person no longer lets the organisation follow their procedures: not
    # claimed, so that it goes out once they consent again, if still due.
    not_allowed: int = 0


def reminders_send_due(*, now: datetime) -> ReminderRun:
    """One SMS per open procedure due within REMINDER_DAYS. The number is the one of the
    person's own space when they have an open account (checked as a mobile when it was
    saved), else the file's phone when it is a mobile number; with neither, an e-mail to
    the address of their own space, when it has one.

    Each reminder is claimed, sent, then journalled, in that order and never inside one
    transaction: the journal's append takes a lock every audited write of the platform
    waits for, and a provider may take seconds to answer. The claim (`reminder_sent_at`,
    committed before the SMS leaves) is what keeps two runs from sending it twice; a
    refused SMS releases it, so that an outage delays the reminder instead of losing it.
    Should the process stop between the SMS and its journal row, the claim stays: the
    reminder is not sent again, and that one SMS is missing from the journal."""
    today = timezone.localdate(now)
    own_space_phone = (
        PersonAccount.objects.active()
        .filter(person_id=OuterRef("person_id"), phone__isnull=False)
        .values("phone")[:1]
    )
    own_space_email = (
        PersonAccount.objects.active()
        .filter(person_id=OuterRef("person_id"), email__isnull=False)
        .values("email")[:1]
    )
    # A deadline to act before: once the request is submitted, nothing is left to do.
    due = Procedure.objects.filter(status__in=BEFORE_SUBMISSION).filter(
        due_on__gte=today,
        due_on__lte=today + timedelta(days=REMINDER_DAYS),
        reminder_sent_at__isnull=True,
        person__status=PersonStatus.ACTIVE,
    )
    allowed = _followed_with_consent(now)
    run = ReminderRun(not_allowed=due.exclude(allowed).count())
    reachable = (
        due.filter(allowed)
        .annotate(account_phone=Subquery(own_space_phone), account_email=Subquery(own_space_email))
        .exclude(person__phone="", account_phone__isnull=True, account_email__isnull=True)
        .select_related("person", "procedure_type")
    )
    for procedure in reachable:
        account_phone: str | None = procedure.account_phone  # type: ignore[attr-defined]
        email: str | None = procedure.account_email  # type: ignore[attr-defined]
        to = account_phone or mobile_number(procedure.person.phone)
        if to is None and email is None:
            run.not_mobile += 1
            continue
        if not _claim(procedure.pk, procedure.person_id, now):
            continue
        try:
            if to is not None:
                send_sms(to=to, body=REMINDER_BODY)
            elif email is not None:
                send_mail(REMINDER_SUBJECT, REMINDER_BODY, None, [email])
        except (SmsError, OSError) as error:
            _release(procedure.pk, now)
            run.refused += 1
            logger.warning(
                "Rappel de la démarche %s non envoyé : %s.", procedure.pk, type(error).__name__
            )
            continue
        # No transaction is open here: the journal row is written in a short one of its
        # own, once the SMS has left.
        audit_record(
            action=AuditAction.PROCEDURE_REMINDER_SENT,
            by=SYSTEM,
            person_id=procedure.person_id,
            person_label=procedure.person.journal_label,
            category=DataCategory.PROCEDURES,
            object_type="demarche",
            object_id=procedure.pk,
            details={
                "demarche": procedure.procedure_type.slug,
                "canal": "sms" if to is not None else "courriel",
            },
        )
        run.sent += 1
    return run


def _claim(procedure_id: int, person_id: int, now: datetime) -> bool:
    """Mark the reminder as being sent, in a short transaction of its own; False when
    another run has it, or when, since the list was read, the file has left the active
    base, the person has withdrawn their consent, or a merge has moved the procedure to
    another file (whose number this run did not read: the next run reminds that file)."""
    with transaction.atomic():
        unclaimed = Procedure.objects.filter(
            _followed_with_consent(now),
            pk=procedure_id,
            reminder_sent_at__isnull=True,
            person_id=person_id,
            person__status=PersonStatus.ACTIVE,
        )
        if connection.features.has_select_for_update_skip_locked and not list(
            # A run holding the row is claiming it: leave it to that run, without waiting.
            unclaimed.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)
        ):
            return False
        return unclaimed.update(reminder_sent_at=now) == 1


def _release(procedure_id: int, now: datetime) -> None:
    """Undo this run's claim, and only this run's (marked with its moment)."""
    Procedure.objects.filter(pk=procedure_id, reminder_sent_at=now).update(reminder_sent_at=None)


@task()
def open_next_occurrences() -> dict[str, int]:
    return asdict(recurring_open_due(now=timezone.now()))


@task()
def fill_checklists() -> dict[str, int]:
    return asdict(checklists_fill_due(now=timezone.now()))


@task()
def send_due_reminders() -> dict[str, int]:
    return asdict(reminders_send_due(now=timezone.now()))
