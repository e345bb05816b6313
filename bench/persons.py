"""File page and search measured on a database of N persons (one process per size, so
that each size gets its own fresh database). Prints one JSON line.

    python bench/persons.py --persons 100000 [--http-seconds 10]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"


def _fresh_postgresql(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def _setup(persons: int, postgresql: str) -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    if postgresql:
        os.environ["DATABASE_URL"] = _fresh_postgresql(postgresql, f"relais_bench_{persons}")
    else:
        database = VAR / f"persons-{persons}.sqlite3"
        for leftover in VAR.glob(f"persons-{persons}.sqlite3*"):
            leftover.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    documents = VAR / f"documents-{persons}"
    shutil.rmtree(documents, ignore_errors=True)
    os.environ["RELAIS_DOCUMENTS_DIR"] = str(documents)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("generate_load_data", persons=persons, stdout=open(os.devnull, "w"))  # noqa: SIM115


def _pdf() -> bytes:
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _fill_file(person, organisation, actor) -> None:  # type: ignore[no-untyped-def]
    """The file the design measures: 10 procedures, 20 documents, 50 journal rows."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from relais.audit.actions import AuditAction
    from relais.audit.services import audit_record
    from relais.documents.services import document_upload
    from relais.procedures.models import ProcedureType
    from relais.procedures.services import procedure_open

    call_command("load_procedures", stdout=open(os.devnull, "w"))  # noqa: SIM115
    for procedure_type in ProcedureType.objects.filter(is_active=True).order_by("pk")[:10]:
        procedure_open(
            person=person, procedure_type=procedure_type, organisation=organisation, by=actor
        )
    pdf = _pdf()
    for number in range(20):
        document_upload(
            person=person,
            kind="autre",
            title=f"Pièce {number + 1}",
            issued_on=None,
            expires_on=None,
            files=[SimpleUploadedFile(f"piece-{number}.pdf", pdf, "application/pdf")],
            uploaded_by_id=actor.user_id,
            by=actor,
        )
    for _ in range(50 - person_journal_rows(person.pk)):
        audit_record(
            action=AuditAction.SECTION_VIEWED,
            by=actor,
            person_id=person.pk,
            person_label=person.journal_label,
            category="identite",
        )


def person_journal_rows(person_id: int) -> int:
    from relais.audit.models import AuditEvent

    return AuditEvent.objects.filter(person_id=person_id).count()


def _professional_session() -> tuple[str, int]:
    """A verified session for the professional of the first organisation, and one of its
    persons whose file holds what the design measures (see `_fill_file`)."""
    import django_otp
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from relais.accounts.sessions import LOGIN_AT, MEMBERSHIP_ID, SECOND_FACTOR_AT, SEEN_AT
    from relais.audit.context import Actor
    from relais.consent.charter import charter_accept, current_version
    from relais.consent.middleware import ACCEPTED_VERSION
    from relais.organisations.models import Membership
    from relais.persons.models import Person

    membership = Membership.objects.select_related("user", "organisation").order_by("pk").first()
    assert membership is not None
    user = membership.user
    device = TOTPDevice.objects.create(user=user, name="banc", confirmed=True)
    version = current_version()
    charter_accept(user_id=user.pk, version=version, by=Actor(user_id=user.pk))
    person = Person.objects.filter(created_by_organisation=membership.organisation).first()
    assert person is not None
    actor = Actor(
        user_id=user.pk, label=user.get_full_name(), organisation_id=membership.organisation_id
    )
    _fill_file(person, membership.organisation, actor)
    session = SessionStore()
    now = time.time()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "relais.accounts.backends.AccountBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            django_otp.DEVICE_ID_SESSION_KEY: device.persistent_id,
            LOGIN_AT: now,
            SEEN_AT: now,
            SECOND_FACTOR_AT: now,
            MEMBERSHIP_ID: membership.pk,
            ACCEPTED_VERSION: version.pk,
        }
    )
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}", person.pk


def _latency_ms(call, rounds: int) -> float:  # type: ignore[no-untyped-def]
    call()
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = call()
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--http-seconds", type=float, default=0.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgresql",
        default="",
        help="a PostgreSQL server (postgres://user@host:port) on which to create the database",
    )
    args = parser.parse_args()
    started = time.monotonic()
    _setup(args.persons, args.postgresql)
    generated_in = time.monotonic() - started

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    cookie, person_id = _professional_session()
    name, value = cookie.split("=", 1)
    client = Client()
    client.cookies[name] = value
    file_url = reverse("persons:file", args=[person_id])
    search_url = reverse("persons:list")

    def file_page():  # type: ignore[no-untyped-def]
        return client.get(file_url)

    def search():  # type: ignore[no-untyped-def]
        return client.post(search_url, {"q": "mar"})

    file_page()
    # A browser sends back the CSRF cookie the first page set; so does the load generator.
    cookie += f"; {settings.CSRF_COOKIE_NAME}={client.cookies[settings.CSRF_COOKIE_NAME].value}"
    with CaptureQueriesContext(connection) as file_queries:
        file_page()
    file_query_count = len(file_queries)  # read now: the next request empties the log
    search()
    with CaptureQueriesContext(connection) as search_queries:
        search()
    search_query_count = len(search_queries)
    result = {
        "persons": args.persons,
        "generated_s": round(generated_in, 1),
        "file_ms": _latency_ms(file_page, args.rounds),
        "search_ms": _latency_ms(search, args.rounds),
        "file_queries": file_query_count,
        "search_queries": search_query_count,
    }
    if args.http_seconds:
        from bench.run import serve_and_measure

        result |= serve_and_measure(
            [
                ("hello", "/bench/hello/", ""),
                ("hello_professional", "/bench/hello-professionnel/", cookie),
                ("file", file_url, cookie),
            ],
            seconds=args.http_seconds,
            workers=args.workers,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
