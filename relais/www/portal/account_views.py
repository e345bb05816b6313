"""The person's space, seen from their file: open it with the person present, print the
carte Relais, restore access at the office, close it. Reached under the IDENTITY category
of the access rule, for editing: outside it, 404."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from relais.accounts.actors import actor_for
from relais.accounts.decorators import recent_second_factor_required
from relais.consent.access import FileAccess
from relais.persons.categories import Action, DataCategory
from relais.portal.models import PersonAccount
from relais.portal.services import (
    person_account_close,
    person_account_open,
    person_account_recover,
    person_account_update,
    person_invitation_send,
)
from relais.www.persons.access import access_file, record_view
from relais.www.persons.views import file_context, file_page_title
from relais.www.portal.account_forms import (
    IdentifiersForm,
    OpenAccountForm,
    RecoverForm,
    ReopenAccountForm,
)

_TAB = "espace"


def _open_form_class(account: PersonAccount | None) -> type[OpenAccountForm]:
    """A closed space is reopened with a reason; a first opening is its own reason."""
    return ReopenAccountForm if account is not None and not account.is_active else OpenAccountForm


def _editable_file(request: HttpRequest, person_id: int) -> tuple[FileAccess, PersonAccount | None]:
    _, access = access_file(request, person_id, DataCategory.IDENTITY, Action.EDIT)
    account = PersonAccount.objects.filter(person=access.person).first()
    return access, account


def _page(
    request: HttpRequest,
    access: FileAccess,
    account: PersonAccount | None,
    *,
    open_form: OpenAccountForm | None = None,
    identifiers_form: IdentifiersForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The space's page, whatever brought it: it shows the file's header and the space's
    identifiers, so the journal says so."""
    record_view(request, access, DataCategory.IDENTITY)
    active = account is not None and account.is_active
    context = file_context(access, _TAB) | {
        "account": account if active else None,
        "closed_account": account if account is not None and not active else None,
        "codes_left": account.recovery_codes.filter(used_at__isnull=True).count()
        if active and account is not None
        else 0,
        "open_form": open_form or _open_form_class(account)(initial={"phone": access.person.phone}),
        "identifiers_form": identifiers_form
        or IdentifiersForm(
            initial={"phone": account.phone, "email": account.email} if active and account else {}
        ),
    }
    return render(request, "persons/account.html", context, status=status)


def _card(
    request: HttpRequest, access: FileAccess, account: PersonAccount, codes: list[str]
) -> HttpResponse:
    """The carte Relais, shown once right after its codes are made: never stored in clear,
    so this page cannot be shown again (a new card replaces the codes)."""
    response = render(
        request,
        "persons/account_card.html",
        {
            "person": access.person,
            "account": account,
            "codes": codes,
            "portal_url": settings.RELAIS_PUBLIC_URL + reverse("portal:login"),
            "title": "Carte Relais",
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def _open(request: HttpRequest, access: FileAccess, account: PersonAccount | None) -> HttpResponse:
    """Opening a space, or reopening a closed one, hands the whole file to whoever gets the
    card, the phone or the password: as for restoring access, the professional's second
    factor is recent and the person's identity is checked with a document (a reopening
    also says why)."""
    form = _open_form_class(account)(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            account, codes = person_account_open(
                person=access.person,
                phone=data["phone"],
                email=data["email"],
                password=data["password1"],
                identity_checked=data["identity_checked"],
                identity_document=data["identity_document"],
                reason=data.get("reason", ""),
                by=actor_for(request),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error(None, error)
            else:
                form.add_error("password1" if data["password1"] else None, error)
        else:
            return _card(request, access, account, codes)
    return _page(request, access, account, open_form=form, status=400)


@recent_second_factor_required
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, person_id: int) -> HttpResponse:
    """The space's page; its form (POST) opens the space, or reopens a closed one, and
    prints the card.

    Its forms (opening, identifiers) need a recent second factor: it is asked when the
    page opens, before the person types a password that a check on sending would lose,
    and again on sending if it has grown old meanwhile."""
    _, access = access_file(request, person_id, DataCategory.IDENTITY, Action.EDIT)
    account = PersonAccount.objects.filter(person=access.person).first()
    if request.method == "GET":
        return _page(request, access, account)
    return _open(request, access, account)


@recent_second_factor_required
@require_POST
def update_identifiers(request: HttpRequest, person_id: int) -> HttpResponse:
    """Change the phone or e-mail the space is reached by: the person is there, identity
    checked, since the new number receives the codes that open the whole space."""
    access, account = _editable_file(request, person_id)
    if account is None or not account.is_active:
        messages.error(request, "Cette personne n'a pas d'espace personnel ouvert.")
        return redirect("person_account:manage", person_id=person_id)
    form = IdentifiersForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            person_account_update(
                account=account,
                phone=data["phone"],
                email=data["email"],
                identity_checked=data["identity_checked"],
                identity_document=data["identity_document"],
                reason=data["reason"],
                by=actor_for(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                "Les identifiants de connexion sont enregistrés. S'ils ont changé, les "
                "connexions en cours de la personne s'arrêtent et son ancien numéro ou son "
                "ancienne adresse est prévenu.",
            )
            return redirect("person_account:manage", person_id=person_id)
    return _page(request, access, account, identifiers_form=form, status=400)


@require_POST
def invite(request: HttpRequest, person_id: int) -> HttpResponse:
    _, account = _editable_file(request, person_id)
    if account is None:
        messages.error(request, "Ouvrez d'abord l'espace personnel.")
        return redirect("person_account:manage", person_id=person_id)
    try:
        person_invitation_send(account=account, by=actor_for(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        hours = int(settings.RELAIS_PORTAL_INVITATION_VALIDITY.total_seconds() // 3600)
        messages.success(
            request,
            "Un SMS avec un code est parti vers le portable de la personne. Elle peut finir "
            f"d'ouvrir son espace elle-même pendant {hours} heure{pluralize(hours)}.",
        )
    return redirect("person_account:manage", person_id=person_id)


@recent_second_factor_required
@require_http_methods(["GET", "POST"])
def recover(request: HttpRequest, person_id: int) -> HttpResponse:
    """Rétablir l'accès au guichet: identity checked in person, then a new card and/or a
    new password; every session of the person opened before ends."""
    access, account = _editable_file(request, person_id)
    if account is None or not account.is_active:
        messages.error(request, "Cette personne n'a pas d'espace personnel ouvert.")
        return redirect("person_account:manage", person_id=person_id)
    form = RecoverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = person_account_recover(
                account=account,
                identity_checked=form.cleaned_data["identity_checked"],
                identity_document=form.cleaned_data["identity_document"],
                reason=form.cleaned_data["reason"],
                new_card=form.cleaned_data["new_card"],
                password=form.cleaned_data["password1"],
                by=actor_for(request),
            )
        except ValidationError as error:
            form.add_error("password1" if form.cleaned_data["password1"] else None, error)
        else:
            if codes:
                return _card(request, access, account, codes)
            messages.success(request, "L'accès est rétabli avec le nouveau mot de passe.")
            return redirect("person_account:manage", person_id=person_id)
    record_view(request, access, DataCategory.IDENTITY)
    context = file_context(access, _TAB) | {
        "account": account,
        "form": form,
        "title": f"Rétablir l'accès à l'{file_page_title(_TAB, access.person.pk).lower()}",
    }
    return render(
        request,
        "persons/account_recover.html",
        context,
        status=400 if form.is_bound else 200,
    )


@require_POST
def close(request: HttpRequest, person_id: int) -> HttpResponse:
    _, account = _editable_file(request, person_id)
    if account is None:
        messages.error(request, "Cette personne n'a pas d'espace personnel ouvert.")
        return redirect("person_account:manage", person_id=person_id)
    try:
        # An account closed meanwhile (two professionals at once) is refused by the
        # service, under its lock.
        person_account_close(account=account, by=actor_for(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "L'espace personnel est fermé. La carte, les codes et le mot de passe ne marchent "
            "plus. Le dossier, lui, reste ouvert.",
        )
    return redirect("person_account:manage", person_id=person_id)
