"""Security keys and passkeys as a second factor (WebAuthn), on top of py_webauthn.

The challenge lives in the session between the options and the browser's answer; the
origin checked is the request's own, which Django already holds to ALLOWED_HOSTS. An
answer is checked as a typed code is: counted first with them, journaled when it fails.
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
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from relais.accounts import throttling
from relais.accounts.models import User, WebAuthnDevice
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record

CHALLENGE_KEY = "relais_webauthn_challenge"
UNREADABLE = "Réponse de la clé illisible. Réessayez."
LOCKED = (
    "Trop d'essais incorrects : la vérification est suspendue pendant quelques minutes. "
    "Réessayez plus tard ou adressez-vous au responsable de votre structure."
)
# What py_webauthn raises on an answer it cannot read or verify: its own errors for a
# malformed structure (JSON, CBOR, authenticator data…), and the decoders' beneath them.
_REFUSED_ANSWER = (WebAuthnException, ValueError, KeyError, TypeError)


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
    body: bytes,
    by: Actor,
) -> WebAuthnDevice:
    challenge = _take_challenge(session)
    credential = _parse(body)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id_for(host),
            expected_origin=origin,
        )
    except _REFUSED_ANSWER as error:
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
    body: bytes,
    by: Actor,
) -> WebAuthnDevice:
    # With no challenge asked, nothing can be checked: refused before it counts.
    challenge = _take_challenge(session)
    attempt = throttling.second_factor_attempt(user.pk)
    if not attempt.allowed:
        raise WebAuthnError(LOCKED)
    try:
        device, new_sign_count = _verified_key(
            user=user, challenge=challenge, host=host, origin=origin, credential=_parse(body)
        )
    except WebAuthnError:
        with transaction.atomic():
            audit_record(action=AuditAction.SECOND_FACTOR_FAILED, by=by, details={"type": "cle"})
            if attempt.last:
                audit_record(action=AuditAction.LOCKOUT, by=by, details={"type": "second_facteur"})
        if attempt.last:
            raise WebAuthnError(LOCKED) from None
        raise
    throttling.second_factor_succeeded(user.pk)
    with transaction.atomic():
        device.sign_count = new_sign_count
        device.last_used_at = timezone.now()
        device.save(update_fields=["sign_count", "last_used_at"])
        audit_record(
            action=AuditAction.SECOND_FACTOR_VERIFIED, by=by, details={"type": "cle_securite"}
        )
    return device


def _verified_key(
    *, user: User, challenge: bytes, host: str, origin: str, credential: dict[str, Any]
) -> tuple[WebAuthnDevice, int]:
    """The user's key that signed this answer, and its new signature count."""
    try:
        credential_id = base64url_to_bytes(str(credential["rawId"]))
    except (KeyError, ValueError, TypeError) as error:
        raise WebAuthnError(UNREADABLE) from error
    device: WebAuthnDevice | None = WebAuthnDevice.objects.filter(
        user=user, confirmed=True, credential_id=credential_id
    ).first()
    if device is None:
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
    except _REFUSED_ANSWER as error:
        raise WebAuthnError("La clé n'a pas été reconnue. Réessayez.") from error
    return device, verified.new_sign_count


def _parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebAuthnError(UNREADABLE) from error
    if not isinstance(data, dict):
        raise WebAuthnError(UNREADABLE)
    return data
