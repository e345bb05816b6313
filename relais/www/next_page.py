"""Where a `next` parameter may send the user back to."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def same_site_path(request: HttpRequest, candidate: str) -> str | None:
    """`candidate` when it is a path on this site, else None: another site, another scheme,
    or a bare word, which `redirect()` would take for the name of a view."""
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None
