"""The person's export (« Télécharger mes données ») of a file with a long history: time to
the first byte, time to the last, and the peak of Python allocations (tracemalloc), on
SQLite in a temporary directory (removed at the end). Prints one line.

    python bench/export.py [--journal-rows 40000] [--notes 300] [--procedures 10]

The file is built once: N rows of its access history, notes, procedures with their
checklists, a few papers. The export is timed untraced, then measured again under
tracemalloc, which slows it down several times.
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.persons import upload_papers  # noqa: E402

MEGABYTE = 1024 * 1024


def _setup(directory: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{directory}/export.sqlite3"
    os.environ["RELAIS_DOCUMENTS_DIR"] = f"{directory}/documents"
    os.environ["RELAIS_CACHE_DIR"] = f"{directory}/cache"
    os.environ.pop("RELAIS_DOCUMENTS_S3_BUCKET", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_file(journal_rows: int, notes: int, procedures: int):  # -> Person
    """One person of the load data, followed by its organisation's professional, whose
    file has `journal_rows` rows of access history, `notes` notes, `procedures`
    procedures and three papers."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from relais.audit.actions import AuditAction
    from relais.audit.context import Actor
    from relais.audit.services import Event, audit_record_many
    from relais.organisations.models import Membership
    from relais.persons.models import Note, NoteVisibility, Person
    from relais.procedures.models import ProcedureType
    from relais.procedures.services import procedure_open

    quiet = open(os.devnull, "w")  # noqa: SIM115
    call_command("generate_load_data", persons=1, stdout=quiet)
    call_command("load_procedures", stdout=quiet)
    membership = Membership.objects.select_related("user", "organisation").get()
    person = Person.objects.get()
    by = Actor(
        user_id=membership.user_id,
        label=membership.user.get_full_name(),
        organisation_id=membership.organisation_id,
        organisation_label=membership.organisation.name,
        profession=membership.get_profession_display(),
    )
    for procedure_type in ProcedureType.objects.filter(is_active=True).order_by("pk")[:procedures]:
        procedure_open(
            person=person,
            procedure_type=procedure_type,
            organisation=membership.organisation,
            by=by,
        )
    upload_papers(person, by, 3)
    start = timezone.now() - timedelta(days=3650)
    Note.objects.bulk_create(
        Note(
            person=person,
            author=membership.user,
            organisation=membership.organisation,
            created_at=start + timedelta(days=number * 10),
            text=f"Entretien n° {number + 1} : point sur les démarches, les papiers à réunir "
            "et les rendez-vous à venir avec la CAF et le bailleur.",
            visibility=NoteVisibility.ORGANISATION,
        )
        for number in range(notes)
    )
    categories = ["identite", "famille", "ressources", "logement", "notes"]
    with transaction.atomic():
        for first in range(0, journal_rows, 1000):
            audit_record_many(
                [
                    Event(
                        AuditAction.SECTION_VIEWED,
                        person_id=person.pk,
                        person_label=person.journal_label,
                        category=categories[row % len(categories)],
                    )
                    for row in range(first, min(first + 1000, journal_rows))
                ],
                by=by,
            )
    return person


def export_once(person) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """Seconds to the first byte, seconds to the last, bytes sent."""
    from relais.audit.context import Actor
    from relais.portability.services import export_prepare

    started = time.perf_counter()
    chunks = export_prepare(person, by=Actor(label="La personne")).chunks()
    sent = len(next(chunks))
    first_byte = time.perf_counter() - started
    for chunk in chunks:
        sent += len(chunk)
    return first_byte, time.perf_counter() - started, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journal-rows", type=int, default=40_000)
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--procedures", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="relais-bench-export-") as directory:
        _setup(directory)
        person = build_file(args.journal_rows, args.notes, args.procedures)
        export_once(person)  # Warms the templates and the translations.
        first_byte, last_byte, sent = export_once(person)
        tracemalloc.start()
        try:
            export_once(person)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    print(
        f"export : {args.journal_rows} lignes d'historique, {args.notes} notes, "
        f"{args.procedures} démarches ; premier octet {first_byte * 1000:.0f} ms, "
        f"dernier {last_byte * 1000:.0f} ms, {sent / MEGABYTE:.1f} Mo envoyés, "
        f"pic mémoire Python {peak / MEGABYTE:.1f} Mo"
    )


if __name__ == "__main__":
    main()
