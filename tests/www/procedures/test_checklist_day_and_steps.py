"""The procedure's page where the checklist's day, the steps kept and the refused posts
meet; the people and the procedure come from this folder's conftest."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from relais.procedures.measures import add_months
from relais.procedures.models import ProcedureStatus
from relais.procedures.services import procedure_open
from tests.procedures.factories import DocumentFactory, ProcedureTypeFactory
from tests.www.procedures.conftest import actor_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def procedure_type():
    return ProcedureTypeFactory(required_documents=[{"kind": "cni", "condition": ""}])


@pytest.fixture
def procedure(person, referent, procedure_type):
    return procedure_open(
        person=person,
        procedure_type=procedure_type,
        organisation=referent.organisation,
        by=actor_of(referent),
        requested_on=timezone.localdate() - datetime.timedelta(days=30),
    )


def _detail(procedure):
    return reverse("procedures:detail", args=[procedure.person_id, procedure.pk])


def test_it_shows_a_document_brought_after_the_submission_as_missing_on_that_day(
    referent_client, procedure, person
):
    submitted_on = timezone.localdate() - datetime.timedelta(days=10)
    procedure.status = ProcedureStatus.AWAITING
    procedure.submitted_on = submitted_on
    procedure.save()
    procedure.checklist.update(
        document=DocumentFactory(person=person, issued_on=submitted_on + datetime.timedelta(1))
    )

    text = referent_client.get(_detail(procedure)).content.decode()

    assert "0 % des pièces réunies" in text
    assert f"délivrée ou déposée après le {submitted_on:%d/%m/%Y}" in text
    assert 'fr-badge--warning">manquante' in text


def test_it_shows_the_steps_the_procedure_was_opened_with(referent_client, procedure):
    procedure.procedure_type.steps = ["Une étape ajoutée depuis.", "Une autre."]
    procedure.procedure_type.save()

    text = referent_client.get(_detail(procedure)).content.decode()
    recorded = referent_client.post(
        reverse("procedures:step", args=[procedure.person_id, procedure.pk, 2]),
        {"etape-2-autonomy": "avec", "etape-2-done_on": timezone.localdate().isoformat()},
    )

    assert "Remplissez le formulaire en ligne." in text
    assert "Une étape ajoutée depuis." not in text
    assert recorded.status_code == 302
    assert procedure.steps_done.get().step_index == 2


def test_a_double_click_on_open_opens_the_procedure_once(referent_client, person):
    procedure_type = ProcedureTypeFactory()
    url = reverse("procedures:open", args=[person.pk])

    first = referent_client.post(url, {"procedure_type": procedure_type.pk})
    second = referent_client.post(url, {"procedure_type": procedure_type.pk})

    assert first.status_code == 302
    assert second.status_code == 400
    assert "Cette démarche vient d&#x27;être ouverte." in second.content.decode()
    assert person.procedures.count() == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("oui", "Cette pièce est demandée dans tous les cas"),
        ("peut-etre", "Indiquez si la personne est concernée par cette pièce."),
    ],
)
def test_a_refused_not_applicable_comes_back_with_its_error(
    referent_client, procedure, value, message
):
    item = procedure.checklist.get()

    response = referent_client.post(
        reverse("procedures:not_applicable", args=[procedure.person_id, procedure.pk, item.pk]),
        {"not_applicable": value},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert "fr-alert--error" in response.content.decode()
    item.refresh_from_db()
    assert not item.not_applicable


def _options(page, line):
    """The labels the picker of `line` offers."""
    select = page[page.index(f'name="piece-{line.pk}-document"') :]
    select = select[: select.index("</select>")]
    return [option.split(">", 1)[1] for option in select.split("</option>")[:-1]]


def test_the_picker_says_what_the_line_will_judge_of_each_paper(referent_client, person, referent):
    """Under « de moins de 3 mois », a paper issued 5 months ago is too old whatever its
    own validity; without a freshness rule, a paper counts by its own validity."""
    today = timezone.localdate()
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(
            required_documents=[
                {
                    "kind": "justificatif_domicile",
                    "condition": "de moins de 3 mois",
                    "fresh_months": 3,
                },
                {"kind": "cni", "condition": ""},
            ]
        ),
        organisation=referent.organisation,
        by=actor_of(referent),
    )
    old, recent = (add_months(today, -5), add_months(today, -1))
    DocumentFactory(
        person=person,
        kind="justificatif_domicile",
        title="facture",
        issued_on=old,
        expires_on=add_months(old, 12),
    )
    DocumentFactory(
        person=person, kind="justificatif_domicile", title="quittance", issued_on=recent
    )
    DocumentFactory(
        person=person,
        kind="cni",
        issued_on=add_months(today, -200),
        expires_on=today - datetime.timedelta(days=1),
    )
    address, identity = procedure.checklist.order_by("pk")

    page = referent_client.get(_detail(procedure)).content.decode()

    assert _options(page, address)[1:] == [
        f"Justificatif de domicile — quittance, délivrée le {recent:%d/%m/%Y} : convient pour "
        "cette ligne (de moins de 3 mois)",
        f"Justificatif de domicile — facture, délivrée le {old:%d/%m/%Y} : trop ancienne pour "
        "cette ligne (de moins de 3 mois)",
    ]
    assert _options(page, identity)[1:] == [
        f"Carte nationale d&#x27;identité, délivrée le {add_months(today, -200):%d/%m/%Y}, "
        f"valable jusqu&#x27;au {today - datetime.timedelta(days=1):%d/%m/%Y} : plus valable "
        f"le {today:%d/%m/%Y}"
    ]


def test_the_picker_of_a_submitted_procedure_judges_on_the_deposit_day(
    referent_client, procedure, person
):
    deposit = timezone.localdate() - datetime.timedelta(days=10)
    procedure.submitted_on = procedure.taken_on = deposit
    procedure.status = ProcedureStatus.SUBMITTED
    procedure.save()
    DocumentFactory(person=person, kind="cni", issued_on=deposit + datetime.timedelta(days=2))
    line = procedure.checklist.get()

    page = referent_client.get(_detail(procedure)).content.decode()

    assert _options(page, line)[1].endswith(f"délivrée ou déposée après le {deposit:%d/%m/%Y}")
