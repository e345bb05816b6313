"""What the person reads in « Qui a regardé mon dossier »: every act the history keeps
has its plain words, and the rows of every file merged into theirs."""

import pytest

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import ACCESS_HISTORY_ACTIONS, AuditEvent
from relais.audit.services import audit_record
from relais.persons.models import Person, PersonStatus
from relais.portability import words
from tests.persons.factories import PersonFactory


def test_it_has_plain_words_for_every_act_of_the_history():
    assert set(ACCESS_HISTORY_ACTIONS) <= set(words.HISTORY_ACTIONS)


def _merged(into: Person) -> Person:
    return PersonFactory(status=PersonStatus.ARCHIVED, merged_into=into)


@pytest.mark.django_db
def test_a_files_rows_include_those_of_the_files_merged_into_it_however_long_ago(
    django_assert_num_queries,
):
    """A duplicate merged into a file later merged into the one kept: its rows are the
    person's too, and those of a file the kept one was never merged with are not."""
    kept = PersonFactory()
    duplicate = _merged(into=kept)
    older_duplicate = _merged(into=duplicate)
    other = PersonFactory()
    by = Actor(label="Professionnelle")
    for person in (kept, duplicate, older_duplicate, other):
        audit_record(action=AuditAction.SECTION_VIEWED, by=by, person_id=person.pk)

    # One query per level of merges (two), one finding no more, then the rows.
    with django_assert_num_queries(4):
        rows = set(AuditEvent.objects.for_file(kept).values_list("person_id", flat=True))

    assert rows == {kept.pk, duplicate.pk, older_duplicate.pk}
    assert set(AuditEvent.objects.for_file(duplicate).values_list("person_id", flat=True)) == {
        duplicate.pk,
        older_duplicate.pk,
    }
