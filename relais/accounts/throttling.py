"""Counting login attempts per typed identifier and per IP address, second-factor
attempts per account, and requests for a password reset link.

An attempt is counted before its password or code is checked, so that guesses sent in
parallel cannot all be checked before the first failure is counted: a counter holds the
failures of its window plus the attempts being checked. An attempt refused or succeeded
gives its count back; a failure keeps it.

The identifier is counted whether or not an account exists, so that a lockout tells an
attacker nothing about which e-mail addresses have an account.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from relais.accounts.models import AttemptCounter

# Links asked for one address within the hour: enough for a message that went to the
# junk folder, too few to fill a mailbox.
PASSWORD_RESET_LINKS_PER_ADDRESS = 3
# Requests from one IP address within the hour: an office behind one address asks a few;
# a script trying address after address is stopped.
PASSWORD_RESET_REQUESTS_PER_IP = 20
_HOUR = 3600


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return f"login-failures:{kind}:{digest}"


def _lockout_seconds() -> int:
    return int(settings.RELAIS_LOGIN_LOCKOUT.total_seconds())


def _add_one(key: str, now: datetime) -> int | None:
    if not AttemptCounter.objects.filter(key=key, expires_at__gt=now).update(count=F("count") + 1):
        return None
    return AttemptCounter.objects.values_list("count", flat=True).get(key=key)


def count_in_window(key: str, seconds: int) -> int:
    """Count one more event under `key`; the count lives `seconds` from the first one."""
    now = timezone.now()
    with transaction.atomic():
        count = _add_one(key, now)
        if count is not None:
            return count
        # A window starts: the counters whose window has passed go.
        AttemptCounter.objects.filter(expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                AttemptCounter.objects.create(
                    key=key, count=1, expires_at=now + timedelta(seconds=seconds)
                )
        except IntegrityError:
            # Another process started the same window meanwhile: count in it.
            return _add_one(key, now) or 1
        return 1


def _give_back(key: str) -> None:
    AttemptCounter.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)


@dataclass(frozen=True)
class Attempt:
    allowed: bool
    # The last attempt a counter allows: if it fails, the lockout starts.
    last: bool


def _attempt(limits: dict[str, int]) -> Attempt:
    counts = {key: count_in_window(key, _lockout_seconds()) for key in limits}
    if any(counts[key] > limit for key, limit in limits.items()):
        for key in limits:
            _give_back(key)
        return Attempt(allowed=False, last=False)
    return Attempt(allowed=True, last=any(counts[key] == limit for key, limit in limits.items()))


def login_attempt(*, identifier: str, ip_address: str) -> Attempt:
    """Count one login attempt, to be made only if allowed."""
    return _attempt(
        {
            _key("account", identifier): settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT,
            _key("ip", ip_address): settings.RELAIS_LOGIN_MAX_FAILURES_PER_IP,
        }
    )


def login_succeeded(*, identifier: str, ip_address: str) -> None:
    """Forget the account's failures; the address keeps its own, less this attempt."""
    clear_account(identifier)
    _give_back(_key("ip", ip_address))


def second_factor_attempt(user_id: int) -> Attempt:
    return _attempt(
        {_key("second-factor", str(user_id)): settings.RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT}
    )


def second_factor_succeeded(user_id: int) -> None:
    AttemptCounter.objects.filter(key=_key("second-factor", str(user_id))).delete()


def clear_account(identifier: str) -> None:
    AttemptCounter.objects.filter(key=_key("account", identifier)).delete()


def _reset_key(kind: str, value: str) -> str:
    # Keyed, unlike the login's: an address typed with no account behind it is kept an
    # hour in a form that a list of known addresses cannot be hashed to find.
    digest = salted_hmac("relais.accounts.password-reset", value.strip().lower()).hexdigest()
    return f"password-reset:{kind}:{digest}"


def password_reset_request_allowed(*, email: str, ip_address: str) -> bool:
    """Count one request for a password reset link, whether or not an account has this
    address; False once the address or the client's IP address asked too often within
    the hour."""
    per_address = count_in_window(_reset_key("address", email), _HOUR)
    per_ip = count_in_window(_reset_key("ip", ip_address), _HOUR)
    return (
        per_address <= PASSWORD_RESET_LINKS_PER_ADDRESS and per_ip <= PASSWORD_RESET_REQUESTS_PER_IP
    )
