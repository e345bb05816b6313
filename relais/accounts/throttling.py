"""Counting failed logins per typed identifier and per IP address.

The identifier is counted whether or not an account exists, so that a lockout tells an
attacker nothing about which e-mail addresses have an account.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return f"login-failures:{kind}:{digest}"


def _lockout_seconds() -> int:
    return int(settings.RELAIS_LOGIN_LOCKOUT.total_seconds())


def is_locked(*, identifier: str, ip_address: str) -> bool:
    counts = cache.get_many([_key("account", identifier), _key("ip", ip_address)])
    account_failures = int(counts.get(_key("account", identifier), 0))
    ip_failures = int(counts.get(_key("ip", ip_address), 0))
    return (
        account_failures >= settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT
        or ip_failures >= settings.RELAIS_LOGIN_MAX_FAILURES_PER_IP
    )


def count_in_window(key: str, seconds: int) -> int:
    """Count one more event under `key`; the count lives `seconds` from the first one."""
    # add() is atomic on Redis and on the local-memory cache: the first event creates the
    # counter with the window as its lifetime.
    if cache.add(key, 1, timeout=seconds):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, timeout=seconds)
        return 1


def record_failure(*, identifier: str, ip_address: str) -> bool:
    """Count one failure; return True when this failure locks the identifier or the IP."""
    account_failures = count_in_window(_key("account", identifier), _lockout_seconds())
    ip_failures = count_in_window(_key("ip", ip_address), _lockout_seconds())
    return (
        account_failures == settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT
        or ip_failures == settings.RELAIS_LOGIN_MAX_FAILURES_PER_IP
    )


def clear_account(identifier: str) -> None:
    cache.delete(_key("account", identifier))
