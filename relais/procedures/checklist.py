"""Which lines of a checklist a person needs, from what the reader may read of the file.

A line is asked always, or only in the situation its condition names (`conditional`):
then it counts once that situation is known to apply, from the file (the nationality,
the housing) or because the professional said so (`concerned`). A line whose condition
the file contradicts (the residence permit of a French national, the domiciliation
certificate of a tenant) is not needed. The lines of a group are alternatives, one of
which is enough (the identity card « if French » and the residence permit « if not
French », while the reader does not know the nationality). What the reader may not read
is never used, so that neither the lines nor their count tell it.
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relais.persons.categories import DataCategory
from relais.persons.models import Housing, HousingStatus, Nationality

if TYPE_CHECKING:
    from relais.procedures.models import RequiredDocument

FRENCH = "si vous êtes de nationalité française"
NOT_FRENCH = "si vous n'êtes pas de nationalité française"
NO_STABLE_ADDRESS = "si vous n'avez pas d'adresse stable"

# Housing that gives the person an address of their own: a domiciliation is for those
# without one. Hosted persons and those in a hostel may still need one.
STABLE_HOUSING = frozenset(
    {HousingStatus.PRIVATE_TENANT, HousingStatus.SOCIAL_TENANT, HousingStatus.OWNER}
)
# Housing that leaves the person without any address: the domiciliation is theirs.
WITHOUT_ADDRESS = frozenset({HousingStatus.HOMELESS})


@dataclass(frozen=True)
class Situation:
    """What the checklist's conditions depend on, as far as the reader may read it:
    None when the file does not say or the reader may not read it."""

    nationality: str | None = None
    housing: str | None = None


UNKNOWN = Situation()


def freshness_words(months: int) -> str:
    """A freshness rule as the pages say it: « de moins de 6 mois », « de moins de 1 an »."""
    if months % 12 == 0:
        years = months // 12
        return f"de moins de {years} an{'s' if years > 1 else ''}"
    return f"de moins de {months} mois"


def depends_on_housing(conditions: Iterable[str]) -> bool:
    return any(condition.startswith(NO_STABLE_ADDRESS) for condition in conditions)


def housing_status(person_id: int) -> str | None:
    return Housing.objects.filter(person_id=person_id).values_list("status", flat=True).first()


def situation_of(
    nationality: str,
    housing: Callable[[], str | None],
    *,
    readable: Collection[str],
    conditions: Iterable[str],
) -> Situation:
    """The situation a reader of `readable` categories may use. The housing is read only
    when a condition depends on it and the reader may read it."""
    return Situation(
        nationality=(nationality or None) if DataCategory.IDENTITY in readable else None,
        housing=housing()
        if DataCategory.HOUSING in readable and depends_on_housing(conditions)
        else None,
    )


def file_says(condition: str, situation: Situation) -> bool | None:
    """Whether the file, as far as the reader may read it, says the condition holds,
    says it does not, or tells nothing of it (None)."""
    if situation.nationality is not None:
        french = situation.nationality == Nationality.FRENCH
        if condition.startswith(FRENCH):
            return french
        if condition.startswith(NOT_FRENCH):
            return not french
    if situation.housing is not None and condition.startswith(NO_STABLE_ADDRESS):
        if situation.housing in STABLE_HOUSING:
            return False
        if situation.housing in WITHOUT_ADDRESS:
            return True
    return None


def contradicted(condition: str, situation: Situation) -> bool:
    """The file, as far as the reader may read it, says the condition does not hold."""
    return file_says(condition, situation) is False


def applies(item: "RequiredDocument", situation: Situation) -> bool:
    """The line is asked of the person: always, or in a situation known to apply."""
    return not item.conditional or item.concerned or file_says(item.condition, situation) is True


def units(
    items: Iterable["RequiredDocument"], situation: Situation
) -> list[tuple["RequiredDocument", ...]]:
    """The lines still asked of the person (neither marked not concerned nor contradicted
    by the file), unit by unit: a line on its own, or the lines of one group, one of
    which is enough; in the order of each unit's first line."""
    grouped: dict[object, list[RequiredDocument]] = {}
    for item in items:
        if item.not_applicable or contradicted(item.condition, situation):
            continue
        grouped.setdefault(item.group or ("line", item.pk), []).append(item)
    return [tuple(members) for members in grouped.values()]
