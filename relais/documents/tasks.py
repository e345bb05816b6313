from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from relais.audit.context import SYSTEM
from relais.documents.models import Document
from relais.documents.services import document_purge


@task()
def purge_deleted_documents() -> int:
    """Blobs of documents deleted more than RELAIS_DOCUMENT_PURGE_DAYS ago are erased for
    good: deletion is soft for a while (a mistake can be undone by the administrator),
    then retention is enforced by this task, not by a promise."""
    limit = timezone.now() - timedelta(days=settings.RELAIS_DOCUMENT_PURGE_DAYS)
    purged = 0
    for document in Document.objects.filter(
        deleted_at__lt=limit, versions__purged_at__isnull=True
    ).distinct():
        purged += document_purge(document=document, by=SYSTEM)
    return purged
