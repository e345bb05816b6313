"""A refused form of the procedure's page — a change of state, a step — opens the page on
the summary of its errors, which has the keyboard focus, whichever form it was: the form
may stand thousands of pixels down the page. Its link leads to the field to correct."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from relais.procedures.models import Procedure, ProcedureStatus, ProcedureStep
from relais.procedures.services import procedure_open
from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import ProcedureTypeFactory
from tests.www.browser.conftest import accept_charter, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep
from tests.www.procedures.conftest import actor_of

FUTURE = "Cette date ne peut pas être dans le futur."
NO_REASON = "Dites pourquoi l'étape a été faite à la place de la personne."


def _summary(page: Page):
    return page.get_by_role("alert").filter(has_text="Corrigez le formulaire")


def test_a_refused_move_and_a_refused_step_land_on_their_summary(page: Page):
    sweep = Sweep(page)
    member = MembershipFactory()
    person = PersonFactory()
    ConsentFactory(person=person, organisation=member.organisation)
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(),
        organisation=member.organisation,
        by=actor_of(member),
    )
    log_in_with_totp(page, member.user, TOTPDeviceFactory(user=member.user))
    accept_charter(page)
    sweep.visit(reverse("procedures:detail", args=[person.pk, procedure.pk]))
    tomorrow = timezone.localdate() + timedelta(days=1)

    # A move dated tomorrow.
    page.get_by_label("Date du changement").fill(tomorrow.isoformat())
    page.get_by_role("button", name="Passer à « En cours »").click()

    summary = _summary(page)
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("Le changement d'état n'est pas enregistré")
    expect(page).to_have_title(re.compile(r"^Erreur — "))
    sweep.check()
    page.keyboard.press("Tab")
    link = summary.get_by_role("link", name=re.compile(re.escape(f"Date du changement : {FUTURE}")))
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    day = page.get_by_label("Date du changement")
    expect(day).to_be_focused()
    expect(day).to_be_in_viewport()
    day.fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Passer à « En cours »").click()
    expect(page.get_by_text("La démarche est passée à l'état « En cours ».")).to_be_visible()
    expect(page).not_to_have_title(re.compile("Erreur"))

    # A step done in place of the person, without saying why: its form is far down.
    page.get_by_role("button", name="Noter comment l'étape 2 a été faite").click()
    step = page.locator("#etape-1")
    step.get_by_text("À la place de la personne", exact=True).click()
    page.get_by_role("button", name="Enregistrer l'étape 2").click()

    summary = _summary(page)
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("L'étape 2 n'est pas enregistrée")
    expect(page).to_have_title(re.compile(r"^Erreur — "))
    sweep.check()
    summary.get_by_role("link", name=re.compile(re.escape(NO_REASON))).click()
    reason = step.get_by_label("Pourquoi à la place de la personne")
    expect(reason).to_be_focused()
    expect(reason).to_be_in_viewport()
    reason.fill("Elle n'a pas encore de compte sur le site.")
    page.get_by_role("button", name="Enregistrer l'étape 2").click()
    expect(page.get_by_text("L'étape 2 est enregistrée.")).to_be_visible()
    sweep.assert_clean()

    procedure = Procedure.objects.get(pk=procedure.pk)
    assert procedure.status == ProcedureStatus.IN_PROGRESS
    assert procedure.taken_on == timezone.localdate()
    recorded = ProcedureStep.objects.get(procedure=procedure)
    assert (recorded.step_index, recorded.reason) == (
        1,
        "Elle n'a pas encore de compte sur le site.",
    )
