"""A deactivated member re-invited who forgot their password chooses a new one on the
page of the invitation, then confirms their identity with the second factor."""

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.www.browser.conftest import at
from tests.www.browser.test_accessibility import Sweep, invite


def test_a_re_invited_member_who_forgot_the_password_chooses_a_new_one(page: Page):
    sweep = Sweep(page)
    manager = MembershipFactory(manager=True)
    deactivated = UserFactory(is_active=False)
    MembershipFactory(user=deactivated, ended_on=timezone.localdate())
    TOTPDeviceFactory(user=deactivated)
    _, token = invite(manager.organisation, manager.user, deactivated.email)

    sweep.visit(reverse("accounts:invitation", args=[token]))
    page.get_by_role("link", name="Mot de passe oublié ? Choisissez-en un nouveau").click()
    sweep.check()
    sweep.submit_empty("Réactiver mon compte avec ce mot de passe")
    page.locator("input[name=password1]").fill("girafe-orbite-cerfeuil-trombone")
    page.locator("input[name=password2]").fill("girafe-orbite-cerfeuil-trombone")
    page.get_by_role("button", name="Réactiver mon compte avec ce mot de passe").click()

    expect(page).to_have_url(at(reverse("accounts:second_factor")))
    expect(
        page.get_by_text("Votre compte est réactivé avec votre nouveau mot de passe")
    ).to_be_visible()
    sweep.assert_clean()
    deactivated.refresh_from_db()
    assert deactivated.is_active
