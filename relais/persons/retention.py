"""Retention of the files, enforced by a daily task (`apply_retention`), not by a promise.

The CNIL's reference on retention periods in social and medico-social work (délibération
n° 2023-095) keeps an accompaniment's data in the active base for two years after the last
contact with the person; then, closed, in a restricted intermediate archive for as long as
it may be needed as evidence (the common limitation period, five years, article 2224 of
the Code civil); then it is destroyed or anonymised.

- Active → archived: no contact for RELAIS_RETENTION_ACTIVE_DAYS. The file leaves every
  professional's reach (the access rule only opens active files) and the person's space
  is closed.
- Archived → anonymised: RELAIS_RETENTION_ARCHIVE_DAYS after the archiving. What names or
  describes the person is erased (identity, household, resources, situation, notes,
  documents, free texts); what the evaluation counts is kept without a name (sex, year of
  birth, procedures with their dates, steps and autonomy).

A file merged into another is archived at the merge and follows the same path.

The journal's rows are erased after RELAIS_RETENTION_JOURNAL_DAYS (one year, the CNIL's
advice for access logs), the chain anchored on the first row kept (relais/audit/trimming.py).

The task queue's finished tasks are erased after RELAIS_RETENTION_TASKS_DAYS (a week), and
so are those a stopped worker left running that long: a login code's task names the account
and the visitor's IP address, a failed task keeps its traceback.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM, Actor
from relais.audit.trimming import journal_trim
from relais.consent.models import BreakGlassGrant, Consent
from relais.documents.models import DocumentVersion
from relais.documents.services import person_documents_shred
from relais.persons.models import (
    Employment,
    HealthRecord,
    HouseholdMember,
    Housing,
    MonthlyResource,
    Note,
    Person,
    PersonStatus,
    Referent,
    SocialCoverage,
)
from relais.persons.services import record_on_file
from relais.portal.models import PersonAccount
from relais.portal.services import person_account_close
from relais.procedures.models import Autonomy, Procedure, ProcedureStep, ProcedureTransition

logger = logging.getLogger(__name__)

# Sections that exist only to describe the person: deleted whole at anonymisation.
_DESCRIBING = (
    MonthlyResource,
    HouseholdMember,
    Housing,
    Employment,
    SocialCoverage,
    HealthRecord,
    Note,
    Referent,
)

# A step done for the person must say why (a database constraint): its reason, which may
# name or describe them, gives way to this.
_REASON_ERASED = "Motif effacé à l'anonymisation du dossier."


@dataclass(frozen=True)
class RetentionRun:
    archived: int
    anonymised: int
    journal_rows_erased: int
    task_results_erased: int
    # The files whose archiving or anonymisation failed, left as they were for the next run.
    failed: tuple[int, ...] = ()


def archive_limit(now: datetime) -> datetime:
    return now - settings.RELAIS_RETENTION_ACTIVE


def anonymise_limit(now: datetime) -> datetime:
    return now - settings.RELAIS_RETENTION_ARCHIVE


def person_archive(*, person_id: int, now: datetime, by: Actor = SYSTEM) -> bool:
    """Archive the file if it is still active and still without contact since the limit
    (a professional may have worked on it since it was selected): False otherwise."""
    with transaction.atomic():
        archived = (
            Person.objects.active()
            .filter(pk=person_id, last_contact_at__lt=archive_limit(now))
            .update(status=PersonStatus.ARCHIVED, archived_at=now)
        )
        if not archived:
            return False
        person = Person.objects.get(pk=person_id)
        account = PersonAccount.objects.active().filter(person_id=person_id).first()
        if account is not None:
            person_account_close(account=account, by=by, reason="Dossier archivé.")
        record_on_file(
            AuditAction.PERSON_ARCHIVED,
            person=person,
            by=by,
            details={"dernier_contact": timezone.localdate(person.last_contact_at).isoformat()},
        )
    return True


def person_anonymise(*, person_id: int, now: datetime, by: Actor = SYSTEM) -> bool:
    """Anonymise the file if it is archived since the limit: False otherwise."""
    with transaction.atomic():
        person = (
            Person.objects.select_for_update()
            .filter(
                pk=person_id,
                status=PersonStatus.ARCHIVED,
                archived_at__lt=anonymise_limit(now),
            )
            .first()
        )
        if person is None:
            return False
        for model in _DESCRIBING:
            model.objects.filter(person_id=person_id).delete()  # type: ignore[attr-defined]
        _erase_identity(person)
        Consent.objects.filter(person_id=person_id).update(purpose="")
        BreakGlassGrant.objects.filter(person_id=person_id).update(reason="")
        procedures = Procedure.objects.filter(person_id=person_id)
        procedures.update(refusal_reason="")
        ProcedureTransition.objects.filter(procedure__in=procedures).update(comment="")
        ProcedureStep.objects.filter(procedure__in=procedures).update(
            reason=Case(
                When(autonomy=Autonomy.FOR_PERSON, then=Value(_REASON_ERASED)), default=Value("")
            )
        )
        person_documents_shred(person_id=person_id, by=by)
        # A document's fingerprint would find the file again for whoever holds a copy.
        DocumentVersion.objects.filter(document__person_id=person_id).update(sha256="")
        PersonAccount.objects.filter(person_id=person_id).delete()
        record_on_file(AuditAction.PERSON_ANONYMISED, person=person, by=by)
    return True


def _erase_identity(person: Person) -> None:
    kept_birth_date = date(person.birth_date.year, 1, 1)
    for field in (
        "first_names",
        "birth_name",
        "usage_name",
        "birth_place",
        "nationality",
        "phone",
        "email",
        "address_line",
        "postal_code",
        "commune_code",
        "commune_name",
        "domiciliation",
        "nir_digest",
        "caf_number",
        "france_travail_id",
        "birth_name_key",
        "usage_name_key",
        "first_names_key",
    ):
        setattr(person, field, "")
    person.nir_encrypted = None
    person.birth_date = kept_birth_date
    person.status = PersonStatus.ANONYMISED
    person.save()


def task_results_prune(*, before: datetime) -> int:
    """Erase the queue's tasks finished, successfully or not, before `before`, as
    django-tasks-db's `prune_db_task_results` does, and those still marked running since
    before it: no task of Relais runs for days, and django-tasks-db leaves running for
    ever the task of a worker that was killed. Those waiting are kept. Returns how many
    were erased."""
    finished = DBTaskResult.objects.finished().filter(finished_at__lt=before)
    abandoned = DBTaskResult.objects.running().filter(started_at__lt=before)
    erased, _ = (finished | abandoned).delete()
    return erased


def retention_apply(*, now: datetime | None = None) -> RetentionRun:
    """Archive what is due, then anonymise what is due, each file in its own transaction,
    then erase the journal's rows and the queue's finished tasks that are due. A file that
    fails is left as it was and named in the run, and the others go on: one file in error
    must not keep every other one, nor the journal, beyond its retention. Running it again
    does nothing more, but retry the files that failed."""
    now = now or timezone.now()
    to_archive = Person.objects.active().filter(last_contact_at__lt=archive_limit(now))
    archived, failed_to_archive = _each(
        person_archive, to_archive.values_list("pk", flat=True), now=now
    )
    to_anonymise = Person.objects.filter(
        status=PersonStatus.ARCHIVED, archived_at__lt=anonymise_limit(now)
    )
    anonymised, failed_to_anonymise = _each(
        person_anonymise, to_anonymise.values_list("pk", flat=True), now=now
    )
    trim = journal_trim(before=now - settings.RELAIS_RETENTION_JOURNAL)
    return RetentionRun(
        archived=archived,
        anonymised=anonymised,
        journal_rows_erased=trim.removed,
        task_results_erased=task_results_prune(before=now - settings.RELAIS_RETENTION_TASKS),
        failed=(*failed_to_archive, *failed_to_anonymise),
    )


def _each(
    step: Callable[..., bool], person_ids: Iterable[int], *, now: datetime
) -> tuple[int, list[int]]:
    """Apply `step` to each file in turn; how many it changed, and the files it failed on.
    The log names the file by its number and the error by its type only: a database's
    message may quote the row, personal data included."""
    done, failed = 0, []
    for person_id in person_ids:
        try:
            done += step(person_id=person_id, now=now)
        except Exception as error:
            logger.warning(
                "Dossier n° %s non traité par la conservation (%s) : la prochaine exécution "
                "réessaiera.",
                person_id,
                type(error).__name__,
            )
            failed.append(person_id)
    return done, failed
