import datetime
import io
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter

from relais.documents.models import Document, DocumentKind
from relais.documents.services import document_upload
from relais.procedures.measures import (
    AutonomyPoint,
    add_months,
    autonomy_by_period,
    completeness,
    french_date,
    handling_times,
    missing_in_plain_words,
)
from relais.procedures.models import Autonomy, Procedure, ProcedureStatus
from relais.procedures.services import checklist_link, procedure_open, procedure_step_record
from tests.procedures.factories import (
    DocumentFactory,
    ProcedureFactory,
    ProcedureStepFactory,
    ProcedureTypeFactory,
    RequiredDocumentFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
DAY = datetime.date(2026, 3, 10)


def frozen(day: datetime.date):
    """Today is `day` for the code under test."""
    return patch(
        "django.utils.timezone.now",
        return_value=datetime.datetime(day.year, day.month, day.day, 10, tzinfo=PARIS),
    )


@pytest.fixture
def checklist_procedure(actor, person, organisation):
    """Four documents asked: one brought and valid, one brought but expired on DAY, one
    conditional the person is not concerned by, one not brought."""
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(
            required_documents=[
                {"kind": "cni", "condition": ""},
                {"kind": "avis_imposition", "condition": ""},
                {"kind": "livret_famille", "condition": "si vous avez des enfants"},
                {"kind": "justificatif_domicile", "condition": "si vous êtes hébergé"},
            ]
        ),
        organisation=organisation,
        by=actor,
        requested_on=datetime.date(2026, 1, 5),
    )
    items = {item.kind: item for item in procedure.checklist.all()}
    items["cni"].document = DocumentFactory(
        person=person, kind="cni", expires_on=datetime.date(2031, 1, 1)
    )
    items["avis_imposition"].document = DocumentFactory(
        person=person,
        kind="avis_imposition",
        issued_on=datetime.date(2025, 3, 2),
        expires_on=datetime.date(2026, 3, 2),
    )
    items["livret_famille"].not_applicable = True
    for item in items.values():
        item.save()
    return procedure


def test_it_counts_valid_expired_and_missing_documents(checklist_procedure):
    result = completeness(checklist_procedure, on=DAY)

    assert (result.total, result.satisfied, result.rate) == (3, 1, 33)
    assert [item.kind for item in result.missing] == ["justificatif_domicile"]
    assert [item.kind for item in result.expired] == ["avis_imposition"]
    assert not result.is_complete


def test_the_same_checklist_was_complete_earlier(checklist_procedure):
    checklist_procedure.checklist.filter(kind="justificatif_domicile").update(not_applicable=True)

    result = completeness(checklist_procedure, on=datetime.date(2026, 3, 2))

    assert (result.total, result.satisfied, result.rate, result.is_complete) == (2, 2, 100, True)


def test_it_reads_today_before_submission(checklist_procedure):
    with frozen(datetime.date(2026, 2, 1)):
        before_expiry = completeness(checklist_procedure)
    with frozen(DAY):
        after_expiry = completeness(checklist_procedure)

    assert (before_expiry.day, before_expiry.satisfied) == (datetime.date(2026, 2, 1), 2)
    assert (after_expiry.day, after_expiry.satisfied) == (DAY, 1)


def test_it_reads_the_submission_day_once_submitted(checklist_procedure):
    Procedure.objects.filter(pk=checklist_procedure.pk).update(
        status=ProcedureStatus.AWAITING, submitted_on=datetime.date(2026, 2, 20)
    )
    checklist_procedure.refresh_from_db()

    with frozen(DAY):
        result = completeness(checklist_procedure)

    assert (result.day, result.satisfied) == (datetime.date(2026, 2, 20), 2)


def test_a_deleted_document_is_missing(checklist_procedure):
    Document.objects.filter(person=checklist_procedure.person, kind="cni").update(
        deleted_at=datetime.datetime(2026, 3, 1, tzinfo=PARIS)
    )

    result = completeness(checklist_procedure, on=DAY)

    assert sorted(item.kind for item in result.missing) == ["cni", "justificatif_domicile"]


def test_a_document_issued_or_brought_after_the_day_does_not_count_on_it():
    submitted_on = datetime.date(2026, 2, 20)
    procedure = ProcedureFactory(submitted=True, requested_on=submitted_on)
    issued_later = DocumentFactory(person=procedure.person, issued_on=datetime.date(2026, 3, 1))
    brought_later = DocumentFactory(
        person=procedure.person, created_at=datetime.datetime(2026, 2, 21, 9, tzinfo=PARIS)
    )
    # Issued before the submission, brought to the file after it: the person had it.
    issued_before = DocumentFactory(
        person=procedure.person,
        issued_on=datetime.date(2026, 2, 1),
        created_at=datetime.datetime(2026, 3, 2, 9, tzinfo=PARIS),
    )
    for document in (issued_later, brought_later, issued_before):
        RequiredDocumentFactory(procedure=procedure, document=document)

    with frozen(DAY):
        result = completeness(procedure)

    assert result.day == submitted_on
    assert [item.document for item in result.missing] == [issued_later, brought_later]
    assert (result.satisfied, result.expired) == (1, [])
    assert completeness(procedure, on=datetime.date(2026, 3, 1)).satisfied == 3


def test_a_document_brought_late_in_the_evening_counts_from_its_french_day():
    procedure = ProcedureFactory()
    RequiredDocumentFactory(
        procedure=procedure,
        # 00:30 in Paris on 21 February, still 20 February in UTC.
        document=DocumentFactory(
            person=procedure.person,
            created_at=datetime.datetime(2026, 2, 20, 23, 30, tzinfo=datetime.UTC),
        ),
    )

    assert completeness(procedure, on=datetime.date(2026, 2, 20)).satisfied == 0
    assert completeness(procedure, on=datetime.date(2026, 2, 21)).satisfied == 1


def test_nothing_required_is_complete():
    result = completeness(ProcedureFactory(), on=DAY)

    assert (result.total, result.rate, result.is_complete) == (0, 100, True)


def test_it_uses_a_prefetched_checklist(checklist_procedure, django_assert_num_queries):
    procedure = Procedure.objects.prefetch_related("checklist__document").get(
        pk=checklist_procedure.pk
    )

    with django_assert_num_queries(0):
        assert completeness(procedure, on=DAY).satisfied == 1


def test_it_says_what_is_missing_in_plain_words(checklist_procedure):
    sentences = missing_in_plain_words(completeness(checklist_procedure, on=DAY))

    assert sentences == [
        "Justificatif de domicile.",
        "Avis d'imposition : plus valable depuis le 3 mars 2026, à renouveler.",
    ]


def test_it_only_counts_the_lines_the_reader_may_not_read():
    procedure = ProcedureFactory()
    for kind in ("certificat_medical", "notification_mdph", "rib"):
        RequiredDocumentFactory(procedure=procedure, kind=kind)
    RequiredDocumentFactory(
        procedure=procedure,
        kind="certificat_medical",
        document=DocumentFactory(
            person=procedure.person,
            kind="certificat_medical",
            expires_on=datetime.date(2026, 1, 31),
        ),
    )
    # An « autre pièce » on a health line falls under the documents.
    RequiredDocumentFactory(
        procedure=procedure,
        kind="notification_mdph",
        document=DocumentFactory(
            person=procedure.person, kind="autre", expires_on=datetime.date(2026, 2, 1)
        ),
    )
    result = completeness(procedure, on=DAY)

    assert missing_in_plain_words(result, readable_categories={"documents"}) == [
        "RIB.",
        "Notification MDPH : plus valable depuis le 2 février 2026, à renouveler.",
        "3 pièces de santé sont à vérifier.",
    ]
    assert missing_in_plain_words(result, readable_categories={"sante"}) == [
        "Certificat médical.",
        "Notification MDPH.",
        "Certificat médical : plus valable depuis le 1er février 2026, à renouveler.",
        "2 pièces justificatives sont à vérifier.",
    ]
    assert missing_in_plain_words(result, readable_categories=set()) == [
        "2 pièces justificatives sont à vérifier.",
        "3 pièces de santé sont à vérifier.",
    ]
    assert len(missing_in_plain_words(result)) == 5


def test_one_unreadable_line_is_told_in_the_singular():
    item = RequiredDocumentFactory(kind="certificat_medical")

    sentences = missing_in_plain_words(
        completeness(item.procedure, on=DAY), readable_categories={"documents"}
    )

    assert sentences == ["Une pièce de santé est à vérifier."]


def test_it_keeps_acronyms_in_capitals():
    procedure = ProcedureFactory()
    for kind in (DocumentKind.TAX_NOTICE, DocumentKind.RIB):
        RequiredDocumentFactory(procedure=procedure, kind=kind, group="banque")

    sentences = missing_in_plain_words(completeness(procedure, on=DAY))

    assert sentences == ["Avis d'imposition ou RIB : une des deux pièces suffit."]


@pytest.mark.parametrize(
    ("day", "words"),
    [(datetime.date(2026, 3, 1), "1er mars 2026"), (datetime.date(2025, 8, 15), "15 août 2025")],
)
def test_dates_read_as_in_a_letter(day, words):
    assert french_date(day) == words


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2025, 1, 31), 1, datetime.date(2025, 2, 28)),
        (datetime.date(2024, 11, 30), 3, datetime.date(2025, 2, 28)),
        (datetime.date(2023, 12, 31), 2, datetime.date(2024, 2, 29)),
        (datetime.date(2025, 3, 15), 60, datetime.date(2030, 3, 15)),
        (datetime.date(2026, 3, 31), -1, datetime.date(2026, 2, 28)),
        (datetime.date(2026, 3, 1), -3, datetime.date(2025, 12, 1)),
        (datetime.date(2026, 1, 1), -13, datetime.date(2024, 12, 1)),
        (datetime.date(2026, 5, 20), 0, datetime.date(2026, 5, 20)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_one(day, months, expected):
    assert add_months(day, months) == expected


def test_the_autonomy_months_run_back_across_a_year(person):
    points = autonomy_by_period(person.pk, months=14, today=datetime.date(2026, 2, 28))

    assert [point.month for point in points[:3]] == [
        datetime.date(2025, 1, 1),
        datetime.date(2025, 2, 1),
        datetime.date(2025, 3, 1),
    ]
    assert points[-1].month == datetime.date(2026, 2, 1)


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_uploaded_document_counts_until_it_expires(actor, person, organisation):
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(
            required_documents=[{"kind": "attestation_caf", "condition": ""}]
        ),
        organisation=organisation,
        by=actor,
        requested_on=datetime.date(2026, 1, 5),
    )
    # An attestation CAF is valid 3 months from its issue when it shows no end date.
    document = document_upload(
        person=person,
        kind=DocumentKind.CAF_CERTIFICATE,
        title="",
        issued_on=datetime.date(2026, 1, 2),
        expires_on=None,
        files=[SimpleUploadedFile("attestation.pdf", pdf_bytes())],
        uploaded_by_id=actor.user_id,
        by=actor,
    )
    checklist_link(item=procedure.checklist.get(), document=document, by=actor)

    assert completeness(procedure, on=datetime.date(2026, 4, 2)).rate == 100
    late = completeness(procedure, on=datetime.date(2026, 4, 3))
    assert late.rate == 0
    assert missing_in_plain_words(late) == [
        "Attestation CAF : plus valable depuis le 3 avril 2026, à renouveler."
    ]


# Autonomy over time


def test_it_counts_steps_by_month_and_autonomy(person, django_assert_num_queries):
    procedure = ProcedureFactory(person=person)
    other = ProcedureFactory(person=person)
    for index, (autonomy, done_on) in enumerate(
        [
            (Autonomy.FOR_PERSON, datetime.date(2026, 1, 5)),
            (Autonomy.FOR_PERSON, datetime.date(2026, 1, 28)),
            (Autonomy.WITH_PERSON, datetime.date(2026, 1, 30)),
        ]
    ):
        ProcedureStepFactory(
            procedure=procedure,
            step_index=index,
            autonomy=autonomy,
            done_on=done_on,
            reason="La personne n'a pas d'ordinateur." if autonomy == Autonomy.FOR_PERSON else "",
        )
    ProcedureStepFactory(procedure=other, step_index=0, autonomy=Autonomy.PERSON_ALONE, done_on=DAY)
    ProcedureStepFactory(procedure=other, step_index=1, autonomy=Autonomy.WITH_PERSON, done_on=DAY)
    # Out of the window, and another person's step: neither counts.
    ProcedureStepFactory(procedure=other, step_index=2, done_on=datetime.date(2025, 10, 31))
    ProcedureStepFactory(step_index=0, done_on=DAY)

    with django_assert_num_queries(1):
        points = autonomy_by_period(person.pk, months=5, today=DAY)

    assert points == [
        AutonomyPoint(month=datetime.date(2025, 11, 1)),
        AutonomyPoint(month=datetime.date(2025, 12, 1)),
        AutonomyPoint(month=datetime.date(2026, 1, 1), with_person=1, for_person=2),
        AutonomyPoint(month=datetime.date(2026, 2, 1)),
        AutonomyPoint(month=datetime.date(2026, 3, 1), with_person=1, person_alone=1),
    ]
    assert (points[2].total, points[2].alone_rate) == (3, 0)
    assert (points[4].alone_rate, points[0].alone_rate) == (50, None)


def test_steps_recorded_through_the_service_are_counted(actor, person, organisation):
    with frozen(DAY):
        procedure = procedure_open(
            person=person,
            procedure_type=ProcedureTypeFactory(),
            organisation=organisation,
            by=actor,
        )
        procedure_step_record(procedure=procedure, step_index=0, autonomy="seule", by=actor)
        points = autonomy_by_period(person.pk)

    assert len(points) == 12
    assert points[-1] == AutonomyPoint(month=datetime.date(2026, 3, 1), person_alone=1)


# Time to handle and to decide


def _handled(requested, submitted=None, decided=None, **fields):
    return ProcedureFactory(
        requested_on=requested, submitted_on=submitted, decided_on=decided, **fields
    )


def test_it_takes_the_median_time_to_take_a_request_in_charge(organisation):
    _handled(
        datetime.date(2026, 1, 1), taken_on=datetime.date(2026, 1, 1), organisation=organisation
    )
    _handled(
        datetime.date(2026, 1, 1), taken_on=datetime.date(2026, 1, 4), organisation=organisation
    )
    _handled(
        datetime.date(2026, 1, 1),
        datetime.date(2026, 1, 20),
        taken_on=datetime.date(2026, 1, 9),
        organisation=organisation,
    )
    _handled(datetime.date(2026, 1, 1), organisation=organisation)

    summary = handling_times(Procedure.objects.of_organisation(organisation.pk))

    assert (summary.taken, summary.median_taking_days) == (3, 3)
    assert (summary.handled, summary.median_handling_days) == (1, 19)


def test_an_occurrence_the_daily_task_opened_is_no_request_to_take_in_charge(organisation, member):
    """The daily task opens a declaration's next occurrence, dated the day it opens it,
    weeks before anyone works on it: nobody asked anything that day."""
    day = datetime.date(2026, 1, 1)
    asked = _handled(day, taken_on=day + datetime.timedelta(days=2), organisation=organisation)
    asked.created_by = member.user
    asked.save()
    # Opened by a professional whose account is gone since.
    _handled(day, taken_on=day + datetime.timedelta(days=4), organisation=organisation)
    _handled(
        day,
        taken_on=day + datetime.timedelta(days=25),
        previous=asked,
        organisation=organisation,
    )

    for summary in (
        handling_times(Procedure.objects.of_organisation(organisation.pk)),
        handling_times(list(Procedure.objects.of_organisation(organisation.pk))),
    ):
        assert (summary.taken, summary.median_taking_days) == (2, 3)


def test_it_takes_the_medians_from_the_real_dates(organisation, django_assert_num_queries):
    _handled(
        datetime.date(2026, 1, 1),
        datetime.date(2026, 1, 11),
        datetime.date(2026, 2, 10),
        organisation=organisation,
    )
    _handled(
        datetime.date(2026, 1, 1),
        datetime.date(2026, 1, 21),
        datetime.date(2026, 1, 31),
        organisation=organisation,
    )
    _handled(datetime.date(2026, 1, 1), datetime.date(2026, 1, 2), organisation=organisation)
    _handled(datetime.date(2026, 1, 1), organisation=organisation)
    _handled(datetime.date(2026, 1, 1), datetime.date(2026, 6, 1))

    with django_assert_num_queries(1):
        summary = handling_times(Procedure.objects.of_organisation(organisation.pk))

    assert (summary.handled, summary.median_handling_days) == (3, 10)
    assert (summary.decided, summary.median_decision_days) == (2, 20)


def test_it_takes_a_list_too():
    procedures = [
        _handled(datetime.date(2026, 1, 1), datetime.date(2026, 1, 4)),
        _handled(datetime.date(2026, 1, 1), datetime.date(2026, 1, 9)),
    ]

    summary = handling_times(procedures)

    assert (summary.handled, summary.median_handling_days, summary.decided) == (2, 5.5, 0)
    assert summary.median_decision_days is None


# Lines asked in a situation, and groups of lines one of which is enough.


def test_a_line_asked_in_a_situation_counts_once_it_is_known_to_apply():
    procedure = ProcedureFactory()
    RequiredDocumentFactory(procedure=procedure, kind="rib")
    passport = RequiredDocumentFactory(
        procedure=procedure, kind="passeport", condition="si vous en avez un", conditional=True
    )

    unknown = completeness(procedure, on=DAY)
    passport.concerned = True
    passport.save()
    concerned = completeness(procedure, on=DAY)

    assert (unknown.total, [item.kind for item in unknown.missing]) == (1, ["rib"])
    assert unknown.conditional == [passport]
    assert (concerned.total, [item.kind for item in concerned.missing]) == (2, ["rib", "passeport"])
    assert concerned.conditional == []


def test_a_paper_of_a_situation_brought_without_a_word_does_not_count():
    """Taken from the person's papers, a passport « si vous en avez un » says she has one,
    not that the procedure needs it: expired, it asks for no renewal."""
    procedure = ProcedureFactory()
    RequiredDocumentFactory(
        procedure=procedure,
        kind="passeport",
        condition="si vous en avez un",
        conditional=True,
        document=DocumentFactory(
            person=procedure.person, kind="passeport", expires_on=datetime.date(2026, 1, 1)
        ),
    )

    result = completeness(procedure, on=DAY)

    assert (result.total, result.expired, result.is_complete) == (0, [], True)
    assert missing_in_plain_words(result) == [
        "Selon la situation de la personne, peut-être : passeport."
    ]


def test_a_group_of_three_counts_once_and_one_of_them_is_enough():
    procedure = ProcedureFactory()
    lines = [
        RequiredDocumentFactory(procedure=procedure, kind=kind, group="identite")
        for kind in ("passeport", "cni", "acte_naissance")
    ]

    nothing = completeness(procedure, on=DAY)
    lines[2].document = DocumentFactory(person=procedure.person, kind="acte_naissance")
    lines[2].save()
    one = completeness(procedure, on=DAY)

    assert (nothing.total, nothing.missing, nothing.alternatives) == (1, lines, [tuple(lines)])
    assert missing_in_plain_words(nothing) == [
        "Passeport ou carte nationale d'identité ou acte de naissance : une de ces pièces suffit."
    ]
    assert (one.total, one.satisfied, one.not_needed) == (1, 1, lines[:2])


def test_an_other_paper_is_named_by_what_the_catalogue_says_it_is():
    item = RequiredDocumentFactory(kind=DocumentKind.OTHER, condition="le timbre fiscal")

    sentences = missing_in_plain_words(completeness(item.procedure, on=DAY))

    assert sentences == ["Autre pièce : le timbre fiscal."]
