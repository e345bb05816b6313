"""A form of the procedure's page sent and refused: the page comes back with its title
starting « Erreur — » and, at its top, one summary of the errors that takes the focus and
leads to each field, whichever of the page's forms was sent — the form itself may stand
far down the page. Nothing is changed."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.www.procedures.test_procedure_pages import _cni, _state, _submitted, _url

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
SUMMARY = re.compile(r'<div id="formulaire-refuse" tabindex="-1" autofocus[^>]*>(.*?)</div>', re.S)


def _page_of(response) -> tuple[str, str]:
    """The page, and its error summary."""
    page = response.content.decode()
    found = SUMMARY.search(page)
    assert found, "no error summary on the page"
    return page, found.group(1)


def _links(summary: str) -> list[str]:
    return re.findall(r'<a href="#([^"]+)"', summary)


# What each form refuses, the error the summary names and the element its link reaches.
REFUSED = {
    "etat-date-future": (
        lambda p: _url("transition", p),
        lambda p: {"formulaire": "etat", "etat-to_status": "abandonnee", "etat-on": TOMORROW},
        "Le changement d&#x27;état n&#x27;est pas enregistré",
        "Date du changement : Cette date ne peut pas être dans le futur.",
        "id_etat-on",
    ),
    "etat-avant-la-demande": (
        lambda p: _url("transition", p),
        lambda p: {
            "formulaire": "etat",
            "etat-to_status": "abandonnee",
            "etat-on": (p.requested_on - timedelta(days=1)).isoformat(),
        },
        "Le changement d&#x27;état n&#x27;est pas enregistré",
        "La date ne peut pas être avant la demande",
        "etat-erreurs",
    ),
    "etat-interdit": (
        lambda p: _url("transition", p),
        lambda p: {"formulaire": "etat", "etat-to_status": "accordee", "etat-on": str(TODAY)},
        "Le changement d&#x27;état n&#x27;est pas enregistré",
        "Cette démarche ne peut pas passer à cet état",
        "etat-erreurs",
    ),
    "etape-sans-raison": (
        lambda p: _url("step", p, 1),
        lambda p: {"etape-1-autonomy": "pour", "etape-1-done_on": str(TODAY)},
        "L&#x27;étape 2 n&#x27;est pas enregistrée",
        "Pourquoi à la place de la personne : Dites pourquoi",
        "id_etape-1-reason",
    ),
    "etape-vide": (
        lambda p: _url("step", p, 0),
        lambda p: {"etape-0-done_on": str(TODAY)},
        "L&#x27;étape 1 n&#x27;est pas enregistrée",
        "Comment l&#x27;étape 1 a été faite : Choisissez comment l&#x27;étape a été faite.",
        "id_etape-0-autonomy_0",
    ),
    "dates-sans-demande": (
        lambda p: _url("update", p),
        lambda p: {"dates-requested_on": ""},
        "Les dates ne sont pas enregistrées",
        "Demandée le : Indiquez le jour où la personne a demandé de l&#x27;aide.",
        "id_dates-requested_on",
    ),
    "piece-inconnue": (
        lambda p: _url("link", p, _cni(p).pk),
        lambda p: {f"piece-{_cni(p).pk}-document": "999999"},
        "La pièce pour « Carte nationale d&#x27;identité » n&#x27;est pas enregistrée",
        "Pièce du dossier pour « Carte nationale d&#x27;identité » : Cette pièce n&#x27;est plus",
        "id_piece-{cni}-document",
    ),
    "non-concerne-obligatoire": (
        lambda p: _url("not_applicable", p, _cni(p).pk),
        lambda p: {"not_applicable": "oui"},
        "La liste des pièces n&#x27;est pas mise à jour",
        "Cette pièce est demandée dans tous les cas",
        "non-concerne-{cni}-erreurs",
    ),
}
DECISIONS = {
    "refus-sans-motif": (
        lambda p: _url("transition", p),
        lambda p: {"formulaire": "refus", "refus-on": str(TODAY)},
        "Le refus n&#x27;est pas enregistré",
        "Motif du refus : Écrivez le motif du refus.",
        "id_refus-refusal_reason",
    ),
    "accord-montant-negatif": (
        lambda p: _url("transition", p),
        lambda p: {"formulaire": "accord", "accord-on": str(TODAY), "accord-amount_granted": "-3"},
        "L&#x27;accord n&#x27;est pas enregistré",
        "Montant accordé (€ par mois) : ",
        "id_accord-amount_granted",
    ),
}


@pytest.mark.parametrize("case", [*REFUSED, *DECISIONS])
def test_a_refused_form_opens_the_page_on_its_summary(referent_client, procedure, case):
    if case in DECISIONS:
        _submitted(procedure)
    url, data, heading, error, target = (REFUSED | DECISIONS)[case]
    target = target.format(cni=_cni(procedure).pk)
    before = _state(procedure)

    response = referent_client.post(url(procedure), data(procedure))

    assert response.status_code == 400
    page, summary = _page_of(response)
    assert re.search(r"<title>Erreur — ", page)
    assert 'role="alert"' in page[page.index('id="formulaire-refuse"') :].split(">", 1)[0]
    assert page.count("autofocus") == 1
    # At the top: before the first part of the procedure's page.
    assert page.index('id="formulaire-refuse"') < page.index('id="titre-dates"')
    assert heading in summary
    assert error in summary
    assert target in _links(summary)
    assert f'id="{target}"' in page
    assert _state(procedure) == before


def test_each_error_of_a_form_is_a_line_of_the_summary(referent_client, procedure):
    _submitted(procedure)

    response = referent_client.post(
        _url("transition", procedure), {"formulaire": "accord", "accord-amount_granted": "x"}
    )

    _, summary = _page_of(response)
    assert _links(summary) == ["id_accord-on", "id_accord-amount_granted"]


def test_only_the_form_sent_comes_back_with_errors(referent_client, procedure):
    response = referent_client.post(
        _url("step", procedure, 0), {"etape-0-autonomy": "pour", "etape-0-done_on": str(TODAY)}
    )

    page, summary = _page_of(response)
    assert _links(summary) == ["id_etape-0-reason"]
    assert page.count("fr-error-text") == 1
    # The refused step's part of the page is open, the others closed.
    assert 'aria-expanded="true" aria-controls="etape-0"' in page
    assert 'aria-expanded="false" aria-controls="etape-1"' in page
    assert 'class="fr-collapse fr-collapse--expanded" id="etape-0"' in page


def test_a_refused_opening_says_what_to_choose_with_an_error_title(referent_client, person):
    response = referent_client.post(reverse("procedures:open", args=[person.pk]), {})

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r"<title>Erreur — ", page)
    assert "Démarche du catalogue : Choisissez la démarche à ouvrir." in page
    assert "Ce champ est obligatoire" not in page


def test_an_accepted_page_has_no_summary_and_no_error_title(referent_client, procedure):
    page = referent_client.get(
        reverse("procedures:detail", args=[procedure.person_id, procedure.pk])
    ).content.decode()

    assert "formulaire-refuse" not in page
    assert "autofocus" not in page
    assert "<title>Erreur" not in page
