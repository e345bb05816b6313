"""The back button of a shared computer after logging out: the browser asks Relais for the
file again, and Relais sends to the login page, instead of showing the page it kept."""

from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.www.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    accept_charter,
    at,
    log_in_with_totp,
)


@pytest.fixture
def page_with_back_forward_cache(browser: Browser, server_url: str) -> Iterator[Page]:
    """A tab of a Chromium that keeps left pages whole to show them again on « Précédent »,
    as an ordinary Chromium does (Playwright turns that cache off by default)."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    context = chromium.new_context(base_url=server_url, locale="fr-FR")
    context.set_default_timeout(10_000)
    yield context.new_page()
    chromium.close()


def test_after_logout_the_back_button_shows_the_login_page_not_the_file(
    page_with_back_forward_cache: Page,
):
    page = page_with_back_forward_cache
    member = MembershipFactory()
    person = PersonFactory(first_names="Maëlle", birth_name="Dubreuil")
    ConsentFactory(person=person, organisation=member.organisation)
    log_in_with_totp(page, member.user, TOTPDeviceFactory(user=member.user))
    accept_charter(page)
    page.goto(reverse("persons:file", args=[person.pk]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("DUBREUIL Maëlle")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(at(reverse("accounts:login")))
    page.evaluate("history.back()")

    expect(page).to_have_url(at(reverse("accounts:login")))
    expect(page.get_by_text("Dubreuil")).to_have_count(0)
