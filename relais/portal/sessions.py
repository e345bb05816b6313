"""The person's session, kept apart from the professionals' sessions.

A browser holds either a professional's session or a person's, never both: starting one
ends the other, so that a shared office computer never shows a person's space inside a
professional's session, nor the reverse.
"""

import time

from django.contrib.auth import logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.middleware.csrf import rotate_token

from relais.accounts.actors import client_ip
from relais.audit.context import Actor
from relais.portal.models import PersonAccount

PERSON_ACCOUNT = "relais_person_account"
PERSON_STAMP = "relais_person_stamp"
PERSON_LOGIN_AT = "relais_person_login_at"
PERSON_SEEN_AT = "relais_person_seen_at"
# The login in progress (identifier typed, way chosen); never put in a URL.
PENDING_LOGIN = "relais_person_pending"

PERSON_KEYS = (PERSON_ACCOUNT, PERSON_STAMP, PERSON_LOGIN_AT, PERSON_SEEN_AT)

PERSON_ACTOR_LABEL = "La personne, depuis son espace personnel"


def person_session_start(request: HttpRequest, account: PersonAccount) -> None:
    """Open a person's session on a fresh session key and a fresh CSRF token, as Django's
    login() does: a token read before the login does not serve after it."""
    if request.user.is_authenticated:
        logout(request)  # flushes the professional's session
    else:
        request.session.flush()
    rotate_token(request)
    now = time.time()
    request.session[PERSON_ACCOUNT] = account.pk
    request.session[PERSON_STAMP] = account.security_stamp
    request.session[PERSON_LOGIN_AT] = now
    request.session[PERSON_SEEN_AT] = now
    request.person_account = account  # type: ignore[attr-defined]


def person_session_keep(request: HttpRequest, account: PersonAccount) -> None:
    """Keep this session, on a fresh key, after a change of the person's own that raised
    the account's security stamp to end every other session."""
    request.session.cycle_key()
    request.session[PERSON_STAMP] = account.security_stamp
    request.person_account = account  # type: ignore[attr-defined]


def person_session_end(request: HttpRequest) -> None:
    request.session.flush()
    request.person_account = None  # type: ignore[attr-defined]


def has_person_session(session: SessionBase) -> bool:
    return PERSON_ACCOUNT in session


def person_actor(request: HttpRequest) -> Actor:
    """How the journal names the person acting in their own space."""
    return Actor(label=PERSON_ACTOR_LABEL, ip_address=client_ip(request))
