"""Security keys' answers that cannot be checked: refused in French, and counted and
journaled as a wrong code is (a real key's ceremony: tests/www/browser)."""

import time

import pytest
from django.urls import reverse
from webauthn.helpers import bytes_to_base64url

from relais.accounts.models import WebAuthnDevice
from relais.accounts.sessions import LOGIN_AT, SEEN_AT
from relais.accounts.webauthn import LOCKED, UNREADABLE
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from tests.conftest import log_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER_OPTIONS = reverse("accounts:webauthn_register_options")
REGISTER = reverse("accounts:webauthn_register")
AUTHENTICATE_OPTIONS = reverse("accounts:webauthn_authenticate_options")
AUTHENTICATE = reverse("accounts:webauthn_authenticate")


@pytest.fixture
def key():
    return WebAuthnDevice.objects.create(
        user=UserFactory(), name="Clé", confirmed=True, credential_id=b"key-1", public_key=b"k"
    )


def _password_only(client, user):
    client.force_login(user, backend="relais.accounts.backends.AccountBackend")
    session = client.session
    session[LOGIN_AT] = session[SEEN_AT] = time.time()
    session.save()
    return client


def _answer(client, body):
    client.get(AUTHENTICATE_OPTIONS)
    return client.post(AUTHENTICATE, body, content_type="application/json")


def _failures():
    return AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_FAILED)


@pytest.mark.parametrize(
    "body", ["{}", '{"id": "a", "rawId": "a", "response": "x", "type": "public-key"}', "[]"]
)
def test_it_refuses_a_malformed_new_key_in_french(client, body):
    membership = MembershipFactory()
    _password_only(client, membership.user)
    client.get(REGISTER_OPTIONS)

    response = client.post(REGISTER, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] in {
        UNREADABLE,
        "La clé n'a pas pu être enregistrée. Réessayez.",
    }
    assert not WebAuthnDevice.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"id": "a", "response": {}, "type": "public-key"},
        {
            "id": "a",
            "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA"},
            "type": "public-key",
        },
    ],
    ids=["raw-id-only", "empty-response", "bad-authenticator-data"],
)
def test_it_refuses_a_malformed_key_answer_and_counts_it_as_a_failure(client, key, extra):
    _password_only(client, key.user)

    response = _answer(client, {"rawId": bytes_to_base64url(b"key-1")} | extra)

    assert response.status_code == 400
    assert response.json()["error"] == "La clé n'a pas été reconnue. Réessayez."
    failed = _failures().get()
    assert (failed.actor_id, failed.details) == (key.user_id, {"type": "cle"})
    assert "_auth_user_id" in client.session
    assert not client.session.get("otp_device_id")


@pytest.mark.parametrize("body", ["pas du JSON", "[]", '{"id": "a"}', '{"rawId": "abcde"}'])
def test_it_counts_an_unreadable_key_answer_as_a_failure(client, key, body):
    _password_only(client, key.user)

    response = _answer(client, body)

    assert (response.status_code, response.json()["error"]) == (400, UNREADABLE)
    assert _failures().count() == 1


def test_it_counts_a_key_registered_for_no_one_or_someone_else(client, key):
    user = UserFactory()
    _password_only(client, user)

    response = _answer(client, {"rawId": bytes_to_base64url(b"key-1")})

    assert response.status_code == 400
    assert response.json()["error"] == "Cette clé n'est pas enregistrée pour votre compte."
    assert _failures().get().actor_id == user.pk


def test_it_suspends_the_keys_with_the_codes_after_too_many_failures(client, key, settings):
    _password_only(client, key.user)
    limit = settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT
    answers = [_answer(client, {"rawId": "a"}) for _ in range(limit + 1)]

    codes = client.post(reverse("accounts:second_factor"), {"code": "000000"})

    assert [answer.json()["error"] for answer in answers[-2:]] == [LOCKED, LOCKED]
    assert "suspendue" in codes.context["form"].errors["code"][0]
    assert _failures().count() == limit
    lockout = AuditEvent.objects.get(action=AuditAction.LOCKOUT)
    assert (lockout.actor_id, lockout.details) == (key.user_id, {"type": "second_facteur"})


def test_an_answer_with_no_challenge_asked_is_refused_without_counting(client, key):
    _password_only(client, key.user)

    response = client.post(AUTHENTICATE, {"rawId": "a"}, content_type="application/json")

    assert response.status_code == 400
    assert "Aucune demande en cours" in response.json()["error"]
    assert not _failures().exists()


def test_a_verified_professional_adding_a_malformed_key_gets_a_french_error(client):
    membership = MembershipFactory()
    log_in(client, membership.user, membership)
    client.get(REGISTER_OPTIONS)

    response = client.post(REGISTER, "{}", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "La clé n'a pas pu être enregistrée. Réessayez."
