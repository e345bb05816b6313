from functools import wraps
from typing import Any, cast
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.accounts import services
from relais.accounts.actors import actor_for, client_ip
from relais.accounts.decorators import (
    View,
    ask_second_factor_again,
    organisation_optional,
    recent_second_factor_required,
    second_factor_exempt,
    second_factor_is_recent,
    with_next,
)
from relais.accounts.models import User, WebAuthnDevice
from relais.accounts.password_reset import PASSWORD_RESET_VALIDITY, link_holder
from relais.accounts.sessions import (
    MEMBERSHIP_ID,
    forget_second_factor,
    mark_login,
    mark_second_factor,
)
from relais.audit.actions import AuditAction
from relais.audit.services import audit_record
from relais.organisations.middleware import act_for, sole_active_membership
from relais.organisations.models import Invitation, Membership
from relais.organisations.services import (
    invitation_accept,
    invitation_for_token,
)
from relais.www.accounts.forms import (
    ChooseOrganisationForm,
    CodeForm,
    LoginForm,
    PasswordResetRequestForm,
    ReactivationForm,
    SetPasswordForm,
    TotpSetupForm,
)
from relais.www.durations import said
from relais.www.next_page import same_site_path

NEXT_KEY = "relais_next"
# In the query of an invitation's page: its holder forgot the password of their account.
FORGOTTEN_PASSWORD = "nouveau-mot-de-passe"  # noqa: S105 (a query parameter)
NEW_CODES_KEY = "relais_new_recovery_codes"
RESET_TOKEN_KEY = "relais_password_reset_token"  # noqa: S105 (a session key)
LOGIN_ERROR = (
    "Adresse électronique ou mot de passe incorrect. Après plusieurs erreurs, "
    "la connexion est suspendue quelques minutes."
)
REACTIVATION_ERROR = (
    "Mot de passe incorrect. Après plusieurs erreurs, la connexion est suspendue quelques minutes."
)
CURRENT_PASSWORD_ERROR = (
    "Le mot de passe actuel est incorrect. Après plusieurs erreurs, la connexion est "  # noqa: S105 (a message)
    "suspendue quelques minutes."
)
LOCKED_ERROR = (
    "Trop de tentatives : la connexion est suspendue pendant quelques minutes. "
    "Réessayez plus tard ou adressez-vous au responsable de votre structure."
)
ALREADY_LOGGED_IN = (
    "Vous êtes déjà connecté(e) : changez votre mot de passe ici. Pour un lien reçu par "
    "courriel pour un autre compte, déconnectez-vous d'abord, puis ouvrez-le à nouveau."
)
PASSWORD_RESET_DONE = (
    "Votre nouveau mot de passe est enregistré. Connectez-vous avec lui, puis confirmez "  # noqa: S105 (a message)
    "votre identité avec votre second facteur."
)
CODE_ERROR = "Code incorrect ou expiré. Vérifiez l'heure de votre téléphone."
CODES_LOCKED_ERROR = (
    "Trop de codes incorrects : la vérification est suspendue pendant quelques minutes. "
    "Réessayez plus tard ou adressez-vous au responsable de votre structure."
)


def _posted(request: HttpRequest) -> QueryDict | None:
    # An empty POST is bound too, so that it is refused with what it lacks.
    return request.POST if request.method == "POST" else None


def _status(form: forms.Form) -> int:
    """A refused form is shown again with 400, keeping what was typed."""
    return 400 if form.is_bound else 200


def _remember_next(request: HttpRequest) -> None:
    target = same_site_path(request, request.GET.get("next", ""))
    if target:
        request.session[NEXT_KEY] = target


def after_second_factor_url(request: HttpRequest) -> str:
    """Where a professional goes once the second factor is verified: the page they asked
    for, or the choice of the organisation they act for."""
    if MEMBERSHIP_ID not in request.session:
        sole = sole_active_membership(request.user)
        if sole is not None:
            act_for(request, sole)
        elif Membership.objects.active().filter(user=request.user).exists():
            return reverse("accounts:choose_organisation")
    return str(request.session.pop(NEXT_KEY, None) or reverse("www:home"))


@login_not_required
@second_factor_exempt
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_verified():  # type: ignore[union-attr]
        return redirect("www:home")
    _remember_next(request)
    form = LoginForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        check = services.password_check(
            identifier=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            ip_address=client_ip(request),
        )
        if check.user is None:
            form.add_error(None, LOCKED_ERROR if check.locked else LOGIN_ERROR)
        else:
            return _logged_in(request, check.user)
    return render(
        request, "accounts/login.html", {"form": form, "title": "Connexion"}, status=_status(form)
    )


def _logged_in(request: HttpRequest, user: User) -> HttpResponse:
    """Open the session of a user whose password was just checked, then ask the second
    factor (or its enrolment)."""
    next_url = request.session.get(NEXT_KEY)
    login(request, user, backend="relais.accounts.backends.AccountBackend")
    mark_login(request.session, security_stamp=user.security_stamp)
    if next_url:
        request.session[NEXT_KEY] = next_url
    audit_record(action=AuditAction.LOGIN, by=actor_for(request))
    if services.has_second_factor(user):
        return redirect("accounts:second_factor")
    return redirect("accounts:second_factor_setup")


@login_not_required
@second_factor_exempt
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(action=AuditAction.LOGOUT, by=actor_for(request))
    logout(request)
    messages.success(request, "Vous êtes déconnecté(e).")
    return redirect("accounts:login")


@second_factor_exempt
@organisation_optional
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if not services.has_second_factor(user):
        return redirect("accounts:second_factor_setup")
    _remember_next(request)
    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        check = services.second_factor_check(
            user=user, token=form.cleaned_data["code"], by=actor_for(request)
        )
        if check.device is None:
            form.add_error("code", CODES_LOCKED_ERROR if check.locked else CODE_ERROR)
        else:
            otp_login(request, check.device)
            mark_second_factor(request.session, security_stamp=user.security_stamp)
            return redirect(after_second_factor_url(request))
    context = {
        "form": form,
        "title": "Second facteur",
        "has_security_key": WebAuthnDevice.objects.filter(user=user, confirmed=True).exists(),
    }
    return render(request, "accounts/second_factor.html", context, status=_status(form))


@second_factor_exempt
@organisation_optional
@require_http_methods(["GET", "POST"])
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    first_factor = not services.has_second_factor(user)
    if not first_factor and not user.is_verified():
        return redirect("accounts:second_factor")
    # Another authenticator, only just after a check of an existing one: a session left
    # open must not let someone else enrol theirs.
    if not first_factor and not second_factor_is_recent(request):
        return ask_second_factor_again(request)
    device = services.totp_enrolment_start(user=user)
    form = TotpSetupForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        codes = services.totp_enrolment_confirm(
            user=user, device=device, token=form.cleaned_data["code"], by=actor_for(request)
        )
        if codes is None:
            form.add_error(
                "code", "Ce code ne correspond pas. Saisissez le code affiché maintenant."
            )
        else:
            # Adding a factor is no check of the existing one: only a first one verifies
            # the session.
            if first_factor:
                otp_login(request, device)
                mark_second_factor(request.session, security_stamp=user.security_stamp)
            request.session[NEW_CODES_KEY] = codes
            return redirect("accounts:recovery_codes")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, title="QR code à scanner avec votre application d'authentification"
    )
    context = {
        "form": form,
        "title": "Activer le second facteur",
        "qr_svg": qr_svg,
        "secret": services.totp_secret_base32(device),
    }
    return render(request, "accounts/second_factor_setup.html", context, status=_status(form))


@organisation_optional
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return redirect(after_second_factor_url(request))
    codes = request.session.pop(NEW_CODES_KEY, None)
    # Count the tokens themselves: a join from the device counts one row with no token left.
    remaining = StaticToken.objects.filter(device__user=request.user).count()
    context = {"title": "Codes de secours", "codes": codes, "remaining": remaining}
    return render(request, "accounts/recovery_codes.html", context)


@organisation_optional
@require_POST
@recent_second_factor_required
def recovery_codes_regenerate_view(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    request.session[NEW_CODES_KEY] = services.recovery_codes_regenerate(
        user=user, by=actor_for(request)
    )
    return redirect("accounts:recovery_codes")


@organisation_optional
@require_http_methods(["GET", "POST"])
def choose_organisation(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.active()
        .filter(user=request.user)
        .select_related("organisation")
        .order_by("organisation__name")
    )
    choices = [
        (m.pk, f"{m.organisation.name} — {m.profession_label} ({m.get_role_display()})")
        for m in memberships
    ]
    form = ChooseOrganisationForm(_posted(request), choices=choices)
    if request.method == "POST" and form.is_valid():
        chosen = next(m for m in memberships if m.pk == form.cleaned_data["membership"])
        act_for(request, chosen)
        messages.success(request, f"Vous agissez maintenant pour {chosen.organisation.name}.")
        return redirect(request.session.pop(NEXT_KEY, None) or reverse("www:home"))
    context = {"form": form, "title": "Choisir la structure", "memberships": memberships}
    return render(request, "accounts/choose_organisation.html", context, status=_status(form))


@organisation_optional
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    memberships = list(
        Membership.objects.filter(user=user).select_related("organisation").order_by("-started_on")
    )
    today = timezone.localdate()
    totp_devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    security_keys = list(WebAuthnDevice.objects.filter(user=user, confirmed=True))
    context = {
        "title": "Mon compte",
        "memberships": memberships,
        # Former memberships are listed, with their period, but are no choice.
        "can_change_organisation": sum(m.is_active_on(today) for m in memberships) > 1,
        "totp_devices": totp_devices,
        "security_keys": security_keys,
        "second_factor_count": len(totp_devices) + len(security_keys),
        "recovery_remaining": StaticToken.objects.filter(device__user=user).count(),
    }
    return render(request, "accounts/profile.html", context)


# The kinds of second factor one may remove, as their address says them.
_REMOVABLE = {"application": TOTPDevice, "cle": WebAuthnDevice}


def _own_second_factor(request: HttpRequest, kind: str, pk: int) -> TOTPDevice | WebAuthnDevice:
    """One of the professional's own authenticator apps or security keys; 404 for any
    other, another user's included."""
    model = _REMOVABLE.get(kind)
    device = (
        model.objects.filter(user=request.user, confirmed=True, pk=pk).first() if model else None
    )
    if device is None:
        raise Http404("Second facteur introuvable.")
    return device


@organisation_optional
@require_http_methods(["GET", "POST"])
@recent_second_factor_required
def second_factor_remove_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = cast(User, request.user)
    device = _own_second_factor(request, kind, pk)
    refusal = (
        "" if services.has_another_second_factor(user, device) else services.LAST_SECOND_FACTOR
    )
    if request.method == "POST" and not refusal:
        try:
            services.second_factor_remove(user=user, device=device, by=actor_for(request))
        except ValidationError as error:
            refusal = " ".join(error.messages)
        else:
            return _second_factor_removed(request, user, device)
    refused = bool(refusal) and request.method == "POST"
    context = {
        "title": "Erreur : retirer un second facteur" if refused else "Retirer un second facteur",
        "device": device,
        "is_security_key": isinstance(device, WebAuthnDevice),
        "refusal": refusal,
    }
    status = 400 if refused else 200
    return render(request, "accounts/second_factor_remove.html", context, status=status)


def _second_factor_removed(
    request: HttpRequest, user: User, device: TOTPDevice | WebAuthnDevice
) -> HttpResponse:
    what = "La clé de sécurité" if isinstance(device, WebAuthnDevice) else "L'application"
    removed = f"{what} « {device.name} » est retirée."
    if request.session.get(DEVICE_ID_SESSION_KEY) != device.persistent_id:
        messages.success(request, removed)
        return redirect("accounts:profile")
    # This session was verified with the device removed: its verification stands on
    # nothing any more, as that of the other sessions verified with it, which end. The
    # password was typed in this one: it asks the second factor again, with another device.
    user.refresh_from_db(fields=["security_stamp"])
    forget_second_factor(request.session, security_stamp=user.security_stamp)
    messages.success(
        request,
        f"{removed} Vous vous étiez connecté(e) avec : confirmez maintenant votre identité "
        "avec un autre second facteur.",
    )
    return redirect(with_next(reverse("accounts:second_factor"), reverse("accounts:profile")))


class _CurrentPasswordForm(SetPasswordForm):
    current_password = forms.CharField(
        label="Mot de passe actuel",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current_password", "password1", "password2"]


@organisation_optional
@require_http_methods(["GET", "POST"])
@recent_second_factor_required
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = _CurrentPasswordForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        check = services.current_password_check(
            user=user,
            password=form.cleaned_data["current_password"],
            ip_address=client_ip(request),
        )
        if check.user is None:
            form.add_error(
                "current_password", LOCKED_ERROR if check.locked else CURRENT_PASSWORD_ERROR
            )
        else:
            services.password_change(
                user=user, new_password=form.cleaned_data["password1"], by=actor_for(request)
            )
            update_session_auth_hash(request, user)
            messages.success(request, "Votre mot de passe a été modifié.")
            return redirect("accounts:profile")
    context = {"form": form, "title": "Changer de mot de passe"}
    return render(request, "accounts/password_change.html", context, status=_status(form))


@login_not_required
@second_factor_exempt
@organisation_optional
@require_http_methods(["GET", "POST"])
@never_cache  # shown before any session, yet it names the person invited
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = invitation_for_token(token)
    if found is None:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"title": "Invitation invalide"},
            status=404,
        )
    context: dict[str, object] = {"title": "Invitation", "invitation": found}
    user = request.user
    if user.is_authenticated:
        if not user.is_verified():  # type: ignore[union-attr]
            query = urlencode({"next": request.path})
            return redirect(f"{reverse('accounts:second_factor')}?{query}")
        if user.email != found.email:  # type: ignore[union-attr]
            # Said before « Accepter », which the service would refuse: the holder of the
            # link logs out and opens it again, with the account it was sent to.
            return render(request, "accounts/invitation_other_account.html", context, status=403)
        if request.method == "POST":
            try:
                invitation_accept(
                    invitation=found,
                    password=None,
                    existing_user=user,  # type: ignore[arg-type]
                    ip_address=client_ip(request),
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect("www:home")
            messages.success(request, f"Vous avez rejoint {found.organisation.name}.")
            return redirect("accounts:choose_organisation")
        return render(request, "accounts/invitation_existing.html", context)
    existing = User.objects.filter(email=found.email).first()
    if existing is not None and not existing.is_active:
        return _invitation_reactivating(request, found, existing, context)
    if existing is not None:
        query = urlencode({"next": request.path})
        context["login_url"] = f"{reverse('accounts:login')}?{query}"
        return render(request, "accounts/invitation_login_first.html", context)
    candidate = User(email=found.email, first_name=found.first_name, last_name=found.last_name)
    form = SetPasswordForm(_posted(request), user=candidate)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                new_user = invitation_accept(
                    invitation=found,
                    password=form.cleaned_data["password1"],
                    existing_user=None,
                    ip_address=client_ip(request),
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, new_user, backend="relais.accounts.backends.AccountBackend")
            mark_login(request.session, security_stamp=new_user.security_stamp)
            messages.success(
                request,
                "Votre compte est créé. Activez maintenant votre second facteur de connexion.",
            )
            return redirect("accounts:second_factor_setup")
    context["form"] = form
    return render(request, "accounts/invitation_new.html", context, status=_status(form))


def _invitation_reactivating(
    request: HttpRequest, found: Invitation, user: User, context: dict[str, object]
) -> HttpResponse:
    """An invitation to a deactivated account, which cannot log in to accept it: its
    password, counted as a login, proves it is the invited person's before the invitation
    reactivates it; or, forgotten, a new one is chosen."""
    if FORGOTTEN_PASSWORD in request.GET:
        return _invitation_reactivating_with_new_password(request, found, user, context)
    form = ReactivationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        check = services.deactivated_account_password_check(
            user=user, password=form.cleaned_data["password"], ip_address=client_ip(request)
        )
        if check.user is None:
            form.add_error("password", LOCKED_ERROR if check.locked else REACTIVATION_ERROR)
        else:
            try:
                invitation_accept(
                    invitation=found,
                    password=None,
                    existing_user=check.user,
                    ip_address=client_ip(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    f"Votre compte est réactivé : vous avez rejoint {found.organisation.name}.",
                )
                return _logged_in(request, check.user)
    context["form"] = form
    context["new_password_url"] = f"{request.path}?{FORGOTTEN_PASSWORD}"
    return render(request, "accounts/invitation_reactivate.html", context, status=_status(form))


def _invitation_reactivating_with_new_password(
    request: HttpRequest, found: Invitation, user: User, context: dict[str, object]
) -> HttpResponse:
    """A deactivated member who forgot their password chooses a new one: the invitation,
    received in the account's mailbox, proves it is theirs as a reset link would (none is
    sent to an account without a membership). The second factor is then asked, as at
    every login."""
    form = SetPasswordForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                invitation_accept(
                    invitation=found,
                    password=None,
                    existing_user=user,
                    ip_address=client_ip(request),
                )
                user = services.password_reset_through_invitation(
                    user=user,
                    new_password=form.cleaned_data["password1"],
                    ip_address=client_ip(request),
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                "Votre compte est réactivé avec votre nouveau mot de passe : vous avez "
                f"rejoint {found.organisation.name}.",
            )
            return _logged_in(request, user)
    context["form"] = form
    context["password_url"] = request.path
    return render(
        request,
        "accounts/invitation_reactivate_new_password.html",
        context,
        status=_status(form),
    )


def _anonymous_only(view: View) -> View:
    """For the forgotten-password pages: a logged-in professional changes their password
    from their account instead."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            messages.info(request, ALREADY_LOGGED_IN)
            return redirect("accounts:password_change")
        return view(request, *args, **kwargs)

    return wrapper


@login_not_required
@organisation_optional
@require_http_methods(["GET", "POST"])
@_anonymous_only
def password_reset_request_view(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(
            email=form.cleaned_data["email"], ip_address=client_ip(request)
        )
        return redirect("accounts:password_reset_sent")
    context = {
        "form": form,
        "title": "Mot de passe oublié",
        "validity": said(PASSWORD_RESET_VALIDITY),
    }
    return render(request, "accounts/password_reset_request.html", context, status=_status(form))


@login_not_required
@organisation_optional
@require_GET
@_anonymous_only
def password_reset_sent(request: HttpRequest) -> HttpResponse:
    """The same answer whether or not a link was sent."""
    context = {"title": "Vérifiez votre messagerie", "validity": said(PASSWORD_RESET_VALIDITY)}
    return render(request, "accounts/password_reset_sent.html", context)


@login_not_required
@organisation_optional
@require_GET
@_anonymous_only
def password_reset_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the e-mail. Its token moves into the session, in a new key, and the
    page where the password is chosen has none in its address: Django's request log
    writes the address of every refused form (400)."""
    if link_holder(token) is None:
        return _reset_link_expired(request)
    request.session.cycle_key()
    request.session[RESET_TOKEN_KEY] = token
    return redirect("accounts:password_reset_choose")


@login_not_required
@organisation_optional
@require_http_methods(["GET", "POST"])
@never_cache  # shown before any session, yet it names the account
@_anonymous_only
def password_reset_choose(request: HttpRequest) -> HttpResponse:
    token = request.session.get(RESET_TOKEN_KEY, "")
    holder = link_holder(token) if token else None
    if holder is None:
        request.session.pop(RESET_TOKEN_KEY, None)
        return _reset_link_expired(request)
    form = SetPasswordForm(_posted(request), user=holder)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset(
                token=token,
                new_password=form.cleaned_data["password1"],
                ip_address=client_ip(request),
            )
        except ValidationError as error:
            if error.code == "link_expired":
                request.session.pop(RESET_TOKEN_KEY, None)
                return _reset_link_expired(request)
            form.add_error("password1", error)
        else:
            request.session.pop(RESET_TOKEN_KEY, None)
            messages.success(request, PASSWORD_RESET_DONE)
            return redirect("accounts:login")
    context = {"form": form, "title": "Choisir un nouveau mot de passe", "email": holder.email}
    return render(request, "accounts/password_reset_choose.html", context, status=_status(form))


def _reset_link_expired(request: HttpRequest) -> HttpResponse:
    context = {"title": "Lien expiré ou déjà utilisé", "validity": said(PASSWORD_RESET_VALIDITY)}
    return render(request, "accounts/password_reset_invalid.html", context, status=404)
