"""The browser's Back from a file returns to the search's results, on the page they were
on, without « Confirmer le nouvel envoi du formulaire »; and the pages of the search and
the question before closing one's own access pass axe-core."""

from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.www.browser.conftest import accept_charter, at, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep


def test_back_from_a_file_shows_the_results_again(page: Page):
    sweep = Sweep(page)
    member = MembershipFactory()
    persons = [PersonFactory(birth_name="Martin", first_names=f"Damien{n:02d}") for n in range(23)]
    for person in persons:
        ConsentFactory(person=person, organisation=member.organisation)
    log_in_with_totp(page, member.user, TOTPDeviceFactory(user=member.user))
    accept_charter(page)
    page.goto(reverse("persons:list"))
    page.get_by_label("Nom, prénom, date de naissance").fill("martin")
    page.get_by_label("Nom, prénom, date de naissance").press("Enter")
    expect(page.get_by_role("link", name="MARTIN Damien00")).to_be_visible()
    assert "martin" not in page.url.casefold()
    sweep.check()

    page.get_by_role("link", name="Page suivante").click()
    expect(page.get_by_role("link", name="MARTIN Damien22")).to_be_visible()
    page.get_by_role("link", name="MARTIN Damien22").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MARTIN Damien22")
    page.go_back()

    expect(page.get_by_role("link", name="MARTIN Damien22")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("link", name="MARTIN Damien00")).to_be_visible()
    page.go_forward()
    page.go_forward()
    page.get_by_role("link", name="Résultats de la recherche").click()
    expect(page.get_by_role("link", name="MARTIN Damien22")).to_be_visible()

    page.goto(reverse("persons:consents", args=[persons[0].pk]))
    page.get_by_label("Structure à bloquer").select_option(
        label=f"{member.organisation.name} (votre structure)"
    )
    page.get_by_role("button", name="Bloquer cette structure").click()
    expect(page.get_by_text("Votre structure ne pourra plus ouvrir ce dossier.")).to_be_visible()
    sweep.check()
    page.get_by_role("button", name=f"Bloquer {member.organisation.name}").click()
    expect(page).to_have_url(at(reverse("persons:list")))
    expect(page.get_by_text("ne s'ouvre plus pour votre structure")).to_be_visible()
    sweep.assert_clean()
