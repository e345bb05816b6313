import copy
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from dsfr.forms import DsfrBaseForm

from relais.consent.models import ConsentDuration, ConsentMethod
from relais.persons.categories import DataCategory
from relais.persons.models import (
    Employment,
    HealthRecord,
    HouseholdMember,
    Housing,
    MonthlyResource,
    NoteVisibility,
    Person,
    SocialCoverage,
)
from relais.persons.normalisation import ascii_digits, name_key
from relais.persons.services import nir_clean
from relais.www.converters import LARGEST_ID
from relais.www.forms import DATE_INPUT, EARLIEST_DAY, DsfrModelForm, GuardedModelForm, page_field

MONTH_INPUT = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


def _clean_nir_field(value: str) -> str:
    """nir_clean raises an error keyed by field; a clean_<field> method must raise a plain
    one (Django refuses a dict there and the page would fail with a server error)."""
    try:
        return nir_clean(value) if value else ""
    except forms.ValidationError as error:
        raise forms.ValidationError(error.messages, code="nir_invalid") from None


# Numbers and codes of the identity, kept in the digits 0 to 9 whatever the keyboard typed.
IDENTITY_DIGIT_FIELDS = ("phone", "postal_code", "commune_code", "caf_number", "france_travail_id")
IDENTITY_NAME_FIELDS = ("first_names", "birth_name", "usage_name", "birth_place", "commune_name")


NAME_WITH_MARKUP = "Un nom ne contient pas les signes « < » et « > » : vérifiez ce qui est tapé."


def refuse_markup(
    form: forms.Form,
    cleaned: dict[str, Any],
    names: tuple[str, ...],
    *,
    error: str = NAME_WITH_MARKUP,
) -> None:
    """No name, nor the purpose printed on the attestation the person signs, holds « < » or
    « > »: typed there, they are a slip or a page's code pasted."""
    for name in names:
        if {"<", ">"} & set(cleaned.get(name) or ""):
            form.add_error(name, error)


def plausible_birth_date(value: date | None) -> date | None:
    if value and value > timezone.localdate():
        raise forms.ValidationError("La date de naissance ne peut pas être dans le futur.")
    # No one alive was born before: a date earlier than this is a typing mistake.
    if value and value < EARLIEST_DAY:
        raise forms.ValidationError(
            "Vérifiez l'année de naissance : elle doit être postérieure à 1900."
        )
    return value


class IdentityForm(DsfrModelForm):
    class Meta:
        model = Person
        fields = [
            "first_names", "birth_name", "usage_name", "sex", "birth_date", "birth_place",
            "nationality", "phone", "email", "address_line", "postal_code", "commune_code",
            "commune_name", "domiciliation", "caf_number", "france_travail_id",
        ]  # fmt: skip
        widgets = {"birth_date": DATE_INPUT}

    def clean_birth_date(self) -> Any:
        return plausible_birth_date(self.cleaned_data["birth_date"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in IDENTITY_DIGIT_FIELDS:
            if cleaned.get(name):
                cleaned[name] = ascii_digits(cleaned[name])
        refuse_markup(self, cleaned, IDENTITY_NAME_FIELDS)
        return cleaned


class IdentityEditForm(GuardedModelForm, IdentityForm):
    """The identity of an existing file, which several professionals may edit at once."""


class NirForm(DsfrBaseForm):
    nir = forms.CharField(
        label="Numéro de sécurité sociale (NIR)",
        max_length=21,
        help_text="15 caractères, clé comprise, tels qu'ils figurent sur la carte Vitale ou "
        "l'attestation de droits. Il sera chiffré et masqué.",
        error_messages={"required": "Saisissez le numéro de sécurité sociale."},
    )

    def clean_nir(self) -> str:
        return _clean_nir_field(self.cleaned_data["nir"].strip())


CATEGORY_CHOICES = [(c.value, c.label) for c in DataCategory]


PURPOSE_WITH_MARKUP = (
    "La finalité ne contient pas les signes « < » et « > » : elle est imprimée sur "
    "l'attestation que la personne signe. Vérifiez ce qui est tapé."
)


class ConsentFields(DsfrBaseForm):
    categories = forms.MultipleChoiceField(
        label="Ce que la personne accepte de partager",
        choices=CATEGORY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Cochez au moins une information que la personne accepte de partager."
        },
    )
    purpose = forms.CharField(
        label="Pour quoi faire (finalité)",
        max_length=300,
        initial="Accompagnement social et aide aux démarches administratives",
    )
    duration = forms.ChoiceField(
        label="Pendant combien de temps", choices=ConsentDuration.choices, initial="6m"
    )
    method = forms.ChoiceField(
        label="Comment l'accord a été recueilli",
        choices=[(ConsentMethod.SIGNED.value, ConsentMethod.SIGNED.label)],
        initial=ConsentMethod.SIGNED.value,
        widget=forms.RadioSelect,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        refuse_markup(self, cleaned, ("purpose",), error=PURPOSE_WITH_MARKUP)
        return cleaned


class CreateFileForm(IdentityForm):
    nir = forms.CharField(label="Numéro de sécurité sociale (NIR)", required=False, max_length=21)
    categories = ConsentFields.base_fields["categories"]
    purpose = ConsentFields.base_fields["purpose"]
    duration = ConsentFields.base_fields["duration"]
    method = ConsentFields.base_fields["method"]
    confirm_new = forms.BooleanField(
        label="J'ai vérifié : il s'agit bien d'une autre personne, je crée un nouveau dossier.",
        required=False,
    )

    def clean_nir(self) -> str:
        return _clean_nir_field(self.cleaned_data["nir"].strip())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        refuse_markup(self, cleaned, ("purpose",), error=PURPOSE_WITH_MARKUP)
        return cleaned


class ConsentForm(ConsentFields):
    organisation = forms.TypedChoiceField(label="Structure", coerce=int)
    code = forms.CharField(
        label="Code reçu par SMS par la personne",
        required=False,
        max_length=6,
        help_text="Seulement si l'accord est confirmé par code.",
    )

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = organisations  # type: ignore[attr-defined]
        self.fields["method"].choices = [  # type: ignore[attr-defined]
            (ConsentMethod.SIGNED.value, ConsentMethod.SIGNED.label),
            (ConsentMethod.CODE.value, ConsentMethod.CODE.label),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("method") == ConsentMethod.CODE and not cleaned.get("code"):
            self.add_error("code", "Saisissez le code que la personne a reçu par SMS.")
        if cleaned.get("method") == ConsentMethod.SIGNED and cleaned.get("code"):
            # Recorded as signed, the accord would say the person signed what a code
            # confirmed, and the code would stay unused.
            self.add_error(
                "code",
                "Un code est saisi mais l'accord est indiqué « signé sur place » : choisissez "
                f"« {ConsentMethod.CODE.label} », ou effacez le code si la personne a signé.",
            )
        return cleaned


class HouseholdMemberForm(DsfrModelForm):
    class Meta:
        model = HouseholdMember
        fields = ["relation", "first_names", "last_name", "birth_date", "is_dependent"]
        widgets = {"birth_date": DATE_INPUT}

    def clean_birth_date(self) -> Any:
        return plausible_birth_date(self.cleaned_data["birth_date"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        refuse_markup(self, cleaned, ("first_names", "last_name"))
        return cleaned


class ResourceForm(DsfrModelForm):
    month = forms.DateField(
        label="Mois", input_formats=["%Y-%m"], widget=MONTH_INPUT, help_text="Par exemple 2026-10."
    )

    class Meta:
        model = MonthlyResource
        fields = ["member", "month", "kind", "amount"]
        labels = {"member": "Qui reçoit cette ressource"}
        # The list offers « La personne elle-même » first: no need to say what empty means.
        help_texts = {"member": ""}

    def __init__(self, *args: Any, person: Person, names_members: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member = self.fields["member"]
        member.queryset = person.household.order_by("pk")  # type: ignore[attr-defined]
        member.empty_label = "La personne elle-même"  # type: ignore[attr-defined]
        if not names_members:
            # Who is in the household belongs to the household's section, which this
            # professional may not read: the members are told apart by their number.
            member.label_from_instance = _unnamed_member  # type: ignore[attr-defined]


def _unnamed_member(member: HouseholdMember) -> str:
    return f"Membre du foyer n° {member.pk}"


class HousingForm(GuardedModelForm):
    class Meta:
        model = Housing
        fields = ["status", "monthly_rent", "monthly_charges", "commune_code", "since"]
        widgets = {"since": DATE_INPUT}


class EmploymentForm(GuardedModelForm):
    class Meta:
        model = Employment
        fields = ["status", "registered_france_travail", "since"]
        widgets = {"since": DATE_INPUT}


class SocialCoverageForm(GuardedModelForm):
    class Meta:
        model = SocialCoverage
        fields = ["regime", "complementary", "ame", "rights_until"]
        widgets = {"rights_until": DATE_INPUT}


class HealthForm(GuardedModelForm):
    class Meta:
        model = HealthRecord
        fields = ["disability_rate", "rqth", "mdph_pending", "long_term_condition", "remarks"]


class NoteForm(DsfrBaseForm):
    text = forms.CharField(
        label="Note de suivi",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Des faits datés et utiles à l'accompagnement : pas d'opinion ni de diagnostic.",
    )
    visibility = forms.ChoiceField(
        label="Visible par", choices=NoteVisibility.choices, initial=NoteVisibility.ORGANISATION
    )
    # The text the author was warned about, by its digest: a confirmation holds for it only.
    warned_about = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    confirm_sensitive = forms.BooleanField(
        label="Je confirme que cette note est objective et nécessaire à l'accompagnement.",
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offered once a warning has named the terms: ticked before, it confirms nothing.
        if not self.data.get("warned_about"):
            del self.fields["confirm_sensitive"]

    def confirmed(self) -> bool:
        """Whether the author confirmed this very text: one changed since its warning may
        name other terms, and is warned about again."""
        return bool(self.cleaned_data.get("confirm_sensitive")) and constant_time_compare(
            self.cleaned_data["warned_about"], _digest(self.cleaned_data["text"])
        )

    def ask_confirmation(self, terms: list[str]) -> None:
        """Show the note again with the terms it names, and the box to confirm it, not
        ticked, for this text."""
        data = self.data.copy()
        data["warned_about"] = _digest(self.cleaned_data["text"])
        data.pop("confirm_sensitive", None)
        self.data = data
        self.fields["confirm_sensitive"] = copy.deepcopy(self.base_fields["confirm_sensitive"])
        self.add_error(
            "confirm_sensitive",
            "Cette note parle peut-être d'informations sensibles ("
            + ", ".join(terms)
            + "). Vérifiez qu'elle est objective et nécessaire, puis cochez la case pour "
            "confirmer.",
        )


def _digest(text: str) -> str:
    """The note's text as the terms are looked for in it, keyed by the server's secret."""
    return salted_hmac("relais.notes.warned", name_key(text), algorithm="sha256").hexdigest()


class SearchForm(DsfrBaseForm):
    q = forms.CharField(
        label="Nom, prénom, date de naissance (JJ/MM/AAAA) ou n° allocataire CAF",
        max_length=100,
        error_messages={
            "required": "Saisissez un nom, un prénom, une date de naissance ou un n° "
            "allocataire CAF."
        },
    )
    page = page_field()


class BreakGlassForm(DsfrBaseForm):
    birth_name = forms.CharField(label="Nom de naissance", max_length=150)
    first_names = forms.CharField(label="Prénom", max_length=150)
    birth_date = forms.DateField(label="Date de naissance", widget=DATE_INPUT)
    reason = forms.CharField(
        label="Motif de l'accès exceptionnel",
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=20,
        max_length=1000,
        help_text="Au moins 20 caractères. La personne et votre responsable liront ce motif.",
        error_messages={
            "required": "Écrivez pourquoi vous ouvrez ce dossier sans l'accord de la personne.",
            "min_length": "Écrivez un motif d'au moins %(limit_value)d caractères (il en a "
            "%(show_value)d) : la personne et votre responsable le liront.",
        },
    )

    def clean_birth_date(self) -> Any:
        # A date no one was born on finds no file, and would be journaled as a refusal.
        return plausible_birth_date(self.cleaned_data["birth_date"])


class MergeForm(DsfrBaseForm):
    keep = forms.IntegerField(label="N° du dossier à garder", min_value=1, max_value=LARGEST_ID)
    absorb = forms.IntegerField(
        label="N° du doublon à fusionner dans ce dossier", min_value=1, max_value=LARGEST_ID
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("keep") and cleaned.get("keep") == cleaned.get("absorb"):
            self.add_error("absorb", "Choisissez deux dossiers différents.")
        return cleaned


class MergeConfirmForm(DsfrBaseForm):
    """A merge's second step: the manager's word that the two files shown are one
    person's."""

    same_person = forms.BooleanField(
        label="Je confirme qu'il s'agit de la même personne",
        error_messages={
            "required": "Cochez la case pour confirmer qu'il s'agit de la même personne : "
            "sans cela, rien n'est fusionné."
        },
    )
