"""In a real browser, on a phone and with the keyboard: the person opens the easy-to-read
guide of their procedure from « Mes démarches », and removes a paper they added by
mistake."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, expect

from relais.documents.models import Document
from tests.portability.builders import full_file, pdf_bytes
from tests.portal.helpers import log_in_person
from tests.www.browser.conftest import assert_accessible, at
from tests.www.browser.test_portal_pages import person_context

PHONE_SIZE = {"width": 375, "height": 740}


@pytest.fixture
def lea():
    return full_file()


def test_the_person_opens_the_guide_of_her_procedure_with_the_keyboard(
    browser: Browser, server_url: str, lea
):
    context = person_context(browser, server_url, lea.account, PHONE_SIZE)
    own = context.new_page()
    try:
        own.goto(reverse("portal:procedures"))
        link = own.get_by_role("link", name="Le guide facile à lire : Demander le RSA")
        link.focus()
        own.keyboard.press("Enter")
        expect(own).to_have_url(at(reverse("portal:procedure_guide", args=[lea.procedure.pk])))
        expect(own.get_by_role("heading", level=1)).to_have_text("Demander le RSA")
        expect(own.get_by_role("button", name="Imprimer")).to_be_visible()
        assert own.evaluate("document.documentElement.scrollWidth") <= PHONE_SIZE["width"]
        assert_accessible(own)
    finally:
        context.close()


def test_the_person_removes_a_paper_she_added_with_the_keyboard(
    browser: Browser, server_url: str, lea
):
    handle = io.BytesIO(pdf_bytes())
    handle.name = "photo.pdf"
    log_in_person(Client(), lea.account).post(
        reverse("portal:document_add"), {"kind": "avis_imposition", "files": handle}
    )
    paper = Document.objects.get(person=lea.person, kind="avis_imposition")
    context = person_context(browser, server_url, lea.account, PHONE_SIZE)
    own = context.new_page()
    try:
        own.goto(reverse("portal:documents"))
        assert_accessible(own)
        own.get_by_role("link", name="Enlever Avis d'impôt").focus()
        own.keyboard.press("Enter")
        expect(own).to_have_url(at(reverse("portal:document_remove", args=[paper.pk])))
        expect(own.get_by_role("heading", level=1)).to_have_text("Voulez-vous enlever ce papier ?")
        assert own.evaluate("document.documentElement.scrollWidth") <= PHONE_SIZE["width"]
        assert_accessible(own)
        own.get_by_role("button", name="Oui, enlever").focus()
        own.keyboard.press("Enter")
        expect(own).to_have_url(at(reverse("portal:documents")))
        expect(own.get_by_text("C'est fait : le papier est enlevé.")).to_be_visible()
        expect(own.get_by_role("link", name="Enlever Avis d'impôt")).to_have_count(0)
    finally:
        context.close()
