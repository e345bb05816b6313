from collections.abc import Iterable
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from relais.documents.models import Document
from relais.procedures.models import (
    Autonomy,
    ProcedureCategory,
    ProcedureStatus,
    ProcedureType,
    RequiredDocument,
)
from relais.www.forms import DayField, page_field


def _today() -> Any:
    return timezone.localdate()


def _relabel(form: forms.Form, name: str, label: str) -> None:
    """The DSFR base form binds its fields on creation: a label set afterwards goes on
    both the field and its bound field."""
    form.fields[name].label = label
    form[name].label = label


class PageForm(DsfrBaseForm):
    """A form of the procedure's page, which is long: the form may stand far down it.
    Refused, its summary of errors is at the top of the page (procedures/_refused.html),
    the only one to take the focus; the form itself shows, above its fields, what refuses
    it as a whole."""

    template_name = "procedures/_page_form.html"

    @property
    def whole_form_errors(self) -> list[str]:
        """What refuses the form as a whole, and the errors of its hidden fields: their
        value is carried by a button or the page, there is no field to lead to."""
        errors = list(self.non_field_errors())
        for field in self.hidden_fields():
            errors += field.errors
        return errors


class OpenForm(DsfrBaseForm):
    """Open a procedure for the person from the catalogue, grouped by theme."""

    procedure_type = forms.TypedChoiceField(
        label="Démarche du catalogue",
        coerce=int,
        error_messages={
            "required": "Choisissez la démarche à ouvrir.",
            "invalid_choice": "Cette démarche n'est plus proposée : choisissez-en une autre.",
        },
    )
    due_on = DayField(
        label="À faire avant le",
        required=False,
        help_text="Facultatif : une échéance (fin de droits, date limite de dépôt…).",
    )

    def __init__(self, *args: Any, types: Iterable[ProcedureType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.types = {t.pk: t for t in types}
        groups: dict[str, list[tuple[int, str]]] = {}
        for entry in self.types.values():
            groups.setdefault(entry.category, []).append(
                (entry.pk, f"{entry.title} ({entry.organisme})")
            )
        choices: list[Any] = [("", "Choisissez une démarche")]
        choices += [
            (category.label, groups[category.value])
            for category in ProcedureCategory
            if category.value in groups
        ]
        self.fields["procedure_type"].choices = choices

    def clean_procedure_type(self) -> ProcedureType:
        return self.types[self.cleaned_data["procedure_type"]]


class MoveForm(PageForm):
    """A move of the state machine that needs no decision details. The new state is the
    button pressed (« Passer à … »), hence a hidden field."""

    to_status = forms.ChoiceField(
        label="Nouvel état",
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choisissez le nouvel état de la démarche.",
            "invalid_choice": "Cette démarche ne peut pas passer à cet état : elle a peut-être "
            "changé depuis l'ouverture de la page. Choisissez parmi les états proposés.",
        },
    )
    # Not in the future: a deposit is then judged on its own day before it is asked to
    # confirm, and the service would refuse it anyway.
    on = DayField(
        label="Date du changement",
        initial=_today,
        years_ahead=0,
        error_messages={"required": "Indiquez la date du changement."},
    )
    comment = forms.CharField(
        label="Commentaire", required=False, max_length=1000, widget=forms.Textarea({"rows": 2})
    )
    # Sent by « Déposer quand même »: the deposit of an incomplete file, confirmed.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, allowed: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (status.value, status.label) for status in ProcedureStatus if status in allowed
        ]


_DECISION_DAY = {"required": "Indiquez le jour où la décision a été reçue."}


class GrantForm(PageForm):
    on = DayField(label="Décision reçue le", initial=_today, error_messages=_DECISION_DAY)
    amount_granted = forms.DecimalField(
        label="Montant accordé (€ par mois)",
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=2,
        help_text="Laissez vide si la décision n'ouvre pas d'aide en argent.",
    )
    rights_start_on = DayField(label="Droits ouverts à partir du", required=False)
    comment = forms.CharField(
        label="Commentaire", required=False, max_length=1000, widget=forms.Textarea({"rows": 2})
    )


class RefusalForm(PageForm):
    on = DayField(label="Décision reçue le", initial=_today, error_messages=_DECISION_DAY)
    refusal_reason = forms.CharField(
        label="Motif du refus",
        max_length=1000,
        widget=forms.Textarea({"rows": 2}),
        help_text="Tel qu'il est écrit sur la décision : il sert à préparer un recours.",
        error_messages={"required": "Écrivez le motif du refus."},
    )
    comment = forms.CharField(
        label="Commentaire", required=False, max_length=1000, widget=forms.Textarea({"rows": 2})
    )


class StepForm(PageForm):
    """How one step of the catalogue entry was done: the autonomy measure."""

    autonomy = forms.ChoiceField(
        label="Comment cette étape a été faite",
        choices=Autonomy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez comment l'étape a été faite."},
    )
    reason = forms.CharField(
        label="Pourquoi à la place de la personne",
        required=False,
        max_length=300,
        help_text="Obligatoire si vous avez fait l'étape à sa place.",
    )
    done_on = DayField(
        label="Fait le",
        initial=_today,
        error_messages={"required": "Indiquez le jour où l'étape a été faite."},
    )

    def __init__(self, *args: Any, number: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if number is not None:
            _relabel(self, "autonomy", f"Comment l'étape {number} a été faite")
            _relabel(self, "done_on", f"Étape {number} faite le")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("autonomy") == Autonomy.FOR_PERSON and not cleaned.get("reason", "").strip():
            self.add_error(
                "reason", "Dites pourquoi l'étape a été faite à la place de la personne."
            )
        return cleaned


def _offered(document: Document, line: RequiredDocument, day: date) -> str:
    """A paper of the file as the line will judge it on `day` (`RequiredDocument.accepts`):
    by its issue date under the line's freshness rule, else by its own validity."""
    label = document.get_kind_display()
    if document.title:
        label += f" — {document.title}"
    by_its_age = line.fresh_months is not None and document.issued_on is not None
    if document.issued_on:
        label += f", délivrée le {document.issued_on:%d/%m/%Y}"
    if document.expires_on and not by_its_age:
        label += f", valable jusqu'au {document.expires_on:%d/%m/%Y}"
    if line.accepts(document, day):
        verdict = "convient pour cette ligne" + (f" ({line.freshness})" if by_its_age else "")
    elif not document.existed_on(day):
        verdict = f"délivrée ou déposée après le {day:%d/%m/%Y}"
    elif by_its_age:
        verdict = f"trop ancienne pour cette ligne ({line.freshness})"
    else:
        verdict = f"plus valable le {day:%d/%m/%Y}"
    return f"{label} : {verdict}"


class LinkForm(PageForm):
    """Link one checklist line to a document of the person's vault, or unlink it. Each
    paper is offered with what the line will say of it on `day`, the day the checklist
    is judged on."""

    document = forms.TypedChoiceField(
        label="Pièce du dossier",
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={
            "invalid_choice": "Cette pièce n'est plus proposée : elle a peut-être été "
            "supprimée. Choisissez-en une autre dans la liste."
        },
    )

    def __init__(
        self,
        *args: Any,
        documents: Iterable[Document],
        line: RequiredDocument,
        day: date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _relabel(self, "document", f"Pièce du dossier pour « {line.get_kind_display()} »")
        self.documents = {d.pk: d for d in documents}
        choices: list[tuple[Any, str]] = [("", "Aucune pièce rattachée")]
        choices += [(pk, _offered(document, line, day)) for pk, document in self.documents.items()]
        self.fields["document"].choices = choices

    def clean_document(self) -> Document | None:
        chosen = self.cleaned_data["document"]
        return None if chosen is None else self.documents[chosen]


class NotApplicableForm(PageForm):
    """Carried by the button « Non concerné(e) » or « La personne est concernée »."""

    not_applicable = forms.TypedChoiceField(
        choices=[("oui", "oui"), ("non", "non")],
        coerce=lambda value: value == "oui",
        widget=forms.HiddenInput,
        error_messages={
            "required": "Indiquez si la personne est concernée par cette pièce.",
            "invalid_choice": "Indiquez si la personne est concernée par cette pièce.",
        },
    )


class DatesForm(PageForm):
    requested_on = DayField(
        label="Demandée le",
        help_text="Le jour où la personne a demandé de l'aide pour cette démarche.",
        error_messages={"required": "Indiquez le jour où la personne a demandé de l'aide."},
    )
    due_on = DayField(
        label="À faire avant le",
        required=False,
        help_text="Laissez vide s'il n'y a pas d'échéance.",
    )


def _days(**kwargs: Any) -> forms.IntegerField:
    """A number of days of a list's filter."""
    return forms.IntegerField(
        required=False,
        min_value=0,
        max_value=3650,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"),
            "Écrivez un nombre de jours entre 0 et 3650, par exemple 15.",
        ),
        **kwargs,
    )


class FilterForm(DsfrBaseForm):
    """The filters of the cross-file lists, read from the query string."""

    etat = forms.ChoiceField(
        label="État",
        required=False,
        choices=[
            ("", "Tous les états"),
            ("ouvertes", "Toutes les démarches en cours"),
            *ProcedureStatus.choices,
        ],
    )
    echeance = _days(
        label="Échéance dans combien de jours au plus ?",
        help_text="Par exemple 15 : les démarches à déposer dans les 15 prochains jours, et "
        "celles dont l'échéance est passée.",
    )
    pieces_manquantes = forms.BooleanField(label="Avec des pièces manquantes", required=False)
    attente = _days(
        label="En attente de réponse depuis combien de jours au moins ?",
        help_text="Par exemple 30 : les démarches déposées depuis 30 jours ou plus et "
        "toujours sans réponse, pour relancer l'organisme.",
    )
    page = page_field()

    def narrowed(self) -> bool:
        """Whether the list shows fewer procedures than all of them or all those in
        progress: an empty list then says that none matches, not that there is none."""
        if not self.is_valid():
            return True
        data = self.cleaned_data
        return (
            data["etat"] not in ("", "ouvertes")
            or data["echeance"] is not None
            or data["pieces_manquantes"]
            or data["attente"] is not None
        )


def steps_from_text(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


_WEB_ADDRESS = "Écrivez une adresse web complète, par exemple https://www.service-public.fr/…"


class CatalogueEntryForm(DsfrBaseForm):
    title = forms.CharField(
        label="Intitulé",
        max_length=150,
        error_messages={"required": "Écrivez l'intitulé de la démarche."},
    )
    summary = forms.CharField(
        label="En quelques mots (facile à lire)",
        max_length=400,
        widget=forms.Textarea({"rows": 3}),
        error_messages={"required": "Écrivez en quelques mots à quoi sert la démarche."},
    )
    steps = forms.CharField(
        label="Étapes",
        widget=forms.Textarea({"rows": 8}),
        help_text="Une étape par ligne, de 2 à 12 étapes : une idée par phrase.",
        error_messages={"required": "Écrivez les étapes de la démarche, une par ligne."},
    )
    info_url = forms.URLField(
        label="Page d'information officielle",
        max_length=300,
        assume_scheme="https",
        error_messages={
            "required": "Indiquez l'adresse de la page d'information officielle.",
            "invalid": _WEB_ADDRESS,
        },
    )
    online_url = forms.URLField(
        label="Service en ligne",
        max_length=300,
        required=False,
        assume_scheme="https",
        error_messages={"invalid": _WEB_ADDRESS},
    )
    processing_days = forms.IntegerField(
        label="Délai habituel (jours)", required=False, min_value=1
    )
    recurrence_months = forms.IntegerField(
        label="À refaire tous les (mois)", required=False, min_value=1, max_value=60
    )
    benefit = forms.RegexField(
        label="Prestation ouverte",
        regex=r"^[a-z_]*$",
        max_length=40,
        required=False,
        help_text="Son nom dans l'estimation des droits : rsa, aide_logement, css…",
        error_messages={"invalid": "Lettres minuscules et « _ » seulement."},
    )
    verified_on = DayField(
        label="Vérifié le",
        years_ahead=0,
        error_messages={"required": "Indiquez le jour où la fiche a été vérifiée."},
    )
    is_active = forms.BooleanField(label="Proposée aux professionnels", required=False)

    def clean_steps(self) -> list[str]:
        return steps_from_text(self.cleaned_data["steps"])

    def clean_verified_on(self) -> Any:
        value = self.cleaned_data["verified_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("La date de vérification ne peut pas être dans le futur.")
        return value


class CatalogueSearchForm(DsfrBaseForm):
    q = forms.CharField(label="Rechercher une démarche", required=False, max_length=100)
    theme = forms.ChoiceField(
        label="Thème",
        required=False,
        choices=[("", "Tous les thèmes"), *ProcedureCategory.choices],
    )
