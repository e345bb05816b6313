"""The language of the person's own space.

The professionals' pages stay in French whatever the browser says: there is no
LocaleMiddleware. Only the views of the `portal` namespace switch to the language the
person chose, kept in a cookie of its own, and the language is reset after each request
so that a thread never carries it into a professional's next page.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

LANGUAGE_COOKIE = "relais_langue"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
PORTAL_NAMESPACE = "portal"


def portal_language(request: HttpRequest) -> str:
    chosen = request.COOKIES.get(LANGUAGE_COOKIE, "")
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def is_portal_request(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and PORTAL_NAMESPACE in match.namespaces


class PortalLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        if is_portal_request(request):
            patch_vary_headers(response, ["Cookie"])
            response.headers.setdefault("Content-Language", portal_language(request))
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        if is_portal_request(request):
            language = portal_language(request)
            translation.activate(language)
            request.LANGUAGE_CODE = language
