"""On a narrow screen the tables of a procedure scroll sideways: a keyboard user reaches
each one with Tab and scrolls it with the arrow keys, and axe-core finds no scrollable
region out of the keyboard's reach (`scrollable-region-focusable`)."""

from django.urls import reverse
from playwright.sync_api import Page, expect

from relais.audit.context import SYSTEM
from relais.consent.charter import charter_publish, default_matrix
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from relais.procedures.services import procedure_open
from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import ProcedureTypeFactory
from tests.www.browser.conftest import accept_charter, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep
from tests.www.procedures.conftest import actor_of

PHONE = {"width": 320, "height": 740}
MAX_TABS = 60


def test_a_reader_scrolls_the_checklist_of_a_procedure_with_the_keyboard(page: Page):
    sweep = Sweep(page)
    levels = default_matrix()
    for category in (DataCategory.PROCEDURES, DataCategory.DOCUMENTS):
        levels[(OrganisationKind.CCAS, Profession.CESF, category)] = Level.READ
    charter_publish(levels=levels, summary="Démarches en lecture pour les CESF.", by=SYSTEM)
    referent = MembershipFactory()
    reader = MembershipFactory(profession=Profession.CESF)
    person = PersonFactory()
    for organisation in (referent.organisation, reader.organisation):
        ConsentFactory(person=person, organisation=organisation)
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(),
        organisation=referent.organisation,
        by=actor_of(referent),
    )
    log_in_with_totp(page, reader.user, TOTPDeviceFactory(user=reader.user))
    accept_charter(page)
    page.set_viewport_size(PHONE)

    sweep.visit(reverse("procedures:detail", args=[person.pk, procedure.pk]))
    checklist = page.get_by_role("table", name="Liste des pièces à fournir et pièces rattachées")
    assert checklist.evaluate("table => table.scrollWidth > table.clientWidth")
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if checklist.evaluate("table => table === document.activeElement"):
            break
    expect(checklist).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "table => table.scrollLeft > 0", arg=checklist.element_handle(), timeout=2_000
    )
    sweep.visit(reverse("procedures:person", args=[person.pk]))
    sweep.assert_clean()
