"""The checklist counts what the person needs: a line the file contradicts is not needed,
a line asked only in a situation counts once that situation is known to apply, the lines
of a group (the identity card « if French », the residence permit « if not French ») are
alternatives one of which is enough, and what the reader may not read of the file is
never used, not even through the count."""

import pytest
from django.urls import reverse

from relais.documents.models import DocumentKind
from relais.organisations.models import Role
from relais.persons.categories import DataCategory
from relais.persons.models import Housing, HousingStatus, Nationality
from relais.procedures.checklist import FRENCH, NO_STABLE_ADDRESS, NOT_FRENCH
from relais.procedures.services import procedure_open
from tests.conftest import log_in
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import DocumentFactory, ProcedureTypeFactory
from tests.www.procedures.conftest import actor_of

pytestmark = pytest.mark.django_db

PAPERS = [
    {"kind": DocumentKind.CNI.value, "condition": FRENCH, "group": "identite"},
    {"kind": DocumentKind.RESIDENCE_PERMIT.value, "condition": NOT_FRENCH, "group": "identite"},
    {"kind": DocumentKind.DOMICILIATION.value, "condition": NO_STABLE_ADDRESS, "conditional": True},
    {"kind": DocumentKind.TAX_NOTICE.value, "condition": ""},
]


def _opened(referent, *, nationality="", housing=None, categories=None):
    person = PersonFactory(nationality=nationality)
    consent = {"categories": categories} if categories is not None else {}
    ConsentFactory(person=person, organisation=referent.organisation, **consent)
    if housing:
        Housing.objects.create(person=person, status=housing)
    return procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(
            title="Demander l'aide au logement", required_documents=PAPERS
        ),
        organisation=referent.organisation,
        by=actor_of(referent),
    )


def _detail(client, procedure):
    url = reverse("procedures:detail", args=[procedure.person_id, procedure.pk])
    return client.get(url).content.decode()


def _what_is_missing(page):
    """The sentences of the « Ce qui manque » box."""
    box = page[page.index("Ce qui manque</h4>") :]
    box = box[: box.index("</ul>")]
    return [item.split("</li>")[0] for item in box.split("<li>")[1:]]


def _linked(procedure, kind):
    item = procedure.checklist.get(kind=kind)
    item.document = DocumentFactory(person=procedure.person, kind=kind)
    item.save()


def test_it_counts_one_identity_paper_when_the_nationality_is_not_known(referent, referent_client):
    procedure = _opened(referent)

    page = _detail(referent_client, procedure)

    assert "0 % des pièces réunies</strong> (0 sur 2" in page
    assert page.count("une des deux pièces suffit") == 3
    assert _what_is_missing(page) == [
        "Avis d&#x27;imposition.",
        "Carte nationale d&#x27;identité ou titre de séjour : une des deux pièces suffit.",
        "Selon la situation de la personne, peut-être : attestation d&#x27;élection de domicile.",
    ]


def test_one_of_the_two_identity_papers_is_enough(referent, referent_client):
    procedure = _opened(referent)
    _linked(procedure, DocumentKind.RESIDENCE_PERMIT)

    page = _detail(referent_client, procedure)

    assert "50 % des pièces réunies</strong> (1 sur 2" in page
    assert "l'autre pièce suffit" in page
    assert _what_is_missing(page)[:1] == ["Avis d&#x27;imposition."]
    assert "Carte nationale" not in " ".join(_what_is_missing(page))


def test_the_nationality_and_the_housing_in_the_file_decide(referent, referent_client):
    procedure = _opened(
        referent, nationality=Nationality.FRENCH, housing=HousingStatus.SOCIAL_TENANT
    )

    page = _detail(referent_client, procedure)

    assert "0 % des pièces réunies</strong> (0 sur 2" in page
    assert page.count("d'après le dossier") == 2
    assert _what_is_missing(page) == ["Carte nationale d&#x27;identité.", "Avis d&#x27;imposition."]


def test_a_foreign_national_without_a_home_needs_the_permit_and_the_domiciliation(
    referent, referent_client
):
    procedure = _opened(referent, nationality=Nationality.NON_EU, housing=HousingStatus.HOMELESS)

    page = _detail(referent_client, procedure)

    assert "0 % des pièces réunies</strong> (0 sur 3" in page
    assert _what_is_missing(page) == [
        "Titre de séjour.",
        "Attestation d&#x27;élection de domicile.",
        "Avis d&#x27;imposition.",
    ]


def test_a_situation_the_reader_may_not_read_is_left_to_see(referent, referent_client):
    without_housing = [c for c in DataCategory.values if c != DataCategory.HOUSING]
    procedure = _opened(
        referent,
        nationality=Nationality.FRENCH,
        housing=HousingStatus.HOMELESS,
        categories=without_housing,
    )

    page = _detail(referent_client, procedure)

    assert "0 % des pièces réunies</strong> (0 sur 2" in page
    assert ">selon la situation<" in page
    assert _what_is_missing(page)[-1] == (
        "Selon la situation de la personne, peut-être : attestation d&#x27;élection de domicile."
    )


@pytest.mark.parametrize("url", ["procedures:mine", "procedures:person"])
def test_the_lists_count_what_the_person_needs(referent, referent_client, url):
    procedure = _opened(referent, nationality=Nationality.FRENCH, housing=HousingStatus.HOMELESS)
    _linked(procedure, DocumentKind.CNI)
    hidden = _opened(
        referent,
        nationality=Nationality.FRENCH,
        housing=HousingStatus.HOMELESS,
        categories=[c for c in DataCategory.values if c != DataCategory.HOUSING],
    )
    _linked(hidden, DocumentKind.CNI)
    args = [procedure.person_id] if url == "procedures:person" else []

    page = referent_client.get(reverse(url, args=args)).content.decode()

    assert "33 %" in page and "(1 sur 3)" in page
    if url == "procedures:mine":
        assert "50 %" in page and "(1 sur 2)" in page


# « Avec des pièces manquantes »: the professionals' lists say missing what the
# procedure's page says missing.

MISSING_PAPERS = {"etat": "ouvertes", "pieces_manquantes": "on"}
WITHOUT_HOUSING = [c for c in DataCategory.values if c != DataCategory.HOUSING]


def _complete_for_a_french_national(referent, **file):
    """Complete as far as the file says: the identity card and the tax notice of a French
    national."""
    procedure = _opened(referent, nationality=Nationality.FRENCH, **file)
    _linked(procedure, DocumentKind.CNI)
    _linked(procedure, DocumentKind.TAX_NOTICE)
    return procedure


def _row(procedure):
    return reverse("procedures:detail", args=[procedure.person_id, procedure.pk]) + '"'


@pytest.mark.parametrize("url", ["procedures:mine", "procedures:organisation"])
def test_the_missing_papers_filter_lists_what_the_procedure_page_says_is_missing(
    referent, url, client
):
    referent.role = Role.MANAGER
    referent.save()
    complete = _complete_for_a_french_national(referent, housing=HousingStatus.SOCIAL_TENANT)
    # The nationality unknown: the residence permit is enough.
    alternative = _opened(referent, housing=HousingStatus.SOCIAL_TENANT)
    _linked(alternative, DocumentKind.RESIDENCE_PERMIT)
    _linked(alternative, DocumentKind.TAX_NOTICE)
    # Without a home: the domiciliation certificate is needed.
    homeless = _complete_for_a_french_national(referent, housing=HousingStatus.HOMELESS)
    # The housing unreadable: the domiciliation certificate is only to see.
    unknown_housing = _complete_for_a_french_national(
        referent, housing=HousingStatus.HOMELESS, categories=WITHOUT_HOUSING
    )
    # Neither the identity card nor the residence permit.
    neither = _opened(referent, housing=HousingStatus.SOCIAL_TENANT)
    _linked(neither, DocumentKind.TAX_NOTICE)
    client = log_in(client, referent.user, referent)

    listed = client.get(reverse(url), MISSING_PAPERS).content.decode()

    assert _row(complete) not in listed
    assert _row(alternative) not in listed
    assert _row(homeless) in listed
    assert _row(unknown_housing) not in listed
    assert _row(neither) in listed
    assert "100 % des pièces réunies" in _detail(client, complete)
    assert "100 % des pièces réunies" in _detail(client, alternative)
    assert "100 % des pièces réunies" in _detail(client, unknown_housing)
    assert _what_is_missing(_detail(client, homeless)) == [
        "Attestation d&#x27;élection de domicile."
    ]


def test_the_missing_papers_filter_pages_what_is_missing(referent, referent_client):
    """Procedures complete for what their file says come first in the list's order: left
    out in the query, they leave the pages full and the next page's link right."""
    for _ in range(3):
        _complete_for_a_french_national(referent, housing=HousingStatus.SOCIAL_TENANT)
    lacking = [_opened(referent) for _ in range(22)]

    first = referent_client.get(reverse("procedures:mine"), MISSING_PAPERS).content.decode()
    second = referent_client.get(
        reverse("procedures:mine"), MISSING_PAPERS | {"page": "2"}
    ).content.decode()

    assert [_row(p) in first for p in lacking] == [True] * 20 + [False] * 2
    assert [_row(p) in second for p in lacking] == [False] * 20 + [True] * 2
    assert "Page suivante" in first
    assert "Page suivante" not in second


# Session, user, one page of procedures with what their checklists may read of the file,
# the checklists, their documents, and the journal of what the page shows (see
# test_lists_and_catalogue.py): the same whatever the number of procedures listed.
QUERIES_WITH_MISSING_PAPERS = 10


@pytest.mark.parametrize("size", [5, 15])
def test_it_pins_the_queries_of_the_missing_papers_filter(
    referent, referent_client, size, django_assert_num_queries
):
    for n in range(size):
        procedure = _opened(
            referent,
            nationality=["", Nationality.FRENCH, Nationality.NON_EU][n % 3],
            housing=[None, HousingStatus.SOCIAL_TENANT][n % 2],
        )
        _linked(procedure, DocumentKind.TAX_NOTICE)
    referent_client.get(reverse("procedures:mine"), MISSING_PAPERS)

    with django_assert_num_queries(QUERIES_WITH_MISSING_PAPERS):
        response = referent_client.get(reverse("procedures:mine"), MISSING_PAPERS)

    assert response.content.decode().count("Demander l&#x27;aide au logement") == size
