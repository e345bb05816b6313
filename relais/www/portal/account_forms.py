"""Forms of the professional's pages about a person's space."""

from django import forms
from django.core.exceptions import ValidationError
from dsfr.forms import DsfrBaseForm

from relais.portal.services import IDENTITY_DOCUMENTS, normalise_phone
from relais.www.portal.login_forms import check_password_typed_twice


class ContactFields(DsfrBaseForm):
    phone = forms.CharField(
        label="Téléphone portable de la personne",
        help_text="Pour recevoir les codes de connexion par SMS. Par exemple 06 12 34 56 78.",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label="Adresse e-mail de la personne",
        help_text="Facultative : la personne peut se connecter sans e-mail.",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        return normalise_phone(phone) if phone else ""


def _reason_field(label: str, example: str, missing: str) -> forms.CharField:
    return forms.CharField(
        label=label, help_text=example, max_length=200, error_messages={"required": missing}
    )


class IdentityCheckFields(forms.Form):
    """What the office checks before opening the space or changing how the person logs in:
    whoever holds the phone, the e-mail or the card holds the person's space. A form that
    changes a space already opened adds its `reason`; a first opening is its own reason."""

    identity_checked = forms.BooleanField(
        label="J'ai vérifié l'identité de la personne, présente, avec l'original d'une pièce",
        required=True,
        error_messages={"required": "Vérifiez d'abord l'identité de la personne."},
    )
    identity_document = forms.ChoiceField(
        label="Pièce présentée",
        choices=[("", "Choisir"), *IDENTITY_DOCUMENTS.items()],
        error_messages={"required": "Choisissez la pièce d'identité présentée."},
    )


class PasswordFields(forms.Form):
    password1 = forms.CharField(
        label="Mot de passe choisi par la personne",
        help_text="Facultatif. La personne le tape elle-même : au moins 8 signes, "
        "pas son nom, pas un mot de passe courant.",
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Le même mot de passe, une seconde fois",
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned: dict[str, object] = super().clean() or {}
        check_password_typed_twice(self, cleaned, "Les deux mots de passe ne sont pas identiques.")
        return cleaned


class IdentifiersForm(ContactFields, IdentityCheckFields):
    reason = _reason_field(
        "Pourquoi changer les identifiants ?",
        "Par exemple : nouveau numéro de portable, téléphone perdu.",
        "Écrivez pourquoi les identifiants changent.",
    )

    field_order = ["phone", "email", "identity_checked", "identity_document", "reason"]


class OpenAccountForm(ContactFields, IdentityCheckFields, PasswordFields):
    field_order = [
        "identity_checked",
        "identity_document",
        "phone",
        "email",
        "password1",
        "password2",
    ]


class ReopenAccountForm(OpenAccountForm):
    reason = _reason_field(
        "Pourquoi rouvrir l'espace ?",
        "Par exemple : la personne revient vers la structure.",
        "Écrivez pourquoi l'espace est rouvert.",
    )

    field_order = [
        "identity_checked",
        "identity_document",
        "reason",
        "phone",
        "email",
        "password1",
        "password2",
    ]


class RecoverForm(DsfrBaseForm, IdentityCheckFields, PasswordFields):
    reason = _reason_field(
        "Pourquoi rétablir l'accès ?",
        "Par exemple : carte perdue, téléphone volé, mot de passe oublié.",
        "Écrivez pourquoi l'accès est rétabli.",
    )
    new_card = forms.BooleanField(
        label="Imprimer une nouvelle carte Relais (les anciens codes ne marchent plus)",
        required=False,
        initial=True,
    )

    field_order = [
        "identity_checked",
        "identity_document",
        "reason",
        "new_card",
        "password1",
        "password2",
    ]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if not cleaned.get("new_card") and not cleaned.get("password1"):
            raise ValidationError(
                "Choisissez une nouvelle carte, un nouveau mot de passe, ou les deux."
            )
        return cleaned
