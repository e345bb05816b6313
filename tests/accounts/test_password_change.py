import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "girafe-orbite-cerfeuil-trombone"


def _change(client, current=PASSWORD, new=NEW_PASSWORD, confirmation=None):
    return client.post(
        reverse("accounts:password_change"),
        {"current_password": current, "password1": new, "password2": confirmation or new},
    )


def test_it_refuses_a_wrong_current_password_with_400(member_client, member_membership):
    response = _change(member_client, current="pas-le-bon-mot-de-passe")

    assert response.status_code == 400
    assert response.context["form"].errors["current_password"] == [
        "Le mot de passe actuel est incorrect."
    ]
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(PASSWORD)
