from django import forms
from django.contrib.auth.password_validation import validate_password
from dsfr.forms import DsfrBaseForm

from relais.accounts.models import User


class LoginForm(DsfrBaseForm):
    email = forms.EmailField(
        label="Adresse électronique",
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordResetRequestForm(DsfrBaseForm):
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="L'adresse professionnelle avec laquelle vous vous connectez à Relais.",
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class ReactivationForm(DsfrBaseForm):
    password = forms.CharField(
        label="Mot de passe de votre compte",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class CodeForm(DsfrBaseForm):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="Le code à 6 chiffres de votre application, ou l'un de vos codes de secours.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class TotpSetupForm(DsfrBaseForm):
    code = forms.CharField(
        label="Code affiché par l'application",
        max_length=10,
        help_text="6 chiffres, par exemple 123456.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class SetPasswordForm(DsfrBaseForm):
    password1 = forms.CharField(
        label="Mot de passe",
        strip=False,
        help_text="Au moins 12 caractères, difficile à deviner : une phrase de plusieurs mots "
        "sans lien entre eux convient bien.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        self.user = user
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "Les deux mots de passe ne sont pas identiques.")
        elif first:
            try:
                validate_password(str(first), self.user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ChooseOrganisationForm(DsfrBaseForm):
    membership = forms.TypedChoiceField(
        label="Structure pour laquelle vous agissez", coerce=int, widget=forms.RadioSelect
    )

    def __init__(self, *args: object, choices: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["membership"].choices = choices  # type: ignore[attr-defined]
