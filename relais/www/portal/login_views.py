"""The person's login pages: a code by SMS or e-mail, a password, or the carte Relais.

What the person types to say who they are travels in POST bodies and stays in the
session between two screens; it never appears in a URL.

The page to come back to once logged in travels as `next` in the URL of each login page:
the forms are sent to their own URL, and each link and redirect between login pages
carries it on. It is checked again on each page (relais.www.portal.decorators.page_in_space),
and nothing is left behind in the session for the next person on a shared computer.
"""

from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from relais.accounts.decorators import with_next
from relais.portal.models import CodePurpose, PersonAccount
from relais.portal.services import (
    LoginRefused,
    login_code_send,
    person_login_with_card,
    person_login_with_code,
    person_login_with_password,
    person_logout,
    person_password_set,
)
from relais.portal.sessions import (
    PENDING_LOGIN,
    person_actor,
    person_session_end,
    person_session_keep,
    person_session_start,
)
from relais.www.portal.decorators import page_in_space, person_required, portal_public
from relais.www.portal.login_forms import (
    ActivationForm,
    CardForm,
    CodeForm,
    IdentifierForm,
    PasswordChooseForm,
    PasswordLoginForm,
    password_refusal_in_plain_words,
)


def _status(request: HttpRequest) -> int:
    """A form page shown again after a POST shows a refusal (what succeeds redirects); the
    same status whether or not an account matched what was typed."""
    return 400 if request.method == "POST" else 200


def _next_page(request: HttpRequest) -> str:
    """The page of the space to come back to once logged in; "" for the home page."""
    return page_in_space(request, request.GET.get("next", ""))


def _come_back(request: HttpRequest) -> HttpResponse:
    """To the page to come back to, or to the home page."""
    return redirect(_next_page(request) or "portal:home")


def _offer_a_password(request: HttpRequest) -> HttpResponse:
    """After the card or the invitation: the offer of a password, then the page to come
    back to (or that page itself, when it was the offer of a password)."""
    next_page = _next_page(request)
    offer = reverse("portal:password_choose")
    if urlsplit(next_page).path == offer:
        return redirect(next_page)
    return redirect(with_next(offer, next_page))


def _login_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A login page, whose links to the other login pages carry the page to come back to."""
    next_page = _next_page(request)
    context["next_query"] = f"?{urlencode({'next': next_page})}" if next_page else ""
    return render(request, template, context, status=_status(request))


@portal_public
@require_http_methods(["GET"])
def login(request: HttpRequest) -> HttpResponse:
    if request.person_account is not None:  # type: ignore[attr-defined]
        return _come_back(request)
    return _login_page(request, "portal/login/choose.html", {"title": _("Me connecter")})


@portal_public
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    form = IdentifierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"]
        try:
            login_code_send(identifier=identifier, by=person_actor(request))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session[PENDING_LOGIN] = {"identifier": identifier}
            return redirect(with_next(reverse("portal:login_code_check"), _next_page(request)))
    return _login_page(
        request,
        "portal/login/code_request.html",
        {"form": form, "title": _("Recevoir un code")},
    )


@portal_public
@require_http_methods(["GET", "POST"])
def login_code_check(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_LOGIN)
    if not pending:
        return redirect(with_next(reverse("portal:login_code"), _next_page(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = person_login_with_code(
                identifier=pending["identifier"],
                code=form.cleaned_data["code"],
                by=person_actor(request),
            )
        except LoginRefused as error:
            form.add_error("code", error)
        else:
            person_session_start(request, account)
            return _come_back(request)
    return _login_page(
        request,
        "portal/login/code_check.html",
        {
            "form": form,
            "title": _("Tapez le code"),
            "code_minutes": int(settings.RELAIS_PORTAL_CODE_VALIDITY.total_seconds() // 60),
        },
    )


@portal_public
@require_http_methods(["GET", "POST"])
def login_password(request: HttpRequest) -> HttpResponse:
    form = PasswordLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = person_login_with_password(
                identifier=form.cleaned_data["identifier"],
                password=form.cleaned_data["password"],
                by=person_actor(request),
            )
        except LoginRefused as error:
            form.add_error(None, error)
        else:
            person_session_start(request, account)
            return _come_back(request)
    return _login_page(
        request,
        "portal/login/password.html",
        {"form": form, "title": _("Mon mot de passe")},
    )


@portal_public
@require_http_methods(["GET", "POST"])
def login_card(request: HttpRequest) -> HttpResponse:
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            login = person_login_with_card(
                card_identifier=form.cleaned_data["card_identifier"],
                recovery_code=form.cleaned_data["recovery_code"],
                by=person_actor(request),
            )
        except LoginRefused as error:
            form.add_error(None, error)
        else:
            person_session_start(request, login.account)
            messages.info(
                request,
                ngettext(
                    "Il reste %(count)d code sur votre carte.",
                    "Il reste %(count)d codes sur votre carte.",
                    login.codes_left,
                )
                % {"count": login.codes_left},
            )
            return _offer_a_password(request)
    return _login_page(
        request,
        "portal/login/card.html",
        {"form": form, "title": _("Ma carte Relais")},
    )


@portal_public
@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    """The person finishes opening their space with the code a professional sent them."""
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = person_login_with_code(
                identifier=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                purpose=CodePurpose.INVITATION,
                by=person_actor(request),
            )
        except LoginRefused as error:
            form.add_error(None, error)
        else:
            person_session_start(request, account)
            return _offer_a_password(request)
    return _login_page(
        request,
        "portal/login/activate.html",
        {"form": form, "title": _("Ouvrir mon espace")},
    )


@person_required
@require_http_methods(["GET", "POST"])
def password_choose(request: HttpRequest) -> HttpResponse:
    account = request.person_account  # type: ignore[attr-defined]
    form = PasswordChooseForm(request.POST or None, replacing=account.has_password)
    if request.method == "POST" and form.is_valid():
        try:
            account = person_password_set(
                account=account,
                password=form.cleaned_data["password1"],
                current_password=form.cleaned_data.get("current_password", ""),
                by=person_actor(request),
            )
        except LoginRefused as error:
            form.add_error("current_password" if account.has_password else None, error)
        except ValidationError as error:
            form.add_error("password1", password_refusal_in_plain_words(error))
        else:
            person_session_keep(request, account)
            messages.success(request, _("Votre mot de passe est enregistré."))
            return _come_back(request)
    context = {
        "form": form,
        "account": account,
        "title": _password_page_title(account),
        "not_now_url": _next_page(request) or reverse("portal:home"),
    }
    return render(request, "portal/login/password_choose.html", context, status=_status(request))


def _password_page_title(account: PersonAccount) -> str:
    """The page's title and heading: changing a password, or offered a first one."""
    if account.has_password:
        return _("Changer mon mot de passe")
    return _("Voulez-vous un mot de passe ?")


@portal_public
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    account = request.person_account  # type: ignore[attr-defined]
    if account is not None:
        person_logout(account=account, by=person_actor(request))
        person_session_end(request)
        messages.success(request, _("Vous êtes déconnecté. À bientôt."))
    return redirect("portal:login")
