from django import forms
from dsfr.forms import DsfrBaseForm

from relais.organisations.models import OrganisationKind, Profession, Role
from relais.www.forms import page_field

# A select opens on no choice: the first one, preselected by the browser, would otherwise
# give whoever is invited in a hurry the rights of a social worker.
CHOOSE = ("", "Choisir…")


class MemberRightsForm(DsfrBaseForm):
    """A member's role and profession: what they may do in the organisation."""

    role = forms.ChoiceField(label="Rôle dans la structure", choices=[CHOOSE, *Role.choices])
    profession = forms.ChoiceField(
        label="Profession",
        choices=[CHOOSE, *Profession.choices],
        help_text="Elle fixe, avec le type de la structure, ce que la personne peut lire ou "
        "modifier selon la charte d'usages.",
    )


class InvitationForm(MemberRightsForm):
    first_name = forms.CharField(label="Prénom", max_length=100)
    last_name = forms.CharField(label="Nom", max_length=100)
    email = forms.EmailField(label="Adresse électronique professionnelle")

    field_order = ["first_name", "last_name", "email", "role", "profession"]


class OrganisationForm(DsfrBaseForm):
    name = forms.CharField(label="Nom de la structure", max_length=200)
    siret = forms.CharField(
        label="SIRET",
        max_length=17,
        help_text="14 chiffres, espaces permis : 123 456 789 00012.",
        # Said in place of the model's unique check, whose words are Django's technical ones.
        error_messages={
            "unique": "Une structure avec ce numéro SIRET existe déjà sur Relais : "
            "cherchez-la dans la liste des structures."
        },
    )
    kind = forms.ChoiceField(label="Type de structure", choices=OrganisationKind.choices)
    commune_code = forms.CharField(
        label="Code commune INSEE", max_length=5, help_text="Par exemple 62193 pour Calais."
    )
    commune_name = forms.CharField(label="Commune", max_length=100, required=False)
    territory = forms.CharField(label="Territoire", max_length=100, required=False)


class PilotSearchForm(DsfrBaseForm):
    """The platform's organisations, searched: a region counts them in thousands."""

    q = forms.CharField(
        label="Chercher une structure",
        help_text="Son nom, sa commune ou son SIRET.",
        required=False,
        max_length=100,
    )
    departement = forms.ChoiceField(
        label="Département",
        required=False,
        error_messages={
            "invalid_choice": "Aucune structure de Relais n'est dans ce département : "
            "choisissez-en un dans la liste."
        },
    )
    page = page_field()

    def __init__(self, *args: object, departements: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["departement"].choices = [  # type: ignore[attr-defined]
            ("", "Tous les départements"),
            *((code, code) for code in departements),
        ]
