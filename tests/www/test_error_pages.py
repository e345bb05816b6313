"""Error pages speak French, in the design system's layout, and tell what to do next."""

import html

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults

from tests.persons.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _french_page(response, heading: str) -> str:
    page = response.content.decode()
    assert '<html lang="fr"' in page
    assert f"<h1>{heading}</h1>" in page
    assert 'class="fr-header"' in page
    assert "Not Found" not in page and "Forbidden" not in page
    return page


def test_an_unknown_address_answers_a_french_404(client):
    response = client.get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    _french_page(response, "Page introuvable")


def test_a_file_outside_the_rule_answers_the_same_404(member_client):
    outside = PersonFactory()

    response = member_client.get(reverse("persons:file", args=[outside.pk]))

    assert response.status_code == 404
    page = _french_page(response, "Page introuvable")
    assert outside.birth_name not in page


def test_a_form_sent_without_its_csrf_token_says_the_page_expired():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("accounts:login"), {"email": "a@exemple.test"})

    assert response.status_code == 403
    page = _french_page(response, "Page expirée")
    assert "Rien n'a été enregistré." in html.unescape(page)


@pytest.mark.parametrize(
    ("handler", "status", "heading"),
    [
        (defaults.server_error, 500, "Erreur du service"),
        (lambda request: defaults.bad_request(request, Exception()), 400, "Demande incorrecte"),
        (
            lambda request: defaults.permission_denied(request, Exception()),
            403,
            "Accès refusé",
        ),
    ],
)
def test_the_other_errors_are_french_pages_too(handler, status, heading):
    response = handler(RequestFactory().get("/"))

    assert response.status_code == status
    _french_page(response, heading)
