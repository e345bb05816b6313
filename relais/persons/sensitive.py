"""Terms that suggest special-category data in a free-text note (art. 9 GDPR and the
offences of art. 10; CNIL advice on free-text fields in social work): the author confirms
the note is objective and necessary."""

import re

from relais.persons.normalisation import name_key

# Stems, normalised like names (no accents, lower case), each matching at a word start;
# none is the start of an everyday word (« detention » is not « détenteur »).
SENSITIVE_STEMS: dict[str, str] = {
    "sante": "santé",
    "malad": "maladie",
    "medic": "médical",
    "diagnost": "diagnostic",
    "hospitalis": "hospitalisation",
    "cancer": "maladie",
    "diabet": "maladie",
    "chimiother": "maladie",
    "dialys": "maladie",
    "hepatite": "maladie",
    "tubercul": "maladie",
    "epilep": "maladie",
    "alzheimer": "maladie",
    "psychiatr": "psychiatrie",
    "psycholog": "psychologie",
    "depressi": "santé mentale",
    "schizo": "santé mentale",
    "bipolair": "santé mentale",
    "psychose": "santé mentale",
    "psychotique": "santé mentale",
    "suicid": "suicide",
    "handicap": "handicap",
    "vih": "VIH",
    "seroposit": "séropositivité",
    "enceinte": "grossesse",
    "grossesse": "grossesse",
    "fausse couche": "grossesse",
    "avort": "interruption de grossesse",
    "interruption volontaire de grossesse": "interruption de grossesse",
    "addict": "addiction",
    "alcool": "alcool",
    "drogue": "drogue",
    "toxicoman": "addiction",
    "cannabis": "drogue",
    "heroine": "drogue",
    "cocaine": "drogue",
    "methadone": "addiction",
    "religi": "religion",
    "musulman": "religion",
    "chretien": "religion",
    "juif": "religion",
    "juive": "religion",
    "islam": "religion",
    "catholi": "religion",
    "protestant": "religion",
    "evangeli": "religion",
    "bouddhis": "religion",
    "mosquee": "religion",
    "eglise": "religion",
    "synagogue": "religion",
    "origine": "origine",
    "ethni": "origine ethnique",
    "racial": "origine raciale",
    "orientation sexuelle": "orientation sexuelle",
    "homosexu": "orientation sexuelle",
    "bisexu": "orientation sexuelle",
    "heterosexu": "orientation sexuelle",
    "lesbienne": "orientation sexuelle",
    "transgenre": "identité de genre",
    "transsexu": "identité de genre",
    "opinion": "opinions",
    "politique": "opinions politiques",
    # Not « syndic », the manager of a co-ownership.
    "syndicat": "appartenance syndicale",
    "syndical": "appartenance syndicale",
    "syndiqu": "appartenance syndicale",
    "force ouvriere": "appartenance syndicale",
    "condamn": "condamnations",
    "prison": "condamnations",
    "incarcer": "condamnations",
    "detention": "condamnations",
    "penitentiaire": "condamnations",
    "casier judiciaire": "condamnations",
    "garde a vue": "infractions",
    "infraction": "infractions",
}
# Words matched whole: as a stem, each would start everyday words or names.
SENSITIVE_WORDS: dict[str, str] = {
    "sida": "VIH",
    "ivg": "interruption de grossesse",
    "gay": "orientation sexuelle",
    "gays": "orientation sexuelle",
    "lgbt": "orientation sexuelle",
    # The representative unions, by the acronyms notes name them by.
    "cgt": "appartenance syndicale",
    "cfdt": "appartenance syndicale",
    "cftc": "appartenance syndicale",
    "cgc": "appartenance syndicale",
    "unsa": "appartenance syndicale",
    "fsu": "appartenance syndicale",
    # As a stem, « mental » would start « mentalité ».
    "mental": "santé mentale",
    "mentale": "santé mentale",
    "mentales": "santé mentale",
    "mentaux": "santé mentale",
}
# Names of schemes and bodies that everyone deals with: a term in one of them says
# nothing of the person (« complémentaire santé solidaire », « Assurance maladie »). Each
# is a whole name, taken out of the note before its terms are looked for, so that
# the rest of the note is read as any other: « santé » elsewhere in it still counts,
# and so does what qualifies the name (« centre de santé mentale »).
ADMINISTRATIVE_NAMES = (
    "complémentaire santé",
    "mutuelle santé",
    "assurance maladie",
    "protection universelle maladie",
    "aide médicale de l'État",
    "aide médicale d'État",
    "centre de santé",
    "maison de santé",
    "pôle de santé",
    "agence régionale de santé",
    "centre médico-social",
    "syndicat des copropriétaires",
    "syndicat de copropriété",
    "politique de la ville",
)
# A civil judgment, everyday in housing and debt matters, is no conviction for an offence:
# a tenant « condamné à payer » the rent arrears, « condamnée à quitter les lieux », has
# committed none. A fine (« condamné à payer une amende ») is a penalty, and still counts.
CIVIL_JUDGMENT = (
    r"condamn\w* (?:a payer|a verser|a rembourser|a quitter|au paiement|au versement"
    r"|au remboursement|aux depens)(?! (?:une |d une |l |d |des )?amende)"
)
_ADMINISTRATIVE = re.compile(
    r"\b(?:"
    + "|".join(re.escape(name_key(name)) for name in ADMINISTRATIVE_NAMES)
    + "|"
    + CIVIL_JUDGMENT
    + r")\b"
)
_LABELS = SENSITIVE_STEMS | SENSITIVE_WORDS
_PATTERN = re.compile(
    r"\b(?:(?:"
    + "|".join(re.escape(word) for word in SENSITIVE_WORDS)
    + r")\b|"
    + "|".join(re.escape(stem) for stem in SENSITIVE_STEMS)
    + ")"
)


def sensitive_terms_in(text: str) -> list[str]:
    read = _ADMINISTRATIVE.sub(" ", name_key(text))
    return sorted({_LABELS[match.group()] for match in _PATTERN.finditer(read)})
