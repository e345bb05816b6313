"""What Relais keeps in a professional's session, in one place."""

import time

from django.contrib.sessions.backends.base import SessionBase
from django_otp import DEVICE_ID_SESSION_KEY

LOGIN_AT = "relais_login_at"
SEEN_AT = "relais_seen_at"
SECOND_FACTOR_AT = "relais_second_factor_at"
MEMBERSHIP_ID = "relais_membership_id"
MEMBERSHIP_SNAPSHOT = "relais_membership"
SECURITY_STAMP = "relais_security_stamp"


def mark_login(session: SessionBase, *, security_stamp: int) -> None:
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session[SECURITY_STAMP] = security_stamp


def mark_second_factor(session: SessionBase, *, security_stamp: int) -> None:
    session[SECOND_FACTOR_AT] = time.time()
    session[SECURITY_STAMP] = security_stamp


def forget_second_factor(session: SessionBase, *, security_stamp: int) -> None:
    """The session is back where the password left it: the second factor is asked again,
    and the new security stamp keeps the session from ending as for a lost device."""
    session.pop(DEVICE_ID_SESSION_KEY, None)
    session.pop(SECOND_FACTOR_AT, None)
    session[SECURITY_STAMP] = security_stamp


def seconds_since(session: SessionBase, key: str) -> float | None:
    value = session.get(key)
    if value is None:
        return None
    return time.time() - float(value)
