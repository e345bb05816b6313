"""Publishing a version of the charter: the matrix is checked whole before anything is
written, and a published version never changes."""

import pytest
from django.core.exceptions import ValidationError

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_publish, current_matrix, current_version
from relais.consent.models import CharterRule, CharterVersion
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory

pytestmark = pytest.mark.django_db

CELL = (OrganisationKind.CCAS, Profession.ASS, DataCategory.HEALTH)


def _refused(levels: dict[tuple[str, str, str], str]) -> str:
    """Publish `levels`, check nothing was written, return the French message."""
    current_matrix()
    counts = CharterVersion.objects.count(), CharterRule.objects.count()
    published = AuditEvent.objects.filter(action=AuditAction.CHARTER_PUBLISHED).count()

    with pytest.raises(ValidationError) as refused:
        charter_publish(levels=levels, summary="Mise à jour", by=SYSTEM)

    assert (CharterVersion.objects.count(), CharterRule.objects.count()) == counts
    assert AuditEvent.objects.filter(action=AuditAction.CHARTER_PUBLISHED).count() == published
    return " ".join(refused.value.messages)


def test_it_refuses_a_level_that_does_not_exist():
    message = _refused(current_matrix() | {CELL: "tout"})

    assert message == (
        "Niveau d'accès inconnu pour 1 case de la grille : choisissez aucun accès, "
        "lecture, ou lecture et écriture."
    )


def test_it_refuses_a_matrix_with_a_missing_cell():
    levels = current_matrix()
    del levels[CELL]

    assert _refused(levels) == "1 case de la grille n'a pas de niveau d'accès : rechargez la page."


def test_it_refuses_a_cell_of_an_unknown_kind_profession_or_category():
    levels = current_matrix() | {
        ("inconnu", Profession.ASS, DataCategory.HEALTH): "read",
        (OrganisationKind.CCAS, "sorcier", DataCategory.HEALTH): "read",
        (OrganisationKind.CCAS, Profession.ASS, "astrologie"): "read",
    }

    assert _refused(levels) == (
        "La grille nomme 3 cases inconnues (type de structure, profession ou catégorie) : "
        "rechargez la page."
    )


def test_a_pilot_who_waited_for_the_lock_sees_the_version_published_meanwhile(monkeypatch):
    shown = current_version().number
    locking = CharterVersion.objects.select_for_update

    def waiting_for_the_lock(**kwargs):
        """PostgreSQL: a locking read that waited for another publication's commit
        answers the rows that were there when it began, not the version that commit
        added."""
        before = list(CharterVersion.objects.values_list("pk", flat=True))
        CharterVersion.objects.create(number=shown + 1, published_by_label="Autre pilote")
        return locking(**kwargs).filter(pk__in=before)

    monkeypatch.setattr(CharterVersion.objects, "select_for_update", waiting_for_the_lock)

    with pytest.raises(ValidationError) as refused:
        charter_publish(
            levels=current_matrix(), summary="Mise à jour", by=SYSTEM, edited_from=shown
        )

    assert refused.value.messages[0].startswith(
        f"La version {shown + 1} a été publiée pendant votre modification"
    )
