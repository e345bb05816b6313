from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils.cache import patch_cache_control

# Scripts only from Relais itself: no inline script, no third party. DSFR's components
# set inline styles, hence the one relaxation on styles.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "geolocation=(), camera=(self), microphone=()")
        return response


# The directives of Django's never_cache (add_never_cache_headers), as one string: the
# pages of a session cost a header, not the parsing and merging of one. Without its
# Expires date, which no-store makes pointless.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


class NeverCacheWhenLoggedInMiddleware:
    """No answer to a professional's or a person's session is kept by a browser or a
    proxy: after logging out of a shared computer, neither the back button nor the
    browser's cache shows the pages seen in the session. Anonymous pages stay cacheable.

    A response that already says no-store (a download, the person's pages) is left as
    it is; any other Cache-Control of its own gets no-store and private added.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated or getattr(request, "person_account", None) is not None:
            cache_control = response.get("Cache-Control")
            if cache_control is None:
                response["Cache-Control"] = NEVER_CACHE
            elif "no-store" not in cache_control:
                patch_cache_control(response, no_store=True, private=True)
        return response


class MethodNotAllowedPageMiddleware:
    """An address that only receives a form (require_POST), opened directly, answers a
    French page saying so rather than an empty 405, which the browser shows as its own
    error: the address stays in the address bar after a refused form, and Enter opens it.
    Django has no handler for 405 as it has for 404."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method != "GET" or not isinstance(response, HttpResponseNotAllowed):
            return response
        page = render(request, "405.html", status=405)
        page["Allow"] = response["Allow"]
        return page
