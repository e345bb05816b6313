"""A long unbroken string typed into a free-text field (a pasted link as a break-glass
reason, a note) wraps inside its box on a 375 px phone: neither the person's pages nor the
professionals' history and journal scroll sideways, and their tables stay a few columns
wide rather than thousands of pixels."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser

from relais.consent.services import break_glass_open
from relais.persons.models import NoteVisibility
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import NoteFactory
from tests.portability.builders import actor, full_file, professional
from tests.portal.helpers import log_in_person

PHONE = {"width": 375, "height": 740}
# The reason field's maximum, with no space to break at.
PASTED_LINK = "https://exemple.fr/signalement/" + "a1b2c3" * 161
# Enough for a table of five or six short columns, far from one line of a 1,000-character link.
WIDEST_TABLE = 2 * PHONE["width"]


@pytest.fixture
def lea():
    lea = full_file()
    break_glass_open(
        person=lea.person,
        pro=professional(lea.stranger),
        reason=PASTED_LINK,
        by=actor(lea.stranger),
    )
    NoteFactory(
        person=lea.person,
        organisation=lea.referent.organisation,
        author=lea.referent.user,
        text=PASTED_LINK,
        visibility=NoteVisibility.SHARED,
    )
    return lea


def _widths(browser: Browser, server_url: str, client: Client, paths: list[str]) -> dict:
    """For each page: how wide it scrolls, how wide the screen is, its widest table."""
    context = browser.new_context(base_url=server_url, viewport=PHONE, locale="fr-FR")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server_url}]
    )
    tab = context.new_page()
    widths = {}
    for path in paths:
        tab.goto(path)
        assert PASTED_LINK[-30:] in tab.content()
        widths[path] = tab.evaluate(
            """() => [
                document.documentElement.scrollWidth,
                document.documentElement.clientWidth,
                Math.max(0, ...[...document.querySelectorAll("table")].map(t => t.scrollWidth)),
            ]"""
        )
    context.close()
    return widths


def _assert_nothing_scrolls_sideways(widths: dict) -> None:
    for path, (scrolled, screen, table) in widths.items():
        assert scrolled <= screen, f"{path} : la page défile sur {scrolled} px"
        assert table <= WIDEST_TABLE, f"{path} : un tableau large de {table} px"


def test_the_persons_pages_wrap_a_pasted_link(browser: Browser, server_url: str, lea):
    person = log_in_person(Client(), lea.account)

    widths = _widths(
        browser, server_url, person, [reverse("portal:history"), reverse("portal:file")]
    )

    _assert_nothing_scrolls_sideways(widths)


def test_the_professionals_history_and_journal_wrap_a_pasted_link(
    browser: Browser, server_url: str, lea
):
    referent = log_in(Client(), lea.referent.user, lea.referent)
    manager = MembershipFactory(organisation=lea.stranger.organisation, manager=True)
    person_id = lea.person.pk

    widths = _widths(
        browser,
        server_url,
        referent,
        [
            reverse("persons:history", args=[person_id]),
            reverse("persons:section", args=[person_id, "notes"]),
        ],
    ) | _widths(
        browser, server_url, log_in(Client(), manager.user, manager), [reverse("journal:list")]
    )

    _assert_nothing_scrolls_sideways(widths)
