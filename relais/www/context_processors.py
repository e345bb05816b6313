from typing import Any

from django.conf import settings
from django.http import HttpRequest


def layout(request: HttpRequest) -> dict[str, Any]:
    """What the header needs: the acting organisation (already loaded by the middleware,
    so this adds no query) and the deployment's mode."""
    return {
        "acting_membership": getattr(request, "membership", None),
        "demo_mode": settings.RELAIS_DEMO_MODE,
    }
