"""The revealed NIR reads in the groups of the carte Vitale, and copies as its 15
characters: a form that takes 15 would cut a copy with spaces short."""

import re

import pytest
from django.urls import reverse

from relais.persons import services
from relais.www.templatetags.nir import nir_groups

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("nir", "groups"),
    [
        ("285035935012357", ["2", "85", "03", "59", "350", "123", "57"]),
        ("185032A35012357", ["1", "85", "03", "2A", "350", "123", "57"]),
        ("2 85 03 2B 350 123 57", ["2", "85", "03", "2B", "350", "123", "57"]),
        ("28503593501", ["28503593501"]),
        ("", []),
    ],
)
def test_it_groups_the_nir_as_the_carte_vitale_does(nir, groups):
    assert nir_groups(nir) == groups


def test_the_revealed_nir_is_grouped_and_copies_without_spaces(member_client, person):
    services._store_nir(person, "290047505601282")
    person.save()

    response = member_client.post(reverse("persons:nir_reveal", args=[person.pk]))

    page = response.content.decode()
    shown = re.search(r'<p class="fr-text--lead relais-secret[^"]*">(.*?)</p>', page)
    assert response.status_code == 200 and shown
    assert re.findall(r"<span[^>]*>([0-9AB]+)</span>", shown.group(1)) == [
        "2", "90", "04", "75", "056", "012", "82",
    ]  # fmt: skip
    # What a selection of the number copies: its text, without the markup.
    assert re.sub(r"<[^>]+>", "", shown.group(1)) == "290047505601282"


def test_a_file_without_nir_says_so(member_client, person):
    response = member_client.post(reverse("persons:nir_reveal", args=[person.pk]))

    assert response.status_code == 200
    assert '<p class="fr-text--lead">non renseigné</p>' in response.content.decode()
