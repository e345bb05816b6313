"""The keys a key rotation's tests put in RELAIS_ENCRYPTION_KEYS (the `keys` fixture of
tests/conftest.py starts with OLD alone), and the one command they run."""

import base64
import io

from django.core.management import call_command

OLD = "ancienne:" + base64.b64encode(b"o" * 32).decode()
NEW = "nouvelle:" + base64.b64encode(b"n" * 32).decode()
NEWEST = "recente:" + base64.b64encode(b"r" * 32).decode()
# A key under which a value was written, then removed before the rotation.
GONE = "perdue:" + base64.b64encode(b"p" * 32).decode()


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    return out.getvalue()
