"""Security keys and passkeys as a second factor (WebAuthn), on top of py_webauthn.

The challenge lives in the session between the options and the browser's answer; the
origin checked is the request's own, which Django already holds to ALLOWED_HOSTS.
"""

import json
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from relais.accounts.models import User, WebAuthnDevice
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record

CHALLENGE_KEY = "relais_webauthn_challenge"


class WebAuthnError(Exception):
    """The browser's answer does not prove possession of a registered key."""


def rp_id_for(host: str) -> str:
    return str(settings.WEBAUTHN_RP_ID) or host.rsplit(":", 1)[0]


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=bytes(credential_id))
        for credential_id in WebAuthnDevice.objects.filter(user=user, confirmed=True).values_list(
            "credential_id", flat=True
        )
    ]


def _take_challenge(session: SessionBase) -> bytes:
    encoded = session.pop(CHALLENGE_KEY, None)
    if not encoded:
        raise WebAuthnError("Aucune demande en cours : recommencez.")
    return base64url_to_bytes(str(encoded))


def registration_options(*, user: User, session: SessionBase, host: str) -> str:
    options = generate_registration_options(
        rp_id=rp_id_for(host),
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=str(user.pk).encode(),
        user_name=user.email,
        user_display_name=user.get_full_name(),
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    session[CHALLENGE_KEY] = bytes_to_base64url(options.challenge)
    return str(options_to_json(options))


def registration_verify(
    *,
    user: User,
    session: SessionBase,
    host: str,
    origin: str,
    credential: dict[str, Any],
    by: Actor,
) -> WebAuthnDevice:
    challenge = _take_challenge(session)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id_for(host),
            expected_origin=origin,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as error:
        raise WebAuthnError("La clé n'a pas pu être enregistrée. Réessayez.") from error
    transports = credential.get("response", {}).get("transports", [])
    with transaction.atomic():
        device: WebAuthnDevice = WebAuthnDevice.objects.create(
            user=user,
            name="Clé de sécurité",
            confirmed=True,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[str(t) for t in transports][:10] if isinstance(transports, list) else [],
        )
        audit_record(
            action=AuditAction.SECOND_FACTOR_ENROLLED, by=by, details={"type": "cle_securite"}
        )
    return device


def authentication_options(*, user: User, session: SessionBase, host: str) -> str:
    options = generate_authentication_options(
        rp_id=rp_id_for(host),
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    session[CHALLENGE_KEY] = bytes_to_base64url(options.challenge)
    return str(options_to_json(options))


def authentication_verify(
    *,
    user: User,
    session: SessionBase,
    host: str,
    origin: str,
    credential: dict[str, Any],
    by: Actor,
) -> WebAuthnDevice:
    challenge = _take_challenge(session)
    try:
        credential_id = base64url_to_bytes(str(credential["rawId"]))
    except (KeyError, ValueError, TypeError) as error:
        raise WebAuthnError("Réponse de la clé illisible.") from error
    device: WebAuthnDevice | None = WebAuthnDevice.objects.filter(
        user=user, confirmed=True, credential_id=credential_id
    ).first()
    if device is None:
        audit_record(action=AuditAction.SECOND_FACTOR_FAILED, by=by, details={"type": "cle"})
        raise WebAuthnError("Cette clé n'est pas enregistrée pour votre compte.")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id_for(host),
            expected_origin=origin,
            credential_public_key=bytes(device.public_key),
            credential_current_sign_count=device.sign_count,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as error:
        audit_record(action=AuditAction.SECOND_FACTOR_FAILED, by=by, details={"type": "cle"})
        raise WebAuthnError("La clé n'a pas été reconnue. Réessayez.") from error
    with transaction.atomic():
        device.sign_count = verified.new_sign_count
        device.last_used_at = timezone.now()
        device.save(update_fields=["sign_count", "last_used_at"])
        audit_record(
            action=AuditAction.SECOND_FACTOR_VERIFIED, by=by, details={"type": "cle_securite"}
        )
    return device


def parse_credential(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebAuthnError("Réponse de la clé illisible.") from error
    if not isinstance(data, dict):
        raise WebAuthnError("Réponse de la clé illisible.")
    return data
