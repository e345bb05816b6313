"""gunicorn's access log without personal data: the moment, the method, the path without
its query string, the status, the size and the duration; never the client's address, its
browser, the page it came from, nor the secret token of an invitation or of a password
reset link, masked in the path."""

import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

# The path of an invitation holds the token that creates the account (accounts:invitation),
# that of a password reset link the token that sets the account's password
# (accounts:password_reset_confirm).
INVITATION = re.compile(r"^(/compte/(?:invitation|nouveau-mot-de-passe)/)[^/]+")
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def masked(path: str) -> str:
    return INVITATION.sub(r"\1…", path)


class AccessLogger(Logger):  # type: ignore[misc]
    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["U"] = masked(atoms["U"] or "")
        return atoms
