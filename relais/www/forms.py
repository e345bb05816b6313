import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Model
from django.db.models.fields import BLANK_CHOICE_DASH
from dsfr.forms import DsfrBaseForm

from relais.persons.validators import DateWindow


class DsfrModelForm(DsfrBaseForm, forms.ModelForm):  # type: ignore[misc]
    """A ModelForm rendered with the State design system's field templates. The empty choice
    of a list reads in words (Django writes « --------- »): what leaving it means when the
    field may stay empty, the design system's invitation to choose when it may not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            label = "Sélectionner une option" if field.required else "Non renseigné"
            if isinstance(field, forms.ModelChoiceField):
                if field.empty_label == BLANK_CHOICE_DASH[0][1]:
                    field.empty_label = label
            elif isinstance(field, forms.ChoiceField):
                choices = list(field.choices)
                if choices[:1] == BLANK_CHOICE_DASH:
                    field.choices = [("", label), *choices[1:]]


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EARLIEST_DAY = date(1900, 1, 1)


class DayField(forms.DateField):
    """A day typed in a form: from 1900 to `years_ahead` years after today (0: not in the
    future). Beyond, it is a typing mistake, and the dates computed from it (a document's
    usual validity, a procedure's next occurrence) would not exist."""

    def __init__(self, *, years_ahead: int = 100, **kwargs: Any) -> None:
        kwargs.setdefault("widget", DATE_INPUT)
        super().__init__(**kwargs)
        self.validators.append(
            DateWindow(
                earliest=EARLIEST_DAY,
                years_ahead=years_ahead,
                too_early="Vérifiez l'année : la date doit être postérieure à 1900.",
                too_late="Cette date ne peut pas être dans le futur."
                if years_ahead == 0
                else f"Vérifiez l'année : la date ne peut pas dépasser de plus de {years_ahead} "
                "ans la date du jour.",
            )
        )


# No list is read further than this page; a larger number would also overflow the
# database's integers once turned into an offset.
LAST_PAGE = 10_000
_NO_SUCH_PAGE = "Cette page de la liste n'existe pas : revenez à la première page."


def posted_id(value: str | None) -> int | None:
    """A row's number as a form or a link carries it (the journal row a page of history
    starts below, an organisation chosen, a block to lift); None for anything else: a
    superscript « ² » passes `isdigit()` but not `int()`, and 19 digits overflow the
    database's integers."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def page_field() -> forms.IntegerField:
    """A list's page number, carried in a hidden field or in the query string."""
    return forms.IntegerField(
        required=False,
        min_value=1,
        max_value=LAST_PAGE,
        widget=forms.HiddenInput,
        error_messages=dict.fromkeys(("invalid", "min_value", "max_value"), _NO_SUCH_PAGE),
    )


class PageForm(DsfrBaseForm):
    """The page of a list read from the query string."""

    page = page_field()


def filters_query(data: Mapping[str, str]) -> str:
    """The filters of a list in force, carried over to its other pages: the query string
    without its page and its empty fields."""
    return urlencode({key: value for key, value in data.items() if key != "page" and value})


_STALE = (
    "Quelqu'un a enregistré cette rubrique pendant que vous la modifiiez. Ouvrez-la de "
    "nouveau dans un autre onglet pour voir sa version actuelle : si vous enregistrez "
    "encore ce formulaire, il la remplacera."
)


def edited_state(instance: Model, names: Iterable[str]) -> str:
    """A digest of the fields a form edits, as `instance` holds them."""
    values = {name: instance._meta.get_field(name).value_from_object(instance) for name in names}
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


class GuardedModelForm(DsfrModelForm):
    """A form for an object several professionals may edit at once. The page carries the
    state it was opened on; saving over a change someone else made since then is refused
    once, with the explanation, so that nobody erases a colleague's entry unknowingly."""

    state = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_state = edited_state(self.instance, self._meta.fields or [])
        self.initial["state"] = self.current_state

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.data.get("state") != self.current_state:
            # The next save, made knowing, goes through.
            self.data = self.data.copy()
            self.data["state"] = self.current_state
            raise forms.ValidationError(_STALE, code="stale")
        return cleaned
