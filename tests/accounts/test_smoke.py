import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_shows_the_login_page_to_anonymous_visitors(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert "Connexion des professionnels" in response.content.decode()


def test_it_greets_a_verified_professional_on_the_home_page(member_client, member_membership):
    response = member_client.get(reverse("www:home"))
    assert response.status_code == 200
    assert member_membership.organisation.name in response.content.decode()
