"""Small typed readers for settings that come from the environment.

Each one fails loudly: a missing or malformed value stops the process at start-up
instead of running with a surprising default.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()


def env_str(name: str, default: str | object = _MISSING) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ImproperlyConfigured(f"La variable d'environnement {name} est obligatoire.")
        return str(default)
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on", "oui"}:
        return True
    if lowered in {"0", "false", "no", "off", "non"}:
        return False
    raise ImproperlyConfigured(f"{name} doit valoir 1/0, true/false ou oui/non, pas {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} doit être un nombre entier, pas {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} doit valoir au moins {minimum}, pas {number}.")
    return number


def env_list(name: str, default: list[str] | object = _MISSING) -> list[str]:
    raw = env_str(name, default="" if default is not _MISSING else _MISSING)
    if raw == "":
        return list(default) if isinstance(default, list) else []
    return [item.strip() for item in raw.split(",") if item.strip()]
