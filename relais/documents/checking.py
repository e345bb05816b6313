"""Whether every stored document version still has its encrypted file, whole and readable.

A database and a documents backup taken at different moments, or a bucket restored in
part, leave versions whose file is missing or damaged, and nobody learns it until a person
asks for their paper. Only the versions of documents not deleted are checked: they are the
ones a person or a professional can ask for. A deleted document's files wait for the purge,
which wipes their keys and then removes them; checking them would also keep reporting,
every night until the purge, a paper known to be lost and deleted for that reason.

The versions are read by primary key in batches, each its own short query: no cursor
held open for the hours a full read of a large store takes, constant memory whatever the
number of versions, and a run stopped half-way resumes from a version number.
"""

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from botocore.exceptions import ClientError

from relais.documents import vault
from relais.documents.models import DocumentVersion, DocumentVersionQuerySet
from relais.documents.services import version_chunks

BATCH_SIZE = 500


class Trouble(enum.StrEnum):
    MISSING = "fichier manquant"
    DAMAGED = "fichier endommagé"
    REFUSED = "fichier refusé par le stockage"
    UNREADABLE_KEY = "clé illisible"


@dataclass(frozen=True)
class Problem:
    """What is wrong with one version, named by numbers only: the report goes to cron
    mail and server logs, which must not learn whose papers they are."""

    version_id: int
    document_id: int
    person_id: int
    storage_name: str
    trouble: Trouble
    reason: str
    # A replaced version is read by nobody (the file, the personal space and the export
    # give the last one): losing it loses history, not a paper someone can ask for.
    replaced: bool


def _to_check() -> DocumentVersionQuerySet:
    return (
        DocumentVersion.objects.filter(purged_at__isnull=True, document__deleted_at__isnull=True)
        .select_related("document")
        .only("document__person", "number", "storage_name", "wrapped_key", "size", "sha256")
        .order_by("pk")
    )


def _trouble(version: DocumentVersion, *, full: bool) -> tuple[Trouble, str] | None:
    try:
        # Unwraps the data key at once, before any access to the storage (the file is
        # only opened when the chunks are read): a key that is no longer configured is
        # found even without --complet.
        chunks = version_chunks(version)
    except vault.BlobCorrupted as error:
        return Trouble.UNREADABLE_KEY, str(error)
    try:
        if not vault.blob_exists(version.storage_name):
            return Trouble.MISSING, "La pièce est introuvable dans le stockage."
        if full:
            try:
                for _ in chunks:
                    pass
            except vault.BlobCorrupted as error:
                return Trouble.DAMAGED, str(error)
    except ClientError as error:
        # An S3 storage that answers 403 for this object (moved to an archive storage
        # class, or out of the account's rights) refuses this one, not the others: the
        # check goes on, where stopping would stop every run resumed from it too. Any
        # other answer (throttled, unavailable) stops the check.
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 403:
            raise
        return Trouble.REFUSED, str(error.response.get("Error", {}).get("Code", "403"))
    return None


@dataclass
class Verification:
    """One pass over the versions from `since`; the counts grow as `problems()` is
    iterated, so that a run interrupted by a storage failure still says how far it went."""

    full: bool = False
    since: int = 1
    checked: int = 0
    missing: int = 0
    damaged: int = 0
    refused: int = 0
    unreadable_keys: int = 0
    resume_from: int = 0

    def __post_init__(self) -> None:
        self.resume_from = self.since

    @property
    def problem_count(self) -> int:
        return self.missing + self.damaged + self.refused + self.unreadable_keys

    def problems(self) -> Iterator[Problem]:
        """Check each version to check, by increasing number, and yield those in trouble.
        With `full`, each file is read through the decrypting stream, which checks every
        chunk, the size and the SHA-256 of the plaintext; otherwise only that it exists."""
        after = self.since - 1
        while True:
            batch = list(_to_check().filter(pk__gt=after)[:BATCH_SIZE])
            for version in batch:
                problem = self._confirmed(version)
                self.checked += 1
                self.resume_from = version.pk + 1
                if problem is not None:
                    yield problem
            if len(batch) < BATCH_SIZE:
                return
            after = batch[-1].pk

    def _confirmed(self, version: DocumentVersion) -> Problem | None:
        found = _trouble(version, full=self.full)
        if found is None:
            return None
        # The document may have been deleted, the nightly purge removed its file, or a key
        # rotation rewrapped its key since the batch was read: only a trouble the current
        # row still has is reported.
        current = _to_check().filter(pk=version.pk).first()
        found = _trouble(current, full=self.full) if current is not None else None
        if found is None:
            return None
        trouble, reason = found
        if trouble is Trouble.MISSING:
            self.missing += 1
        elif trouble is Trouble.DAMAGED:
            self.damaged += 1
        elif trouble is Trouble.REFUSED:
            self.refused += 1
        else:
            self.unreadable_keys += 1
        return Problem(
            version_id=version.pk,
            document_id=version.document_id,
            person_id=version.document.person_id,
            storage_name=version.storage_name,
            trouble=trouble,
            reason=reason,
            replaced=_to_check()
            .filter(document_id=version.document_id, number__gt=version.number)
            .exists(),
        )
