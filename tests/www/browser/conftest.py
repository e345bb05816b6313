"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live
server.

Every test in this folder is marked `browser` and runs with transactional database access
(the live server answers from another thread, so data must be committed to be seen).
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from axe_playwright_python.sync_playwright import Axe, AxeResults
from django.urls import reverse
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from tests.conftest import totp_now
from tests.factories import PASSWORD

# Playwright's sync API keeps an asyncio event loop running in the main thread; Django
# would then refuse ORM calls made by the tests themselves.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BLOCKING_IMPACTS = {"serious", "critical"}
AXE_OPTIONS = {"resultTypes": ["violations"]}
HERE = Path(__file__).resolve().parent

expect.set_options(timeout=5_000)
_axe = Axe()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        message = (
            f"{CHROMIUM} est absent : installez le paquet Debian « chromium » pour lancer "
            "les tests navigateur (make test l'installe quand il tourne en root)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def server_url(live_server) -> str:
    """The live server's address with the host name `localhost`: browsers refuse an IP
    address as WebAuthn relying party."""
    parts = urlsplit(live_server.url)
    return urlunsplit(parts._replace(netloc=f"localhost:{parts.port}"))


@pytest.fixture(scope="session")
def _shared_context(browser: Browser, server_url: str) -> Iterator[BrowserContext]:
    """One context for the session keeps DSFR's style sheets, scripts and fonts in the
    HTTP cache; axe-core is preloaded in every page (outside the page's CSP)."""
    ctx = browser.new_context(base_url=server_url, locale="fr-FR", timezone_id="Europe/Paris")
    ctx.set_default_timeout(10_000)
    ctx.add_init_script(script=_axe.axe_script)
    yield ctx
    ctx.close()


@pytest.fixture
def context(_shared_context: BrowserContext) -> BrowserContext:
    """The browser as a new visitor: no cookie, hence no session, from a previous test."""
    _shared_context.clear_cookies()
    return _shared_context


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that records script errors and failed requests, checked at teardown: a page
    broken by the Content-Security-Policy or a missing static file fails its test."""
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"erreur JavaScript : {error}"))

    def on_console(message: ConsoleMessage) -> None:
        # Chromium reports every 4xx answer, even an expected one (a refused form, an
        # invalid link): failed static files are caught below from the responses.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console : {message.text}")

    tab.on("console", on_console)
    tab.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status} : {response.url}")
            if response.status >= 400 and "/static/" in response.url
            else None
        ),
    )
    yield tab
    tab.close()
    assert not problems, "\n".join(problems)


def axe_violations(page: Page) -> list[str]:
    """Readable lines for each serious or critical axe violation of the current page."""
    if page.evaluate("typeof window.axe === 'undefined'"):
        page.evaluate(_axe.axe_script)
    results = AxeResults(page.evaluate("options => axe.run(document, options)", AXE_OPTIONS))
    lines = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        lines.append(
            f"{page.url} — {violation['id']} ({violation['impact']}) : {violation['help']}"
        )
        for node in violation["nodes"][:5]:
            target = ", ".join(str(t) for t in node["target"])
            lines.append(f"    {target} — {node.get('failureSummary', '').splitlines()[-1]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … et {len(violation['nodes']) - 5} autre(s) élément(s)")
    return lines


def assert_accessible(page: Page) -> None:
    lines = axe_violations(page)
    assert not lines, "Anomalies d'accessibilité graves ou critiques :\n" + "\n".join(lines)


def at(path: str) -> re.Pattern[str]:
    """Matches the page's URL when its path is `path`, whatever the host, query and
    fragment (a browser keeps the fragment across a redirect, e.g. after a skip link)."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?[^#]*)?(#.*)?$")


def submit_password(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()


def log_in_with_totp(page: Page, user, device) -> None:
    """The real login: password form, then the code of the user's authenticator. The page
    is left where Relais leads next (charter, choice of organisation or home page).

    django-otp refuses a code already used by this device (`last_t`): before a second
    login of the same user within 30 seconds, set `device.last_t = -1` and save it.
    """
    submit_password(page, user.email)
    expect(page).to_have_url(at(reverse("accounts:second_factor")))
    device.refresh_from_db()
    page.locator("input[name=code]").fill(totp_now(device))
    page.get_by_role("button", name="Valider").click()
    expect(page).not_to_have_url(at(reverse("accounts:second_factor")))


CHARTER_ACCEPT = "J'ai lu la charte et je m'engage à la respecter"


def accept_charter(page: Page) -> None:
    """A professional acting for an organisation accepts the charte d'usages before any
    other page; acceptance leads to the home page."""
    expect(page).to_have_url(at(reverse("consent:charter")))
    page.get_by_role("button", name=CHARTER_ACCEPT).click()
    expect(page).to_have_url(at(reverse("www:home")))
