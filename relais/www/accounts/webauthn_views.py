"""JSON endpoints for security keys, called by static/relais/webauthn.js."""

from typing import cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login

from relais.accounts import services, webauthn
from relais.accounts.actors import actor_for
from relais.accounts.decorators import (
    organisation_optional,
    second_factor_exempt,
    second_factor_is_recent,
)
from relais.accounts.models import User
from relais.accounts.sessions import mark_second_factor
from relais.www.accounts.views import NEW_CODES_KEY, after_second_factor_url

ASK_CURRENT_FACTOR = "Confirmez d'abord votre identité avec votre second facteur actuel."


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _may_register(request: HttpRequest, *, first_factor: bool) -> bool:
    # Same rule as the authenticator app: a first factor, or another one just after a check
    # of an existing one.
    return first_factor or (
        request.user.is_verified()  # type: ignore[union-attr]
        and second_factor_is_recent(request)
    )


def _refused(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@second_factor_exempt
@organisation_optional
@require_GET
def register_options(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if not _may_register(request, first_factor=not services.has_second_factor(user)):
        return _refused(ASK_CURRENT_FACTOR)
    body = webauthn.registration_options(
        user=user, session=request.session, host=request.get_host()
    )
    return HttpResponse(body, content_type="application/json")


@second_factor_exempt
@organisation_optional
@require_POST
def register_verify(request: HttpRequest) -> JsonResponse:
    user = cast(User, request.user)
    first_factor = not services.has_second_factor(user)
    if not _may_register(request, first_factor=first_factor):
        return _refused(ASK_CURRENT_FACTOR)
    try:
        device = webauthn.registration_verify(
            user=user,
            session=request.session,
            host=request.get_host(),
            origin=_origin(request),
            body=request.body,
            by=actor_for(request),
        )
    except webauthn.WebAuthnError as error:
        return _refused(str(error))
    if first_factor:
        otp_login(request, device)
        mark_second_factor(request.session, security_stamp=user.security_stamp)
        request.session[NEW_CODES_KEY] = services.recovery_codes_regenerate(
            user=user, by=actor_for(request)
        )
        return JsonResponse({"redirect": reverse("accounts:recovery_codes")})
    return JsonResponse({"redirect": reverse("accounts:profile")})


@second_factor_exempt
@organisation_optional
@require_GET
def authenticate_options(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    body = webauthn.authentication_options(
        user=user, session=request.session, host=request.get_host()
    )
    return HttpResponse(body, content_type="application/json")


@second_factor_exempt
@organisation_optional
@require_POST
def authenticate_verify(request: HttpRequest) -> JsonResponse:
    user = cast(User, request.user)
    try:
        device = webauthn.authentication_verify(
            user=user,
            session=request.session,
            host=request.get_host(),
            origin=_origin(request),
            body=request.body,
            by=actor_for(request),
        )
    except webauthn.WebAuthnError as error:
        return _refused(str(error))
    otp_login(request, device)
    mark_second_factor(request.session, security_stamp=user.security_stamp)
    return JsonResponse({"redirect": after_second_factor_url(request)})
