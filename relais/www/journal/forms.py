from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from dsfr.forms import DsfrBaseForm

from relais.audit.actions import AuditAction

# No event predates Relais; bounding the days also keeps the day after `end`, and its
# time zone conversion, within what a datetime can hold.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def _day_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(
            attrs={
                "type": "date",
                "min": EARLIEST_DAY.isoformat(),
                "max": LATEST_DAY.isoformat(),
            }
        ),
        validators=[
            MinValueValidator(
                EARLIEST_DAY, message=f"Choisissez une date à partir du {EARLIEST_DAY:%d/%m/%Y}."
            ),
            MaxValueValidator(
                LATEST_DAY, message=f"Choisissez une date jusqu'au {LATEST_DAY:%d/%m/%Y}."
            ),
        ],
    )


class JournalFilterForm(DsfrBaseForm):
    actor = forms.TypedChoiceField(
        label="Utilisateur", coerce=int, required=False, empty_value=None
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Toutes"), *AuditAction.choices]
    )
    start = _day_field("Du")
    end = _day_field("Au")
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
        members_offered: bool = True,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["actor"].choices = [("", "Tous"), *actors]  # type: ignore[attr-defined]
        if not members_offered:
            # On the bound field: DsfrBaseForm's __init__ made it, copying the field's text.
            self["actor"].help_text = (
                "Les membres d'une structure sont proposés dans son journal, ouvert depuis la "
                "liste des structures."
            )
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
