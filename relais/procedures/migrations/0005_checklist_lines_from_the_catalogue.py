"""The checklist lines of the procedures opened before the catalogue said which pieces are
alternatives (a group), which are asked only in a situation, and which are someone else's
paper: each line takes what its catalogue entry now says of it, matched on the entry, the
kind and the condition as the catalogue wrote them when this migration was made (the
reworded lines under their former words). A line the catalogue no longer holds keeps the
former rule: the identity card « if French » and the residence permit « if not French »,
worded so exactly, are one group. A line asked in a situation that a professional linked
a document to counts as before: bringing it said the person is concerned."""

from django.db import migrations

FRENCH = "si vous êtes de nationalité française"
NOT_FRENCH = "si vous n'êtes pas de nationalité française"
BATCH = 1000

# (entry, kind, condition) → (group, conditional, someone_else)
CATALOGUE = {
    ("declaration-revenus", "bulletin_salaire", "celui de décembre, si vous avez travaillé"): (
        "",
        True,
        False,
    ),
    (
        "declaration-revenus",
        "attestation_france_travail",
        "si vous avez touché l'allocation chômage",
    ): ("", True, False),
    ("declaration-revenus", "attestation_pension", "si vous touchez une retraite ou une pension"): (
        "",
        True,
        False,
    ),
    (
        "avis-imposition",
        "cni",
        "ou une autre pièce d'identité, si vous demandez une copie au centre des finances publiques",
    ): ("", True, False),
    ("surendettement", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("surendettement", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("surendettement", "quittance_loyer", "si vous êtes locataire"): ("", True, False),
    ("droit-au-compte", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("droit-au-compte", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("droit-au-compte", "justificatif_domicile", "si vous avez une adresse à votre nom"): (
        "adresse",
        False,
        False,
    ),
    ("droit-au-compte", "attestation_domiciliation", "si vous n'avez pas d'adresse stable"): (
        "adresse",
        False,
        False,
    ),
    ("titre-sejour-anef", "titre_sejour", "pour un renouvellement : votre titre actuel"): (
        "",
        True,
        False,
    ),
    ("titre-sejour-anef", "justificatif_domicile", "si vous avez une adresse à votre nom"): (
        "adresse",
        False,
        False,
    ),
    ("titre-sejour-anef", "attestation_hebergement", "si vous êtes hébergé chez quelqu'un"): (
        "adresse",
        False,
        False,
    ),
    ("titre-sejour-anef", "attestation_domiciliation", "si vous n'avez pas d'adresse stable"): (
        "adresse",
        False,
        False,
    ),
    ("titre-sejour-anef", "justificatif_ressources", "selon le motif de votre séjour"): (
        "",
        True,
        False,
    ),
    ("naturalisation", "bulletin_salaire", "si vous travaillez"): ("", True, False),
    ("naturalisation", "livret_famille", "si vous êtes marié ou si vous avez des enfants"): (
        "",
        True,
        False,
    ),
    ("titre-sejour-changement-adresse", "justificatif_domicile", "de la nouvelle adresse"): (
        "adresse",
        False,
        False,
    ),
    (
        "titre-sejour-changement-adresse",
        "attestation_hebergement",
        "si vous êtes hébergé chez quelqu'un",
    ): ("", True, False),
    (
        "titre-sejour-changement-adresse",
        "attestation_domiciliation",
        "si vous n'avez pas d'adresse stable",
    ): ("adresse", False, False),
    ("allocations-familiales", "livret_famille", ""): ("filiation", False, False),
    ("allocations-familiales", "acte_naissance", "celui de chaque enfant"): (
        "filiation",
        False,
        True,
    ),
    ("allocations-familiales", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("allocations-familiales", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    (
        "allocations-familiales",
        "autre",
        "si vos enfants sont nés à l'étranger : le papier qui montre qu'ils vivent en France de façon régulière",
    ): ("", True, False),
    ("allocation-rentree-scolaire", "certificat_scolarite", "si la CAF vous le demande"): (
        "",
        True,
        False,
    ),
    ("allocation-rentree-scolaire", "rib", "si vous n'êtes pas encore à la CAF"): ("", True, False),
    (
        "naissance-prime-paje",
        "autre",
        "la déclaration de grossesse, si votre médecin vous la donne sur papier",
    ): ("", True, False),
    ("naissance-prime-paje", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("naissance-prime-paje", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("naissance-prime-paje", "acte_naissance", "après la naissance, celui du bébé"): (
        "",
        True,
        True,
    ),
    ("naissance-prime-paje", "livret_famille", "si vous en avez un"): ("", True, False),
    ("allocation-soutien-familial", "livret_famille", ""): ("filiation", False, False),
    ("allocation-soutien-familial", "acte_naissance", "celui de chaque enfant"): (
        "filiation",
        False,
        True,
    ),
    ("allocation-soutien-familial", "jugement", "si un juge a fixé une pension alimentaire"): (
        "",
        True,
        False,
    ),
    ("allocation-soutien-familial", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    (
        "allocation-soutien-familial",
        "titre_sejour",
        "si vous n'êtes pas de nationalité française",
    ): ("identite", False, False),
    ("pension-alimentaire-aripa", "jugement", ""): ("pension", False, False),
    ("pension-alimentaire-aripa", "autre", "l'accord signé qui fixe la pension"): (
        "pension",
        False,
        False,
    ),
    ("pension-alimentaire-aripa", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("pension-alimentaire-aripa", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aeeh-demande", "livret_famille", ""): ("filiation", False, False),
    ("aeeh-demande", "acte_naissance", "celui de l'enfant"): ("filiation", False, True),
    ("aeeh-demande", "cni", "celle du parent, s'il est de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aeeh-demande", "titre_sejour", "celui du parent, s'il n'est pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aeeh-demande", "autre", "les factures liées au handicap, si vous en avez"): ("", True, False),
    ("bourse-college", "avis_imposition", "si vous faites la demande sur papier"): (
        "",
        True,
        False,
    ),
    ("bourse-college", "livret_famille", "si le collège vous le demande"): ("", True, False),
    ("bourse-lycee", "avis_imposition", "si vous faites la demande sur papier"): ("", True, False),
    ("bourse-lycee", "livret_famille", "si l'établissement vous le demande"): ("", True, False),
    ("bourse-enseignement-superieur", "avis_imposition", "celui de vos parents"): ("", False, True),
    ("bourse-enseignement-superieur", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    (
        "bourse-enseignement-superieur",
        "titre_sejour",
        "si vous n'êtes pas de nationalité française",
    ): ("identite", False, False),
    (
        "bourse-enseignement-superieur",
        "certificat_scolarite",
        "à la rentrée, quand vous êtes inscrit",
    ): ("", True, False),
    ("aide-juridictionnelle", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aide-juridictionnelle", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aide-juridictionnelle", "attestation_caf", "si vous avez le RSA"): ("", True, False),
    (
        "casier-judiciaire",
        "passeport",
        "ou une autre pièce d'identité, si vous êtes né à l'étranger",
    ): ("", True, False),
    ("aide-logement-demande", "quittance_loyer", "si vous en avez déjà une"): ("", True, False),
    ("aide-logement-demande", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aide-logement-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("logement-social-demande", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("logement-social-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("logement-social-demande", "avis_imposition", "quand un bailleur étudie votre dossier"): (
        "",
        True,
        False,
    ),
    (
        "logement-social-demande",
        "justificatif_ressources",
        "quand un bailleur étudie votre dossier",
    ): ("", True, False),
    ("logement-social-demande", "livret_famille", "si vous avez des enfants"): ("", True, False),
    ("logement-social-renouvellement", "avis_imposition", "si vos revenus ont changé"): (
        "",
        True,
        False,
    ),
    ("dalo-recours", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("dalo-recours", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("dalo-recours", "jugement", "si vous êtes menacé d'expulsion"): ("", True, False),
    ("dalo-recours", "bail", "si vous avez un logement"): ("", True, False),
    ("fsl-demande", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("fsl-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("fsl-demande", "bail", "si vous avez déjà un logement ou une promesse de location"): (
        "",
        True,
        False,
    ),
    ("fsl-demande", "quittance_loyer", "s'il y a des loyers en retard"): ("", True, False),
    (
        "fsl-demande",
        "autre",
        "la facture d'énergie ou d'eau, si la demande porte sur une facture",
    ): ("", True, False),
    ("cheque-energie", "avis_imposition", "si vous faites la demande par courrier"): (
        "",
        True,
        False,
    ),
    ("cheque-energie", "cni", "ou une autre pièce d'identité, si vous faites la demande"): (
        "",
        True,
        False,
    ),
    (
        "cheque-energie",
        "autre",
        "l'attestation de contrat d'électricité de moins de 3 mois, si vous faites la demande",
    ): ("", True, False),
    ("hebergement-urgence", "cni", "si vous en avez une"): ("", True, False),
    ("hebergement-urgence", "titre_sejour", "si vous en avez un"): ("", True, False),
    ("garantie-visale", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("garantie-visale", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("garantie-visale", "bulletin_salaire", "si vous travaillez"): ("", True, False),
    ("garantie-visale", "certificat_scolarite", "si vous êtes étudiant"): ("", True, False),
    ("carte-identite", "justificatif_domicile", "de moins de 1 an"): ("adresse", False, False),
    (
        "carte-identite",
        "attestation_hebergement",
        "si vous êtes hébergé : avec le justificatif de domicile et la pièce d'identité de la personne qui vous héberge",
    ): ("", True, False),
    (
        "carte-identite",
        "attestation_domiciliation",
        "si vous êtes domicilié au CCAS ou dans une association",
    ): ("adresse", False, False),
    ("carte-identite", "cni", "l'ancienne carte, si vous la renouvelez"): ("", True, False),
    ("carte-identite", "passeport", "si vous en avez un"): ("", True, False),
    ("carte-identite", "acte_naissance", "seulement si la mairie vous le demande"): (
        "",
        True,
        False,
    ),
    ("passeport", "justificatif_domicile", "de moins de 1 an"): ("adresse", False, False),
    (
        "passeport",
        "attestation_hebergement",
        "si vous êtes hébergé : avec le justificatif de domicile et la pièce d'identité de la personne qui vous héberge",
    ): ("", True, False),
    (
        "passeport",
        "attestation_domiciliation",
        "si vous êtes domicilié au CCAS ou dans une association",
    ): ("adresse", False, False),
    ("passeport", "passeport", "l'ancien passeport, si vous le renouvelez"): ("", True, False),
    ("passeport", "cni", "si vous en avez une"): ("", True, False),
    ("perte-vol-papiers", "autre", "le récépissé de déclaration de vol, en cas de vol"): (
        "",
        True,
        False,
    ),
    (
        "changement-adresse",
        "justificatif_domicile",
        "de la nouvelle adresse, si un organisme vous le demande",
    ): ("", True, False),
    (
        "franceconnect",
        "avis_imposition",
        "pour créer votre espace impots.gouv.fr : il porte votre numéro fiscal",
    ): ("compte", False, False),
    ("franceconnect", "carte_vitale", "pour créer votre compte ameli"): ("compte", False, False),
    (
        "acte-naissance",
        "cni",
        "ou une autre pièce d'identité, si la mairie ou le service vous la demande",
    ): ("", True, False),
    ("complementaire-sante-solidaire", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    (
        "complementaire-sante-solidaire",
        "titre_sejour",
        "si vous n'êtes pas de nationalité française",
    ): ("identite", False, False),
    (
        "complementaire-sante-solidaire",
        "attestation_domiciliation",
        "si vous n'avez pas d'adresse stable",
    ): ("", True, False),
    ("aide-medicale-etat", "passeport", ""): ("identite", False, False),
    ("aide-medicale-etat", "cni", "celle de votre pays"): ("identite", False, False),
    ("aide-medicale-etat", "acte_naissance", "si vous n'avez pas de pièce d'identité"): (
        "identite",
        False,
        False,
    ),
    ("aide-medicale-etat", "justificatif_domicile", "si vous avez une adresse à votre nom"): (
        "adresse",
        False,
        False,
    ),
    ("aide-medicale-etat", "attestation_hebergement", "si vous êtes hébergé chez quelqu'un"): (
        "adresse",
        False,
        False,
    ),
    ("aide-medicale-etat", "attestation_domiciliation", "si vous n'avez pas d'adresse stable"): (
        "adresse",
        False,
        False,
    ),
    ("ameli-compte-attestation", "carte_vitale", "si vous en avez une"): ("", True, False),
    ("carte-vitale", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("carte-vitale", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("puma-ouverture-droits", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("puma-ouverture-droits", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("puma-ouverture-droits", "justificatif_domicile", ""): ("adresse", False, False),
    ("puma-ouverture-droits", "attestation_domiciliation", "si vous n'avez pas d'adresse stable"): (
        "adresse",
        False,
        False,
    ),
    (
        "puma-ouverture-droits",
        "autre",
        "une preuve que vous vivez en France depuis plus de 3 mois, si vous ne travaillez pas",
    ): ("", True, False),
    ("pension-invalidite", "bulletin_salaire", "les 12 derniers mois, si vous avez travaillé"): (
        "",
        True,
        False,
    ),
    ("pension-invalidite", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("pension-invalidite", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("rsa-demande", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("rsa-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("rsa-demande", "livret_famille", "si vous avez des enfants"): ("", True, False),
    ("rsa-demande", "attestation_hebergement", "si vous êtes hébergé chez quelqu'un"): (
        "",
        True,
        False,
    ),
    ("rsa-demande", "attestation_domiciliation", "si vous n'avez pas d'adresse stable"): (
        "",
        True,
        False,
    ),
    (
        "rsa-declaration-trimestrielle",
        "bulletin_salaire",
        "si vous avez travaillé pendant ces 3 mois",
    ): ("", True, False),
    (
        "rsa-declaration-trimestrielle",
        "attestation_france_travail",
        "si vous avez touché l'allocation chômage",
    ): ("", True, False),
    (
        "rsa-declaration-trimestrielle",
        "justificatif_ressources",
        "si vous avez une autre ressource : pension, indemnités",
    ): ("", True, False),
    ("prime-activite-demande", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("prime-activite-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("prime-activite-demande", "livret_famille", "si vous avez des enfants"): ("", True, False),
    (
        "prime-activite-declaration-trimestrielle",
        "attestation_france_travail",
        "si vous avez touché l'allocation chômage",
    ): ("", True, False),
    ("aah-demande", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("aah-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aah-demande", "justificatif_domicile", ""): ("adresse", False, False),
    ("aah-demande", "attestation_domiciliation", "si vous n'avez pas d'adresse stable"): (
        "adresse",
        False,
        False,
    ),
    ("cmi-demande", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("cmi-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("cmi-demande", "photo_identite", "après l'accord, quand le courrier vous la demande"): (
        "",
        True,
        False,
    ),
    ("aspa-demande", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("aspa-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aspa-demande", "justificatif_ressources", "si vous avez d'autres ressources"): (
        "",
        True,
        False,
    ),
    ("aspa-demande", "livret_famille", "si vous êtes marié"): ("", True, False),
    ("apa-demande", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("apa-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("domiciliation", "cni", "si vous en avez une"): ("", True, False),
    ("domiciliation", "titre_sejour", "si vous en avez un"): ("", True, False),
    ("ccas-aide-urgence", "cni", "si vous en avez une"): ("", True, False),
    ("tarification-solidaire-transports", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    (
        "tarification-solidaire-transports",
        "titre_sejour",
        "si vous n'êtes pas de nationalité française",
    ): ("identite", False, False),
    (
        "tarification-solidaire-transports",
        "photo_identite",
        "si le réseau fait une carte à votre nom",
    ): ("", True, False),
    (
        "tarification-solidaire-transports",
        "attestation_caf",
        "si vous avez le RSA ou une autre aide de la CAF",
    ): ("", True, False),
    (
        "tarification-solidaire-transports",
        "attestation_droits_cpam",
        "si vous avez la complémentaire santé solidaire",
    ): ("", True, False),
    (
        "tarification-solidaire-transports",
        "attestation_france_travail",
        "si vous êtes demandeur d'emploi",
    ): ("", True, False),
    ("tarification-solidaire-transports", "avis_imposition", "si le réseau vous le demande"): (
        "",
        True,
        False,
    ),
    ("aide-permis-france-travail", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("aide-permis-france-travail", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("permis-conduire-perte-vol", "cni", ""): ("identite", False, False),
    ("permis-conduire-perte-vol", "passeport", ""): ("identite", False, False),
    ("permis-conduire-perte-vol", "autre", "le récépissé de déclaration de vol, en cas de vol"): (
        "",
        True,
        False,
    ),
    ("france-travail-inscription", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    (
        "france-travail-inscription",
        "titre_sejour",
        "si vous n'êtes pas de nationalité française : il doit vous permettre de travailler",
    ): ("identite", False, False),
    ("france-travail-inscription", "bulletin_salaire", "si vous avez travaillé"): ("", True, False),
    (
        "france-travail-inscription",
        "autre",
        "l'attestation de votre dernier employeur, si France Travail vous la demande",
    ): ("", True, False),
    ("france-travail-actualisation", "bulletin_salaire", "si vous avez travaillé ce mois-ci"): (
        "",
        True,
        False,
    ),
    ("contrat-engagement-jeune", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("contrat-engagement-jeune", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    (
        "contrat-engagement-jeune",
        "avis_imposition",
        "celui de vos parents, si vous êtes sur leur déclaration d'impôts",
    ): ("", True, True),
    ("rqth-demande", "cni", "si vous êtes de nationalité française"): ("identite", False, False),
    ("rqth-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("retraite-demande", "cni", "si vous êtes de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("retraite-demande", "titre_sejour", "si vous n'êtes pas de nationalité française"): (
        "identite",
        False,
        False,
    ),
    ("retraite-demande", "livret_famille", "si vous avez eu ou élevé des enfants"): (
        "",
        True,
        False,
    ),
    (
        "retraite-demande",
        "bulletin_salaire",
        "si des périodes de travail manquent sur votre relevé de carrière",
    ): ("", True, False),
    (
        "rsa-declaration-trimestrielle",
        "justificatif_ressources",
        "pour toute autre ressource (pension, indemnités)",
    ): ("", True, False),
    ("aspa-demande", "justificatif_ressources", "pour vos autres ressources"): ("", True, False),
    (
        "domiciliation",
        "titre_sejour",
        "si vous n'êtes pas de nationalité française et si vous en avez un",
    ): ("", True, False),
}


def _marked(line, procedures_with_both):
    pk, procedure_id, slug, kind, condition, document_id, not_applicable = line
    group, conditional, someone_else = CATALOGUE.get((slug, kind, condition), ("", False, False))
    if not group and condition in (FRENCH, NOT_FRENCH) and procedure_id in procedures_with_both:
        group = "identite"
    concerned = conditional and document_id is not None and not not_applicable
    return group, conditional, someone_else, concerned


def forwards(apps, schema_editor):
    RequiredDocument = apps.get_model("procedures", "RequiredDocument")
    french = set(
        RequiredDocument.objects.filter(condition=FRENCH).values_list("procedure_id", flat=True)
    )
    not_french = set(
        RequiredDocument.objects.filter(condition=NOT_FRENCH).values_list("procedure_id", flat=True)
    )
    both = french & not_french
    lines = RequiredDocument.objects.order_by("pk").values_list(
        "pk",
        "procedure_id",
        "procedure__procedure_type__slug",
        "kind",
        "condition",
        "document_id",
        "not_applicable",
    )
    changed = []
    for line in lines.iterator(chunk_size=BATCH):
        group, conditional, someone_else, concerned = _marked(line, both)
        if group or conditional or someone_else:
            changed.append(
                RequiredDocument(
                    pk=line[0],
                    group=group,
                    conditional=conditional,
                    someone_else=someone_else,
                    concerned=concerned,
                )
            )
        if len(changed) >= BATCH:
            RequiredDocument.objects.bulk_update(
                changed, ["group", "conditional", "someone_else", "concerned"]
            )
            changed = []
    RequiredDocument.objects.bulk_update(
        changed, ["group", "conditional", "someone_else", "concerned"]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0004_checklist_groups_and_situations"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
