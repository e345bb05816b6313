"""Writes on a person's supporting documents. Blobs are written before the transaction
and removed again if it fails: no orphan blob, no half-made document."""

import calendar
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from relais import crypto
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.documents import antivirus, vault
from relais.documents.models import (
    DEFAULT_VALIDITY_MONTHS,
    Document,
    DocumentKind,
    DocumentVersion,
    DocumentVersionQuerySet,
    ScanStatus,
    category_of,
)
from relais.documents.validation import (
    CleanFile,
    FileSpaceFull,
    JustUploaded,
    UploadRefused,
    check_photos,
    clean_upload,
    photos_to_pdf,
)
from relais.persons.categories import DataCategory
from relais.persons.models import Person
from relais.persons.services import Rotation, record_on_file, rotation_record
from relais.procedures.models import RequiredDocument

logger = logging.getLogger(__name__)

# Why an upload or a replacement may be refused; str() of each is a clear French message
# for the person who sent the file.
REFUSALS = (UploadRefused, antivirus.VirusFound, antivirus.AntivirusUnavailable)
# The same file of the same kind sent again within this time is taken for a double click.
RESEND_GUARD = timedelta(minutes=5)


def default_expiry(kind: str, issued_on: date | None) -> date | None:
    months = DEFAULT_VALIDITY_MONTHS.get(kind)
    if months is None or issued_on is None:
        return None
    index = issued_on.month - 1 + months
    year, month = issued_on.year + index // 12, index % 12 + 1
    return issued_on.replace(
        year=year, month=month, day=min(issued_on.day, calendar.monthrange(year, month)[1])
    )


def _prepare(files: list[UploadedFile]) -> CleanFile:
    if not files:
        raise UploadRefused("Choisissez un fichier, ou prenez la pièce en photo.")
    max_bytes = settings.RELAIS_DOCUMENT_MAX_BYTES
    if len(files) > 1:
        check_photos(files, max_bytes=max_bytes)
    cleaned = [clean_upload(file, max_bytes=max_bytes) for file in files]
    content = cleaned[0] if len(cleaned) == 1 else photos_to_pdf(cleaned, max_bytes=max_bytes)
    antivirus.scan(content.content)
    return content


def _check_quota(person: Person, extra: int) -> None:
    used = (
        DocumentVersion.objects.filter(
            document__person=person, document__deleted_at__isnull=True, purged_at__isnull=True
        ).aggregate(total=Sum("size"))["total"]
        or 0
    )
    if used + extra > settings.RELAIS_DOCUMENT_QUOTA_BYTES:
        quota = settings.RELAIS_DOCUMENT_QUOTA_BYTES // (1024 * 1024)
        raise FileSpaceFull(
            f"L'espace de ce dossier est plein ({quota} Mo) : supprimez d'anciennes pièces "
            "avant d'en ajouter."
        )


@contextmanager
def _stored(content: CleanFile) -> Iterator[vault.StoredBlob]:
    """Write the blob, then run the caller's transaction; if that fails, the blob goes:
    no orphan blob, no half-made document."""
    blob = vault.blob_write(
        content.content[i : i + vault.CHUNK_SIZE]
        for i in range(0, len(content.content), vault.CHUNK_SIZE)
    )
    try:
        with transaction.atomic():
            yield blob
    except BaseException:
        vault.blob_delete(blob.name)
        raise


def _version(
    document: Document,
    number: int,
    content: CleanFile,
    blob: vault.StoredBlob,
    *,
    uploaded_by_id: int | None,
    by: Actor,
) -> DocumentVersion:
    """The new current version, with the document's dates."""
    return DocumentVersion.objects.create(
        document=document,
        number=number,
        storage_name=blob.name,
        size=blob.size,
        sha256=blob.sha256,
        content_type=content.content_type,
        extension=content.extension,
        wrapped_key=blob.wrapped_key,
        scan_status=ScanStatus.CLEAN if settings.RELAIS_CLAMD_SOCKET else ScanStatus.NOT_SCANNED,
        issued_on=document.issued_on,
        expires_on=document.expires_on,
        uploaded_by_id=uploaded_by_id,
        organisation_id=by.organisation_id,
    )


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dates_changed(
    document: Document, issued_on: date | None, expires_on: date | None
) -> dict[str, str | None]:
    """The journal's record of the dates that change, each before and after."""
    changed: dict[str, str | None] = {}
    for field, new in (("issued_on", issued_on), ("expires_on", expires_on)):
        old = getattr(document, field)
        if old != new:
            changed[f"{field}_avant"], changed[field] = _day(old), _day(new)
    return changed


def document_upload(
    *,
    person: Person,
    kind: str,
    title: str,
    issued_on: date | None,
    expires_on: date | None,
    files: list[UploadedFile],
    uploaded_by_id: int | None,
    by: Actor,
) -> Document:
    document = Document(
        person=person,
        kind=kind,
        title=title.strip(),
        issued_on=issued_on,
        expires_on=expires_on or default_expiry(kind, issued_on),
    )
    document.full_clean()
    content = _prepare(files)
    _check_quota(person, len(content.content))
    with _stored(content) as blob:
        # The person's row is locked so that of two sends of the form at once, the second
        # waits for the first to commit, then finds the document it added, and counts it
        # against the space left.
        list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk"))
        _check_quota(person, len(content.content))
        if (
            Document.objects.present()
            .filter(
                person_id=person.pk,
                kind=kind,
                created_at__gte=timezone.now() - RESEND_GUARD,
                versions__sha256=blob.sha256,
            )
            .exists()
        ):
            raise JustUploaded(
                "Cette pièce vient d'être enregistrée : elle est déjà dans la liste des pièces "
                "du dossier."
            )
        document.save()
        version = _version(document, 1, content, blob, uploaded_by_id=uploaded_by_id, by=by)
        record_on_file(
            AuditAction.DOCUMENT_UPLOADED,
            person=person,
            by=by,
            category=category_of(kind),
            object_type="piece",
            object_id=document.pk,
            details={"type": kind, "taille": version.size, "format": version.extension},
        )
    return document


def document_replace(
    *,
    document: Document,
    files: list[UploadedFile],
    issued_on: date | None,
    expires_on: date | None,
    uploaded_by_id: int | None,
    by: Actor,
) -> DocumentVersion:
    """A new version, with the dates of the new paper, which become the document's (the
    usual validity proposed as at an upload); the previous ones stay in the history."""
    if document.deleted_at is not None:
        raise ValidationError("Cette pièce a été supprimée.")
    expires_on = expires_on or default_expiry(document.kind, issued_on)
    _check_dates(issued_on, expires_on)
    content = _prepare(files)
    _check_quota(document.person, len(content.content))
    with _stored(content) as blob:
        list(Person.objects.select_for_update().filter(pk=document.person_id).values_list("pk"))
        _check_quota(document.person, len(content.content))
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.deleted_at is not None:
            raise UploadRefused("Cette pièce a été supprimée entre-temps.")
        changed = _dates_changed(locked, issued_on, expires_on)
        locked.issued_on, locked.expires_on = issued_on, expires_on
        locked.save(update_fields=["issued_on", "expires_on"])
        last = locked.versions.aggregate(last=Max("number"))["last"] or 0
        version = _version(locked, last + 1, content, blob, uploaded_by_id=uploaded_by_id, by=by)
        record_on_file(
            AuditAction.DOCUMENT_REPLACED,
            person=document.person,
            by=by,
            category=category_of(locked.kind),
            object_type="piece",
            object_id=document.pk,
            details={
                "type": locked.kind,
                "version": version.number,
                "taille": version.size,
                **changed,
            },
        )
    document.issued_on, document.expires_on = issued_on, expires_on
    return version


def _check_dates(issued_on: date | None, expires_on: date | None) -> None:
    if issued_on and expires_on and expires_on < issued_on:
        raise ValidationError(
            {"expires_on": "La date de fin de validité doit suivre la date de délivrance."}
        )


def document_update(
    *, document: Document, kind: str, issued_on: date | None, expires_on: date | None, by: Actor
) -> bool:
    """Correct a document's type, or the dates of its current version, which are the
    document's; the journal row records what changed, before and after. False when
    nothing changes."""
    _check_dates(issued_on, expires_on)
    with transaction.atomic():
        # Read again under lock: a replacement or a deletion may have come meanwhile.
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.deleted_at is not None:
            raise ValidationError("Cette pièce a été supprimée entre-temps.")
        changed = _dates_changed(locked, issued_on, expires_on)
        if kind != locked.kind:
            _check_checklists_accept(locked, kind)
            changed = {"type_avant": locked.kind, **changed}
        if not changed:
            return False
        categories = {category_of(locked.kind), category_of(kind)}
        locked.kind, locked.issued_on, locked.expires_on = kind, issued_on, expires_on
        locked.full_clean()
        locked.save(update_fields=["kind", "issued_on", "expires_on"])
        current = locked.versions.order_by("-number").values_list("pk", flat=True)[:1]
        DocumentVersion.objects.filter(pk__in=list(current)).update(
            issued_on=issued_on, expires_on=expires_on
        )
        record_on_file(
            AuditAction.DOCUMENT_UPDATED,
            person=locked.person,
            by=by,
            # A health document's former or new type is read with the health category.
            category=DataCategory.HEALTH
            if DataCategory.HEALTH in categories
            else DataCategory.DOCUMENTS,
            object_type="piece",
            object_id=locked.pk,
            details={"type": kind, **changed},
        )
    document.kind, document.issued_on, document.expires_on = kind, issued_on, expires_on
    return True


def _check_checklists_accept(document: Document, kind: str) -> None:
    """A document linked to a checklist line is of the kind it asks for, or « autre »
    (procedures.services.checklist_link): its type may not change to another one."""
    if kind == DocumentKind.OTHER:
        return
    asked = (
        RequiredDocument.objects.filter(document_id=document.pk)
        .exclude(kind=kind)
        .values_list("kind", flat=True)
        .first()
    )
    if asked is not None:
        raise ValidationError(
            {
                "kind": f"Cette pièce sert de « {DocumentKind(asked).label} » dans une "
                "démarche : son type ne peut pas devenir un autre. Détachez-la d'abord de "
                "cette démarche, ou ajoutez la bonne pièce à part."
            }
        )


def document_delete(*, document: Document, by: Actor) -> None:
    """Soft deletion: the document leaves the file now; retention purges its blobs."""
    with transaction.atomic():
        # Read again under lock: of two deletions at once, the second finds it done.
        deleted = (
            Document.objects.select_for_update()
            .values_list("deleted_at", flat=True)
            .get(pk=document.pk)
        )
        if document.deleted_at is not None or deleted is not None:
            raise ValidationError("Cette pièce est déjà supprimée.")
        document.deleted_at = timezone.now()
        document.deleted_by_label = by.label
        document.save(update_fields=["deleted_at", "deleted_by_label"])
        record_on_file(
            AuditAction.DOCUMENT_DELETED,
            person=document.person,
            by=by,
            category=category_of(document.kind),
            object_type="piece",
            object_id=document.pk,
            details={"type": document.kind},
        )


def version_verify(version: DocumentVersion) -> None:
    """Read the whole blob once, checking every chunk and the SHA-256, before any byte is
    sent: a damaged blob then gives an error page, never a broken download."""
    for _ in version_chunks(version):
        pass


def version_chunks(version: DocumentVersion) -> Iterator[bytes]:
    return vault.blob_read(
        name=version.storage_name,
        wrapped_key=bytes(version.wrapped_key),
        size=version.size,
        sha256=version.sha256,
    )


def document_download_record(
    *, version: DocumentVersion, by: Actor, reason: str = "", shown: bool = False
) -> None:
    """Journal a download, or a version `shown` in the browser; `reason` is that of the
    exceptional access the file is read under, if it is."""
    document = version.document
    record_on_file(
        AuditAction.DOCUMENT_SHOWN if shown else AuditAction.DOCUMENT_DOWNLOADED,
        person=document.person,
        by=by,
        category=category_of(document.kind),
        object_type="piece",
        object_id=document.pk,
        reason=reason,
        details={"type": document.kind, "version": version.number, "exceptionnel": bool(reason)},
    )


def document_purge(*, document: Document, by: Actor) -> int:
    """Remove the blobs of a deleted document for good (retention). The data keys are
    wiped in the transaction, the blobs deleted once it is committed: a purge that fails
    changes nothing, and a blob left behind can never be read again."""
    with transaction.atomic():
        purged = _versions_shred(document.versions.filter(purged_at__isnull=True))
        record_on_file(
            AuditAction.DOCUMENT_PURGED,
            person=document.person,
            by=by,
            category=category_of(document.kind),
            object_type="piece",
            object_id=document.pk,
        )
    return purged


def person_documents_shred(*, person_id: int, by: Actor) -> None:
    """At a file's anonymisation: every document deleted, its title erased, every blob
    shredded. Inside the caller's transaction, which writes the journal row."""
    documents = Document.objects.filter(person_id=person_id)
    documents.filter(deleted_at__isnull=True).update(
        deleted_at=timezone.now(), deleted_by_label=by.label
    )
    documents.update(title="")
    _versions_shred(DocumentVersion.objects.filter(document__in=documents, purged_at__isnull=True))


def _versions_shred(versions: QuerySet[DocumentVersion]) -> int:
    """Wipe the versions' data keys now, delete their blobs once the transaction is
    committed: if it fails, nothing has changed; a blob whose deletion fails can never be
    read again, and the next purge deletes it (blobs_left_delete)."""
    pks = list(versions.values_list("pk", flat=True))
    versions.filter(pk__in=pks).update(purged_at=timezone.now(), wrapped_key=b"")
    transaction.on_commit(
        lambda: _blobs_delete(DocumentVersion.objects.filter(pk__in=pks)), robust=True
    )
    return len(pks)


def _blobs_delete(versions: DocumentVersionQuerySet) -> int:
    """Delete the purged versions' blobs one by one, recording each one deleted; one that
    fails is left for the next purge and the others are deleted. How many were."""
    deleted = 0
    for pk, name in versions.blob_left().values_list("pk", "storage_name"):
        try:
            vault.blob_delete(name)
        except Exception as error:
            logger.warning(
                "Fichier de la version %s d'une pièce non effacé du stockage (%s) : "
                "la prochaine purge réessaiera.",
                pk,
                type(error).__name__,
            )
            continue
        DocumentVersion.objects.filter(pk=pk).update(blob_deleted_at=timezone.now())
        deleted += 1
    return deleted


def blobs_left_delete() -> int:
    """Try again to delete the blobs of purged versions still in the storage; how many
    were deleted."""
    return _blobs_delete(DocumentVersion.objects.all())


def versions_under_other_keys() -> list[int]:
    """The versions not purged whose data key is still wrapped under another master key
    than the current one."""
    return [
        pk
        for pk, wrapped in DocumentVersion.objects.filter(purged_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "wrapped_key")
        .iterator()
        if not crypto.under_current_key(bytes(wrapped))
    ]


def keys_rewrap_all(*, by: Actor) -> Rotation:
    """Re-wrap under the current master key every blob's data key still under another
    one, one version at a time; contents untouched. A key that cannot be unwrapped is
    counted in `failed` and the run goes on; one journal row says what was done."""
    rewrapped, failed = 0, {}
    for pk in versions_under_other_keys():
        try:
            rewrapped += _key_rewrap(pk)
        except vault.BlobCorrupted:
            failed[pk] = (
                "clé de pièce illisible (la clé maîtresse a été retirée ou la valeur altérée)"
            )
    rotation = Rotation(rewrapped=rewrapped, failed=failed)
    rotation_record(values="pieces", rotation=rotation, by=by)
    return rotation


def _key_rewrap(pk: int) -> bool:
    read = (
        DocumentVersion.objects.filter(pk=pk, purged_at__isnull=True)
        .values_list("wrapped_key", flat=True)
        .first()
    )
    if not read or crypto.under_current_key(bytes(read)):
        return False
    wrapped = bytes(read)
    rewrapped = vault.rewrap_key(wrapped)
    # Written only over the key read: a version purged since keeps its key wiped.
    return bool(
        DocumentVersion.objects.filter(pk=pk, purged_at__isnull=True, wrapped_key=wrapped).update(
            wrapped_key=rewrapped
        )
    )
