"""Data portability: the person downloads the whole of their file as one ZIP.

The ZIP holds:
- `relais-export.json`: the file as data, described by the JSON Schema
  `schema/relais-export-1.schema.json` (its `format_version` names the schema);
- `documents/<id>-<kind>.<ext>`: the current version of each document, decrypted (the
  earlier versions of a replaced document stay in Relais, out of the export);
- `documents/<id>-<kind>-indisponible.txt`, in place of a document whose blob could not
  be read while the ZIP was sent: a short note that says so;
- `resume.html`: a summary to read in any browser, with no external resource.

The ZIP is produced as a stream: documents go through in the vault's 64 KiB chunks and
leave as soon as they are compressed; the JSON and the summary are written as their rows
are read, a few hundred at a time. Memory stays flat whatever the size of a paper or the
length of the file's history, and no decrypted byte is ever written to a disk of the
server. The whole file is read in one read-only transaction, from the first paper to the
last row of the summary: the archive is the file at one moment (see _one_snapshot).
"""

import io
import itertools
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from botocore.exceptions import BotoCoreError, ClientError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.utils import timezone, translation

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from relais.crypto import DecryptionError
from relais.documents import vault
from relais.documents.models import Document, DocumentVersion
from relais.documents.services import version_chunks, version_verify
from relais.persons.models import Person
from relais.persons.services import nir_reveal
from relais.portability.readable import missing_note, summary_html
from relais.portability.snapshot import (
    FORMAT_VERSION,
    JSON_NAME,
    SUMMARY_NAME,
    ExportedDocument,
    ExportedFile,
    current_versions,
    document_path,
    file_history,
    file_identity,
    json_text,
    missing_path,
)

# What reading a paper may raise besides a damaged blob: the disk's errors, and those of an
# S3 storage, whose refusals and broken response streams are no OSError. Any of them
# leaves that paper out, never the rest of the export.
_READ_FAILURES = (vault.BlobCorrupted, OSError, BotoCoreError, ClientError)


class _Pipe(io.RawIOBase):
    """A write-only stream that cannot seek: zipfile then writes each member's sizes
    after its data (data descriptors) and never goes back, so what it wrote can leave at
    once. `drain()` hands over what was written since the last call."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _zip_time(moment: Any) -> tuple[int, int, int, int, int, int]:
    local = timezone.localtime(moment)
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)


class _OpensTransactions(Protocol):
    # How Django's SQLite connection begins a transaction (BEGIN <mode>); its stubs omit it.
    transaction_mode: str | None


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """One read-only transaction around the whole reading of an export: every section, the
    papers' rows and the history as the file stood at one moment, however long the download.
    A change saved meanwhile, with its journal row, is in none of them.

    On PostgreSQL, REPEATABLE READ gives the transaction one snapshot, taken at its first
    read. On SQLite, whose transactions Relais opens IMMEDIATE (see the settings), this one
    is DEFERRED: a read transaction takes no write lock, and the write-ahead log gives it
    one snapshot from its first read; the log cannot be checkpointed past it meanwhile."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    if wrapper.in_atomic_block:
        # Inside a transaction already (a test's): its own snapshot is the one read.
        yield
    elif isinstance(wrapper, SQLiteWrapper):
        sqlite = cast(_OpensTransactions, wrapper)
        mode = sqlite.transaction_mode
        sqlite.transaction_mode = "DEFERRED"
        try:
            with transaction.atomic():
                sqlite.transaction_mode = mode
                yield
        finally:
            sqlite.transaction_mode = mode
    else:
        with transaction.atomic():
            with wrapper.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield


@dataclass(frozen=True)
class PreparedExport:
    """An export journaled, the number decrypted, the papers checked: the file itself is
    read as the ZIP is written, in one snapshot (see chunks)."""

    person: Person
    nir: str
    nir_unreadable: bool
    # Whether each paper's current version could be read, by version, when it was checked.
    checked: dict[int, bool]
    exported_at: datetime
    language: str

    @property
    def filename(self) -> str:
        return f"relais-export-{timezone.localdate():%Y-%m-%d}.zip"

    def chunks(self) -> Iterator[bytes]:
        """The papers first, then the data and the summary, all read in one snapshot: a
        paper that cannot be read while it is sent is left out of both, a note in its
        place, and the ZIP ends whole."""
        with _one_snapshot():
            yield from self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        # The person as the snapshot sees them, with their account.
        person = Person.objects.get(pk=self.person.pk)
        documents = _readable_versions(person, self.checked)
        file = ExportedFile(
            person=person,
            identity=file_identity(person, nir=self.nir),
            documents=documents,
            exported_at=self.exported_at,
            history=file_history(person),
        )
        pipe = _Pipe()
        unsent: set[int] = set()
        with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for document, version, path in documents:
                if version is None or path is None:
                    continue
                exported = ExportedDocument(document=document, version=version, path=path)
                try:
                    yield from _document_member(archive, pipe, exported)
                except _READ_FAILURES:
                    unsent.add(document.pk)
                    archive.writestr(missing_path(document), self._note(document))
                    yield pipe.drain()
            data = json_text(file.members(unsent=unsent))
            yield from _text_member(archive, pipe, JSON_NAME, data, self.exported_at)
            summary = summary_html(
                dict(file.members(unsent=unsent)),
                history=file.history,
                nir_unreadable=self.nir_unreadable,
                language=self.language,
            )
            yield from _text_member(archive, pipe, SUMMARY_NAME, summary, self.exported_at)
        yield pipe.drain()

    def _note(self, document: Document) -> str:
        with translation.override(self.language):
            return missing_note(document)


def _document_member(
    archive: zipfile.ZipFile, pipe: _Pipe, exported: ExportedDocument
) -> Iterator[bytes]:
    version = exported.version
    chunks = version_chunks(version)
    # Read before the entry begins: a blob gone from the storage leaves no trace in the ZIP.
    first = next(chunks, b"")
    member = zipfile.ZipInfo(exported.path, date_time=_zip_time(version.uploaded_at))
    member.compress_type = zipfile.ZIP_DEFLATED
    large = version.size >= zipfile.ZIP64_LIMIT
    try:
        with archive.open(member, "w", force_zip64=large) as target:
            for chunk in itertools.chain([first], chunks):
                target.write(chunk)
                if written := pipe.drain():
                    yield written
    except _READ_FAILURES:
        # Its first bytes are already sent; out of the ZIP's directory, no reader sees a
        # paper cut short.
        archive.filelist.remove(member)
        del archive.NameToInfo[member.filename]
        raise
    if written := pipe.drain():
        yield written


def _text_member(
    archive: zipfile.ZipFile, pipe: _Pipe, name: str, pieces: Iterator[str], moment: datetime
) -> Iterator[bytes]:
    """A text written into the ZIP as its pieces come."""
    member = zipfile.ZipInfo(name, date_time=_zip_time(moment))
    member.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(member, "w") as target:
        for text in _joined(pieces, vault.CHUNK_SIZE):
            target.write(text.encode())
            if written := pipe.drain():
                yield written
    if written := pipe.drain():
        yield written


def _joined(pieces: Iterator[str], size: int) -> Iterator[str]:
    """The pieces in texts of `size` characters or more (the last one shorter): a row
    at a time would cost a compression call each."""
    waiting: list[str] = []
    length = 0
    for piece in pieces:
        waiting.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(waiting)
            waiting.clear()
            length = 0
    yield "".join(waiting)


def _readable(version: DocumentVersion) -> bool:
    """Whether a version's blob passes its check and can be read: one damaged blob never
    spoils the whole export."""
    try:
        version_verify(version)
    except _READ_FAILURES:
        return False
    return True


def _checked_versions(person: Person) -> dict[int, bool]:
    return {
        version.pk: _readable(version)
        for _, version in current_versions(person)
        if version is not None
    }


def _readable_versions(
    person: Person, checked: dict[int, bool]
) -> list[tuple[Document, DocumentVersion | None, str | None]]:
    """Each document with its current version and ZIP path, None for a version that cannot
    be read. A version not `checked` yet (a paper added or replaced since) is checked now."""
    rows: list[tuple[Document, DocumentVersion | None, str | None]] = []
    for document, version in current_versions(person):
        if version is None:
            rows.append((document, None, None))
            continue
        readable = checked[version.pk] if version.pk in checked else _readable(version)
        rows.append((document, version, document_path(document, version) if readable else None))
    return rows


def export_prepare(person: Person, *, by: Actor) -> PreparedExport:
    """Check every paper, decrypt the number, and journal the export, in a transaction of
    its own committed before the first byte leaves.

    The row is written here, and not once the stream has ended: the papers go first,
    decrypted, so a download cut half-way has already disclosed some of the file, and a
    journal that cannot be written must stop the export rather than let it leave
    unrecorded. The row therefore says that the file was sent, not that the person's
    browser received it whole. It counts the papers checked here; the file is then read
    in one snapshot taken a moment later (see PreparedExport.chunks), which a paper added
    in between joins, checked then.

    The papers are checked before the transaction, which on SQLite holds the only write
    lock (checking them reads every one)."""
    exported_at = timezone.now()
    checked = _checked_versions(person)
    with transaction.atomic():
        # The person's own number, decrypted for them: the journal keeps that it was. A
        # number that can no longer be decrypted is left out, never the rest of the file.
        try:
            nir = nir_reveal(person=person, by=by, details={"export": True})
        except DecryptionError:
            nir = ""
            nir_unreadable = True
        else:
            nir_unreadable = False
        audit_record(
            action=AuditAction.PERSON_DATA_EXPORTED,
            by=by,
            person_id=person.pk,
            person_label=person.journal_label,
            object_type="export",
            details={"format_version": FORMAT_VERSION, "pieces": sum(checked.values())},
        )
    return PreparedExport(
        person=person,
        nir=nir,
        nir_unreadable=nir_unreadable,
        checked=checked,
        exported_at=exported_at,
        language=translation.get_language() or "fr",
    )
