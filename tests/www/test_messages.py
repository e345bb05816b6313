"""The messages shown after an action are text: the names they quote are escaped."""

import pytest
from django.urls import reverse

from tests.factories import valid_siret

pytestmark = pytest.mark.django_db


def test_a_name_typed_with_markup_is_shown_as_text_in_the_message(pilot_client):
    name = '<img src="x" onerror="alert(1)"> Accueil'

    response = pilot_client.post(
        reverse("organisations:pilot_create"),
        {
            "name": name,
            "siret": valid_siret(),
            "kind": "chrs",
            "commune_code": "62193",
            "commune_name": "Calais",
            "territory": "Calaisis",
        },
        follow=True,
    )

    page = response.content.decode()
    assert "La structure &lt;img src=&quot;x&quot; onerror=&quot;alert(1)&quot;&gt; Accueil" in page
    assert "<img src" not in page
