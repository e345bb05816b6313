"""An export whose file changes while its ZIP is written: a note written, a consent
revoked and a paper added, committed by another thread on its own connection once the
first paper has left. `export_changed_meanwhile()` says what the archive then holds.

Run as a module on a SQLite file (`python -m tests.portability.meanwhile PATH`), it prints
the same as JSON: the in-memory SQLite database of the tests shares one cache between its
connections, with table locks instead of the write-ahead log's snapshots."""

import html
import io
import json
import os
import sys
import threading
import zipfile
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

NOTE = "Note écrite pendant le téléchargement."

# What the archive holds when the file is read at one moment, before the changes.
AS_IT_STOOD = {
    "changed": True,
    "history_rows_journaled_before": True,
    "notes": ["Rendez-vous CAF pris pour le RSA.", "Aide au dossier de logement partagée."],
    "note_in_summary": False,
    "consents_revoked": [False, True],
    "withdrawals_in_summary": 1,
    "documents": ["certificat_medical", "cni", "rib"],
    "papers_in_zip": 3,
}


def committed_elsewhere(write: Callable[[], object]) -> None:
    """`write`, committed by another thread on its own connection, as another request
    would."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                write()
        except BaseException as failure:  # reported in the caller's thread, below
            failures.append(failure)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert failures == []


def export_changed_meanwhile() -> dict[str, Any]:
    from relais.audit.context import Actor
    from relais.audit.models import AuditEvent
    from relais.consent.models import Consent
    from relais.consent.services import consent_revoke
    from relais.persons.models import Note, NoteVisibility
    from relais.persons.services import note_add
    from relais.portability.services import export_prepare
    from relais.portability.snapshot import SUMMARY_NAME
    from tests.portability.builders import actor, full_file, pdf_bytes, upload
    from tests.portability.reading import read_export

    built = full_file()
    person, by = built.person, actor(built.referent)
    the_person = Actor(label="La personne, depuis son espace personnel")

    def change() -> None:
        note_add(
            person=person,
            author_id=built.referent.user_id,
            organisation_id=built.referent.organisation_id,
            text=NOTE,
            visibility=NoteVisibility.SHARED,
            confirmed=True,
            by=by,
        )
        live = Consent.objects.get(person=person, revoked_at__isnull=True)
        consent_revoke(consent=live, by=the_person)
        upload(person, "avis_imposition", "avis.pdf", pdf_bytes(), by)

    prepared = export_prepare(person, by=the_person)
    journaled = AuditEvent.objects.for_file(person).access_history().count()
    pieces = prepared.chunks()
    first = next(pieces)  # the first paper leaves: the file is being read
    committed_elsewhere(change)
    archive = first + b"".join(pieces)

    data = read_export(archive)
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        summary = html.unescape(opened.read(SUMMARY_NAME).decode())
        papers = [name for name in opened.namelist() if name.startswith("documents/")]
    return {
        "changed": Note.objects.filter(text=NOTE).exists(),
        "history_rows_journaled_before": len(data["access_history"]) == journaled,
        "notes": [note["text"] for note in data["notes"]],
        "note_in_summary": NOTE in summary,
        "consents_revoked": [consent["revoked_at"] is not None for consent in data["consents"]],
        "withdrawals_in_summary": summary.count("Retiré le"),
        "documents": sorted(document["kind"] for document in data["documents"]),
        "papers_in_zip": len(papers),
    }


def main(path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    report = export_changed_meanwhile()
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
