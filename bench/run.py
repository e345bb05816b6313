"""`make bench`: Relais's performance figures, measured side by side in one run.

Prints ratios, never pass/fail: the design's targets are in DESIGN.md.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"


def _prepare_environment() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    if "DATABASE_URL" not in os.environ:
        for leftover in VAR.glob("bench.sqlite3*"):
            leftover.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{VAR / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_audit_append(count: int) -> dict[str, float]:
    from django.db import transaction

    from relais.audit.actions import AuditAction
    from relais.audit.context import Actor
    from relais.audit.services import audit_record

    actor = Actor(user_id=1, label="Banc d'essai", organisation_id=1, organisation_label="Banc")
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        with transaction.atomic():
            audit_record(action=AuditAction.LOGIN, by=actor, details={"banc": True})
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95)],
    }


def bench_audit_verify(rows: int) -> dict[str, float]:
    """Grow the chain to `rows` rows (bulk, same hashing as the writer), then verify it."""
    from django.db import transaction
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
    start = time.perf_counter()
    result = verify_chain()
    elapsed = time.perf_counter() - start
    assert result.intact, result.problem
    return {"rows": result.rows_checked, "rows_per_s": result.rows_checked / elapsed}


def _session_cookie() -> str:
    """A verified professional's session, as after login, second factor and choice of
    organisation, without going through the forms."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from relais.accounts.models import User
    from relais.accounts.sessions import LOGIN_AT, MEMBERSHIP_ID, SECOND_FACTOR_AT, SEEN_AT
    from relais.audit.context import SYSTEM
    from relais.organisations.models import Membership, Role
    from relais.organisations.services import organisation_create

    organisation = organisation_create(
        name="CCAS du banc d'essai",
        siret=_bench_siret(),
        kind="ccas",
        commune_code="62193",
        by=SYSTEM,
    )
    user = User.objects.create_user("banc@relais.test", None, first_name="Banc", last_name="Essai")
    membership = Membership.objects.create(
        user=user, organisation=organisation, role=Role.MANAGER, profession="ass"
    )
    device = TOTPDevice.objects.create(user=user, name="banc", confirmed=True)
    session = SessionStore()
    now = time.time()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            DEVICE_ID_SESSION_KEY: device.persistent_id,
            LOGIN_AT: now,
            SEEN_AT: now,
            SECOND_FACTOR_AT: now,
            MEMBERSHIP_ID: membership.pk,
        }
    )
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _bench_siret() -> str:
    from stdnum import luhn

    siren = "99977700" + luhn.calc_check_digit("99977700")
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bench_http(seconds: float, workers: int) -> dict[str, float]:
    from bench.loadgen import requests_per_second

    cookie = _session_cookie()
    port = _free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    server = subprocess.Popen(
        [
            gunicorn or "gunicorn",
            "config.wsgi",
            "-c",
            str(ROOT / "config" / "gunicorn.conf.py"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        requests_per_second("127.0.0.1", port, "/bench/hello/", seconds=1)
        hello, hello_errors = requests_per_second(
            "127.0.0.1", port, "/bench/hello/", seconds=seconds
        )
        home, home_errors = requests_per_second(
            "127.0.0.1", port, "/", cookie=cookie, seconds=seconds
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "hello_rps": hello,
        "home_rps": home,
        "ratio": home / hello if hello else 0.0,
        "errors": hello_errors + home_errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--append", type=int, default=3000, help="appends to time")
    parser.add_argument("--verify-rows", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="per HTTP measurement")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    _prepare_environment()
    from django.db import connection

    print(f"Relais — banc d'essai ({connection.vendor}, {os.cpu_count()} cœurs)")
    append = bench_audit_append(args.append)
    print(
        f"journal : ajout médian {append['median_ms']:.3f} ms, p95 {append['p95_ms']:.3f} ms "
        f"(cible ≤ 1 ms médian)"
    )
    verify = bench_audit_verify(args.verify_rows)
    print(
        f"journal : vérification {verify['rows_per_s']:,.0f} lignes/s sur {verify['rows']:,} "
        f"lignes (cible ≥ 100 000)"
    )
    http = bench_http(args.seconds, args.workers)
    print(
        f"HTTP ({args.workers} workers gunicorn) : « hello » {http['hello_rps']:,.0f} req/s, "
        f"accueil professionnel {http['home_rps']:,.0f} req/s, "
        f"ratio {http['ratio']:.1%} (erreurs : {http['errors']:.0f})"
    )


if __name__ == "__main__":
    main()
