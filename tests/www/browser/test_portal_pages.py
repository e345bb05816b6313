"""The person's space in a real browser, on a phone and on a computer: the person
withdraws an agreement and the professional loses the file at once; sees a professional's
visit; downloads the whole file; listens to a page with the keyboard."""

import io
import json
import zipfile

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from relais.portability.snapshot import JSON_NAME, SUMMARY_NAME
from tests.factories import TOTPDeviceFactory
from tests.portability.builders import full_file
from tests.portal.helpers import log_in_person
from tests.www.browser.conftest import accept_charter, assert_accessible, at, log_in_with_totp

PHONE_SIZE = {"width": 360, "height": 740}
DESKTOP_SIZE = {"width": 1280, "height": 800}
SIZES = pytest.mark.parametrize("size", [PHONE_SIZE, DESKTOP_SIZE], ids=["telephone", "ordinateur"])

# A speech synthesis that records what it is asked to say and speaks until cancelled:
# headless Chromium has no voice, and the button's states must not depend on one.
FAKE_SPEECH = """
(() => {
  const spoken = [];
  let speaking = false;
  Object.defineProperty(window, "speechSynthesis", {
    configurable: true,
    value: {
      get speaking() { return speaking; },
      get pending() { return false; },
      getVoices: () => [],
      speak: (utterance) => {
        speaking = true;
        spoken.push({ text: utterance.text, lang: utterance.lang });
      },
      cancel: () => { speaking = false; },
    },
  });
  window.__spoken = spoken;
})();
"""
NO_SPEECH = "delete window.speechSynthesis; delete Window.prototype.speechSynthesis;"


def person_context(browser: Browser, server_url: str, account, size, *, script: str = ""):
    """A browser of the person's own, holding a real person session."""
    context = browser.new_context(
        base_url=server_url, viewport=size, locale="fr-FR", timezone_id="Europe/Paris"
    )
    if script:
        context.add_init_script(script=script)
    client = log_in_person(Client(), account)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": server_url,
            }
        ]
    )
    return context


@pytest.fixture
def lea():
    return full_file()


@SIZES
def test_a_withdrawn_agreement_closes_the_file_to_the_professional(
    page: Page, browser: Browser, server_url: str, lea, size
):
    log_in_with_totp(page, lea.referent.user, TOTPDeviceFactory(user=lea.referent.user))
    accept_charter(page)
    file_url = reverse("persons:file", args=[lea.person.pk])
    assert page.goto(file_url).status == 200

    context = person_context(browser, server_url, lea.account, size)
    own = context.new_page()
    try:
        own.goto(reverse("portal:home"))
        own.get_by_role("link", name="Qui peut voir mon dossier").click()
        expect(own).to_have_url(at(reverse("portal:consents")))
        expect(own.get_by_role("heading", name="CCAS de Calais")).to_be_visible()
        assert_accessible(own)
        own.get_by_role("button", name="Retirer mon accord — CCAS de Calais").click()
        expect(own.get_by_text("cette structure ne peut plus voir votre dossier")).to_be_visible()
        expect(own.get_by_role("heading", name="CCAS de Calais")).to_have_count(0)
        assert_accessible(own)
    finally:
        context.close()

    assert page.goto(file_url).status == 404


@SIZES
def test_the_person_sees_a_professionals_visit(
    page: Page, browser: Browser, server_url: str, lea, size
):
    log_in_with_totp(page, lea.referent.user, TOTPDeviceFactory(user=lea.referent.user))
    accept_charter(page)
    page.goto(reverse("persons:section", args=[lea.person.pk, "ressources"]))

    context = person_context(browser, server_url, lea.account, size)
    own = context.new_page()
    try:
        own.goto(reverse("portal:home"))
        own.get_by_role("link", name="Qui a regardé mon dossier", exact=True).click()
        first = own.locator(".relais-event").first
        expect(first).to_contain_text("CCAS de Calais")
        # On one line with the reads the same referent made of Léa's file just before.
        expect(first).to_contain_text("A regardé")
        expect(first).to_contain_text("Mon argent")
        expect(
            own.get_by_text("Hospitalisation en urgence, le logement doit être protégé.").first
        ).to_be_visible()
        assert_accessible(own)
    finally:
        context.close()


@SIZES
def test_the_person_downloads_the_whole_file(browser: Browser, server_url: str, lea, size):
    context = person_context(browser, server_url, lea.account, size)
    own = context.new_page()
    try:
        own.goto(reverse("portal:home"))
        own.get_by_role("link", name="Télécharger mes données").click()
        assert_accessible(own)
        with own.expect_download() as download:
            own.get_by_role("button", name="Télécharger mes données").click()
        assert download.value.suggested_filename.startswith("relais-export-")
        content = open(download.value.path(), "rb").read()  # noqa: SIM115
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            data = json.loads(archive.read(JSON_NAME))
            summary = archive.read(SUMMARY_NAME).decode()
        # The summary, opened from the ZIP on the same screen, is read without going sideways.
        opened = context.new_page()
        opened.set_content(summary)
        assert opened.evaluate("document.documentElement.scrollWidth") <= size["width"]
        assert_accessible(opened)
    finally:
        context.close()

    for section in (
        "identity",
        "household",
        "resources",
        "housing",
        "employment",
        "social_coverage",
        "health",
        "notes",
        "consents",
        "blocks",
        "procedures",
        "documents",
        "access_history",
    ):
        assert data[section], section
    assert {document["id"] for document in data["documents"]} == {
        document.pk for document in lea.documents.values()
    }
    assert {document["file"] for document in data["documents"]} <= names
    assert "Demander le RSA" in summary


def test_the_listen_button_reads_the_page_with_the_keyboard(browser: Browser, server_url: str, lea):
    context = person_context(browser, server_url, lea.account, DESKTOP_SIZE, script=FAKE_SPEECH)
    own = context.new_page()
    try:
        own.goto(reverse("portal:file"))
        listen = own.get_by_role("button", name="Écouter")
        expect(listen).to_be_visible()
        for _ in range(40):
            if own.evaluate("document.activeElement && document.activeElement.id") == (
                "relais-ecouter"
            ):
                break
            own.keyboard.press("Tab")
        expect(listen).to_be_focused()
        own.keyboard.press("Enter")

        stop = own.get_by_role("button", name="Arrêter")
        expect(stop).to_have_attribute("aria-pressed", "true")
        spoken = own.evaluate("window.__spoken")
        assert spoken[0]["lang"] == "fr-FR"
        assert "Mon logement" in spoken[0]["text"]
        assert "Écouter" not in spoken[0]["text"]
        own.keyboard.press("Enter")
        expect(own.get_by_role("button", name="Écouter")).to_have_attribute("aria-pressed", "false")

        own.locator("button[name=language][value=ar]").click()
        expect(own.locator("html")).to_have_attribute("dir", "rtl")
        before = len(own.evaluate("window.__spoken"))
        own.get_by_role("button", name="استمع").click()
        spoken = own.evaluate("window.__spoken")[before:]
        assert spoken[0]["lang"] == "ar-SA"
        # The notes are written in French by the professionals: read with a French voice.
        assert {"lang": "fr-FR", "text": "Rendez-vous CAF pris pour le RSA."} in spoken

        # The catalogue is written in French: on an Arabic page, its text gets a French voice.
        own.goto(reverse("portal:procedures"))
        own.get_by_role("button", name="استمع").click()
        spoken = own.evaluate("window.__spoken")
        assert spoken[0]["lang"] == "ar-SA"
        assert {"lang": "fr-FR", "text": "Demander le RSA"} in spoken
    finally:
        context.close()


def test_the_listen_button_hides_without_speech_synthesis(browser: Browser, server_url: str, lea):
    context = person_context(browser, server_url, lea.account, PHONE_SIZE, script=NO_SPEECH)
    own = context.new_page()
    try:
        own.goto(reverse("portal:home"))
        expect(own.locator("#relais-ecouter")).to_be_hidden()
        expect(own.get_by_role("heading", level=1)).to_contain_text("Bonjour Léa")
    finally:
        context.close()
