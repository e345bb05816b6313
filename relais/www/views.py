from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relais.accounts.decorators import (
    View,
    charter_exempt,
    organisation_optional,
    second_factor_exempt,
)
from relais.consent.access import professional_of, visible_persons


def readable_by_anyone(view: View) -> View:
    """For the legal pages: they hold no personal data, and whoever is asked to log in, to
    verify a second factor or to accept the charter must be able to read them first."""
    return charter_exempt(
        organisation_optional(second_factor_exempt(login_not_required(require_GET(view))))
    )


def home(request: HttpRequest) -> HttpResponse:
    pro = professional_of(request)
    mine = (
        list(
            visible_persons(pro)
            .filter(referents__professional_id=pro.user_id, referents__until__isnull=True)
            .order_by("-last_contact_at")[:10]
        )
        if pro
        else []
    )
    return render(request, "www/home.html", {"title": "Accueil", "mine": mine})


@readable_by_anyone
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html", {"title": "Déclaration d'accessibilité"})


@readable_by_anyone
def legal(request: HttpRequest) -> HttpResponse:
    context = {"title": "Mentions légales", "operator": settings.RELAIS_OPERATOR_NAME}
    return render(request, "pages/legal.html", context)


@readable_by_anyone
def privacy(request: HttpRequest) -> HttpResponse:
    context = {
        "title": "Données personnelles",
        "dpo_contact": settings.RELAIS_DPO_CONTACT,
        "operator": settings.RELAIS_OPERATOR_NAME,
    }
    return render(request, "pages/privacy.html", context)


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For the load balancer: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
