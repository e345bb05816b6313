"""Terms that suggest special-category data in a free-text note (CNIL advice on free-text
fields in social work): the author confirms the note is objective and necessary."""

import re

from relais.persons.normalisation import name_key

# Stems, normalised like names (no accents, lower case). A stem matches at a word start.
SENSITIVE_STEMS: dict[str, str] = {
    "sante": "santé",
    "malad": "maladie",
    "medic": "médical",
    "diagnost": "diagnostic",
    "psychiatr": "psychiatrie",
    "psycholog": "psychologie",
    "handicap": "handicap",
    "vih": "VIH",
    "seroposit": "séropositivité",
    "enceinte": "grossesse",
    "grossesse": "grossesse",
    "addict": "addiction",
    "alcool": "alcool",
    "drogue": "drogue",
    "religi": "religion",
    "musulman": "religion",
    "chretien": "religion",
    "juif": "religion",
    "juive": "religion",
    "origine": "origine",
    "ethni": "origine ethnique",
    "racial": "origine raciale",
    "orientation sexuelle": "orientation sexuelle",
    "homosexu": "orientation sexuelle",
    "transgenre": "identité de genre",
    "opinion": "opinions",
    "politique": "opinions politiques",
    "syndic": "appartenance syndicale",
    "condamn": "condamnations",
    "prison": "condamnations",
    "incarcer": "condamnations",
    "casier judiciaire": "condamnations",
    "infraction": "infractions",
}
_PATTERN = re.compile(r"\b(" + "|".join(re.escape(stem) for stem in SENSITIVE_STEMS) + ")")


def sensitive_terms_in(text: str) -> list[str]:
    found = {SENSITIVE_STEMS[match] for match in _PATTERN.findall(name_key(text))}
    return sorted(found)
