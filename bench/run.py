"""`make bench`: Relais's performance figures, measured side by side in one run.

Prints ratios, never pass/fail: the design's targets are in DESIGN.md.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"
K = TypeVar("K")


# The journal's own database when the run measures a PostgreSQL server.
JOURNAL_DATABASE = "relais_bench_journal"


def _prepare_environment(postgresql: str) -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    if postgresql:
        from bench.persons import _fresh_postgresql

        os.environ["DATABASE_URL"] = _fresh_postgresql(postgresql, JOURNAL_DATABASE)
    elif "DATABASE_URL" not in os.environ:
        for leftover in VAR.glob("bench.sqlite3*"):
            leftover.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{VAR / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_audit_append(count: int) -> dict[str, dict[str, float]]:
    """Appends timed two ways, taking turns: alone, as a page that shows a file makes them
    (the append opens and commits its own transaction), and inside a service's transaction,
    committed with the change it records."""
    from django.db import transaction

    from relais.audit.actions import AuditAction
    from relais.audit.context import Actor
    from relais.audit.services import audit_record

    actor = Actor(user_id=1, label="Banc d'essai", organisation_id=1, organisation_label="Banc")

    def alone() -> None:
        audit_record(action=AuditAction.LOGIN, by=actor, details={"banc": True})

    def in_a_transaction() -> None:
        with transaction.atomic():
            audit_record(action=AuditAction.LOGIN, by=actor, details={"banc": True})

    ways = {"alone": alone, "in_a_transaction": in_a_transaction}
    timings: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(count):
        for name, append in ways.items():
            start = time.perf_counter()
            append()
            timings[name].append((time.perf_counter() - start) * 1000)
    results = {}
    for name, measured in timings.items():
        measured.sort()
        results[name] = {
            "median_ms": statistics.median(measured),
            "p95_ms": measured[int(len(measured) * 0.95)],
        }
    return results


def bench_audit_verify(rows: int) -> dict[str, float]:
    """Grow the chain to `rows` rows (bulk, same hashing as the writer), then verify it three
    times and keep the median rate."""
    from django.db import connection, transaction
    from django.utils import timezone

    from relais.audit.chain import row_hash
    from relais.audit.models import AuditEvent
    from relais.audit.verification import verify_chain

    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = head if head else (0, "0" * 64)
    batch: list[AuditEvent] = []
    now = timezone.now()
    with transaction.atomic():
        while seq < rows:
            seq += 1
            row = {
                "seq": seq,
                "created_at": now,
                "action": "login",
                "actor_id": seq % 500,
                "actor_label": f"Professionnel {seq % 500}",
                "organisation_id": seq % 40,
                "organisation_label": f"Structure {seq % 40}",
                "person_id": None,
                "person_label": "",
                "category": "",
                "object_type": "",
                "object_id": "",
                "reason": "",
                "ip_address": "127.0.0.1",
                "details": {},
                "prev_hash": prev,
            }
            prev = row_hash(row)
            batch.append(AuditEvent(**row, hash=prev))
            if len(batch) == 5000:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        AuditEvent.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # The statistics a live journal has (PostgreSQL's background analysis gathers them):
        # without them, PostgreSQL sorts the whole table for every chunk the walk reads.
        cursor.execute(f"ANALYZE {AuditEvent._meta.db_table}")
    # Three passes, the median kept: one pass lasts two seconds, in which the machine's
    # speed can halve.
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        result = verify_chain()
        elapsed = time.perf_counter() - start
        assert result.intact, result.problem
        rates.append(result.rows_checked / elapsed)
    return {"rows": result.rows_checked, "rows_per_s": statistics.median(rates)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_and_measure(
    targets: list[tuple[str, str, str]], *, seconds: float, workers: int, rounds: int = 5
) -> dict[str, float]:
    """Serve the current database with gunicorn (the production server setup) and measure
    requests/s of each (name, path, cookie) target. The targets take turns, `rounds` times,
    so that a slower minute of the machine weighs on all of them alike; each figure is the
    median of its rounds, each ratio to the first target the median of the ratios measured
    in the same round."""
    from bench.loadgen import requests_per_second

    port = _free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    server = subprocess.Popen(
        [gunicorn, "config.wsgi", "-c", str(ROOT / "config" / "gunicorn.conf.py"),
         "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    errors: dict[str, int] = dict.fromkeys(rates, 0)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        for _, path, cookie in targets:
            requests_per_second("127.0.0.1", port, path, cookie=cookie, seconds=1)
        for _ in range(rounds):
            for name, path, cookie in targets:
                rps, failed = requests_per_second(
                    "127.0.0.1", port, path, cookie=cookie, seconds=max(1.0, seconds / rounds)
                )
                rates[name].append(rps)
                errors[name] += failed
    finally:
        server.terminate()
        server.wait(timeout=10)
    baseline = rates[targets[0][0]]
    results: dict[str, float] = {}
    for name, measured in rates.items():
        results[f"{name}_rps"] = statistics.median(measured)
        results[f"{name}_errors"] = errors[name]
        results[f"{name}_ratio"] = statistics.median(
            rate / base for rate, base in zip(measured, baseline, strict=True)
        )
    return results


def _persons_command(size: int, postgresql: str, root: Path = ROOT) -> list[str]:
    command = [sys.executable, str(root / "bench" / "persons.py"), "--persons", str(size)]
    return command + (["--postgresql", postgresql] if postgresql else [])


def bench_persons(
    size: int,
    *,
    postgresql: str = "",
    http_seconds: float = 0.0,
    workers: int = 2,
    reuse: bool = False,
    root: Path = ROOT,
) -> dict[str, float]:
    command = _persons_command(size, postgresql, root)
    if http_seconds:
        command += ["--http-seconds", str(http_seconds), "--workers", str(workers)]
    if reuse:
        command.append("--reuse")
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    output = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def _latency_server(root: Path, size: int, postgresql: str, log: Path) -> subprocess.Popen[str]:
    """A process that measures, with the code of the checkout at `root`, the database of
    this size on demand; what it writes on its error output goes to `log`."""
    command = [*_persons_command(size, postgresql, root), "--reuse", "--serve", "--rounds", "20"]
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    with log.open("w") as errors:
        return subprocess.Popen(
            command, cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=errors, text=True,
        )  # fmt: skip


def turns(
    measures: dict[K, tuple[Path, int]], rounds: int, batch: int, postgresql: str = ""
) -> list[dict[K, dict[str, float]]]:
    """Ask each measure (the code of a checkout, a database size) for `batch` file pages and
    searches, in turn, `rounds` times; each in its own process kept open, so that all are
    measured in the same seconds of the machine, whose speed varies from one second to the
    next. One entry per turn: each measure's median file page and search in that turn."""
    servers = {
        key: _latency_server(root, size, postgresql, VAR / f"latency-{index}.log")
        for index, (key, (root, size)) in enumerate(measures.items())
    }
    measured: list[dict[K, dict[str, float]]] = []
    try:
        for server in servers.values():
            assert server.stdout is not None
            json.loads(server.stdout.readline())
        for number in range(rounds):
            turn = {}
            # Every other turn in reverse order: none always comes first after a pause.
            for key in list(servers) if number % 2 == 0 else list(servers)[::-1]:
                server = servers[key]
                assert server.stdin is not None and server.stdout is not None
                server.stdin.write(f"{batch}\n")
                server.stdin.flush()
                answer = json.loads(server.stdout.readline())
                turn[key] = {page: statistics.median(answer[page]) for page in answer}
            measured.append(turn)
    finally:
        for server in servers.values():
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=30)
    return measured


def latencies_in_turn(
    sizes: list[int],
    figures: dict[int, dict[str, float]],
    rounds: int,
    batch: int,
    postgresql: str = "",
) -> None:
    """Measure the file page and the search again, the sizes taking turns (see `turns`).
    Each figure is the median of its turns' medians; each growth ratio, the median of the
    ratios of the medians measured in the same turn."""
    measured = turns({size: (ROOT, size) for size in sizes}, rounds, batch, postgresql)
    for size in sizes:
        for page in ("file", "search"):
            figures[size][f"{page}_ms"] = statistics.median(turn[size][page] for turn in measured)
            figures[size][f"{page}_growth"] = statistics.median(
                turn[size][page] / turn[sizes[0]][page] for turn in measured
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--append", type=int, default=3000, help="appends to time")
    parser.add_argument("--verify-rows", type=int, default=200_000)
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="per HTTP target, over five rounds"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--million", action="store_true", help="also measure 1,000,000 persons")
    parser.add_argument(
        "--latency-rounds", type=int, default=40, help="turns of the sizes, file page and search"
    )
    parser.add_argument("--latency-batch", type=int, default=10, help="requests per page and turn")
    parser.add_argument(
        "--postgresql",
        default="",
        help="measure on this PostgreSQL server (postgres://user@host:port) instead of SQLite; "
        "its bench databases are dropped at the end",
    )
    args = parser.parse_args()

    _prepare_environment(args.postgresql)
    try:
        _measure(args)
    finally:
        if args.postgresql:
            _drop_databases(args.postgresql, args.million)


def _drop_databases(postgresql: str, million: bool) -> None:
    from django.db import connections

    from bench.persons import drop_postgresql, postgresql_name

    connections.close_all()
    for size in [1_000, 100_000] + ([1_000_000] if million else []):
        drop_postgresql(postgresql, postgresql_name(size))
    drop_postgresql(postgresql, JOURNAL_DATABASE)


def _measure(args: argparse.Namespace) -> None:
    from django.db import connection

    print(f"Relais — banc d'essai ({connection.vendor}, {os.cpu_count()} cœurs)")
    append = bench_audit_append(args.append)
    alone, joined = append["alone"], append["in_a_transaction"]
    print(
        f"journal : ajout médian {alone['median_ms']:.3f} ms, p95 {alone['p95_ms']:.3f} ms "
        f"seul (une page) ; {joined['median_ms']:.3f} ms, p95 {joined['p95_ms']:.3f} ms dans "
        f"la transaction d'un service (cible ≤ 1 ms médian)"
    )
    verify = bench_audit_verify(args.verify_rows)
    print(
        f"journal : vérification {verify['rows_per_s']:,.0f} lignes/s sur {verify['rows']:,} "
        f"lignes (cible ≥ 100 000)"
    )
    documents = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "documents.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in documents.stdout.strip().splitlines():
        if line.startswith("pièces"):
            print(line)
    sizes = [1_000, 100_000] + ([1_000_000] if args.million else [])
    figures = {}
    for size in sizes:
        http = args.seconds if size == sizes[0] else 0.0
        figures[size] = bench_persons(
            size, postgresql=args.postgresql, http_seconds=http, workers=args.workers
        )
    latencies_in_turn(sizes, figures, args.latency_rounds, args.latency_batch, args.postgresql)
    for size in sizes:
        row = figures[size]
        print(
            f"{size:>9,} personnes (générées en {row['generated_s']:.0f} s) : "
            f"fiche {row['file_ms']:.2f} ms ({row['file_queries']} requêtes SQL), "
            f"recherche {row['search_ms']:.2f} ms ({row['search_queries']} requêtes SQL)"
        )
    small = figures[sizes[0]]
    for size in sizes[1:]:
        row = figures[size]
        print(
            f"rapport {size:,} / {sizes[0]:,} : fiche ×{row['file_growth']:.2f}, "
            f"recherche ×{row['search_growth']:.2f} (cible ≤ 1,3)"
        )
    errors = small["hello_errors"] + small["hello_professional_errors"] + small["file_errors"]
    print(
        f"HTTP ({args.workers} workers gunicorn, {sizes[0]:,} personnes) : "
        f"« hello » {small['hello_rps']:,.0f} req/s ; « hello » derrière la pile d'un "
        f"professionnel connecté {small['hello_professional_rps']:,.0f} req/s "
        f"({small['hello_professional_ratio']:.1%}) ; fiche d'une personne "
        f"{small['file_rps']:,.0f} req/s, ratio {small['file_ratio']:.1%} "
        f"(cible ≥ 25 %, erreurs : {errors:.0f})"
    )


if __name__ == "__main__":
    main()
