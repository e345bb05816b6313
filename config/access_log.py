"""Logs without secrets. gunicorn's access log holds no personal data: the moment, the
method, the path without its query string, the status, the size and the duration; never
the client's address, its browser, the page it came from. And no log, gunicorn's or the
application's, holds the secret token of an invitation or of a password reset link:
it is masked in the paths they write."""

import logging
import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

# The path of an invitation holds the token that creates the account (accounts:invitation),
# that of a password reset link the token that sets the account's password
# (accounts:password_reset_confirm). Matched anywhere in a line: Django's request log
# writes the path inside a sentence (« Bad Request: /compte/invitation/… »).
SECRET_TOKEN_PATH = re.compile(r"(/compte/(?:invitation|nouveau-mot-de-passe)/)[^/?#\s\"']+")
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def masked(text: str) -> str:
    return SECRET_TOKEN_PATH.sub(r"\1…", text)


class AccessLogger(Logger):  # type: ignore[misc]
    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["U"] = masked(atoms["U"] or "")
        return atoms


class SecretTokenFilter(logging.Filter):
    """Masks the tokens in the paths that Django's request logs write (a refused form, a
    page not found, a method not allowed, a CSRF failure, runserver's lines). Set on
    their loggers, so that every handler, and the test's captured log, gets the masked
    line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = masked(message)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True
