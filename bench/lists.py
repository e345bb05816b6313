"""Lists across files measured on one organisation whose caseload holds N persons, each
with a live consent (and an expired one before it), a document and three procedures with
their checklists. Times each list page through the test client, logged in as the
organisation's manager, then prints the plan of the slowest query the pages ran (EXPLAIN
ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite). The database is created for the run
and dropped at its end.

    python bench/lists.py --persons 2000 [--postgresql postgres://postgres@127.0.0.1:5432]
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.persons import VAR, _fresh_postgresql, _professional_session, drop_postgresql

PROCEDURES_PER_PERSON = 3


def _database_name(persons: int) -> str:
    return f"relais_bench_lists_{persons}"


def _setup(persons: int, postgresql: str) -> None:
    """Point Django at a fresh database of its own and migrate it."""
    VAR.mkdir(parents=True, exist_ok=True)
    if postgresql:
        os.environ["DATABASE_URL"] = _fresh_postgresql(postgresql, _database_name(persons))
    else:
        for leftover in VAR.glob(f"lists-{persons}.sqlite3*"):
            leftover.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{VAR / f'lists-{persons}.sqlite3'}"
    shutil.rmtree(VAR / f"lists-documents-{persons}", ignore_errors=True)
    os.environ["RELAIS_DOCUMENTS_DIR"] = str(VAR / f"lists-documents-{persons}")
    os.environ["RELAIS_CACHE_DIR"] = str(VAR / f"lists-cache-{persons}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_procedures", stdout=open(os.devnull, "w"))  # noqa: SIM115


def _caseload(count: int) -> None:
    """One organisation, its manager, and `count` persons consenting to it, written with
    bulk_create as the services would have left them (no journal rows)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from relais.accounts.models import User
    from relais.consent.management.commands.generate_load_data import load_siret
    from relais.consent.models import Consent, ConsentDuration, ConsentMethod
    from relais.documents.models import Document, DocumentKind
    from relais.organisations.models import (
        SECTOR_OF_KIND,
        Membership,
        Organisation,
        OrganisationKind,
        Profession,
        Role,
    )
    from relais.persons.categories import DataCategory
    from relais.persons.models import Housing, HousingStatus, Nationality, Person, Referent
    from relais.persons.normalisation import name_key
    from relais.procedures.models import (
        OPEN_STATUSES,
        Procedure,
        ProcedureStatus,
        ProcedureType,
        RequiredDocument,
    )

    rnd = random.Random(2018)
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        organisation = Organisation.objects.create(
            name="Structure mesurée",
            siret=load_siret(1),
            kind=OrganisationKind.CCAS,
            sector=SECTOR_OF_KIND[OrganisationKind.CCAS],
            commune_code="59350",
            commune_name="Lille",
            departement="59",
        )
        user = User.objects.create(
            email="banc-listes@relais.test",
            first_name="Professionnel",
            last_name="Mesuré",
            password=make_password(None),
        )
        Membership.objects.create(
            user=user, organisation=organisation, role=Role.MANAGER, profession=Profession.ASS
        )
        persons = Person.objects.bulk_create(
            Person(
                first_names=f"Camille{index}",
                birth_name=f"Martin{index}",
                birth_date=date(1950, 1, 1) + timedelta(days=rnd.randrange(365 * 55)),
                nationality=rnd.choice(["", Nationality.FRENCH, Nationality.NON_EU]),
                commune_name="Lille",
                birth_name_key=name_key(f"Martin{index}"),
                first_names_key=name_key(f"Camille{index}"),
                created_by_organisation=organisation,
            )
            for index in range(count)
        )
        Housing.objects.bulk_create(
            Housing(person=person, status=rnd.choice(list(HousingStatus)))
            for person in persons
            if rnd.random() < 0.7
        )
        Referent.objects.bulk_create(
            Referent(person=person, organisation=organisation, professional=user)
            for person in persons
        )
        consent = {
            "organisation": organisation,
            "purpose": "Accompagnement social",
            "duration": ConsentDuration.YEAR,
            "method": ConsentMethod.SIGNED,
            "recorded_by": user,
            "categories": list(DataCategory.values),
        }
        Consent.objects.bulk_create(
            Consent(
                person=person,
                starts_at=start,
                expires_at=start + timedelta(days=365),
                **consent,
            )
            for person in persons
            for start in (now - timedelta(days=400), now - timedelta(days=30))
        )
        documents = Document.objects.bulk_create(
            Document(
                person=person,
                kind=DocumentKind.CNI,
                issued_on=today - timedelta(days=3000),
                expires_on=today + timedelta(days=rnd.randrange(-60, 2000)),
            )
            for person in persons
        )
        types = list(ProcedureType.objects.active().exclude(required_documents=[]))
        statuses = [*OPEN_STATUSES, ProcedureStatus.GRANTED]
        procedures = []
        for person in persons:
            for procedure_type in rnd.sample(types, PROCEDURES_PER_PERSON):
                status = rnd.choice(statuses)
                submitted = status not in (
                    ProcedureStatus.NOT_STARTED,
                    ProcedureStatus.IN_PROGRESS,
                    ProcedureStatus.MISSING_DOCUMENTS,
                )
                requested_on = today - timedelta(days=rnd.randrange(10, 200))
                procedures.append(
                    Procedure(
                        person=person,
                        procedure_type=procedure_type,
                        type_version=procedure_type.version,
                        steps=list(procedure_type.steps),
                        organisation=organisation,
                        status=status,
                        requested_on=requested_on,
                        taken_on=requested_on,
                        submitted_on=requested_on + timedelta(days=5) if submitted else None,
                        decided_on=requested_on + timedelta(days=9)
                        if status == ProcedureStatus.GRANTED
                        else None,
                        due_on=today + timedelta(days=rnd.randrange(-20, 90)),
                        created_by=user,
                    )
                )
        Procedure.objects.bulk_create(procedures)
        document_of = {document.person_id: document for document in documents}
        RequiredDocument.objects.bulk_create(
            RequiredDocument(
                procedure=procedure,
                kind=piece["kind"],
                condition=piece.get("condition", ""),
                document=document_of[procedure.person_id]
                if piece["kind"] == DocumentKind.CNI
                else None,
            )
            for procedure in procedures
            for piece in procedure.procedure_type.required_documents
        )
    if connection.vendor == "postgresql":
        # Statistics and visibility map as autovacuum would leave them.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


class _Recorder:
    """Every statement a page runs, with its parameters and duration."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - start) * 1000, sql, params))


def _plan(sql: str, params: object) -> str:
    from django.db import connection

    explain = "EXPLAIN ANALYZE" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}", params)
        return "\n".join(" | ".join(str(column) for column in row) for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--postgresql",
        default="",
        help="a PostgreSQL server (postgres://user@host:port) on which to create the database",
    )
    args = parser.parse_args()
    started = time.monotonic()
    _setup(args.persons, args.postgresql)
    try:
        _caseload(args.persons)
        generated_s = time.monotonic() - started
        _measure(args.persons, args.rounds, generated_s)
    finally:
        if args.postgresql:
            from django.db import connections

            connections.close_all()
            drop_postgresql(args.postgresql, _database_name(args.persons))
        else:
            for leftover in VAR.glob(f"lists-{args.persons}.sqlite3*"):
                leftover.unlink()


def _measure(persons: int, rounds: int, generated_s: float) -> None:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    cookie, _ = _professional_session()
    name, value = cookie.split("=", 1)
    client = Client()
    client.cookies[name] = value
    procedures = reverse("procedures:mine")
    pages = {
        "mes_demarches": lambda: client.get(procedures),
        "pieces_manquantes": lambda: client.get(
            procedures, {"etat": "ouvertes", "pieces_manquantes": "on"}
        ),
        "demarches_structure": lambda: client.get(reverse("procedures:organisation")),
        "pieces_a_renouveler": lambda: client.get(reverse("documents:expiring")),
        "mes_personnes": lambda: client.get(reverse("persons:list")),
        "recherche": lambda: client.post(reverse("persons:list"), {"q": "martin1"}),
    }
    timings: dict[str, float] = {}
    slowest: dict[str, tuple[float, str, object]] = {}
    for page, call in pages.items():
        recorder = _Recorder()
        with connection.execute_wrapper(recorder):
            assert call().status_code == 200, page
        slowest[page] = max(recorder.statements, key=lambda statement: statement[0])
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            call()
            samples.append((time.perf_counter() - start) * 1000)
        timings[page] = round(statistics.median(samples), 1)
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "persons": persons,
                "generated_s": round(generated_s, 1),
                "median_ms": timings,
                "slowest_query_ms": {page: round(slowest[page][0], 1) for page in pages},
            }
        ),
        flush=True,
    )
    page = max(slowest, key=lambda page: slowest[page][0])
    duration, sql, params = slowest[page]
    print(f"\nThe slowest query, of {page} ({duration:.1f} ms):\n{_plan(sql, params)}", flush=True)


if __name__ == "__main__":
    main()
