import re

from django.core.exceptions import ValidationError
from stdnum.fr import siret

_COMMUNE_CODE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")


def validate_siret(value: str) -> None:
    digits = value.replace(" ", "")
    # ASCII digits only: « ８ » is a digit to str.isdigit(), and would pass for another SIRET.
    if not (digits.isascii() and digits.isdigit()) or len(digits) != 14:
        raise ValidationError("Le SIRET doit compter exactement 14 chiffres.", code="siret_format")
    if not siret.is_valid(digits):
        raise ValidationError(
            "Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas. "
            "Vérifiez les 14 chiffres sur l'avis de situation SIRENE.",
            code="siret_checksum",
        )


def validate_commune_code(value: str) -> None:
    if not _COMMUNE_CODE.match(value):
        raise ValidationError(
            "Le code commune INSEE compte 5 caractères (par exemple 62193 pour Calais, "
            "2A004 pour Ajaccio).",
            code="commune_code",
        )
    departement = departement_of(value)
    if departement not in DEPARTEMENTS or not value.removeprefix(departement).strip("0"):
        raise ValidationError(
            f"Le code commune INSEE {value} n'existe pas : il commence par le numéro du "
            "département (01 à 95, 2A ou 2B en Corse, 971 à 978 outre-mer), suivi du numéro "
            "de la commune (62193 pour Calais).",
            code="commune_code_unknown",
        )


# Metropolitan départements (20 is Corsica's former number: 2A and 2B since 1976), the
# overseas départements and the overseas collectivities whose communes have an INSEE code
# of this shape (975 Saint-Pierre-et-Miquelon, 977 Saint-Barthélemy, 978 Saint-Martin).
DEPARTEMENTS = frozenset(
    [f"{number:02d}" for number in range(1, 96) if number != 20]
    + ["2A", "2B"]
    + [f"97{number}" for number in range(1, 9)]
)


def departement_of(commune_code: str) -> str:
    """Overseas communes (971xx…976xx) carry a three-character département code."""
    if commune_code.startswith("97"):
        return commune_code[:3]
    return commune_code[:2]
