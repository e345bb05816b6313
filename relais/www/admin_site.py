from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


def protect_admin(site: AdminSite) -> None:
    """The Django admin has no login of its own: it sits behind Relais's login, second
    factor and session rules like every other page."""

    def login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
        next_url = request.GET.get("next", "")
        query = f"?{urlencode({'next': next_url})}" if next_url.startswith("/") else ""
        return redirect(reverse("accounts:login") + query)

    site.login = login  # type: ignore[method-assign]
    site.site_header = "Relais — administration de la plateforme"
    site.site_title = "Relais"
    site.index_title = "Pilotage"
