from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

_LAYOUT_URLS = {
    "home": "www:home",
    "persons": "persons:list",
    "procedures": "procedures:mine",
    "members": "organisations:members",
    "journal": "journal:list",
    "pilot": "organisations:pilot_list",
    "charter": "consent:charter",
    "admin": "admin:index",
    "profile": "accounts:profile",
    "logout": "accounts:logout",
    "accessibility": "www:accessibility",
    "legal": "www:legal",
    "privacy": "www:privacy",
}


@lru_cache(maxsize=1)
def layout_urls() -> dict[str, str]:
    """The header's and footer's links never change while the process lives: reversing
    them once saves a dozen `reverse()` calls on every page."""
    return {key: reverse(name) for key, name in _LAYOUT_URLS.items()}


def layout(request: HttpRequest) -> dict[str, Any]:
    """What the header needs: the acting organisation (already loaded by the middleware,
    so this adds no query) and the deployment's mode."""
    return {
        "acting_membership": getattr(request, "membership", None),
        "demo_mode": settings.RELAIS_DEMO_MODE,
        "urls": layout_urls(),
    }
