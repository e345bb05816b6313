"""A person's first login, on a phone and on a computer: the professional checks the
person's identity and opens the space in the person's file with a phone number only (no
e-mail), then the person, in a browser of their own, asks for a code, reads the SMS and
enters their space."""

import re

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.notifications import sms
from relais.portal.models import PersonAccount
from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.portal.factories import PERSON_PASSWORD, PersonAccountFactory
from tests.www.browser.conftest import accept_charter, assert_accessible, at, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep

PHONE_SIZE = {"width": 360, "height": 740}
DESKTOP_SIZE = {"width": 1280, "height": 800}


def check_identity(page: Page) -> None:
    """What the professional records with the person and their identity card in hand."""
    page.get_by_label("J'ai vérifié l'identité de la personne").check(force=True)
    page.get_by_label("Pièce présentée").select_option("cni")


def open_space_in_the_file(page: Page, person) -> PersonAccount:
    referent = MembershipFactory()
    ConsentFactory(person=person, organisation=referent.organisation)
    log_in_with_totp(page, referent.user, TOTPDeviceFactory(user=referent.user))
    accept_charter(page)

    page.goto(reverse("persons:file", args=[person.pk]))
    page.get_by_role("link", name="Espace personnel").click()
    expect(page).to_have_url(at(reverse("person_account:manage", args=[person.pk])))
    assert_accessible(page)
    check_identity(page)
    page.get_by_label("Téléphone portable de la personne").fill("06 12 34 56 78")
    page.get_by_role("button", name="Ouvrir l'espace et préparer la carte").click()

    expect(page.get_by_role("heading", name="Ma carte Relais")).to_be_visible()
    expect(page.locator("article ol").last.locator("li")).to_have_count(8)
    assert_accessible(page)
    account = PersonAccount.objects.get(person=person)
    assert account.email is None
    opened = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_OPENED, person_id=person.pk)
    assert opened.details["identity_document"] == "Carte nationale d'identité"
    return account


@pytest.mark.parametrize("size", [PHONE_SIZE, DESKTOP_SIZE], ids=["telephone", "ordinateur"])
def test_a_person_logs_in_for_the_first_time_with_a_code_received_by_sms(
    page: Page, browser: Browser, server_url: str, size
):
    person = PersonFactory(first_names="Nadia", birth_name="Haddad", email="")
    account = open_space_in_the_file(page, person)

    persons_browser = browser.new_context(
        base_url=server_url, viewport=size, locale="fr-FR", timezone_id="Europe/Paris"
    )
    own = persons_browser.new_page()
    try:
        own.goto(reverse("portal:login"))
        assert_accessible(own)
        own.get_by_role("link", name="Recevoir un code par SMS ou par e-mail").click()
        expect(own).to_have_url(at(reverse("portal:login_code")))
        assert_accessible(own)
        own.get_by_label("Votre numéro de portable").fill("06 12 34 56 78")
        own.get_by_role("button", name="Recevoir le code").click()

        expect(own).to_have_url(at(reverse("portal:login_code_check")))
        assert_accessible(own)
        (message,) = sms.outbox
        assert message.to == "+33612345678"
        assert "Nadia" not in message.body and "Haddad" not in message.body
        code = re.search(r"\b(\d{6})\b", message.body)[1]
        own.get_by_label("Le code reçu").fill(code)
        own.get_by_role("button", name="Entrer").click()

        expect(own).to_have_url(at(reverse("portal:home")))
        expect(own.get_by_role("heading", level=1)).to_be_visible()
        expect(own.get_by_role("button", name="Se déconnecter")).to_be_visible()
        assert_accessible(own)
        assert "612345678" not in own.url
    finally:
        persons_browser.close()

    assert AuditEvent.objects.filter(action=AuditAction.PERSON_LOGIN, person_id=person.pk).exists()
    account.refresh_from_db()
    assert account.last_login_at is not None


def test_the_space_pages_of_the_file_are_accessible(page: Page):
    sweep = Sweep(page)
    person = PersonFactory()
    referent = MembershipFactory()
    ConsentFactory(person=person, organisation=referent.organisation)
    log_in_with_totp(page, referent.user, TOTPDeviceFactory(user=referent.user))
    accept_charter(page)
    manage = reverse("person_account:manage", args=[person.pk])

    sweep.visit(manage)
    page.get_by_label("Téléphone portable de la personne").fill("01 44 55 66 77")
    page.get_by_role("button", name="Ouvrir l'espace et préparer la carte").click()
    expect(
        page.locator(".fr-error-text", has_text="Vérifiez d'abord l'identité de la personne.")
    ).to_be_visible()
    expect(
        page.locator(".fr-error-text", has_text="n'est pas un numéro de portable")
    ).to_be_visible()
    sweep.check()
    assert not PersonAccount.objects.filter(person=person).exists()
    check_identity(page)
    page.get_by_label("Téléphone portable de la personne").fill("06 12 34 56 78")
    page.get_by_role("button", name="Ouvrir l'espace et préparer la carte").click()
    expect(page.get_by_role("button", name="Imprimer la carte")).to_be_visible()
    sweep.check()
    sweep.visit(manage)
    sweep.visit(reverse("person_account:recover", args=[person.pk]))
    page.get_by_label("Imprimer une nouvelle carte").uncheck(force=True)
    sweep.submit_empty("Rétablir l'accès")
    sweep.assert_clean()


def test_a_form_sent_after_the_timeout_comes_back_after_logging_in_again(page: Page, settings):
    """The person's session ends while a form is open: the login page says what was sent is
    not saved, and the code by SMS, in its two steps, brings the person back to the form."""
    account = PersonAccountFactory(phone="+33612345678", with_password=True)
    password_page = reverse("portal:password_choose")
    page.goto(password_page)
    expect(page).to_have_url(at(reverse("portal:login")))
    page.get_by_role("link", name="Avec mon mot de passe").click()
    page.get_by_label("Votre numéro de portable").fill("06 12 34 56 78")
    page.get_by_label("Votre mot de passe").fill(PERSON_PASSWORD)
    page.get_by_role("button", name="Entrer").click()
    expect(page).to_have_url(at(password_page))
    page.get_by_label("Votre mot de passe actuel").fill(PERSON_PASSWORD)
    page.get_by_label("Votre nouveau mot de passe").fill("Soleil-62-nord")
    page.get_by_label("Tapez-le encore une fois").fill("Soleil-62-nord")
    timeout = settings.RELAIS_PORTAL_IDLE_TIMEOUT
    settings.RELAIS_PORTAL_IDLE_TIMEOUT = -1

    page.get_by_role("button", name="Enregistrer mon mot de passe").click()

    expect(page).to_have_url(at(reverse("portal:login")))
    expect(page.get_by_text("Ce que vous venez d'envoyer n'est pas enregistré.")).to_be_visible()
    assert_accessible(page)
    settings.RELAIS_PORTAL_IDLE_TIMEOUT = timeout
    page.get_by_role("link", name="Recevoir un code par SMS ou par e-mail").click()
    page.get_by_label("Votre numéro de portable").fill("06 12 34 56 78")
    page.get_by_role("button", name="Recevoir le code").click()
    expect(page).to_have_url(at(reverse("portal:login_code_check")))
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].body)[1]
    page.get_by_label("Le code reçu").fill(code)
    page.get_by_role("button", name="Entrer").click()
    expect(page).to_have_url(at(password_page))
    expect(page.get_by_label("Votre nouveau mot de passe")).to_be_visible()
    account.refresh_from_db()
    assert check_password(PERSON_PASSWORD, account.password)
