"""The data migration that gave each version of a document its dates and the structure
it was sent from, run on rows written by the previous schema."""

import datetime

import pytest

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from tests.factories import OrganisationFactory, UserFactory
from tests.migrations import migrate_to, migrate_to_latest
from tests.persons.factories import PersonFactory


@pytest.fixture(autouse=True)
def _latest_schema_after():
    yield
    migrate_to_latest()


def _version(apps, document, number, uploaded_by):
    return apps.get_model("documents", "DocumentVersion").objects.create(
        document_id=document.pk,
        number=number,
        storage_name=f"blob-{document.pk}-{number}",
        size=10,
        sha256="0" * 64,
        content_type="application/pdf",
        extension="pdf",
        wrapped_key=b"",
        scan_status="non_analyse",
        uploaded_by_id=uploaded_by,
    )


def test_every_version_takes_the_dates_recorded_and_the_structure_the_journal_names(
    transactional_db,
):
    apps = migrate_to(("documents", "0003_blob_deleted_at"))
    person = PersonFactory()
    ccas, mission_locale = OrganisationFactory(), OrganisationFactory()
    professional = UserFactory()
    document = apps.get_model("documents", "Document").objects.create(
        person_id=person.pk,
        kind="quittance_loyer",
        issued_on=datetime.date(2026, 6, 1),
        expires_on=datetime.date(2026, 9, 1),
    )
    sent = _version(apps, document, 1, professional.pk)
    replaced = _version(apps, document, 2, professional.pk)
    by_person = _version(apps, document, 3, None)
    for action, organisation, details in (
        (AuditAction.DOCUMENT_UPLOADED, ccas, {"type": "quittance_loyer"}),
        (AuditAction.DOCUMENT_REPLACED, mission_locale, {"version": 2}),
        (AuditAction.DOCUMENT_REPLACED, ccas, {"version": 3}),
    ):
        audit_record(
            action=action,
            by=Actor(user_id=professional.pk, organisation_id=organisation.pk),
            person_id=person.pk,
            object_type="piece",
            object_id=document.pk,
            details=details,
        )

    apps = migrate_to(("documents", "0005_version_dates_and_organisation_data"))

    versions = apps.get_model("documents", "DocumentVersion").objects
    assert {
        version.pk: (version.issued_on, version.expires_on, version.organisation_id)
        for version in versions.all()
    } == {
        sent.pk: (datetime.date(2026, 6, 1), datetime.date(2026, 9, 1), ccas.pk),
        replaced.pk: (datetime.date(2026, 6, 1), datetime.date(2026, 9, 1), mission_locale.pk),
        by_person.pk: (datetime.date(2026, 6, 1), datetime.date(2026, 9, 1), None),
    }
