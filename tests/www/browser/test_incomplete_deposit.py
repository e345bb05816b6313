"""A deposit with papers missing is asked first, in a real browser: the question names
the missing papers, « Compléter d'abord » goes back to the checklist, « Déposer quand
même » records the deposit."""

import re

from django.urls import reverse
from playwright.sync_api import Page, expect

from relais.audit.context import SYSTEM
from relais.procedures.models import Procedure, ProcedureStatus
from relais.procedures.services import procedure_open, procedure_transition
from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import ProcedureTypeFactory
from tests.www.browser.conftest import accept_charter, at, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep
from tests.www.procedures.conftest import actor_of


def test_an_incomplete_deposit_is_asked_first(page: Page):
    sweep = Sweep(page)
    member = MembershipFactory()
    person = PersonFactory()
    ConsentFactory(person=person, organisation=member.organisation)
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(title="Demander la prime d'activité"),
        organisation=member.organisation,
        by=actor_of(member),
    )
    procedure_transition(procedure=procedure, to_status="en_cours", by=SYSTEM)
    detail = reverse("procedures:detail", args=[person.pk, procedure.pk])
    log_in_with_totp(page, member.user, TOTPDeviceFactory(user=member.user))
    accept_charter(page)
    sweep.visit(detail)

    page.get_by_role("button", name="Passer à « Déposée »").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Demander la prime d'activité : déposer un dossier incomplet ?"
    )
    expect(page.get_by_text("Carte nationale d'identité.", exact=True)).to_be_visible()
    sweep.check()
    page.get_by_role("link", name="Compléter d'abord").click()
    expect(page).to_have_url(at(detail))
    expect(page.get_by_role("heading", name="Pièces à fournir")).to_be_in_viewport()
    assert Procedure.objects.get(pk=procedure.pk).status == ProcedureStatus.IN_PROGRESS

    page.get_by_role("button", name="Passer à « Déposée »").click()
    page.get_by_role("button", name="Déposer quand même").click()
    expect(page.get_by_text("La démarche est passée à l'état « Déposée ».")).to_be_visible()
    log = page.locator("section", has=page.get_by_role("heading", name="Historique de la démarche"))
    expect(log.get_by_text(re.compile(r"Pièces valables au dépôt : 0 sur 2"))).to_be_visible()
    sweep.assert_clean()
    assert Procedure.objects.get(pk=procedure.pk).status == ProcedureStatus.SUBMITTED
