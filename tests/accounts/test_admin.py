import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from relais.accounts.models import User, WebAuthnDevice
from relais.accounts.services import recovery_codes_regenerate
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from tests.factories import TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_shows_no_authenticator_or_recovery_code_in_the_administration(pilot_client):
    device = TOTPDeviceFactory()
    codes = recovery_codes_regenerate(user=device.user, by=SYSTEM)
    recovery = StaticDevice.objects.get(user=device.user)

    pages = [
        pilot_client.get(f"/administration/otp_totp/totpdevice/{device.pk}/change/"),
        pilot_client.get(f"/administration/otp_static/staticdevice/{recovery.pk}/change/"),
    ]

    assert [page.status_code for page in pages] == [404, 404]
    index = pilot_client.get("/administration/").content.decode()
    assert "otp_totp" not in index
    assert "otp_static" not in index
    assert not any(code in page.content.decode() for page in pages for code in codes)


def test_it_keeps_an_account_active_whatever_the_administration_posts(pilot_client):
    user = UserFactory(first_name="Claire", last_name="Dumont")

    response = pilot_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {"first_name": "Claire", "last_name": "Dumont-Martin"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.last_name, user.is_active) == ("Dumont-Martin", True)


def test_it_journals_a_change_of_names_made_in_the_administration(pilot_client):
    user = UserFactory(first_name="Claire", last_name="Dumont")
    page = reverse("admin:accounts_user_change", args=[user.pk])

    pilot_client.post(page, {"first_name": "Claire", "last_name": "Dumont-Martin"})
    pilot_client.post(page, {"first_name": "Claire", "last_name": "Dumont-Martin"})

    event = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGE)
    assert (event.actor_id, event.object_type, event.object_id) == (
        User.objects.get(is_superuser=True).pk,
        "utilisateur",
        str(user.pk),
    )
    assert event.details == {"avant": "Claire Dumont", "apres": "Claire Dumont-Martin"}


def test_it_deletes_no_account_and_no_security_key_from_the_administration(pilot_client):
    user = UserFactory()
    key = WebAuthnDevice.objects.create(user=user, name="Clé", confirmed=True, credential_id=b"c")

    refused = [
        pilot_client.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"}),
        pilot_client.post(
            reverse("admin:accounts_webauthndevice_delete", args=[key.pk]), {"post": "yes"}
        ),
        pilot_client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"},
        ),
    ]

    assert [response.status_code for response in refused[:2]] == [403, 403]
    assert WebAuthnDevice.objects.filter(pk=key.pk).exists()
    assert User.objects.filter(pk=user.pk, is_active=True).exists()
