"""A professional removes one of their authenticator apps or security keys from their
profile, never the last one."""

import time
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.accounts import services
from relais.accounts.models import User, WebAuthnDevice
from relais.accounts.services import (
    LAST_SECOND_FACTOR,
    actor_of,
    recovery_codes_regenerate,
    second_factor_remove,
)
from relais.accounts.sessions import SECOND_FACTOR_AT, mark_second_factor
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.www.journal.details import Names, detail_lines
from tests.concurrency import meanwhile, needs_row_locks
from tests.conftest import log_in, totp_now
from tests.factories import MembershipFactory, TOTPDeviceFactory

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def _remove_url(device) -> str:
    kind = "cle" if isinstance(device, WebAuthnDevice) else "application"
    return reverse("accounts:second_factor_remove", args=[kind, device.pk])


def _key(user, name="Clé bleue", credential_id=b"key-1"):
    return WebAuthnDevice.objects.create(
        user=user, name=name, confirmed=True, credential_id=credential_id, public_key=b"k"
    )


def _removals():
    return AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_REMOVED)


@pytest.fixture
def member():
    return MembershipFactory()


@pytest.fixture
def app(member):
    """The app this session was verified with."""
    return TOTPDeviceFactory(user=member.user)


@pytest.fixture
def spare(member):
    """A second app, activated on a known day."""
    device = TOTPDeviceFactory(user=member.user, name="Téléphone perdu")
    TOTPDevice.objects.filter(pk=device.pk).update(
        created_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    )
    device.refresh_from_db()
    return device


@pytest.fixture
def verified(client, member, app):
    return log_in(client, member.user, member, device=app)


def test_the_profile_offers_to_remove_each_app_and_key_of_one_who_has_two(
    verified, member, app, spare
):
    key = _key(member.user)

    page = verified.get(PROFILE).content.decode()

    for device in (app, spare, key):
        assert f'href="{_remove_url(device)}">Retirer' in page


def test_the_profile_offers_no_removal_of_the_only_app(verified, app):
    page = unescape(verified.get(PROFILE).content.decode())

    assert _remove_url(app) not in page
    assert "ajoutez-en d'abord une autre" in page


def test_the_confirmation_names_the_app_and_the_day_it_was_activated(verified, spare):
    response = verified.get(_remove_url(spare))

    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Téléphone perdu, activée le 1er mars 2025." in page
    assert '<button type="submit" class="fr-btn">Retirer</button>' in page
    assert TOTPDevice.objects.filter(pk=spare.pk).exists()


def test_the_confirmation_names_the_key_and_the_day_it_was_registered(verified, member):
    key = _key(member.user)
    WebAuthnDevice.objects.filter(pk=key.pk).update(
        created_at=datetime(2025, 4, 2, 12, 0, tzinfo=UTC)
    )

    page = unescape(verified.get(_remove_url(key)).content.decode())

    assert "Clé de sécurité « Clé bleue », enregistrée le 2 avril 2025." in page


def test_it_removes_an_app_and_journals_its_kind_and_name_without_its_secret(
    verified, member, spare
):
    response = verified.post(_remove_url(spare))

    assert response.url == PROFILE
    assert not TOTPDevice.objects.filter(pk=spare.pk).exists()
    row = _removals().get()
    assert row.actor_id == member.user.pk
    assert row.details == {"type": "totp", "nom": "Téléphone perdu"}
    assert spare.key not in str(row.details)
    page = unescape(verified.get(PROFILE).content.decode())
    assert "L'application « Téléphone perdu » est retirée." in page


def test_it_removes_a_security_key(verified, member):
    key = _key(member.user)

    verified.post(_remove_url(key))

    assert not WebAuthnDevice.objects.filter(pk=key.pk).exists()
    assert _removals().get().details == {"type": "cle_securite", "nom": "Clé bleue"}


def test_the_journal_says_which_second_factor_was_removed():
    lines = detail_lines(
        AuditAction.SECOND_FACTOR_REMOVED, {"type": "cle_securite", "nom": "Clé bleue"}, Names()
    )

    assert lines == ["Second facteur : clé de sécurité", "Nom : Clé bleue"]


def test_it_refuses_to_remove_the_last_app_and_changes_nothing(verified, member, app):
    response = verified.post(_remove_url(app))

    page = unescape(response.content.decode())
    assert response.status_code == 400
    assert LAST_SECOND_FACTOR in page
    assert "Retirer</button>" not in page
    assert TOTPDevice.objects.filter(pk=app.pk).exists()
    assert not _removals().exists()


def test_the_confirmation_of_the_last_key_says_it_cannot_be_removed(client, member):
    key = _key(member.user)
    log_in(client, member.user, member, device=key)

    page = unescape(client.get(_remove_url(key)).content.decode())

    assert LAST_SECOND_FACTOR in page
    assert "Retirer</button>" not in page


def test_recovery_codes_do_not_count_as_a_second_factor_to_keep(verified, member, app):
    """The second-factor page sends one with recovery codes only to the enrolment of a
    new factor, which the password alone then allows."""
    recovery_codes_regenerate(user=member.user, by=actor_of(member.user))

    response = verified.post(_remove_url(app))

    assert response.status_code == 400
    assert TOTPDevice.objects.filter(pk=app.pk).exists()


def test_the_service_refuses_the_last_device_too(member, app):
    with pytest.raises(ValidationError, match="seul avec lequel"):
        second_factor_remove(user=member.user, device=app, by=actor_of(member.user))

    assert TOTPDevice.objects.filter(pk=app.pk).exists()


def test_the_removal_is_undone_when_its_journal_row_fails(member, app, spare, monkeypatch):
    def failing(**kwargs):
        raise RuntimeError("journal indisponible")

    monkeypatch.setattr(services, "audit_record", failing)

    with pytest.raises(RuntimeError):
        second_factor_remove(user=member.user, device=spare, by=actor_of(member.user))

    assert TOTPDevice.objects.filter(pk=spare.pk).exists()
    assert User.objects.get(pk=member.user.pk).security_stamp == member.user.security_stamp


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_users_app_or_key_is_not_found(verified, app, method):
    outsider = MembershipFactory().user
    theirs = [TOTPDeviceFactory(user=outsider), TOTPDeviceFactory(user=outsider)]
    their_key = _key(outsider)

    for device in (*theirs, their_key):
        assert getattr(verified, method)(_remove_url(device)).status_code == 404

    assert TOTPDevice.objects.filter(user=outsider).count() == 2
    assert WebAuthnDevice.objects.filter(pk=their_key.pk).exists()
    assert not _removals().exists()


def test_an_app_not_yet_activated_or_an_unknown_kind_is_not_found(verified, member, app):
    pending = TOTPDeviceFactory(user=member.user, confirmed=False)

    assert verified.post(_remove_url(pending)).status_code == 404
    unknown = reverse("accounts:second_factor_remove", args=["codes", app.pk])
    assert verified.post(unknown).status_code == 404
    assert TOTPDevice.objects.filter(user=member.user).count() == 2


def test_it_asks_the_second_factor_again_when_the_last_check_is_old(verified, spare, settings):
    session = verified.session
    session[SECOND_FACTOR_AT] = (
        time.time() - settings.RELAIS_RECENT_SECOND_FACTOR.total_seconds() - 60
    )
    session.save()

    asked = verified.get(_remove_url(spare))
    sent = verified.post(_remove_url(spare), HTTP_REFERER="http://testserver" + _remove_url(spare))

    target = urlparse(asked.url)
    assert target.path == reverse("accounts:second_factor")
    assert parse_qs(target.query)["next"] == [_remove_url(spare)]
    assert urlparse(sent.url).path == reverse("accounts:second_factor")
    assert TOTPDevice.objects.filter(pk=spare.pk).exists()
    assert not _removals().exists()


def test_the_session_verified_with_another_device_stays_verified(verified, spare):
    verified.post(_remove_url(spare))

    assert verified.get(PROFILE).status_code == 200


def test_the_session_verified_with_the_device_removed_asks_another_one(
    verified, member, app, spare
):
    """Its verification stood on the device removed: the password typed in it stands, the
    second factor is asked again, with a device the account still has."""
    response = verified.post(_remove_url(app))

    target = urlparse(response.url)
    assert target.path == reverse("accounts:second_factor")
    assert parse_qs(target.query)["next"] == [PROFILE]
    assert DEVICE_ID_SESSION_KEY not in verified.session
    assert verified.get(PROFILE).url == reverse("accounts:second_factor")
    assert not AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED).exists()

    verified.get(response.url)
    again = verified.post(reverse("accounts:second_factor"), {"code": totp_now(spare)})

    assert again.url == PROFILE
    assert verified.get(PROFILE).status_code == 200


def test_another_session_verified_with_the_device_removed_ends(verified, member, app, spare):
    """The lost phone's own session, say, left open in its browser."""
    elsewhere = log_in(Client(), member.user, member, device=spare)
    session = elsewhere.session
    mark_second_factor(session, security_stamp=member.user.security_stamp)
    session.save()
    assert elsewhere.get(PROFILE).status_code == 200

    verified.post(_remove_url(spare))

    ended = elsewhere.get(PROFILE)
    assert urlparse(ended.url).path == reverse("accounts:login")
    assert verified.get(PROFILE).status_code == 200


@needs_row_locks
def test_two_removals_at_once_leave_one_device(transactional_db, member, app, spare):
    """The first holds the account's row and removes one app; the second waits for it,
    then finds that the other is the last one."""

    def first_removal():
        User.objects.select_for_update().get(pk=member.user.pk)
        TOTPDevice.objects.filter(pk=spare.pk).delete()

    with meanwhile(first_removal), pytest.raises(ValidationError, match="seul avec lequel"):
        second_factor_remove(user=member.user, device=app, by=actor_of(member.user))

    assert TOTPDevice.objects.filter(pk=app.pk).exists()
