"""Django's database sessions, each read by one prepared statement.

Without Redis, every request of a logged-in professional or person reads its session from
the database, so that all the server's processes see the same one (see the settings).
Through the ORM, building that one query cost ten times running it.
"""

from functools import cache

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from relais.prepared import columns, fetch


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        found = fetch(
            Session,
            _session_sql(),
            [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        if not found:
            self._session_key = None
            return None
        return found[0]


@cache
def _session_sql() -> str:
    table = connection.ops.quote_name(Session._meta.db_table)
    return (
        f"SELECT {columns(Session, 's')} FROM {table} s"  # noqa: S608 (identifiers only)
        " WHERE s.session_key = %s AND s.expire_date > %s"
    )
