# The rows are written in a migration of their own: on PostgreSQL, the schema change's
# deferred index and foreign key cannot be created once rows of the table were updated in
# the same transaction.

from django.db import migrations
from django.db.models import OuterRef, Subquery


def dates_and_organisations_to_versions(apps, schema_editor):
    """Until now a replacement kept the document's dates: every version takes them, as
    they were recorded. The structure a professional acted for is read from the journal
    row of the upload or the replacement, where the journal still has it."""
    Document = apps.get_model("documents", "Document")
    DocumentVersion = apps.get_model("documents", "DocumentVersion")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    Organisation = apps.get_model("organisations", "Organisation")
    document = Document.objects.filter(pk=OuterRef("document_id"))
    DocumentVersion.objects.update(
        issued_on=Subquery(document.values("issued_on")[:1]),
        expires_on=Subquery(document.values("expires_on")[:1]),
    )
    existing = set(Organisation.objects.values_list("pk", flat=True))
    acted_for = {}
    for action, object_id, details, organisation_id in (
        AuditEvent.objects.filter(
            action__in=["document_uploaded", "document_replaced"],
            object_type="piece",
            organisation_id__isnull=False,
        )
        .values_list("action", "object_id", "details", "organisation_id")
        .iterator()
    ):
        number = 1 if action == "document_uploaded" else (details or {}).get("version")
        if object_id.isdigit() and isinstance(number, int) and organisation_id in existing:
            acted_for[(int(object_id), number)] = organisation_id
    for pk, document_id, number in (
        DocumentVersion.objects.filter(uploaded_by__isnull=False)
        .values_list("pk", "document_id", "number")
        .iterator()
    ):
        organisation_id = acted_for.get((document_id, number))
        if organisation_id is not None:
            DocumentVersion.objects.filter(pk=pk).update(organisation_id=organisation_id)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0011_password_reset_and_member_update'),
        ('documents', '0004_version_dates_and_organisation'),
    ]

    operations = [
        migrations.RunPython(dates_and_organisations_to_versions, migrations.RunPython.noop),
    ]
