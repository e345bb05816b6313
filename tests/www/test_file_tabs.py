"""The file's tabs are rendered once per combination of rights and current tab, then reused
for every file: each file must still get its own links, and only the tabs its reader may
open."""

import re

import pytest
from django.urls import reverse

from relais.persons.categories import DataCategory
from relais.www.persons.views import _FILE_MARKER, _tabs_html
from tests.persons.factories import BreakGlassGrantFactory, ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db

_TABS = re.compile(r'<nav class="fr-tabs relais-file-tabs.*?</nav>', re.DOTALL)
_LINK = re.compile(
    r'<a class="fr-btn fr-btn--sm[^"]*" href="([^"]+)"( aria-current="page")?>([^<]+)</a>'
)


def _tabs(client, url: str) -> list[tuple[str, bool, str]]:
    page = client.get(url)
    assert page.status_code == 200
    nav = _TABS.search(page.content.decode())
    assert nav is not None
    return [(href, bool(current), label) for href, current, label in _LINK.findall(nav.group())]


def _followed(organisation, categories=None):
    person = PersonFactory()
    consent = {"categories": categories} if categories is not None else {}
    ConsentFactory(person=person, organisation=organisation, **consent)
    return person


def test_two_files_read_with_the_same_rights_link_each_to_itself(member_client, organisation):
    first, second = _followed(organisation), _followed(organisation)

    first_tabs = _tabs(member_client, reverse("persons:file", args=[first.pk]))
    second_tabs = _tabs(member_client, reverse("persons:file", args=[second.pk]))

    assert [label for _, _, label in first_tabs] == [label for _, _, label in second_tabs]
    assert all(f"/{first.pk}/" in href for href, _, _ in first_tabs)
    assert all(f"/{second.pk}/" in href for href, _, _ in second_tabs)
    assert (reverse("persons:history", args=[second.pk]), False, "Historique des accès") in (
        second_tabs
    )
    assert str(_FILE_MARKER) not in str(first_tabs + second_tabs)


def test_the_current_tab_is_marked_and_only_it(member_client, organisation):
    person = _followed(organisation)

    on_file = _tabs(member_client, reverse("persons:file", args=[person.pk]))
    on_family = _tabs(member_client, reverse("persons:section", args=[person.pk, "famille"]))

    assert [label for _, current, label in on_file if current] == [DataCategory.IDENTITY.label]
    assert [label for _, current, label in on_family if current] == [DataCategory.FAMILY.label]


def test_a_consent_limited_to_some_categories_shows_only_their_tabs(member_client, organisation):
    person = _followed(organisation, categories=["identite", "famille"])

    labels = [
        label for _, _, label in _tabs(member_client, reverse("persons:file", args=[person.pk]))
    ]

    assert labels[:2] == [DataCategory.IDENTITY.label, DataCategory.FAMILY.label]
    assert DataCategory.RESOURCES.label not in labels
    assert "Démarches" not in labels
    assert "Consentements" in labels and "Historique des accès" in labels


def test_break_glass_shows_no_consents_tab(member_client, member_membership):
    person = PersonFactory()
    BreakGlassGrantFactory(
        person=person,
        professional=member_membership.user,
        organisation=member_membership.organisation,
    )

    labels = [
        label for _, _, label in _tabs(member_client, reverse("persons:file", args=[person.pk]))
    ]

    assert "Consentements" not in labels
    assert "Historique des accès" in labels
    assert "Espace personnel" not in labels


def test_the_tabs_are_rendered_once_per_rights_and_current_tab():
    shown = (True,) * 12
    assert _tabs_html(shown, "identite") is _tabs_html(shown, "identite")
    assert _tabs_html(shown, "identite") != _tabs_html(shown, "famille")
