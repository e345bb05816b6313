"""The professional's layout is rendered once per set of inputs and reused: what it shows
must still follow the user, the acting organisation, the page and the request."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from relais.www.templatetags.layout import HeaderState, _header_html
from tests.conftest import log_in
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _header(html: str) -> str:
    return html[html.index('<header role="banner"') : html.index("</header>")]


def test_the_header_names_the_user_and_the_acting_organisation(member_client, member_membership):
    header = _header(member_client.get(reverse("www:home")).content.decode())
    assert member_membership.user.get_full_name() in header
    assert member_membership.organisation.name in header
    assert "Se déconnecter" in header


def test_a_renamed_professional_shows_at_the_next_page(member_client, member_membership):
    member_client.get(reverse("www:home"))
    user = member_membership.user
    user.first_name, user.last_name = "Zoé", "Nouveau-Nom"
    user.save()
    header = _header(member_client.get(reverse("www:home")).content.decode())
    assert "Zoé Nouveau-Nom" in header


def test_a_renamed_organisation_shows_in_the_next_session(member_membership):
    organisation = member_membership.organisation
    organisation.name = "CCAS renommé"
    organisation.save()
    client = log_in(Client(), member_membership.user, member_membership)
    assert "CCAS renommé" in _header(client.get(reverse("www:home")).content.decode())


def test_the_menu_marks_the_page_of_each_section(member_client):
    home = _header(member_client.get(reverse("www:home")).content.decode())
    persons = _header(member_client.get(reverse("persons:list")).content.decode())
    assert 'aria-current="page">Accueil' in home
    assert 'aria-current="page">Personnes accompagnées' not in home
    assert 'aria-current="page">Personnes accompagnées' in persons
    assert 'aria-current="page">Accueil' not in persons


def test_the_menu_follows_the_role(client, member_client):
    member = _header(member_client.get(reverse("www:home")).content.decode())
    manager = MembershipFactory(manager=True)
    other = log_in(Client(), manager.user, manager)
    managing = _header(other.get(reverse("www:home")).content.decode())
    assert "Équipe" not in member and "Journal des accès" not in member
    assert "Équipe" in managing and "Journal des accès" in managing


def test_each_session_gets_its_own_csrf_field_and_logging_out_works(member_membership):
    first = log_in(Client(enforce_csrf_checks=True), member_membership.user, member_membership)
    second = log_in(Client(enforce_csrf_checks=True), member_membership.user, member_membership)
    page_one = _header(first.get(reverse("www:home")).content.decode())
    page_two = _header(second.get(reverse("www:home")).content.decode())
    assert "relais:csrf" not in page_one
    token_one = _CSRF_FIELD.findall(page_one)
    token_two = _CSRF_FIELD.findall(page_two)
    # Desktop tools and mobile menu: the same form twice, each with this request's token.
    assert len(token_one) == 2 and len(set(token_one)) == 1
    assert token_one != token_two
    response = first.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": token_one[0]})
    assert response.status_code == 302
    assert first.get(reverse("www:home")).status_code == 302


def test_a_header_is_rendered_once_per_state():
    state = HeaderState(authenticated=True, verified=True, full_name="Ana Lopes", acting=True)
    assert _header_html(state) is _header_html(state)
    other = HeaderState(authenticated=True, verified=True, full_name="Ana Lopes", current="home")
    assert _header_html(other) != _header_html(state)


def test_the_login_page_has_no_menu_and_no_logout(client):
    header = _header(client.get(reverse("accounts:login")).content.decode())
    assert "Se déconnecter" not in header
    assert "navigation-principale" not in header
