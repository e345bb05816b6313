from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from relais.audit.context import SYSTEM
from relais.documents.models import Document, DocumentVersion
from relais.documents.services import blobs_left_delete, document_purge


@task()
def purge_deleted_documents() -> int:
    """Blobs of documents deleted more than RELAIS_DOCUMENT_PURGE_DAYS ago are erased for
    good: deletion is soft for a while (a mistake can be undone by the administrator),
    then retention is enforced by this task, not by a promise. The blobs whose deletion
    failed at an earlier purge or anonymisation are deleted first. How many blobs left the
    storage during the run (each is deleted once its purge is committed)."""
    started = timezone.now()
    blobs_left_delete()
    limit = started - timedelta(days=settings.RELAIS_DOCUMENT_PURGE_DAYS)
    for document in Document.objects.filter(
        deleted_at__lt=limit, versions__purged_at__isnull=True
    ).distinct():
        document_purge(document=document, by=SYSTEM)
    return DocumentVersion.objects.filter(blob_deleted_at__gte=started).count()
