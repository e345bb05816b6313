"""A security key as second factor, through Chromium's virtual authenticator (CDP)."""

from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from relais.accounts.models import WebAuthnDevice
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from tests.factories import MembershipFactory
from tests.www.browser.conftest import accept_charter, assert_accessible, at, submit_password


@pytest.fixture
def authenticator(context: BrowserContext, page: Page) -> Iterator[str]:
    """A USB security key plugged into the browser, that answers every request at once
    (user presence and verification simulated)."""
    session: CDPSession = context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    added = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield added["authenticatorId"]
    session.send("WebAuthn.removeVirtualAuthenticator", added)
    session.send("WebAuthn.disable")
    session.detach()


def test_a_professional_enrols_then_uses_a_security_key(page: Page, authenticator: str):
    membership = MembershipFactory()
    user = membership.user
    home = at(reverse("www:home"))

    submit_password(page, user.email)
    expect(page).to_have_url(at(reverse("accounts:second_factor_setup")))
    page.locator("#webauthn-register").click()

    expect(page).to_have_url(at(reverse("accounts:recovery_codes")))
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="J'ai noté mes codes, continuer").click()
    accept_charter(page)
    expect(page.locator(".fr-header__tools-links")).to_contain_text(membership.organisation.name)

    key = WebAuthnDevice.objects.get(user=user)
    assert key.confirmed
    enrolled_count = key.sign_count

    page.locator(".fr-header__tools-links").get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(at(reverse("accounts:login")))

    submit_password(page, user.email)
    expect(page).to_have_url(at(reverse("accounts:second_factor")))
    button = page.locator("#webauthn-authenticate")
    expect(button).to_be_visible()
    assert_accessible(page)
    button.click()

    expect(page).to_have_url(home)
    expect(page.locator(".fr-header__tools-links")).to_contain_text(membership.organisation.name)

    key.refresh_from_db()
    assert key.last_used_at is not None
    assert key.sign_count > enrolled_count
    events = AuditEvent.objects.filter(actor_id=user.pk)
    enrolled = events.get(action=AuditAction.SECOND_FACTOR_ENROLLED)
    assert enrolled.details == {"type": "cle_securite"}
    verified = events.get(action=AuditAction.SECOND_FACTOR_VERIFIED)
    assert verified.details == {"type": "cle_securite"}
    assert events.filter(action=AuditAction.LOGIN).count() == 2
    assert events.filter(action=AuditAction.LOGOUT).count() == 1
