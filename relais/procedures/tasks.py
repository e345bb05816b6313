"""The two daily jobs of the procedures: open the next occurrence of recurring procedures,
and remind the persons of a deadline by SMS. `python manage.py procedures_daily` runs both
(docs/exploitation.md: a daily cron line). Both may run twice a day without doing anything
twice."""

import logging
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.services import audit_record
from relais.notifications.sms import SmsError, send_sms
from relais.persons.categories import DataCategory
from relais.persons.models import PersonStatus
from relais.procedures.models import Procedure
from relais.procedures.services import procedure_open_next

logger = logging.getLogger(__name__)

RECURRENCE_NOTICE_DAYS = 30
REMINDER_DAYS = 7
REMINDER_BODY = (
    "Relais : vous avez une démarche à faire bientôt. Parlez-en à votre accompagnant(e)."
)


def recurring_open_due(*, today: date) -> int:
    """Open the next occurrence of every recurring procedure whose next deadline falls
    within RECURRENCE_NOTICE_DAYS (or has passed) and which has none yet."""
    candidates = Procedure.objects.filter(
        procedure_type__recurrence_months__isnull=False,
        procedure_type__is_active=True,
        person__status=PersonStatus.ACTIVE,
        next_due_on__isnull=False,
        next_due_on__lte=today + timedelta(days=RECURRENCE_NOTICE_DAYS),
        next__isnull=True,
    ).select_related("person", "procedure_type", "organisation")
    opened = 0
    for previous in candidates:
        with transaction.atomic():
            # Lock the previous occurrence, then look again: a run started at the same
            # time may have opened the next one since the list was read.
            list(Procedure.objects.select_for_update().filter(pk=previous.pk).values("pk"))
            if Procedure.objects.filter(previous_id=previous.pk).exists():
                continue
            procedure_open_next(previous=previous, by=SYSTEM, today=today)
            opened += 1
    return opened


def reminders_send_due(*, now: datetime) -> int:
    """One SMS per open procedure due within REMINDER_DAYS, to persons with a phone."""
    today = timezone.localdate(now)
    due = (
        Procedure.objects.open()
        .filter(
            due_on__gte=today,
            due_on__lte=today + timedelta(days=REMINDER_DAYS),
            reminder_sent_at__isnull=True,
            person__status=PersonStatus.ACTIVE,
        )
        .exclude(person__phone="")
        .select_related("person", "procedure_type")
    )
    sent = 0
    for procedure in due:
        try:
            sent += _remind(procedure, now)
        except SmsError:
            # The claim is rolled back with the failed send: the next run tries again.
            logger.warning("Rappel de la démarche %s non envoyé : SMS refusé.", procedure.pk)
    return sent


def _remind(procedure: Procedure, now: datetime) -> int:
    with transaction.atomic():
        claimed = Procedure.objects.filter(pk=procedure.pk, reminder_sent_at__isnull=True).update(
            reminder_sent_at=now
        )
        if not claimed:
            return 0
        audit_record(
            action=AuditAction.PROCEDURE_REMINDER_SENT,
            by=SYSTEM,
            person_id=procedure.person_id,
            person_label=procedure.person.journal_label,
            category=DataCategory.PROCEDURES,
            object_type="demarche",
            object_id=procedure.pk,
            details={"demarche": procedure.procedure_type.slug, "canal": "sms"},
        )
        # Sent last, inside the transaction: a refused SMS undoes the claim and its journal
        # row, so that a provider outage delays the reminder instead of losing it.
        send_sms(to=procedure.person.phone, body=REMINDER_BODY)
    return 1


@task()
def open_next_occurrences() -> int:
    return recurring_open_due(today=timezone.localdate())


@task()
def send_due_reminders() -> int:
    return reminders_send_due(now=timezone.now())
