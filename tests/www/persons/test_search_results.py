"""The search is posted, its words kept in the session under a random key, and its results
are a GET page that names only that key and the page: the browser's Back comes back to
them without sending the form again, and no name travels in a URL."""

import datetime
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.www.persons import views
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db

# The POST that keeps the search and answers with the redirect: the session and the user
# read, the session written (in its savepoint); no person is read.
POSTED_QUERIES = 5
TITLE = re.compile(r"<title>([^<]*)</title>")


def _followed(organisation, **fields):
    person = PersonFactory(**fields)
    ConsentFactory(person=person, organisation=organisation)
    return person


@pytest.fixture
def dupres(organisation):
    return [
        _followed(
            organisation,
            birth_name="Dupré",
            first_names=f"Léa{n:02d}",
            birth_date=datetime.date(1990, 4, 12),
        )
        for n in range(views.PAGE_SIZE + 3)
    ]


def _searched(client, query="dupre", **fields) -> str:
    response = client.post(reverse("persons:list"), {"q": query, **fields})
    assert response.status_code == 302
    return response.url


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _searches() -> int:
    return AuditEvent.objects.filter(action=AuditAction.PERSON_SEARCH).count()


def test_the_search_answers_with_a_redirect_to_a_url_without_the_words(member_client, dupres):
    url = _searched(member_client, "Dupré Léa00")

    parts = urlsplit(url)
    assert parts.path == reverse("persons:list")
    assert set(parse_qs(parts.query)) == {"recherche"}
    assert "dupr" not in url.casefold() and "lea" not in url.casefold()
    assert _searches() == 0


def test_the_results_are_a_get_page_that_back_shows_again(member_client, dupres):
    url = _searched(member_client)

    first = member_client.get(url)
    again = member_client.get(url)

    for response in (first, again):
        assert response.status_code == 200
        assert reverse("persons:file", args=[dupres[0].pk]) in _page(response)
        assert TITLE.search(_page(response)).group(1).startswith("Résultats de la recherche")
        assert "Dupré" not in TITLE.search(_page(response)).group(1)
    assert 'value="dupre"' in _page(first)


def test_each_page_shown_is_journaled_as_a_search_without_the_words(member_client, dupres):
    url = _searched(member_client)
    member_client.get(url)
    member_client.get(url)  # the browser's Back: the files are read again

    events = AuditEvent.objects.filter(action=AuditAction.PERSON_SEARCH)
    assert [event.details for event in events] == [{"resultats": views.PAGE_SIZE}] * 2
    for event in events:
        assert "dupre" not in (event.reason + str(event.details)).casefold()


def test_the_pages_of_results_are_links_that_carry_only_the_key(member_client, dupres):
    url = _searched(member_client)
    key = parse_qs(urlsplit(url).query)["recherche"][0]

    first = member_client.get(url).content.decode()
    second = member_client.get(f"{url}&page=2")

    assert f'href="?recherche={key}&amp;page=2">Page suivante' in first
    assert 'name="page" value="2"' not in first
    links = [reverse("persons:file", args=[p.pk]) for p in dupres]
    assert [link for link in links if f'href="{link}"' in _page(second)] == links[20:]
    assert "Page précédente" in _page(second)
    assert _searches() == 2


def test_a_page_posted_with_the_search_is_the_page_shown(member_client, dupres):
    url = _searched(member_client, page=2)

    assert parse_qs(urlsplit(url).query)["page"] == ["2"]
    assert member_client.get(url).context["results"] == dupres[20:]


@pytest.mark.parametrize("page", ["0", "deux", "100001"])
def test_a_page_that_does_not_exist_is_explained_and_searches_nothing(member_client, dupres, page):
    url = _searched(member_client)

    response = member_client.get(f"{url}&page={page}")

    assert response.status_code == 400
    assert "Cette page de la liste n'existe pas" in _page(response)
    assert _searches() == 0


def test_words_that_cannot_be_searched_are_refused_and_kept_nowhere(member_client, dupres):
    response = member_client.post(reverse("persons:list"), {"q": "31/02/1990"})

    assert response.status_code == 400
    assert "Cette date n'existe pas" in _page(response)
    assert views.SEARCHES not in member_client.session
    assert _searches() == 0


def test_another_session_cannot_read_a_search_by_its_key(
    member_client, organisation, member_membership, dupres
):
    url = _searched(member_client)
    colleague = MembershipFactory(organisation=organisation)
    other = log_in(Client(), colleague.user, colleague)

    response = other.get(url, follow=True)

    assert response.redirect_chain == [(reverse("persons:list"), 302)]
    assert "Cette recherche n'est plus disponible" in _page(response)
    assert "Léa00" not in _page(response)
    assert _searches() == 0


def test_a_session_keeps_a_few_searches_only(member_client, dupres):
    oldest = _searched(member_client, "lea00")
    for n in range(1, views.SEARCHES_KEPT + 1):
        _searched(member_client, f"lea{n:02d}")

    assert len(member_client.session[views.SEARCHES]) == views.SEARCHES_KEPT
    assert member_client.get(oldest).url == reverse("persons:list")


def test_the_same_words_searched_again_keep_their_key(member_client, dupres):
    assert _searched(member_client, "dupre") == _searched(member_client, "dupre")
    assert len(member_client.session[views.SEARCHES]) == 1


def test_the_searches_end_with_the_session(member_client, dupres):
    url = _searched(member_client)

    member_client.post(reverse("accounts:logout"))

    assert views.SEARCHES not in member_client.session
    assert member_client.get(url).status_code == 302


def test_a_file_leads_back_to_the_page_of_results_last_shown(member_client, dupres):
    url = _searched(member_client)
    member_client.get(f"{url}&page=2")

    file = member_client.get(reverse("persons:file", args=[dupres[-1].pk])).content.decode()

    assert f'href="{url}&amp;page=2">Résultats de la recherche' in file


def test_a_file_opened_without_a_search_has_no_link_to_results(member_client, dupres):
    file = _page(member_client.get(reverse("persons:file", args=[dupres[0].pk])))

    assert "Résultats de la recherche" not in file


def test_it_pins_the_queries_of_a_posted_search(member_client, dupres, django_assert_num_queries):
    member_client.get(reverse("persons:list"))

    with django_assert_num_queries(POSTED_QUERIES):
        member_client.post(reverse("persons:list"), {"q": "dupre"})


@pytest.mark.parametrize("query", ["12/04/1990", "12-04-1990", "12.04.1990", "12/4/1990"])
def test_a_birth_date_is_found_with_slashes_hyphens_or_dots(member_client, organisation, query):
    born = _followed(organisation, birth_name="Zérouki", birth_date=datetime.date(1990, 4, 12))
    _followed(organisation, birth_name="Zérouki", birth_date=datetime.date(1991, 4, 12))

    page = _page(member_client.get(_searched(member_client, query)))

    assert born.display_name in page
    assert page.count("ZÉROUKI") == 1


@pytest.mark.parametrize("query", ["12/04-1990", "12/04/90", "123456", "12 04 1990"])
def test_digits_that_are_no_date_nor_caf_number_are_refused_and_say_what_is_searched(
    member_client, organisation, query
):
    _followed(organisation, birth_date=datetime.date(1990, 4, 12))

    response = member_client.post(reverse("persons:list"), {"q": query})

    assert response.status_code == 400
    assert "Écrivez la date de naissance JJ/MM/AAAA, le n° allocataire CAF" in _page(response)
    assert _searches() == 0


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_search_is_refused_on_a_field_not_marked_optional(member_client, query):
    response = member_client.post(reverse("persons:list"), {"q": query})

    assert response.status_code == 400
    page = _page(response)
    assert "Saisissez un nom, un prénom, une date de naissance ou un n° allocataire CAF." in page
    assert "(Optionnel)" not in page
    assert _searches() == 0
