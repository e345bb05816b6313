"""Forms of the person's login pages: one question each, in short words."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from relais.portal.services import normalise_card_identifier, normalise_phone, parse_identifier
from relais.www.portal.forms import PortalForm

# Django's own words for a refused password are long and abstract (« Il doit contenir au
# minimum 8 caractères. »): the person's space says the same in its own words.
PASSWORD_REFUSALS = {
    "password_too_short": _(
        "Ce mot de passe est trop court : il faut au moins %(min_length)d signes."
    ),
    "password_too_common": _("Ce mot de passe est trop facile à deviner. Choisissez-en un autre."),
}


def password_refusal_in_plain_words(refused: ValidationError) -> ValidationError:
    """The validators' refusals, each in the person's words when the space has them."""
    return ValidationError(
        [
            ValidationError(PASSWORD_REFUSALS[error.code], code=error.code, params=error.params)
            if error.code in PASSWORD_REFUSALS
            else error
            for error in refused.error_list
        ]
    )


def check_password_typed_twice(form: forms.Form, cleaned: dict[str, object], error: str) -> None:
    """Adds `error` to `password2` when it differs from `password1` (a password typed twice,
    on the person's pages and on the professional's)."""
    if "password1" in cleaned and cleaned["password1"] != cleaned.get("password2", ""):
        form.add_error("password2", error)


class IdentifierForm(PortalForm):
    identifier = forms.CharField(
        label=_("Votre numéro de portable, votre e-mail ou le numéro de votre carte Relais"),
        help_text=_("Par exemple : 06 12 34 56 78"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={
            "required": _(
                "Tapez votre numéro de portable, votre e-mail ou le numéro de votre carte."
            )
        },
    )

    def clean_identifier(self) -> str:
        value: str = self.cleaned_data["identifier"]
        if parse_identifier(value) is None:
            raise ValidationError(
                _(
                    "Ce n'est pas un numéro de portable, un e-mail ou un numéro de carte. "
                    "Vérifiez ce que vous avez tapé."
                )
            )
        return value.strip()


class CodeForm(PortalForm):
    code = forms.CharField(
        label=_("Le code reçu"),
        help_text=_("6 chiffres, par exemple 123456"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={"required": _("Tapez le code reçu.")},
    )


class PasswordLoginForm(IdentifierForm):
    password = forms.CharField(
        label=_("Votre mot de passe"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Tapez votre mot de passe.")},
    )


class CardForm(PortalForm):
    card_identifier = forms.CharField(
        label=_("Le numéro de votre carte"),
        help_text=_("Il commence par RL. Par exemple : RL-7K4M-93QX"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "characters", "autofocus": True}
        ),
        error_messages={"required": _("Tapez le numéro de votre carte.")},
    )
    recovery_code = forms.CharField(
        label=_("Un code de votre carte"),
        help_text=_("8 chiffres. Chaque code ne marche qu'une fois : barrez-le après."),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": _("Tapez un code de votre carte.")},
    )

    def clean_card_identifier(self) -> str:
        card = normalise_card_identifier(self.cleaned_data["card_identifier"])
        if card is None:
            raise ValidationError(_("Ce n'est pas un numéro de carte Relais. Il commence par RL."))
        return card


class ActivationForm(PortalForm):
    phone = forms.CharField(
        label=_("Votre numéro de portable"),
        help_text=_("Celui qui a reçu le SMS de Relais"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "autofocus": True}
        ),
        error_messages={"required": _("Tapez votre numéro de portable.")},
    )
    code = forms.CharField(
        label=_("Le code reçu par SMS"),
        help_text=_("6 chiffres, par exemple 123456"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": _("Tapez le code reçu par SMS.")},
    )

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except ValidationError as error:
            raise ValidationError(_("Ce numéro de portable n'est pas valide.")) from error


class PasswordChooseForm(PortalForm):
    current_password = forms.CharField(
        label=_("Votre mot de passe actuel"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": _("Tapez votre mot de passe actuel.")},
    )
    password1 = forms.CharField(
        label=_("Votre nouveau mot de passe"),
        help_text=_("Au moins 8 signes. Pas votre nom, pas 12345678."),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Tapez votre nouveau mot de passe.")},
    )
    password2 = forms.CharField(
        label=_("Tapez-le encore une fois"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Tapez encore une fois votre nouveau mot de passe.")},
    )

    def __init__(self, *args: Any, replacing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A first password asks for none; the new one then takes the focus.
        if not replacing:
            del self.fields["current_password"]
            if not self.is_bound:
                self.fields["password1"].widget.attrs["autofocus"] = True

    def clean(self) -> dict[str, object]:
        cleaned: dict[str, object] = super().clean() or {}
        check_password_typed_twice(
            self, cleaned, str(_("Les deux mots de passe ne sont pas pareils."))
        )
        return cleaned
