"""The organisations a form about one person's file offers to choose from.

Never every organisation of the platform: a region counts them in thousands, and a list of
one thousand weighed 126 kB and 115 ms on each page that showed it. The form offers those
that already follow the person, those a search by name or town found, and on a POST the
one chosen, so that a choice made from a search is still valid once posted.
"""

from django import forms
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from relais.consent.models import Consent
from relais.organisations.models import Organisation
from relais.persons.models import Person, Referent
from relais.procedures.models import Procedure
from relais.www.forms import posted_id

FOUND_AT_MOST = 20

Choices = list[tuple[int, str]]


class OrganisationSearchForm(DsfrBaseForm):
    q = forms.CharField(
        label=_("Chercher une structure"),
        help_text=_("Son nom ou sa ville."),
        max_length=100,
        min_length=2,
    )


def searched(request: HttpRequest) -> tuple[OrganisationSearchForm, str]:
    """The search form, bound when the request sends one, and the text searched. A search
    is a POST, told from the page's other form by its field: the name of the structure
    someone looks for (a family planning centre, a shelter) never travels in a URL, hence
    never in a shared computer's history nor in a log."""
    sent = request.method == "POST" and "q" in request.POST
    search = OrganisationSearchForm(request.POST if sent else None)
    query = search.cleaned_data["q"].strip() if search.is_bound and search.is_valid() else ""
    return search, query


def known_organisations(person: Person) -> Choices:
    """The organisations that already follow the person: referents, agreements, and
    procedures, in one query."""
    known = (
        Organisation.objects.filter(
            Q(pk__in=Referent.objects.current().filter(person=person).values("organisation_id"))
            | Q(pk__in=Consent.objects.filter(person=person).values("organisation_id"))
            | Q(pk__in=Procedure.objects.for_person(person.pk).values("organisation_id"))
        )
        .order_by("name")
        .values_list("pk", "name")
    )
    return list(known)


def organisation_choices(
    person: Person, query: str, posted: str | None, *, first: Choices | None = None
) -> tuple[Choices, Choices]:
    """(choices offered, search results): `first`, the organisations that follow the
    person, those found by name or town, and the one posted, if it exists."""
    found: Choices = []
    if query:
        found = list(
            Organisation.objects.filter(Q(name__icontains=query) | Q(commune_name__icontains=query))
            .order_by("name")
            .values_list("pk", "name")[:FOUND_AT_MOST]
        )
    offered: dict[int, str] = {}
    for pk, name in [*(first or []), *known_organisations(person), *found]:
        offered.setdefault(pk, name)
    chosen = posted_id(posted)
    if chosen is not None and chosen not in offered:
        offered.update(Organisation.objects.filter(pk=chosen).values_list("pk", "name"))
    return list(offered.items()), found
