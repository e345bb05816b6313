"""A refused form puts the keyboard focus on its error summary, at the top of the form, and
each line of it leads to its field: a new file sent without a sharing category no longer
looks as if the button did nothing."""

import re

from django.urls import reverse
from playwright.sync_api import Page, expect

from relais.persons.models import Person
from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.www.browser.conftest import accept_charter, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep

NO_CATEGORY = "Cochez au moins une information que la personne accepte de partager."


def test_a_new_file_without_a_category_lands_on_the_summary_then_the_boxes(page: Page):
    sweep = Sweep(page)
    member = MembershipFactory()
    log_in_with_totp(page, member.user, TOTPDeviceFactory(user=member.user))
    accept_charter(page)

    sweep.visit(reverse("persons:create"))
    page.get_by_label("Prénom(s)").fill("Zoé")
    page.get_by_label("Nom de naissance").fill("Sanscat")
    page.get_by_label("Date de naissance").fill("1990-05-05")
    page.get_by_role("button", name="Créer le dossier").click()

    summary = page.get_by_role("alert").filter(has_text="Corrigez le formulaire")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text(NO_CATEGORY)
    sweep.check()
    page.keyboard.press("Tab")
    link = summary.get_by_role("link", name=re.compile(re.escape(NO_CATEGORY)))
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    first_box = page.get_by_label("Identité et coordonnées", exact=True)
    expect(first_box).to_be_focused()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SANSCAT Zoé")
    sweep.assert_clean()
    assert Person.objects.filter(birth_name="Sanscat").count() == 1
