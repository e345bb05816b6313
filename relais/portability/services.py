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
server.
"""

import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
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


@dataclass(frozen=True)
class PreparedExport:
    """What the ZIP will hold: its papers read and checked, and journaled, before its
    first byte is sent; the rest of the file read as it is written (see ExportedFile)."""

    file: ExportedFile
    files: list[ExportedDocument]
    language: str
    nir_unreadable: bool

    @property
    def filename(self) -> str:
        return f"relais-export-{timezone.localdate():%Y-%m-%d}.zip"

    def chunks(self) -> Iterator[bytes]:
        """The papers first, then the data and the summary: a paper that cannot be read
        while it is sent is left out of both, a note in its place, and the ZIP ends whole."""
        pipe = _Pipe()
        unsent: set[int] = set()
        written_at = self.file.exported_at
        with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for exported in self.files:
                try:
                    yield from _document_member(archive, pipe, exported)
                except _READ_FAILURES:
                    unsent.add(exported.document.pk)
                    archive.writestr(missing_path(exported.document), self._note(exported))
                    yield pipe.drain()
            data = json_text(self.file.members(unsent=unsent))
            yield from _text_member(archive, pipe, JSON_NAME, data, written_at)
            summary = summary_html(
                dict(self.file.members(unsent=unsent)),
                history=self.file.history,
                nir_unreadable=self.nir_unreadable,
                language=self.language,
            )
            yield from _text_member(archive, pipe, SUMMARY_NAME, summary, written_at)
        yield pipe.drain()

    def _note(self, exported: ExportedDocument) -> str:
        with translation.override(self.language):
            return missing_note(exported.document)


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


def _readable_versions(person: Person) -> list[tuple[Document, DocumentVersion | None, str | None]]:
    """Each document with its current version and ZIP path; a version whose blob fails its
    check or cannot be read is listed without a file, so one damaged blob never spoils the
    whole export."""
    rows: list[tuple[Document, DocumentVersion | None, str | None]] = []
    for document, version in current_versions(person):
        if version is None:
            rows.append((document, None, None))
            continue
        try:
            version_verify(version)
        except _READ_FAILURES:
            rows.append((document, version, None))
        else:
            rows.append((document, version, document_path(document, version)))
    return rows


def export_prepare(person: Person, *, by: Actor) -> PreparedExport:
    """Check every document, decrypt the number, and journal the export.

    The row is written here, before the first byte leaves, and not once the stream has
    ended: the papers go first, decrypted, so a download cut half-way has already
    disclosed some of the file, and a journal that cannot be written must stop the
    export rather than let it leave unrecorded. The row therefore says that the file
    was sent, not that the person's browser received it whole.

    The papers are read before the transaction, which on SQLite holds the only write
    lock (checking them reads every one), and the rest of the file after it, as it is
    written (see ExportedFile). A merge saved in between moves the duplicate's papers,
    procedures and notes into this file: the export then gives its procedures and notes
    but not its papers, which their checklist lines do not name, as for a paper deleted.
    The JSON never names a paper the ZIP does not hold."""
    exported_at = timezone.now()
    documents = _readable_versions(person)
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
        # Its own row, which bounds the history the export gives.
        exported = audit_record(
            action=AuditAction.PERSON_DATA_EXPORTED,
            by=by,
            person_id=person.pk,
            person_label=person.journal_label,
            object_type="export",
            details={
                "format_version": FORMAT_VERSION,
                "pieces": sum(1 for _, _, path in documents if path),
            },
        )
        history = file_history(person, up_to=exported)
    files = [
        ExportedDocument(document=document, version=version, path=path)
        for document, version, path in documents
        if version is not None and path is not None
    ]
    return PreparedExport(
        file=ExportedFile(
            person=person,
            identity=file_identity(person, nir=nir),
            documents=documents,
            exported_at=exported_at,
            history=history,
        ),
        files=files,
        language=translation.get_language() or "fr",
        nir_unreadable=nir_unreadable,
    )
