"""The terms that make a note's author confirm it is objective and necessary: the words
social workers write for health, sex life, beliefs, trade-union membership and offences,
however accented or capitalised, and not the everyday words that start like them nor the
names of the schemes and bodies everyone deals with (« complémentaire santé solidaire »,
« Assurance maladie »)."""

import pytest

from relais.persons.sensitive import sensitive_terms_in


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Elle vit avec le SIDA depuis 2010.", "VIH"),
        ("Suivi pour une dépression depuis l'été.", "santé mentale"),
        ("Son fils est schizophrène.", "santé mentale"),
        ("Trouble BIPOLAIRE évoqué par la famille.", "santé mentale"),
        ("Traitement contre un cancer en cours.", "maladie"),
        ("Diabète à surveiller, régime strict.", "maladie"),
        ("Il a été hospitalisé la semaine dernière.", "hospitalisation"),
        ("Tentative de suicide en mars.", "suicide"),
        ("Ancienne toxicomane, suivie au CSAPA.", "addiction"),
        ("Rendez-vous pour une IVG jeudi.", "interruption de grossesse"),
        ("Elle a parlé de son avortement.", "interruption de grossesse"),
        ("Elle vit avec sa compagne, toutes deux lesbiennes.", "orientation sexuelle"),
        ("Il se dit gay et craint sa famille.", "orientation sexuelle"),
        ("Il se dit bisexuel.", "orientation sexuelle"),
        ("Il fréquente la mosquée du quartier.", "religion"),
        ("Aide alimentaire reçue de l'Église évangélique.", "religion"),
        ("Elle va à la synagogue le samedi.", "religion"),
        ("Conversion à l'islam récente.", "religion"),
        ("Famille catholique pratiquante.", "religion"),
        ("Sortie de détention prévue en mai.", "condamnations"),
        ("Placé en garde à vue samedi.", "infractions"),
        ("Placé en GARDE-À-VUE samedi.", "infractions"),
        ("Mme est syndiquée ; son conjoint est syndiqué à la CGT.", "appartenance syndicale"),
        ("Son syndicat l'accompagne aux prud'hommes.", "appartenance syndicale"),
        ("Il est délégué syndical dans son entreprise.", "appartenance syndicale"),
        ("Militante syndicaliste depuis 2010.", "appartenance syndicale"),
        ("Il veut se syndiquer.", "appartenance syndicale"),
        ("Accompagné par la CFDT pour son licenciement.", "appartenance syndicale"),
        ("Elle est adhérente à Force ouvrière.", "appartenance syndicale"),
        ("Délégué CFE-CGC dans son entreprise.", "appartenance syndicale"),
        ("Condamné à deux ans de prison avec sursis.", "condamnations"),
        ("Il a été condamné à payer une amende de 500 euros.", "condamnations"),
        ("Condamnée à verser une amende au Trésor public.", "condamnations"),
        # A civil judgment in the same note does not hide the conviction.
        ("Condamné à payer l'arriéré de loyer ; déjà condamné pour vol.", "condamnations"),
        ("Son état de santé ne lui permet pas de travailler.", "santé"),
        ("Orientée vers le centre de santé mentale du secteur.", "santé mentale"),
        ("Il évoque des troubles mentaux.", "santé mentale"),
        ("Suivi au centre médico-psychologique.", "psychologie"),
        ("Arrêt maladie depuis trois semaines.", "maladie"),
        # A scheme's name does not hide the rest of the note.
        ("Complémentaire santé solidaire demandée ; suivi pour un diabète.", "maladie"),
        ("Problèmes de santé : la Maison de santé la suit.", "santé"),
        ("La Maison de santé a confirmé la grossesse.", "grossesse"),
        ("Aide médicale de l'État refusée : il est séropositif.", "séropositivité"),
    ],
)
def test_it_finds_the_words_of_special_categories(text, term):
    assert term in sensitive_terms_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "Rendez-vous pris à la CAF pour le renouvellement du RSA.",
        "Elle cherche un logement plus proche de l'école de ses enfants.",
        "Dossier de surendettement déposé à la Banque de France.",
        "Il a trouvé un emploi de cariste en intérim à Lens.",
        "Elle est détentrice d'un titre de séjour valide jusqu'en 2027.",
        "Gaël est gai et souriant ; il participe à la Sidaction du lycée.",
        "Accueil chaleureux, hospitalité de la famille d'accueil.",
        "Produit toxique retiré du logement par le bailleur.",
        "Voyage en Islande annulé, remboursement demandé.",
        "Vue sur la cour ; la garde des enfants est partagée.",
        "Le syndic de copropriété réclame 300 euros de charges impayées.",
        "Le syndicat des copropriétaires a voté les travaux de la façade.",
        "Demande de complémentaire santé solidaire déposée à la CPAM le 01/12.",
        "Souscription d'une mutuelle santé avec l'aide du CCAS.",
        "Rendez-vous à la Maison de santé pour le certificat CAF.",
        "Inscrite au centre de santé du quartier, médecin traitant déclaré.",
        "Attestation de l'Assurance maladie reçue ; carte Vitale commandée.",
        "Courrier de la caisse primaire d'assurance maladie transmis.",
        "Affiliation à la protection universelle maladie confirmée.",
        "Demande d'aide médicale de l'État (AME) déposée.",
        "Dossier d'aide médicale d'État renouvelé.",
        "Rendez-vous au centre médico-social de Lens.",
        "Logement en quartier prioritaire de la politique de la ville.",
        "Il fait preuve d'une bonne mentalité dans ses démarches.",
        "Le tribunal l'a condamné à payer l'arriéré de loyer, 2 400 euros.",
        "Condamnée au paiement des charges impayées par le juge des contentieux.",
        "Jugement d'expulsion : Mme est condamnée à quitter les lieux avant le 31 mars.",
        "Ils ont été condamnés aux dépens ; demande d'aide juridictionnelle en cours.",
        "Condamnation à payer 1 200 euros au bailleur : plan d'apurement proposé.",
        "Il écoute de la musique au casque dans le bus.",
    ],
)
def test_it_leaves_everyday_notes_alone(text):
    assert sensitive_terms_in(text) == []
