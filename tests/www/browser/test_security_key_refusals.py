"""A security key's answer the server refuses: the page says why in French, and the
refusal counts with the typed codes (Chromium's virtual authenticator, as in
test_security_key.py)."""

import json

from django.urls import reverse
from playwright.sync_api import Page, Route, expect

from relais.accounts.services import actor_of, second_factor_check
from relais.accounts.webauthn import LOCKED
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from tests.factories import MembershipFactory
from tests.www.browser.conftest import accept_charter, at, submit_password
from tests.www.browser.test_security_key import authenticator  # noqa: F401 (fixture)


def _enrol_a_key_then_log_in_again(page: Page):
    membership = MembershipFactory()
    submit_password(page, membership.user.email)
    page.locator("#webauthn-register").click()
    page.get_by_role("button", name="J'ai noté mes codes, continuer").click()
    accept_charter(page)
    page.locator(".fr-header__tools-links").get_by_role("button", name="Se déconnecter").click()
    submit_password(page, membership.user.email)
    expect(page).to_have_url(at(reverse("accounts:second_factor")))
    return membership.user


def test_a_malformed_key_answer_is_refused_in_french(page: Page, authenticator: str):  # noqa: F811
    user = _enrol_a_key_then_log_in_again(page)

    def keep_only_the_key_id(route: Route) -> None:
        sent = json.loads(route.request.post_data or "{}")
        route.continue_(post_data=json.dumps({"rawId": sent["rawId"]}))

    page.route(f"**{reverse('accounts:webauthn_authenticate')}", keep_only_the_key_id)
    page.locator("#webauthn-authenticate").click()

    expect(page.locator("#webauthn-status")).to_have_text("La clé n'a pas été reconnue. Réessayez.")
    expect(page.locator("#webauthn-authenticate")).to_be_enabled()
    expect(page).to_have_url(at(reverse("accounts:second_factor")))
    failed = AuditEvent.objects.get(action=AuditAction.SECOND_FACTOR_FAILED)
    assert (failed.actor_id, failed.details) == (user.pk, {"type": "cle"})


def test_the_key_is_suspended_with_the_codes(page: Page, authenticator: str, settings):  # noqa: F811
    user = _enrol_a_key_then_log_in_again(page)
    for _ in range(settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT):
        second_factor_check(user=user, token="000000", by=actor_of(user))

    page.locator("#webauthn-authenticate").click()

    expect(page.locator("#webauthn-status")).to_have_text(LOCKED)
    expect(page).to_have_url(at(reverse("accounts:second_factor")))
    assert not AuditEvent.objects.filter(
        action=AuditAction.SECOND_FACTOR_VERIFIED,
        actor_id=user.pk,
        details={"type": "cle_securite"},
    ).exists()
