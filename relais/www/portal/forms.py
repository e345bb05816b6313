import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from relais.consent.models import ConsentDuration
from relais.documents.models import DocumentKind
from relais.persons.categories import DataCategory
from relais.portability import words
from relais.www.documents.forms import MultipleFileField, MultipleFileInput
from relais.www.forms import DayField

# What a person may share from their space: the categories the file shows today.
SHAREABLE_CATEGORIES = [
    DataCategory.IDENTITY,
    DataCategory.FAMILY,
    DataCategory.RESOURCES,
    DataCategory.HOUSING,
    DataCategory.EMPLOYMENT,
    DataCategory.SOCIAL_COVERAGE,
    DataCategory.HEALTH,
    DataCategory.NOTES,
    DataCategory.PROCEDURES,
    DataCategory.DOCUMENTS,
]


class PortalForm(DsfrBaseForm):
    """A form of the person's pages. Sent and shown again, it was refused: no field takes
    the focus then, so that the alert saying why (dsfr/form_snippet.html) is read first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            for field in self.fields.values():
                field.widget.attrs.pop("autofocus", None)


def _document_kind_choices() -> list[tuple[str, str]]:
    """In the order of a dictionary in the person's language; « Autre papier » last, as in
    the professional's list, where one looks for it once the list gave nothing."""
    return sorted(
        ((code, str(word)) for code, word in words.DOCUMENT_KINDS.items()),
        key=lambda choice: (choice[0] == DocumentKind.OTHER, _alphabetical(choice[1])),
    )


def _alphabetical(word: str) -> str:
    """The word as a dictionary orders it: capitals and accents do not count (code points
    put « Carte Vitale » before « Carte d'identité », « RIB » before « Récépissé »)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _day_errors(*, too_late: str) -> dict[str, Any]:
    return {
        "invalid": _("Cette date ne marche pas. Vérifiez le jour, le mois et l'année."),
        "date_too_early": _("Vérifiez l'année : elle doit être après 1900."),
        "date_too_late": too_late,
    }


class DocumentAddForm(PortalForm):
    kind = forms.ChoiceField(
        label=_("Quel papier ?"),
        choices=(),
        error_messages={
            "required": _("Choisissez le papier dans la liste."),
            "invalid_choice": _("Choisissez le papier dans la liste."),
        },
    )
    files = MultipleFileField(
        label=_("Prendre une photo ou choisir un fichier"),
        help_text=_("Une photo ou un PDF. Vous pouvez prendre plusieurs photos du même papier."),
        widget=MultipleFileInput(
            attrs={"accept": "image/*,application/pdf", "capture": "environment", "multiple": True}
        ),
        error_messages={
            "empty": _(
                "Ce fichier est vide. Choisissez un autre fichier, ou prenez votre papier en photo."
            )
        },
    )
    issued_on = DayField(
        label=_("Date écrite sur le papier"),
        required=False,
        years_ahead=0,
        help_text=_(
            "Si vous ne tapez aucune date, Relais calcule la date de fin à partir d'aujourd'hui."
        ),
        error_messages=_day_errors(
            too_late=_("Cette date est après aujourd'hui. Tapez la date écrite sur le papier.")
        ),
    )
    expires_on = DayField(
        label=_("Valable jusqu'au"),
        required=False,
        help_text=_("Si une date de fin est écrite sur le papier."),
        error_messages=_day_errors(
            too_late=_("Vérifiez l'année : elle est trop loin dans le futur.")
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per form: the words follow the language of the request.
        self.fields["kind"].choices = [("", _("Choisir")), *_document_kind_choices()]  # type: ignore[attr-defined]

    def clean_files(self) -> list[Any]:
        # A form sent without a file gives an empty list, which the field lets through.
        files: list[Any] = self.cleaned_data["files"]
        if not files:
            raise ValidationError(_("Choisissez un fichier, ou prenez votre papier en photo."))
        return files

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        issued, expires = cleaned.get("issued_on"), cleaned.get("expires_on")
        if issued and expires and expires < issued:
            self.add_error(
                "expires_on", _("La date de fin doit être après la date écrite sur le papier.")
            )
        return cleaned


class ConsentGrantForm(PortalForm):
    organisation = forms.TypedChoiceField(
        label=_("Quelle structure ?"), coerce=int, widget=forms.RadioSelect
    )
    categories = forms.MultipleChoiceField(
        label=_("Ce qu'elle peut voir"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Cochez au moins une partie de votre dossier.")},
    )
    duration = forms.ChoiceField(
        label=_("Pendant combien de temps ?"), widget=forms.RadioSelect, initial="6m"
    )

    def __init__(
        self,
        *args: Any,
        organisations: list[tuple[int, str]],
        blocked: set[int],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.blocked = blocked
        self.fields["organisation"].choices = organisations  # type: ignore[attr-defined]
        self.fields["organisation"].error_messages["required"] = _("Choisissez une structure.")
        self.fields["organisation"].error_messages["invalid_choice"] = _(
            "Choisissez une structure dans la liste."
        )
        self.fields["categories"].choices = [  # type: ignore[attr-defined]
            (code.value, str(words.CATEGORIES[code])) for code in SHAREABLE_CATEGORIES
        ]
        self.fields["duration"].choices = [  # type: ignore[attr-defined]
            (code.value, str(words.CONSENT_DURATIONS[code])) for code in ConsentDuration
        ]
        self.fields["duration"].error_messages["required"] = _("Choisissez une durée.")

    def clean_organisation(self) -> int:
        # A block wins over any agreement: one given now would change nothing.
        organisation: int = self.cleaned_data["organisation"]
        if organisation in self.blocked:
            raise ValidationError(_("Vous avez bloqué cette structure. Débloquez-la d'abord."))
        return organisation


class BlockForm(PortalForm):
    target = forms.ChoiceField(
        label=_("Qui ne doit plus voir mon dossier ?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez une structure ou une personne.")},
    )

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]
        self.fields["target"].error_messages["invalid_choice"] = _(
            "Choisissez une structure ou une personne dans la liste."
        )


class BreakGlassForm(PortalForm):
    """Yes or no to a break-glass opening: only an explicit answer changes the choice."""

    refuse = forms.TypedChoiceField(
        choices=[("oui", _("Je refuse")), ("non", _("J'accepte"))],
        coerce=lambda answer: answer == "oui",
        error_messages={
            "required": _("Dites oui ou non à l'ouverture en cas d'urgence."),
            "invalid_choice": _("Dites oui ou non à l'ouverture en cas d'urgence."),
        },
    )
