from functools import cache
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import connection

from relais.accounts.models import User
from relais.prepared import columns, fetch


class AccountBackend(ModelBackend):
    """Django's model backend, reading the session's user with one prepared statement:
    every page of a logged-in professional runs it, and building the ORM query cost more
    than running it."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        found = fetch(User, _user_sql(), [pk])
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None


@cache
def _user_sql() -> str:
    table = connection.ops.quote_name(User._meta.db_table)
    return f"SELECT {columns(User, 'u')} FROM {table} u WHERE u.id = %s"  # noqa: S608 (identifiers only)
