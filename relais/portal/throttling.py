"""Limits on asking for login codes, before any account is looked up.

Counted per typed identifier (whether or not an account has it, so that the limit tells
nothing about who has an account) and per IP address (one machine asking codes for many
numbers is an attempt to send SMS at our expense). Each account has its own limit too,
counted from its codes in the database (see services._sending_allowed).
"""

import hashlib

from django.conf import settings

from relais.accounts.throttling import count_in_window

_QUARTER = 15 * 60
_DAY = 24 * 3600
_HOUR = 3600


def _key(kind: str, value: str) -> str:
    return f"portal-codes:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def code_request_wait(*, identifier: str, ip_address: str) -> int | None:
    """Count one request for a code; once a limit is passed, the length in seconds of the
    longest window passed (what the person is told to wait), None otherwise."""
    per_quarter = count_in_window(_key("quarter", identifier), _QUARTER)
    per_day = count_in_window(_key("day", identifier), _DAY)
    per_ip = count_in_window(_key("ip", ip_address), _HOUR)
    passed = [
        window
        for window, count, limit in (
            (_DAY, per_day, settings.RELAIS_PORTAL_CODES_PER_DAY),
            (_HOUR, per_ip, settings.RELAIS_PORTAL_CODES_PER_IP_HOUR),
            (_QUARTER, per_quarter, settings.RELAIS_PORTAL_CODES_PER_15_MIN),
        )
        if count > limit
    ]
    return max(passed, default=None)
