"""The pilot's form for a new organisation says in plain French that its SIRET is taken,
never Django's technical wording of the model's unique check."""

import pytest
from django.urls import reverse

from relais.organisations.models import Organisation
from tests.factories import OrganisationFactory, valid_siret

pytestmark = pytest.mark.django_db

TAKEN = (
    "Une structure avec ce numéro SIRET existe déjà sur Relais : "
    "cherchez-la dans la liste des structures."
)


def _form(siret: str) -> dict[str, str]:
    return {"name": "CHRS Le Phare", "siret": siret, "kind": "chrs", "commune_code": "62193"}


def _spaced(siret: str) -> str:
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


@pytest.mark.parametrize("typed", [str, _spaced])
def test_it_says_the_siret_is_already_on_relais(pilot_client, typed):
    existing = OrganisationFactory(siret=valid_siret())

    response = pilot_client.post(
        reverse("organisations:pilot_create"), _form(typed(existing.siret))
    )

    assert response.status_code == 400
    assert response.context["form"].errors["siret"] == [TAKEN]
    content = response.content.decode().replace("&#x27;", "'")
    assert TAKEN in content
    assert "Un objet" not in content
    assert Organisation.objects.count() == 1


def test_it_says_so_for_a_siret_registered_meanwhile(pilot_client, monkeypatch):
    existing = OrganisationFactory(siret=valid_siret())
    # Another pilot saved the same SIRET between the check and the save.
    monkeypatch.setattr(Organisation, "validate_unique", lambda self, exclude=None: None)

    response = pilot_client.post(reverse("organisations:pilot_create"), _form(existing.siret))

    assert response.status_code == 400
    assert response.context["form"].errors["siret"] == [TAKEN]
    assert Organisation.objects.count() == 1
