import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest.mock import patch
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.accounts.decorators import NOT_SAVED_SECOND_FACTOR
from relais.accounts.models import WebAuthnDevice
from relais.accounts.services import (
    RECOVERY_CODE_COUNT,
    actor_of,
    recovery_codes_regenerate,
    second_factor_check,
)
from relais.accounts.sessions import LOGIN_AT, MEMBERSHIP_ID, SECOND_FACTOR_AT, SEEN_AT
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_accept, current_version
from relais.www.accounts.views import CODES_LOCKED_ERROR
from tests.conftest import log_in, totp_now
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db

WRONG_CODE_FR = "Code incorrect ou expiré. Vérifiez l'heure de votre téléphone."


def _password_only(client, user):
    client.force_login(user, backend="relais.accounts.backends.AccountBackend")
    session = client.session
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session.save()
    return client


def _code_at(device, moment: float) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = moment
    return f"{totp.token():06d}"


def _wrong_code(device, moment: float | None = None) -> str:
    """Six digits that no step around now (or `moment`) accepts, without relying on luck."""
    around = time.time() if moment is None else moment
    valid = {_code_at(device, around + offset * device.step) for offset in (-2, -1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


@pytest.fixture
def member():
    return MembershipFactory()


@pytest.fixture
def device(member):
    return TOTPDeviceFactory(user=member.user)


def test_it_verifies_a_real_totp_code(client, member, device):
    charter_accept(user_id=member.user_id, version=current_version(), by=SYSTEM)
    _password_only(client, member.user)

    response = client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})

    assert response.status_code == 302
    assert response.url == reverse("www:home")
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert SECOND_FACTOR_AT in client.session
    home = client.get(reverse("www:home"))
    assert home.status_code == 200
    assert member.organisation.name in home.content.decode()


def test_it_acts_for_the_only_organisation_after_the_second_factor(client, member, device):
    _password_only(client, member.user)

    client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})

    assert client.session[MEMBERSHIP_ID] == member.pk
    switched = AuditEvent.objects.get(action=AuditAction.ORGANISATION_SWITCHED)
    assert switched.organisation_id == member.organisation_id


def test_it_records_the_verification(client, member, device):
    _password_only(client, member.user)

    client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})

    event = AuditEvent.objects.get(action=AuditAction.SECOND_FACTOR_VERIFIED)
    assert event.actor_id == member.user_id
    assert event.details == {"type": "totp"}


def test_it_accepts_a_code_typed_with_spaces(client, member, device):
    _password_only(client, member.user)
    code = totp_now(device)

    response = client.post(reverse("accounts:second_factor"), {"code": f" {code[:3]} {code[3:]} "})

    assert response.status_code == 302
    assert DEVICE_ID_SESSION_KEY in client.session


def test_it_goes_to_the_page_asked_for_before_the_second_factor(client, member, device):
    _password_only(client, member.user)
    client.get(reverse("accounts:second_factor") + "?next=/compte/mon-compte/")

    response = client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})

    assert response.url == "/compte/mon-compte/"


def test_it_refuses_a_wrong_code_in_french(client, member, device):
    _password_only(client, member.user)

    response = client.post(reverse("accounts:second_factor"), {"code": _wrong_code(device)})

    assert response.status_code == 400
    assert response.context["form"].errors["code"] == [WRONG_CODE_FR]
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_FAILED).count() == 1
    assert client.get(reverse("www:home")).url == reverse("accounts:second_factor")


def test_it_refuses_the_same_totp_code_twice(client, member, device):
    code = totp_now(device)
    _password_only(client, member.user)
    client.post(reverse("accounts:second_factor"), {"code": code})
    client.logout()

    _password_only(client, member.user)
    response = client.post(reverse("accounts:second_factor"), {"code": code})

    assert response.status_code == 400
    assert response.context["form"].errors["code"] == [WRONG_CODE_FR]
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_it_suspends_the_codes_after_too_many_wrong_ones(client, member, device, settings):
    codes = recovery_codes_regenerate(user=member.user, by=actor_of(member.user))
    _password_only(client, member.user)
    limit = settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT
    for _ in range(limit):
        client.post(reverse("accounts:second_factor"), {"code": _wrong_code(device)})

    right_code = client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})
    recovery_code = client.post(reverse("accounts:second_factor"), {"code": codes[0]})

    for response in (right_code, recovery_code):
        assert response.context["form"].errors["code"] == [CODES_LOCKED_ERROR]
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert StaticToken.objects.filter(device__user=member.user).count() == RECOVERY_CODE_COUNT
    assert AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_FAILED).count() == limit
    lockout = AuditEvent.objects.get(action=AuditAction.LOCKOUT)
    assert (lockout.actor_id, lockout.details) == (member.user_id, {"type": "second_facteur"})


def test_the_right_app_code_typed_at_once_after_a_typo_is_accepted(member, device, monkeypatch):
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    by = actor_of(member.user)

    typo = second_factor_check(user=member.user, token=_wrong_code(device), by=by)
    right = second_factor_check(user=member.user, token=totp_now(device), by=by)

    assert (typo.device, right.device) == (None, device)


def test_a_recovery_code_still_works_after_months_of_typos_on_the_app_code(
    member, device, monkeypatch
):
    """Relais counts the attempts itself: no delay of django-otp's grows, on the recovery
    codes, from one typo to the next, the app's right code between them."""
    codes = recovery_codes_regenerate(user=member.user, by=SYSTEM)
    by = actor_of(member.user)
    start = time.time()
    clock = SimpleNamespace(now=start)
    monkeypatch.setattr(
        "django_otp.plugins.otp_totp.models.time", SimpleNamespace(time=lambda: clock.now)
    )
    monkeypatch.setattr(timezone, "now", lambda: datetime.fromtimestamp(clock.now, tz=UTC))

    def check(code):
        return second_factor_check(user=member.user, token=code, by=by).device

    for week in range(18):
        clock.now = start + timedelta(weeks=week).total_seconds()
        assert check(_wrong_code(device, clock.now)) is None
        clock.now += 60  # typed again a minute later
        assert check(_code_at(device, clock.now)) == device
    clock.now = start + timedelta(weeks=18).total_seconds()
    assert check(_wrong_code(device, clock.now)) is None
    clock.now += timedelta(days=1).total_seconds()

    assert check(codes[0]) == StaticDevice.objects.get(user=member.user)


def test_it_accepts_a_recovery_code_only_once(client, member, device):
    codes = recovery_codes_regenerate(user=member.user, by=actor_of(member.user))
    _password_only(client, member.user)

    first = client.post(reverse("accounts:second_factor"), {"code": codes[0].upper()})
    client.logout()
    _password_only(client, member.user)
    second = client.post(reverse("accounts:second_factor"), {"code": codes[0]})

    assert first.status_code == 302
    assert second.status_code == 400
    assert second.context["form"].errors["code"] == [WRONG_CODE_FR]
    assert StaticToken.objects.filter(device__user=member.user).count() == RECOVERY_CODE_COUNT - 1
    assert AuditEvent.objects.filter(action=AuditAction.RECOVERY_CODE_USED).count() == 1


def test_it_counts_the_recovery_codes_left(client, member, device):
    recovery_codes_regenerate(user=member.user, by=actor_of(member.user))
    log_in(client, member.user, member, device=device)

    StaticToken.objects.filter(device__user=member.user).first().delete()
    some_left = client.get(reverse("accounts:recovery_codes"))
    StaticToken.objects.filter(device__user=member.user).delete()
    none_left = client.get(reverse("accounts:recovery_codes"))

    assert some_left.context["remaining"] == RECOVERY_CODE_COUNT - 1
    assert none_left.context["remaining"] == 0
    assert "Il vous reste 0 code" in none_left.content.decode()
    assert client.get(reverse("accounts:profile")).context["recovery_remaining"] == 0


def test_it_enrols_a_first_authenticator(client, member):
    _password_only(client, member.user)

    page = client.get(reverse("accounts:second_factor_setup"))
    pending = TOTPDevice.objects.get(user=member.user)
    response = client.post(reverse("accounts:second_factor_setup"), {"code": totp_now(pending)})

    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    assert response.status_code == 302
    assert response.url == reverse("accounts:recovery_codes")
    pending.refresh_from_db()
    assert pending.confirmed
    codes = client.get(reverse("accounts:recovery_codes")).context["codes"]
    assert len(codes) == RECOVERY_CODE_COUNT
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditAction.SECOND_FACTOR_ENROLLED, AuditAction.RECOVERY_CODES_GENERATED} <= actions


def test_it_shows_new_recovery_codes_once(client, member):
    _password_only(client, member.user)
    client.get(reverse("accounts:second_factor_setup"))
    pending = TOTPDevice.objects.get(user=member.user)
    client.post(reverse("accounts:second_factor_setup"), {"code": totp_now(pending)})

    first = client.get(reverse("accounts:recovery_codes"))
    again = client.get(reverse("accounts:recovery_codes"))

    assert first.context["codes"]
    assert again.context["codes"] is None
    assert first.context["codes"][0] not in again.content.decode()


def test_it_refuses_a_wrong_enrolment_code(client, member):
    _password_only(client, member.user)
    client.get(reverse("accounts:second_factor_setup"))
    pending = TOTPDevice.objects.get(user=member.user)

    response = client.post(reverse("accounts:second_factor_setup"), {"code": _wrong_code(pending)})

    assert response.status_code == 400
    assert "Ce code ne correspond pas." in response.content.decode()
    pending.refresh_from_db()
    assert not pending.confirmed


def test_it_refuses_a_new_authenticator_before_the_existing_one_is_verified(client, member, device):
    _password_only(client, member.user)

    page = client.get(reverse("accounts:second_factor_setup"))
    post = client.post(reverse("accounts:second_factor_setup"), {"code": "123456"})

    assert page.status_code == post.status_code == 302
    assert page.url == post.url == reverse("accounts:second_factor")
    assert list(TOTPDevice.objects.filter(user=member.user)) == [device]


def test_it_refuses_a_new_security_key_before_the_existing_factor_is_verified(
    client, member, device
):
    _password_only(client, member.user)

    response = client.get(reverse("accounts:webauthn_register_options"))

    assert response.status_code == 400
    assert "second facteur actuel" in response.json()["error"]


def test_it_lets_a_verified_professional_add_an_authenticator(client, member, device):
    log_in(client, member.user, member, device=device)

    response = client.get(reverse("accounts:second_factor_setup"))

    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=member.user, confirmed=False).count() == 1


def test_it_asks_the_second_factor_again_before_adding_an_authenticator(
    client, member, device, settings
):
    log_in(client, member.user, member, device=device)
    _stale_second_factor(client, settings)
    pending = TOTPDeviceFactory(user=member.user, confirmed=False)

    page = client.get(reverse("accounts:second_factor_setup"))
    post = client.post(
        reverse("accounts:second_factor_setup"),
        {"code": totp_now(pending)},
        HTTP_REFERER="http://testserver" + reverse("accounts:second_factor_setup"),
    )

    for response in (page, post):
        target = urlparse(response.url)
        assert target.path == reverse("accounts:second_factor")
        assert parse_qs(target.query)["next"] == [reverse("accounts:second_factor_setup")]
    pending.refresh_from_db()
    assert not pending.confirmed
    assert not AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_ENROLLED).exists()


@pytest.mark.parametrize(
    "name", ["accounts:webauthn_register_options", "accounts:webauthn_register"]
)
def test_it_refuses_a_new_security_key_when_the_second_factor_is_not_recent(
    client, member, device, settings, name
):
    log_in(client, member.user, member, device=device)
    _stale_second_factor(client, settings)

    if name == "accounts:webauthn_register":
        response = client.post(reverse(name), "{}", content_type="application/json")
    else:
        response = client.get(reverse(name))

    assert response.status_code == 400
    assert "second facteur actuel" in response.json()["error"]
    assert WebAuthnDevice.objects.count() == 0


def test_it_adds_an_authenticator_without_counting_it_as_a_check(client, member, device):
    log_in(client, member.user, member, device=device)
    checked_at = client.session[SECOND_FACTOR_AT]
    client.get(reverse("accounts:second_factor_setup"))
    pending = TOTPDevice.objects.get(user=member.user, confirmed=False)

    response = client.post(reverse("accounts:second_factor_setup"), {"code": totp_now(pending)})

    assert response.url == reverse("accounts:recovery_codes")
    pending.refresh_from_db()
    assert pending.confirmed
    assert client.session[SECOND_FACTOR_AT] == checked_at
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_it_adds_a_security_key_without_counting_it_as_a_check(client, member, device):
    log_in(client, member.user, member, device=device)
    checked_at = client.session[SECOND_FACTOR_AT]
    key = WebAuthnDevice(user=member.user, name="Clé", confirmed=True, credential_id=b"c")

    def registered(**kwargs):
        key.save()
        return key

    with patch("relais.accounts.webauthn.registration_verify", side_effect=registered):
        response = client.post(
            reverse("accounts:webauthn_register"), "{}", content_type="application/json"
        )

    assert response.json() == {"redirect": reverse("accounts:profile")}
    assert client.session[SECOND_FACTOR_AT] == checked_at
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_it_sends_a_professional_without_device_from_verification_to_setup(client, member):
    _password_only(client, member.user)

    response = client.get(reverse("accounts:second_factor"))

    assert response.url == reverse("accounts:second_factor_setup")


def _stale_second_factor(client, settings):
    session = client.session
    age = settings.RELAIS_RECENT_SECOND_FACTOR.total_seconds() + 60
    session[SECOND_FACTOR_AT] = time.time() - age
    session.save()


def test_it_asks_the_second_factor_again_before_regenerating_recovery_codes(
    client, member, device, settings
):
    codes = recovery_codes_regenerate(user=member.user, by=actor_of(member.user))
    log_in(client, member.user, member, device=device)
    _stale_second_factor(client, settings)

    response = client.post(
        reverse("accounts:recovery_codes_regenerate"),
        HTTP_REFERER="http://testserver" + reverse("accounts:recovery_codes"),
    )

    assert response.status_code == 302
    target = urlparse(response.url)
    assert target.path == reverse("accounts:second_factor")
    assert parse_qs(target.query)["next"] == [reverse("accounts:recovery_codes")]
    assert AuditEvent.objects.filter(action=AuditAction.RECOVERY_CODES_GENERATED).count() == 1
    assert set(
        StaticToken.objects.filter(device__user=member.user).values_list("token", flat=True)
    ) == set(codes)


def test_it_comes_back_to_the_form_after_asking_the_second_factor_again(
    client, member, device, settings
):
    log_in(client, member.user, member, device=device)
    _stale_second_factor(client, settings)
    asked = client.post(
        reverse("accounts:recovery_codes_regenerate"),
        HTTP_REFERER="http://testserver" + reverse("accounts:recovery_codes"),
    )

    client.get(asked.url)
    verified = client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})
    form_page = client.get(verified.url)
    regenerated = client.post(reverse("accounts:recovery_codes_regenerate"))

    assert verified.url == reverse("accounts:recovery_codes")
    assert form_page.status_code == 200
    assert regenerated.url == reverse("accounts:recovery_codes")


def test_asking_again_on_a_form_says_that_what_was_sent_is_not_saved(
    client, member, device, settings
):
    log_in(client, member.user, member, device=device)
    _stale_second_factor(client, settings)

    sent = client.post(reverse("accounts:recovery_codes_regenerate"), follow=True)
    _stale_second_factor(client, settings)
    opened = client.get(reverse("accounts:password_change"), follow=True)

    assert [str(m) for m in sent.context["messages"]] == [NOT_SAVED_SECOND_FACTOR]
    assert "ce que vous veniez d&#x27;envoyer n&#x27;a pas été enregistré" in sent.content.decode()
    assert [str(m) for m in opened.context["messages"]] == [
        "Pour cette action, confirmez d'abord votre identité avec votre code."
    ]


@pytest.mark.parametrize("referer", [None, "https://ailleurs.example/compte/"])
def test_it_asks_again_without_next_when_the_form_page_is_unknown(
    client, member, device, settings, referer
):
    log_in(client, member.user, member, device=device)
    _stale_second_factor(client, settings)
    extra = {"HTTP_REFERER": referer} if referer else {}

    response = client.post(reverse("accounts:recovery_codes_regenerate"), **extra)

    assert response.url == reverse("accounts:second_factor")


def test_it_regenerates_recovery_codes_after_a_recent_second_factor(client, member, device):
    old = recovery_codes_regenerate(user=member.user, by=actor_of(member.user))
    log_in(client, member.user, member, device=device)

    response = client.post(reverse("accounts:recovery_codes_regenerate"))

    assert response.url == reverse("accounts:recovery_codes")
    new = client.get(reverse("accounts:recovery_codes")).context["codes"]
    assert len(new) == RECOVERY_CODE_COUNT
    assert not set(new) & set(old)
    assert AuditEvent.objects.filter(action=AuditAction.RECOVERY_CODES_GENERATED).count() == 2


def test_it_renews_the_recent_second_factor_on_reverification(client, member, device, settings):
    log_in(client, member.user, member, device=device)
    _stale_second_factor(client, settings)

    client.post(reverse("accounts:second_factor"), {"code": totp_now(device)})
    response = client.post(reverse("accounts:recovery_codes_regenerate"))

    assert response.url == reverse("accounts:recovery_codes")


def test_it_needs_a_verified_session_for_the_pilot_too(client):
    pilot = UserFactory(pilot=True)
    TOTPDeviceFactory(user=pilot)
    _password_only(client, pilot)

    response = client.get(reverse("organisations:pilot_list"))

    assert response.url == reverse("accounts:second_factor")
