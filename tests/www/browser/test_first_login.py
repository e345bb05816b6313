"""A professional's first login: password, enrolment of an authenticator app, recovery
codes, the charte d'usages, then the home page of their organisation."""

import base64
import time

from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory
from tests.www.browser.conftest import accept_charter, assert_accessible, at


def code_for_secret(secret: str) -> str:
    """What an authenticator app shows for a secret typed by hand."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_a_professional_enrols_an_authenticator_at_first_login(page: Page):
    membership = MembershipFactory()
    user = membership.user

    page.goto(reverse("accounts:login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion des professionnels")
    assert_accessible(page)
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page).to_have_url(at(reverse("accounts:second_factor_setup")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer le second facteur")
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code affiché par l'application").fill(code_for_secret(secret))
    page.get_by_role("button", name="Activer").click()

    expect(page).to_have_url(at(reverse("accounts:recovery_codes")))
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("button", name="J'ai noté mes codes, continuer").click()

    expect(page).to_have_url(at(reverse("consent:charter")))
    assert_accessible(page)
    accept_charter(page)
    expect(page.locator(".fr-header__tools-links")).to_contain_text(membership.organisation.name)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {user.first_name}")
    assert_accessible(page)

    assert TOTPDevice.objects.get(user=user).confirmed
    actions = set(AuditEvent.objects.filter(actor_id=user.pk).values_list("action", flat=True))
    assert {
        AuditAction.LOGIN,
        AuditAction.SECOND_FACTOR_ENROLLED,
        AuditAction.RECOVERY_CODES_GENERATED,
        AuditAction.CHARTER_ACCEPTED,
    } <= actions
    enrolled = AuditEvent.objects.get(actor_id=user.pk, action=AuditAction.SECOND_FACTOR_ENROLLED)
    assert enrolled.details == {"type": "totp"}
