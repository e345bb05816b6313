"""AES-GCM encryption of sensitive values under keys from the environment.

RELAIS_ENCRYPTION_KEYS lists `identifier:base64-key` pairs separated by commas; the first
is used to encrypt, all of them to decrypt, so keys can be rotated without downtime: add
the new key first, run `rotate_encryption_keys` (the NIRs and the documents' keys), and
remove the old key only once that command says nothing is left under it.

Ciphertext layout: identifier length (1 byte) | identifier | nonce (12 bytes) | AES-GCM
output. The identifier names the key, never the key itself.
"""

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The value was altered, or its key is no longer configured."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]  # in the configured order: the current key first

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


def parse_keyring(raw: str) -> Keyring:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in raw.split(","):
        identifier, _, encoded = item.strip().partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not identifier or len(identifier) > 32 or len(key) != 32:
            raise ImproperlyConfigured(
                "RELAIS_ENCRYPTION_KEYS attend des paires « identifiant:clé » séparées par des "
                "virgules, chaque clé faisant 32 octets encodés en base64."
            )
        if identifier in keys:
            raise ImproperlyConfigured(
                f"RELAIS_ENCRYPTION_KEYS : l'identifiant « {identifier} » nomme deux clés ; "
                "chaque clé doit avoir le sien."
            )
        keys[identifier] = key
        order.append(identifier)
    return Keyring(current_id=order[0], keys=keys)


@lru_cache(maxsize=4)
def _keyring_for(raw: str) -> Keyring:
    return parse_keyring(raw)


def keyring() -> Keyring:
    return _keyring_for(settings.RELAIS_ENCRYPTION_KEYS)


def encrypt(plaintext: bytes, *, associated_data: bytes = b"") -> bytes:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    identifier = ring.current_id.encode()
    sealed = AESGCM(ring.current).encrypt(nonce, plaintext, associated_data)
    return bytes([len(identifier)]) + identifier + nonce + sealed


def key_id_of(ciphertext: bytes) -> str:
    """The identifier of the key that sealed a value; DecryptionError for a value too short
    or damaged where the identifier stands."""
    length = ciphertext[0] if ciphertext else 0
    identifier = ciphertext[1 : 1 + length]
    if length == 0 or len(identifier) != length:
        raise DecryptionError("Valeur chiffrée illisible.")
    try:
        return identifier.decode()
    except UnicodeDecodeError as error:
        raise DecryptionError("Valeur chiffrée illisible.") from error


def under_current_key(ciphertext: bytes) -> bool:
    """Whether a value is sealed under the current key: not when under another one, nor
    when damaged (a rotation then tries it, and counts it among what it could not do)."""
    try:
        return key_id_of(ciphertext) == keyring().current_id
    except DecryptionError:
        return False


def decrypt(ciphertext: bytes, *, associated_data: bytes = b"") -> bytes:
    ciphertext = bytes(ciphertext)
    if len(ciphertext) < 2:
        raise DecryptionError("Valeur chiffrée illisible.")
    identifier = key_id_of(ciphertext)
    key = keyring().keys.get(identifier)
    if key is None:
        raise DecryptionError(f"La clé « {identifier} » n'est plus configurée.")
    start = 1 + ciphertext[0]
    nonce, sealed = ciphertext[start : start + NONCE_BYTES], ciphertext[start + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, associated_data)
    except InvalidTag as error:
        raise DecryptionError("La valeur chiffrée a été altérée.") from error


def _digest(key: bytes, value: str, purpose: str) -> str:
    derived = hmac.new(key, f"relais-lookup:{purpose}".encode(), hashlib.sha256)
    return hmac.new(derived.digest(), value.encode(), hashlib.sha256).hexdigest()


def lookup_digest(value: str, *, purpose: str) -> str:
    """A keyed digest to find a record by an encrypted value (e.g. the NIR) without
    decrypting every row. Derived from the current key, so rotation recomputes it."""
    return _digest(keyring().current, value, purpose)


def lookup_digests(value: str, *, purpose: str) -> list[str]:
    """The value's digest under every configured key, the current one first: to look a
    record up, since one written before the current key was added keeps its digest under
    an older key until the rotation recomputes it."""
    return [_digest(key, value, purpose) for key in keyring().keys.values()]
