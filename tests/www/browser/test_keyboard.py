"""The login flow with the keyboard alone: no click, only Tab, Shift+Tab and Enter."""

from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.conftest import totp_now
from tests.factories import PASSWORD, MembershipFactory, TOTPDeviceFactory
from tests.www.browser.conftest import CHARTER_ACCEPT, at

# A keyboard user reaches a page's main action in a few presses once in the content.
MAX_TABS_IN_CONTENT = 5


def focused(page: Page):
    return page.locator("*:focus")


def check_skip_link_comes_first(page: Page) -> None:
    """On a page without autofocus, the first Tab reaches the « Contenu » skip link, and
    Enter moves the focus to the main content."""
    page.keyboard.press("Tab")
    expect(focused(page)).to_have_text("Contenu")
    expect(focused(page)).to_have_attribute("href", "#contenu")
    page.keyboard.press("Enter")
    expect(focused(page)).to_have_id("contenu")


def test_a_professional_logs_in_with_the_keyboard_only(page: Page):
    membership = MembershipFactory()
    user = membership.user
    device = TOTPDeviceFactory(user=user)

    page.goto(reverse("www:accessibility"))
    check_skip_link_comes_first(page)

    # From the main content, back to the header's link to the home page, which leads
    # an anonymous visitor to the login page.
    page.keyboard.press("Shift+Tab")
    expect(focused(page)).to_have_attribute("href", reverse("www:home"))
    page.keyboard.press("Enter")

    expect(page).to_have_url(at(reverse("accounts:login")))
    email = page.get_by_label("Adresse électronique")
    expect(email).to_be_focused()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Se connecter")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(at(reverse("accounts:second_factor")))
    expect(page.locator("input[name=code]")).to_be_focused()
    page.keyboard.type(totp_now(device))
    page.keyboard.press("Enter")

    # The charte d'usages comes first: skip to the content, then Tab to its button.
    expect(page).to_have_url(at(reverse("consent:charter")))
    check_skip_link_comes_first(page)
    accept = page.get_by_role("button", name=CHARTER_ACCEPT)
    for _ in range(MAX_TABS_IN_CONTENT):
        page.keyboard.press("Tab")
        if accept.evaluate("button => button === document.activeElement"):
            break
    expect(accept).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(at(reverse("www:home")))
    expect(page.locator(".fr-header__tools-links")).to_contain_text(membership.organisation.name)
    # Landed on "/#contenu" (the fragment survives the redirect): load the page afresh to
    # check the skip links of a signed-in professional too.
    page.goto(reverse("www:home"))
    check_skip_link_comes_first(page)
