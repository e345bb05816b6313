"""Which lines of a checklist a person needs, from what the reader may read of the file.

A line whose condition the file contradicts (the residence permit of a French national,
the domiciliation certificate of a tenant) is not needed. While the reader does not know
the nationality, the identity card « if French » and the residence permit « if not
French » are alternatives: one of them is enough. What the reader may not read is never
used, so that neither the lines nor their count tell it.
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


@dataclass(frozen=True)
class Situation:
    """What the checklist's conditions depend on, as far as the reader may read it:
    None when the file does not say or the reader may not read it."""

    nationality: str | None = None
    housing: str | None = None


UNKNOWN = Situation()


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


def contradicted(condition: str, situation: Situation) -> bool:
    """The file, as far as the reader may read it, says the condition does not hold."""
    if situation.nationality is not None:
        french = situation.nationality == Nationality.FRENCH
        if condition.startswith(NOT_FRENCH) and french:
            return True
        if condition.startswith(FRENCH) and not french:
            return True
    return (
        situation.housing is not None
        and condition.startswith(NO_STABLE_ADDRESS)
        and situation.housing in STABLE_HOUSING
    )


def alternatives(
    items: Iterable["RequiredDocument"], situation: Situation
) -> list[tuple["RequiredDocument", "RequiredDocument"]]:
    """The identity card « if French » and the residence permit « if not French » of a
    checklist, both still asked for, while the nationality is unknown to the reader."""
    if situation.nationality is not None:
        return []
    asked = [item for item in items if not item.not_applicable]
    french = [item for item in asked if item.condition == FRENCH]
    foreign = [item for item in asked if item.condition == NOT_FRENCH]
    return list(zip(french, foreign, strict=False))
