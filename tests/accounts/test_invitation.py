import pytest
from django.urls import reverse

from relais.accounts.models import User
from relais.accounts.services import actor_of
from relais.organisations.models import Role
from relais.organisations.services import invitation_create

pytestmark = pytest.mark.django_db

EMAIL = "nadia.haddad@exemple.test"
STRONG_PASSWORD = "girafe-orbite-cerfeuil-trombone"


@pytest.fixture
def link(manager_membership):
    _, token = invitation_create(
        organisation=manager_membership.organisation,
        email=EMAIL,
        first_name="Nadia",
        last_name="Haddad",
        role=Role.PROFESSIONAL,
        profession="es",
        invited_by=manager_membership.user,
        by=actor_of(manager_membership.user),
    )
    return reverse("accounts:invitation", args=[token])


def test_it_refuses_a_new_account_form_with_400(client, link):
    response = client.post(link, {"password1": STRONG_PASSWORD, "password2": "autre chose"})

    assert response.status_code == 400
    assert "Les deux mots de passe ne sont pas identiques." in response.content.decode()
    assert not User.objects.filter(email=EMAIL).exists()
