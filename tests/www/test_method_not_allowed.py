"""An address that only receives a form, opened directly (typed, or Enter in the address
bar after a refused form), answers a French page that says so, not an empty 405."""

import html

import pytest
from django.urls import reverse

from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_a_form_address_opened_directly_answers_a_french_page(member_client, member_membership):
    person = PersonFactory()
    ConsentFactory(person=person, organisation=member_membership.organisation)

    response = member_client.get(reverse("persons:note_add", args=[person.pk]))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    page = html.unescape(response.content.decode())
    assert '<html lang="fr"' in page
    assert "<h1>Adresse d'un formulaire</h1>" in page
    assert "elle ne s'ouvre pas directement" in page
    assert "Content-Security-Policy" in response


def test_it_is_the_same_for_an_address_outside_any_file(member_client):
    response = member_client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert "<h1>Adresse d'un formulaire</h1>" in html.unescape(response.content.decode())


def test_a_form_sent_to_a_page_that_only_shows_keeps_djangos_answer(member_client):
    response = member_client.post(reverse("accounts:password_reset_sent"))

    assert response.status_code == 405
    assert response.content == b""
