from django import forms
from dsfr.forms import DsfrBaseForm

from relais.audit.actions import AuditAction


class JournalFilterForm(DsfrBaseForm):
    actor = forms.TypedChoiceField(
        label="Utilisateur", coerce=int, required=False, empty_value=None
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Toutes"), *AuditAction.choices]
    )
    start = forms.DateField(
        label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    organisation = forms.TypedChoiceField(
        label="Structure",
        help_text="Le journal d'une autre structure s'ouvre depuis la liste des structures.",
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={
            "invalid_choice": "Cette structure n'existe pas : ouvrez son journal depuis la "
            "liste des structures."
        },
    )

    def __init__(
        self,
        *args: object,
        actors: list[tuple[int, str]],
        organisations: list[tuple[int, str]] | None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["actor"].choices = [("", "Tous"), *actors]  # type: ignore[attr-defined]
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].choices = [("", "Toutes"), *organisations]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:  # type: ignore[operator]
            self.add_error("end", "La date de fin doit suivre la date de début.")
        return cleaned
