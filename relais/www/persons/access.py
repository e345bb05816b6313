"""How the professional's pages reach a file: fetch *and* authorise in one call."""

from collections.abc import Iterable

from django.http import Http404, HttpRequest

from relais.accounts.actors import actor_for
from relais.consent.access import FileAccess, Professional, file_access, professional_of
from relais.consent.services import lists_viewed, section_viewed
from relais.persons.categories import Action
from relais.persons.models import Person


def professional_or_404(request: HttpRequest) -> Professional:
    pro = professional_of(request)
    if pro is None:
        raise Http404("Dossier introuvable.")
    return pro


def access_file(
    request: HttpRequest, person_id: int, category: str | None = None, action: str = Action.VIEW
) -> tuple[Professional, FileAccess]:
    """The acting professional and their access to the file; 404 outside the rule."""
    pro = professional_or_404(request)
    access = file_access(pro, person_id)
    if category is not None and not access.can(action, category):
        raise Http404("Dossier introuvable.")
    return pro, access


def record_view(request: HttpRequest, access: FileAccess, category: str) -> None:
    section_viewed(access=access, category=category, by=actor_for(request))


def record_list_view(
    request: HttpRequest, pro: Professional, shown: Iterable[tuple[Person, str]], listing: str
) -> None:
    """Journal what a list across files shows of each: (file, category) pairs."""
    lists_viewed(pro=pro, shown=shown, listing=listing, by=actor_for(request))
