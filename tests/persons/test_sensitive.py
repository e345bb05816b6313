"""The terms that make a note's author confirm it is objective and necessary: the words
social workers write for health, sex life, beliefs and offences, however accented or
capitalised, and not the everyday words that start like them."""

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
    ],
)
def test_it_leaves_everyday_notes_alone(text):
    assert sensitive_terms_in(text) == []
