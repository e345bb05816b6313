from functools import cache
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import connection

from relais.accounts.models import User


class AccountBackend(ModelBackend):
    """Django's model backend, reading the session's user with one prepared statement:
    every page of a logged-in professional runs it, and building the ORM query cost more
    than running it."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = next(iter(User.objects.raw(_user_sql(), [pk])), None)
        return user if user is not None and self.user_can_authenticate(user) else None


@cache
def _user_sql() -> str:
    table = connection.ops.quote_name(User._meta.db_table)
    return f"SELECT * FROM {table} WHERE id = %s"  # noqa: S608 (identifiers only)
