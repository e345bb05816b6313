"""A freshness rule (« de moins de 1 an ») judges a paper by its issue day on the day the
checklist is judged, whatever the paper's own validity; it is no situation, so nobody is
« non concerné(e) » by it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from relais.documents.models import DocumentKind
from relais.procedures.measures import (
    add_months,
    completeness,
    missing_in_plain_words,
    state_on,
)
from relais.procedures.models import (
    Procedure,
    ProcedureStatus,
    RequiredDocument,
    missing_documents_filter,
    valid_documents_filter,
)
from relais.procedures.services import checklist_fill, checklist_mark_not_applicable
from tests.procedures.factories import DocumentFactory, ProcedureFactory, RequiredDocumentFactory

pytestmark = pytest.mark.django_db

DEPOSIT = datetime.date(2026, 9, 15)


def _deposited(kind, fresh_months, **document):
    """A procedure submitted on DEPOSIT, its one line holding a paper with `document`."""
    procedure = ProcedureFactory(
        requested_on=DEPOSIT, submitted_on=DEPOSIT, status=ProcedureStatus.AWAITING
    )
    item = RequiredDocumentFactory(
        procedure=procedure,
        kind=kind,
        condition="de moins de 1 an" if fresh_months == 12 else "de moins de 6 mois",
        fresh_months=fresh_months,
        document=DocumentFactory(person=procedure.person, kind=kind, **document),
    )
    return procedure, item


def _lacking_in_sql(procedure, pro, day):
    return procedure in Procedure.objects.with_missing_documents(pro, today=day)


def test_a_seven_month_old_proof_of_address_meets_a_one_year_line_on_the_deposit_day(pro):
    # Its own validity (3 months from its issue) ended long before the deposit.
    issued = add_months(DEPOSIT, -7)
    procedure, item = _deposited(
        DocumentKind.PROOF_OF_ADDRESS, 12, issued_on=issued, expires_on=add_months(issued, 3)
    )

    assert item.is_satisfied_on(DEPOSIT)
    assert state_on(item, DEPOSIT) == "valid"
    assert completeness(procedure).is_complete
    assert not _lacking_in_sql(procedure, pro, DEPOSIT + datetime.timedelta(days=30))


def test_an_eight_month_old_photo_does_not_meet_a_six_month_line(pro):
    procedure, item = _deposited(
        DocumentKind.PHOTO, 6, issued_on=add_months(DEPOSIT, -8), expires_on=None
    )

    assert not item.is_satisfied_on(DEPOSIT)
    assert state_on(item, DEPOSIT) == "expired"
    assert completeness(procedure).expired == [item]
    assert _lacking_in_sql(procedure, pro, DEPOSIT)
    # Its freshness ended on 15 July 2026, 6 months after its issue on 15 January.
    assert "Photo d'identité : plus valable depuis le 16 juillet 2026, à renouveler." in (
        missing_in_plain_words(completeness(procedure))
    )


def test_without_an_issue_day_the_paper_keeps_its_own_validity(pro):
    valid, valid_item = _deposited(DocumentKind.PHOTO, 6, issued_on=None, expires_on=None)
    expired, expired_item = _deposited(
        DocumentKind.PHOTO, 6, issued_on=None, expires_on=DEPOSIT - datetime.timedelta(days=1)
    )

    assert valid_item.is_satisfied_on(DEPOSIT)
    assert not expired_item.is_satisfied_on(DEPOSIT)
    assert not _lacking_in_sql(valid, pro, DEPOSIT)
    assert _lacking_in_sql(expired, pro, DEPOSIT)


@pytest.mark.parametrize(
    ("issued_on", "day", "fresh"),
    [
        # The same day of the month, 6 months later, still counts; the next day does not.
        ("2026-03-15", "2026-09-15", True),
        ("2026-03-15", "2026-09-16", False),
        # A shorter month ends the count on its last day.
        ("2025-08-31", "2026-02-28", True),
        ("2025-08-31", "2026-03-01", False),
        ("2026-02-28", "2026-08-28", True),
        ("2026-02-28", "2026-08-29", False),
        # Across a new year, and a paper issued on the day itself.
        ("2025-12-01", "2026-05-31", True),
        ("2026-09-15", "2026-09-15", True),
    ],
)
def test_the_list_query_judges_the_age_as_the_page_does(issued_on, day, fresh):
    issued_on, day = datetime.date.fromisoformat(issued_on), datetime.date.fromisoformat(day)
    _, item = _deposited(DocumentKind.PHOTO, 6, issued_on=issued_on, expires_on=None)
    lines = RequiredDocument.objects.filter(pk=item.pk)

    assert item.is_satisfied_on(day) is fresh
    assert lines.filter(valid_documents_filter(day)).exists() is fresh
    assert lines.filter(missing_documents_filter(day)).exists() is not fresh


def test_nobody_is_not_concerned_by_a_freshness_rule(actor):
    _, item = _deposited(DocumentKind.PHOTO, 6, issued_on=None)

    with pytest.raises(ValidationError, match="de moins de 6 mois, est demandée dans tous"):
        checklist_mark_not_applicable(item=item, not_applicable=True, by=actor)

    item.refresh_from_db()
    assert not item.not_applicable


def test_a_situation_beside_a_freshness_rule_may_still_not_concern_the_person(actor):
    _, item = _deposited(DocumentKind.OTHER, 3, issued_on=None)
    item.condition = "l'attestation de moins de 3 mois, si vous faites la demande"
    item.conditional = True
    item.save()

    checklist_mark_not_applicable(item=item, not_applicable=True, by=actor)

    assert RequiredDocument.objects.get(pk=item.pk).not_applicable


def test_a_freshness_line_marked_before_may_be_put_back(actor):
    _, item = _deposited(DocumentKind.PHOTO, 6, issued_on=None)
    RequiredDocument.objects.filter(pk=item.pk).update(not_applicable=True, document=None)
    item.refresh_from_db()

    checklist_mark_not_applicable(item=item, not_applicable=False, by=actor)

    assert not RequiredDocument.objects.get(pk=item.pk).not_applicable


def test_a_paper_in_the_file_joins_a_line_its_freshness_rule_accepts(actor):
    procedure = ProcedureFactory(requested_on=datetime.date(2026, 1, 5))
    today = timezone.localdate()
    address = RequiredDocumentFactory(
        procedure=procedure, kind=DocumentKind.PROOF_OF_ADDRESS, fresh_months=12
    )
    photo = RequiredDocumentFactory(procedure=procedure, kind=DocumentKind.PHOTO, fresh_months=6)
    issued = add_months(today, -7)
    bill = DocumentFactory(
        person=procedure.person,
        kind=DocumentKind.PROOF_OF_ADDRESS,
        issued_on=issued,
        expires_on=add_months(issued, 3),
    )
    DocumentFactory(
        person=procedure.person,
        kind=DocumentKind.PHOTO,
        issued_on=add_months(today, -8),
        expires_on=None,
    )

    filled = checklist_fill(person=procedure.person, by=actor)

    assert filled == [address]
    assert RequiredDocument.objects.get(pk=address.pk).document == bill
    assert RequiredDocument.objects.get(pk=photo.pk).document is None
