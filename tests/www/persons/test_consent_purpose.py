"""The purpose of a consent is printed on the attestation the person signs: it refuses
« < » and « > » as names do, on a new file and on a consent, and nothing is recorded."""

import html

import pytest
from django.urls import reverse

from relais.consent.models import Consent
from relais.persons.models import Person
from relais.www.persons.forms import PURPOSE_WITH_MARKUP
from tests.factories import OrganisationFactory
from tests.persons.editing import create_file

pytestmark = pytest.mark.django_db

MARKUP = ["<b>Accompagnement</b> budget <script>alert('x')</script>", "Budget > 0", "a < b"]


def field_error(page: str, name: str) -> str:
    return html.unescape(page.split(f'id="id_{name}-desc-error">')[1].split("</div>")[0])


@pytest.mark.parametrize("purpose", MARKUP)
def test_a_new_file_refuses_markup_in_the_purpose(member_client, purpose):
    response = create_file(member_client, purpose=purpose)

    assert response.status_code == 400
    assert PURPOSE_WITH_MARKUP in field_error(response.content.decode(), "purpose")
    assert not Person.objects.exists()


@pytest.mark.parametrize("purpose", MARKUP)
def test_a_consent_refuses_markup_in_the_purpose(member_client, person, purpose):
    other = OrganisationFactory()
    before = Consent.objects.count()

    response = member_client.post(
        reverse("persons:consents", args=[person.pk]),
        {
            "organisation": str(other.pk),
            "categories": ["identite"],
            "purpose": purpose,
            "duration": "6m",
            "method": "signe",
        },
    )

    assert response.status_code == 400
    assert PURPOSE_WITH_MARKUP in field_error(response.content.decode(), "purpose")
    assert "<script>alert" not in response.content.decode()
    assert Consent.objects.count() == before


def test_a_purpose_in_plain_words_is_recorded(member_client, person):
    other = OrganisationFactory()

    response = member_client.post(
        reverse("persons:consents", args=[person.pk]),
        {
            "organisation": str(other.pk),
            "categories": ["identite"],
            "purpose": "Accompagnement budget & démarches (CAF, CPAM)",
            "duration": "6m",
            "method": "signe",
        },
    )

    assert response.status_code == 302
    recorded = person.consents.get(organisation=other)
    assert recorded.purpose == "Accompagnement budget & démarches (CAF, CPAM)"
