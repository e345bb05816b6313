"""The audit journal: append-only, hash-chained.

Rows name the actor, the organisation and the person by id *and* label, never by foreign
key: deactivating an account or anonymising a person must never rewrite the journal.
"""

from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, NoReturn

from django.db import connection, models

from relais.audit.actions import AuditAction
from relais.prepared import columns, records

ACCESS_HISTORY_ACTIONS = [
    AuditAction.SECTION_VIEWED,
    AuditAction.SECTION_UPDATED,
    AuditAction.NIR_REVEALED,
    AuditAction.BREAK_GLASS_OPENED,
    AuditAction.PERSON_CREATED,
    AuditAction.NOTE_ADDED,
    AuditAction.CONSENT_GRANTED,
    AuditAction.CONSENT_REVOKED,
    AuditAction.BLOCK_ADDED,
    AuditAction.BLOCK_LIFTED,
    AuditAction.BREAK_GLASS_PREFERENCE,
    AuditAction.DOCUMENT_DOWNLOADED,
    AuditAction.DOCUMENT_SHOWN,
    AuditAction.DOCUMENT_UPLOADED,
    AuditAction.DOCUMENT_REPLACED,
    AuditAction.DOCUMENT_UPDATED,
    AuditAction.DOCUMENT_DELETED,
    AuditAction.PROCEDURE_OPENED,
    AuditAction.PROCEDURE_TRANSITION,
    AuditAction.PROCEDURE_UPDATED,
    AuditAction.PROCEDURE_DOCUMENT_LINKED,
    AuditAction.PROCEDURE_DOCUMENT_UNLINKED,
    AuditAction.PROCEDURE_STEP_RECORDED,
    AuditAction.REFERENT_ADDED,
    AuditAction.REFERENT_REMOVED,
    AuditAction.PERSONS_MERGED,
    AuditAction.DUPLICATE_SIGNALLED,
    # Who opened, reopened, closed the person's space or changed how it is reached: the
    # person must be able to see a change made at the office without them.
    AuditAction.PERSON_ACCOUNT_OPENED,
    AuditAction.PERSON_ACCOUNT_UPDATED,
    AuditAction.PERSON_ACCOUNT_RECOVERED,
    AuditAction.PERSON_ACCOUNT_CLOSED,
    AuditAction.PERSON_CARD_PRINTED,
]


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a journal row."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Le journal d'audit ne peut pas être modifié.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Le journal d'audit ne peut pas être effacé.")

    def for_person(self, person_id: int) -> "AuditEventQuerySet":
        return self.filter(person_id=person_id)

    def for_file(self, person: models.Model) -> "AuditEventQuerySet":
        """The rows about a person's file and about every file merged into it, however
        long ago: rows are never rewritten, so those of a merged duplicate keep its
        number. `person` is a Person, whose own manager walks its `merged_into` links,
        one query per level of merges: the journal imports no domain."""
        files = type(person)._default_manager
        ids, merged = [person.pk], [person.pk]
        while merged:
            merged = list(files.filter(merged_into__in=merged).values_list("pk", flat=True))
            ids += merged
        return self.filter(person_id__in=ids)

    def newest_first(self) -> "AuditEventQuerySet":
        return self.order_by("-seq")

    def page_before(self, before: int | None, size: int) -> "Page":
        """`size` rows, newest first, older than row `before` (from the newest without it),
        and the number to ask for the next, older page (None at the end)."""
        rows = self.filter(seq__lt=before) if before else self
        found = list(rows.newest_first()[: size + 1])
        older = found[size - 1].seq if len(found) > size else None
        return Page(found[:size], older)

    def recent_reads(self, person: models.Model, limit: int = 5) -> list["RecentRead"]:
        """The last reads of a file and of every file merged into it, as `for_file` reads
        its history, for its front page: one prepared statement, as that page is the most
        served one, and plain records rather than journal rows. `person` is a Person, as
        for `for_file`."""
        read, person_id = AuditAction.SECTION_VIEWED.value, person.pk
        return records(
            self.model,
            RecentRead,
            _recent_reads_sql(type(person)),
            [person_id, read, limit, person_id, read, limit, limit],
            only=RecentRead._fields,
        )

    def access_history(self) -> "AuditEventQuerySet":
        """What the person has the right to know about their file: who read it, changed
        it, opened it by break-glass, changed who may see it, or changed their space."""
        return self.filter(action__in=ACCESS_HISTORY_ACTIONS)


class Page(NamedTuple):
    """Some rows of the journal, and where the older ones start."""

    events: list["AuditEvent"]
    older: int | None


class RecentRead(NamedTuple):
    """One read of a file, as its front page lists it."""

    seq: int
    created_at: datetime
    actor_label: str
    organisation_label: str
    reason: str


@cache
def _recent_reads_sql(files: type[models.Model]) -> str:
    """The file's own reads, then those of the files merged into it, each read newest
    first and cut at the limit, so that neither reads more rows than it gives: a file's own
    reads through the (person, seq) index and no sort. Merged files, walked through their
    `merged_into` links however deep, are read by that index too (the concatenation keeps
    the planner from walking the whole journal down the (action, seq) index instead); their
    reads stopped at the merge."""
    quote = connection.ops.quote_name
    selected = columns(AuditEvent, "a", RecentRead._fields)
    journal = quote(AuditEvent._meta.db_table)
    (link,) = (quote(f.column) for f in files._meta.concrete_fields if f.name == "merged_into")
    table = quote(files._meta.db_table)
    return (
        f"SELECT * FROM (SELECT {selected} FROM {journal} a"  # noqa: S608 (identifiers only)
        " WHERE a.person_id = %s AND a.action = %s ORDER BY a.seq DESC LIMIT %s) own"
        " UNION ALL SELECT * FROM ("
        f"WITH RECURSIVE merged(id) AS (SELECT id FROM {table} WHERE {link} = %s"
        f" UNION SELECT p.id FROM {table} p JOIN merged m ON p.{link} = m.id)"
        f" SELECT {selected} FROM {journal} a WHERE a.person_id IN (SELECT id FROM merged)"
        " AND (a.action || '') = %s ORDER BY a.seq DESC LIMIT %s) absorbed"
        " ORDER BY 1 DESC LIMIT %s"
    )


class AuditEvent(models.Model):
    # The position in the chain is the primary key: it is known before the insert, so the
    # row's hash can cover it, and a gap betrays a deleted row.
    seq = models.BigIntegerField("n°", primary_key=True)
    created_at = models.DateTimeField("date")
    action = models.CharField("action", max_length=40, choices=AuditAction.choices)
    actor_id = models.BigIntegerField("id de l'auteur", null=True, blank=True)
    actor_label = models.CharField("auteur", max_length=200, blank=True)
    organisation_id = models.BigIntegerField("id de la structure", null=True, blank=True)
    organisation_label = models.CharField("structure", max_length=200, blank=True)
    person_id = models.BigIntegerField("id de la personne", null=True, blank=True)
    person_label = models.CharField("personne", max_length=200, blank=True)
    category = models.CharField("catégorie de données", max_length=40, blank=True)
    object_type = models.CharField("type d'objet", max_length=60, blank=True)
    object_id = models.CharField("id d'objet", max_length=64, blank=True)
    reason = models.TextField("motif", blank=True)
    ip_address = models.CharField("adresse IP", max_length=45, blank=True)
    details = models.JSONField("détails", default=dict, blank=True)
    prev_hash = models.CharField("empreinte précédente", max_length=64)
    hash = models.CharField("empreinte", max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "événement d'audit"
        verbose_name_plural = "journal d'audit"
        indexes = [
            models.Index(fields=["organisation_id", "seq"], name="audit_org_seq"),
            models.Index(fields=["person_id", "seq"], name="audit_person_seq"),
            models.Index(fields=["actor_id", "seq"], name="audit_actor_seq"),
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_action_display()} — {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Le journal d'audit ne peut pas être modifié.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Le journal d'audit ne peut pas être effacé.")
