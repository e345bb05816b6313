"""What a professional sent when the session had ended is not saved: the login page says
so, and after logging in again they are back on the page of the form. An address that
only receives a form, opened directly, says so too."""

from datetime import timedelta

from django.urls import reverse
from playwright.sync_api import Page, expect

from relais.persons.models import Note
from tests.factories import MembershipFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.www.browser.conftest import accept_charter, assert_accessible, at, log_in_with_totp


def test_a_note_sent_after_the_timeout_is_said_lost_and_the_page_comes_back(page: Page, settings):
    member = MembershipFactory()
    device = TOTPDeviceFactory(user=member.user)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=member.organisation)
    notes = reverse("persons:section", args=[person.pk, "notes"])
    log_in_with_totp(page, member.user, device)
    accept_charter(page)
    page.goto(notes)
    page.get_by_label("Note de suivi").fill("Entretien long : point sur les droits CAF.")
    timeout = settings.RELAIS_IDLE_TIMEOUT
    settings.RELAIS_IDLE_TIMEOUT = timedelta(0)

    page.get_by_role("button", name="Enregistrer la note").click()

    expect(page).to_have_url(at(reverse("accounts:login")))
    expect(page.get_by_text("ce que vous veniez d'envoyer n'a pas été enregistré")).to_be_visible()
    assert_accessible(page)
    settings.RELAIS_IDLE_TIMEOUT = timeout
    device.last_t = -1
    device.save()
    log_in_with_totp(page, member.user, device)
    expect(page).to_have_url(at(notes))
    expect(page.get_by_label("Note de suivi")).to_be_visible()
    assert not Note.objects.exists()


def test_a_form_address_opened_directly_says_what_it_is(page: Page):
    member = MembershipFactory()
    person = PersonFactory()
    ConsentFactory(person=person, organisation=member.organisation)
    log_in_with_totp(page, member.user, TOTPDeviceFactory(user=member.user))
    accept_charter(page)

    response = page.goto(reverse("persons:note_add", args=[person.pk]))

    assert response is not None and response.status == 405
    expect(page.get_by_role("heading", level=1)).to_have_text("Adresse d'un formulaire")
    assert_accessible(page)
