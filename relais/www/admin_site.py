from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def protect_admin(site: AdminSite) -> None:
    """The Django admin has no login of its own: it sits behind Relais's login, second
    factor and session rules like every other page."""

    def login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
        return redirect("accounts:login")

    site.login = login  # type: ignore[method-assign]
    site.site_header = "Relais — administration de la plateforme"
    site.site_title = "Relais"
    site.index_title = "Pilotage"
