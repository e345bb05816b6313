from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from dsfr.forms import DsfrBaseForm

from relais.documents.models import DocumentKind
from relais.documents.validation import EMPTY_FILE, MAX_PHOTOS, in_megabytes
from relais.persons.normalisation import name_key
from relais.www.forms import DayField


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One file, or several photos of the same document (assembled into one PDF)."""

    # Django's own words (« Le fichier soumis est vide. ») would come before the vault's.
    default_error_messages = {"empty": EMPTY_FILE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={
                    "accept": "application/pdf,image/jpeg,image/png,image/heic,image/webp",
                    "capture": "environment",
                    "multiple": True,
                }
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


def _issued_on() -> DayField:
    return DayField(label="Délivrée le", required=False, years_ahead=0)


def _expires_on(help_text: str) -> DayField:
    return DayField(label="Valable jusqu'au", required=False, help_text=help_text)


USUAL_VALIDITY = (
    "Laissez vide : Relais compte la durée habituelle de ce type de pièce à partir de sa date "
    "de délivrance ; sans date de délivrance, la pièce n'a pas de date de fin."
)


class DatedForm(DsfrBaseForm):
    """A form with a paper's « Délivrée le » and « Valable jusqu'au »."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        issued, expires = cleaned.get("issued_on"), cleaned.get("expires_on")
        if issued and expires and expires < issued:
            self.add_error(
                "expires_on", "La date de fin de validité doit suivre la date de délivrance."
            )
        return cleaned


def _files_help() -> str:
    return (
        f"PDF, JPEG, PNG, HEIC ou WebP, {in_megabytes(settings.RELAIS_DOCUMENT_MAX_BYTES)} Mo "
        f"au plus. Plusieurs photos d'une même pièce ({MAX_PHOTOS} au plus, ensemble dans "
        "cette taille) sont réunies en un seul PDF."
    )


def _kind_choices(kinds: Iterable[str]) -> list[tuple[str, str]]:
    """In the order of a dictionary, where accents and capitals do not count (« Carte
    nationale d'identité » before « Carte Vitale »); « Autre pièce » last."""
    offered = sorted(
        (kind for kind in DocumentKind if kind in kinds),
        key=lambda kind: (kind == DocumentKind.OTHER, name_key(kind.label)),
    )
    return [(kind.value, kind.label) for kind in offered]


class UploadForm(DatedForm):
    kind = forms.ChoiceField(label="Type de pièce")
    title = forms.CharField(
        label="Précision", max_length=150, required=False, help_text="Par exemple « mars 2026 »."
    )
    issued_on = _issued_on()
    expires_on = _expires_on(USUAL_VALIDITY)
    files = MultipleFileField(label="Fichier ou photos")

    def __init__(self, *args: Any, kinds: Iterable[str], **kwargs: Any) -> None:
        """`kinds`: those the professional may add; any other is refused as a bad choice."""
        super().__init__(*args, **kwargs)
        # On the bound field: DsfrBaseForm's __init__ made it, copying the field's text.
        self["files"].help_text = _files_help()
        self.fields["kind"].choices = _kind_choices(kinds)


class ReplaceForm(DatedForm):
    files = MultipleFileField(label="Nouveau fichier ou nouvelles photos")
    issued_on = _issued_on()
    expires_on = _expires_on(USUAL_VALIDITY)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self["files"].help_text = _files_help()


class EditForm(DatedForm):
    """A document's type and dates, corrected."""

    kind = forms.ChoiceField(label="Type de pièce")
    issued_on = _issued_on()
    expires_on = _expires_on("Laissez vide si la pièce n'a pas de date de fin.")

    def __init__(self, *args: Any, kinds: Iterable[str], **kwargs: Any) -> None:
        """`kinds`: those the professional may give the document."""
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _kind_choices(kinds)
