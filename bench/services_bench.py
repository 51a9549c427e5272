"""Benchmark the services: submitting an application through the API, and an
officer's inbox, over loopback HTTP against gunicorn on PostgreSQL.

Usage (from the repository root, against a database holding the register;
past applications are added with `balai seed_applications` until there are
--applications of them):

    .venv/bin/python bench/services_bench.py \\
        --database-url postgres://postgres@127.0.0.1:55450/balai_svc \\
        --applications 1000000 --rate 100 --seconds 30 --workers 2

What runs, in one process driving a gunicorn it starts (production settings:
debug and demo off, a second factor required, tokens issued after it):

- setup: migrations, regions, the catalogue, the letter keys, one counter
  officer per MPP and one Disdukcapil registry officer (real accounts and
  postings, bearer tokens through `issue_api_token`);
- unloaded, one request at a time: GET /healthz (the trivial endpoint, the
  baseline), POST /api/v1/applications (KTP-el baru at the officer's counter,
  a different resident of his kecamatan each time, an Idempotency-Key each),
  GET /api/v1/applications (the officer's inbox: his office's open work,
  deadline first, 200 rows) for every MPP and for Disdukcapil;
- loaded, open loop at a fixed rate (requests are sent on schedule whatever
  the answers; latency counted from the scheduled moment, so waiting for a
  free connection counts too): /healthz at --rate for --seconds, then
  submissions at --rate for --seconds;
- checks: every 201 filed exactly one application, a replayed key files none;
- the CPU seconds each loaded phase cost gunicorn's workers, this database's
  PostgreSQL backends and this process (the load generator);
- receipts: submit numbers and signs the receipt in its transaction; its PDF
  is rendered on the first download (no task is queued): the receipts left
  without a PDF are counted and a sample of 30 rendered here, timed (what
  each download of a new receipt costs once).

Prints the figures and one JSON line.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import queue
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVICE = "ktp-el-baru"
SEED = 20250409


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    if not ordered:
        return {"n": 0}

    def at(p: float) -> float:
        k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[k]

    return {
        "n": len(ordered),
        "p50": round(at(50), 2),
        "p95": round(at(95), 2),
        "p99": round(at(99), 2),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- setup (in this process) ----------------------------------------------------


def configure(args: argparse.Namespace) -> dict[str, str]:
    """Environment of this process and of gunicorn: production settings."""
    env = {
        "DJANGO_SETTINGS_MODULE": "balai.settings",
        "DATABASE_URL": args.database_url,
        "BALAI_DATA_DIR": str(args.data_dir),
        "BALAI_SECRET_KEY": args.secret,
        "BALAI_DEBUG": "0",
        "BALAI_DEMO": "0",
        "BALAI_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    return {**os.environ, **env}


def database_info() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    return f"PostgreSQL {version} (shared_buffers {buffers})"


def prepare(args: argparse.Namespace) -> dict:
    """Migrate, load what is missing, seed past applications; return counts."""
    from django.core.management import call_command

    from balai.regions.models import Region
    from balai.registry.models import Resident
    from balai.services.models import Application, Service

    call_command("migrate", verbosity=0)
    if not Region.objects.exists():
        call_command("load_regions", verbosity=0)
    if not Service.objects.filter(code=SERVICE).exists():
        call_command("load_services", verbosity=0)
    call_command("keys_init_root", verbosity=0, if_missing=True)
    residents = Resident.objects.count()
    have = Application.objects.count()
    seeded = 0.0
    if have < args.applications:
        print(
            f"seeding {args.applications - have} past applications (load {load()})",
            flush=True,
        )
        started = time.perf_counter()
        call_command(
            "seed_applications",
            applications=args.applications - have,
            seed=args.seed,
            verbosity=1,
        )
        seeded = time.perf_counter() - started
        print(f"seeded in {seeded:.1f} s (load {load()})", flush=True)
        # Vacuum and analyse the freshly loaded tables now, not (by the
        # autovacuum) in the middle of the timings.
        from django.db import connection

        with connection.cursor() as cursor:
            for table in (
                "services_application",
                "services_applicationevent",
                "services_applicationsubject",
                "core_changerecord",
                "audit_auditentry",
            ):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
        print(f"vacuumed (load {load()})", flush=True)
    return {
        "residents": residents,
        "applications_before": Application.objects.count(),
        "seed_seconds": round(seeded, 1),
    }


def officers() -> tuple[dict[str, dict], dict]:
    """One counter officer per MPP and a Disdukcapil registry officer, each
    with a bearer token (issued as after the second factor)."""
    from django.test.utils import override_settings

    from balai.accounts.actions import create_posting, create_staff, issue_api_token
    from balai.accounts.models import Posting, User
    from balai.core.actors import Actor
    from balai.regions.models import Office, OfficeKind

    system = Actor.system(name="services_bench")

    def officer(office: Office, username: str, role: str) -> dict:
        user = User.objects.filter(username=username).first()
        if user is None:
            # Nobody logs in with these: a random password, quickly hashed.
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                user = create_staff(
                    actor=system,
                    username=username,
                    full_name=f"Petugas Uji {office.name}",
                    password=secrets.token_urlsafe(32),
                    check_password=False,
                )
        if not Posting.objects.filter(user=user, office=office, role=role).exists():
            create_posting(
                actor=system,
                user=user,
                office=office,
                position="Petugas",
                role=role,
                start_date=datetime.date(2024, 1, 1),
            )
        _token, secret = issue_api_token(
            actor=system, user=user, otp_verified=True, name="services_bench", days=1
        )
        return {"office": office.code, "region": office.region_id, "token": secret}

    mpps = {
        o.region_id: officer(o, f"bench.loket.{o.region_id}", "counter_officer")
        for o in Office.objects.filter(kind=OfficeKind.MPP, is_active=True)
    }
    dukcapil = officer(
        Office.objects.get(code="DISDUKCAPIL"), "bench.dukcapil", "registry_officer"
    )
    return mpps, dukcapil


def applicants(mpps: dict[str, dict], count: int) -> list[tuple[str, str]]:
    """`count` different living residents with a NIK, as (kecamatan, NIK),
    drawn at random from the whole register."""
    from django.db import connection

    from balai.registry.models import ResidentStatus

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_resident")
        total = cursor.fetchone()[0]
        share = min(100.0, 100.0 * count * 3 / max(total, 1))
        cursor.execute(
            "SELECT kecamatan_code, nik FROM registry_resident "
            "TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s) "
            "WHERE status = %s AND nik IS NOT NULL",
            [share, SEED, ResidentStatus.ALIVE.value],
        )
        rows = [r for r in cursor.fetchall() if r[0] in mpps]
    random.Random(SEED).shuffle(rows)
    if len(rows) < count:
        raise SystemExit(f"only {len(rows)} residents to apply for, {count} needed")
    return rows[:count]


def inbox_sizes() -> list[tuple[str, int]]:
    from django.db.models import Count

    from balai.services import workflow
    from balai.services.models import Application, Status

    rows = (
        Application.objects.filter(status__in=workflow.OPEN | {Status.ISSUED})
        .values("owner_office__code")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return [(r["owner_office__code"], r["n"]) for r in rows]


def explain_inbox(office_code: str) -> str:
    """EXPLAIN ANALYZE of the inbox query of one office, as the API runs it."""
    from django.db import connection

    from balai.accounts.models import Posting
    from balai.accounts.selectors import actor_for
    from balai.services.selectors import inbox

    posting = Posting.objects.filter(office__code=office_code).first()
    qs = inbox(actor=actor_for(user=posting.user))
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(r[0] for r in cursor.fetchall())


# --- HTTP -----------------------------------------------------------------------


class Client:
    """One connection per thread (gunicorn's sync workers close after each
    answer; http.client opens the next one itself)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict
    ) -> tuple[int, bytes]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=60
            )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.will_close:
                conn.close()
            return response.status, data
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise


def submit_request(officer: dict, nik: str, key: str | None = None) -> tuple:
    body = json.dumps(
        {
            "service": SERVICE,
            "channel": "counter",
            "relation": "self",
            "form_data": {},
            "applicant": {"nik": nik},
        }
    ).encode()
    headers = {
        "Authorization": f"Bearer {officer['token']}",
        "Content-Type": "application/json",
        "Idempotency-Key": key or str(uuid.uuid4()),
    }
    return ("POST", "/api/v1/applications", body, headers)


def inbox_request(officer: dict) -> tuple:
    return (
        "GET",
        "/api/v1/applications",
        None,
        {"Authorization": f"Bearer {officer['token']}"},
    )


HEALTH = ("GET", "/healthz", None, {})


def sequential(client: Client, requests: list[tuple], ok: int) -> dict:
    samples, errors, codes = [], 0, {}
    for method, path, body, headers in requests:
        started = time.perf_counter()
        try:
            status, _data = client.request(method, path, body, headers)
        except (OSError, http.client.HTTPException):
            status = 0
        samples.append((time.perf_counter() - started) * 1000)
        codes[status] = codes.get(status, 0) + 1
        errors += status != ok
    return {**percentiles(samples), "errors": errors, "codes": codes}


def open_loop(
    client: Client, requests: list[tuple], ok: int, rate: float, threads: int
) -> dict:
    """Send request i at start + i/rate (whoever is free sends it); latency
    from that scheduled moment to the full answer."""
    work: queue.Queue = queue.Queue()
    results: list[tuple[float, float, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            item = work.get()
            if item is None:
                return
            due, (method, path, body, headers) = item
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            try:
                status, _data = client.request(method, path, body, headers)
            except (OSError, http.client.HTTPException):
                status = 0
            done = time.perf_counter()
            with lock:
                results.append((done - due, done - sent, status))

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    start = time.perf_counter() + 0.2
    for i, request in enumerate(requests):
        due = start + i / rate
        # Hand each request out just before its moment (a free thread takes it).
        lead = due - time.perf_counter() - 0.05
        if lead > 0:
            time.sleep(lead)
        work.put((due, request))
    for _thread in pool:
        work.put(None)
    for thread in pool:
        thread.join()
    last = start + max(r[0] for r in results) + (len(requests) - 1) / rate
    elapsed = max(last - start, 1e-9)
    good = [r for r in results if r[2] == ok]
    codes: dict[int, int] = {}
    for r in results:
        codes[r[2]] = codes.get(r[2], 0) + 1
    return {
        "target_rate": rate,
        "sent": len(requests),
        "ok": len(good),
        "errors": len(results) - len(good),
        "codes": codes,
        "achieved_rate": round(len(good) / elapsed, 1),
        "seconds": round(elapsed, 1),
        "latency": percentiles([r[0] * 1000 for r in good]),
        "service_time": percentiles([r[1] * 1000 for r in good]),
    }


def workers_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by gunicorn's workers."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return 0.0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by one process, 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds used by this database's server processes (the server is
    shared: other databases' backends are not counted), read from /proc when
    the server runs on this machine. Backends come and go (connections live
    60 s), so a thread looks at them every half second and keeps the last
    reading of each: at most half a second of a closing backend is missed."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _pids(self) -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cursor.fetchall()]

    def _watch(self) -> None:
        from django.db import connection

        try:
            while not self.stop.is_set():
                for pid in self._pids():
                    cpu = proc_cpu(pid)
                    if cpu:
                        self.seen[pid] = cpu
                self.stop.wait(0.5)
        finally:
            connection.close()

    def total(self) -> float:
        for pid in list(self.seen):
            cpu = proc_cpu(pid)
            if cpu:
                self.seen[pid] = cpu
        return sum(self.seen.values())


BACKENDS: BackendCpu | None = None


def phase_cpu(server_pid: int) -> dict[str, float]:
    """Where a phase's CPU went: gunicorn's workers, PostgreSQL's backends
    of this database, and this process (the load generator)."""
    global BACKENDS
    if BACKENDS is None:
        BACKENDS = BackendCpu()
        time.sleep(0.6)
    return {
        "workers": workers_cpu(server_pid),
        "database": BACKENDS.total(),
        "client": proc_cpu(os.getpid()),
    }


def cpu_spent(before: dict[str, float], after: dict[str, float], n: int) -> dict:
    spent = {k: after[k] - before[k] for k in before}
    return {
        **{f"{k}_cpu_s": round(v, 1) for k, v in spent.items()},
        "cpu_ms_per_request": {
            k: round(v * 1000 / max(n, 1), 2) for k, v in spent.items()
        },
    }


def receipts_pending(sample: int) -> dict:
    """Receipts with no PDF yet (rendered on their first download), and the
    cost of rendering a sample of them here."""
    from balai.documents.actions import render_pending
    from balai.documents.models import IssuedDocument

    pending = IssuedDocument.objects.filter(kind="receipt", pdf_sha256="")
    count = pending.count()
    ids = [str(pk) for pk in pending.values_list("pk", flat=True)[:sample]]
    wall, cpu = time.perf_counter(), time.process_time()
    done = render_pending(ids)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "pending_after_run": count,
        "rendered_sample": done,
        "render_ms_per_receipt": round(1000 * wall / max(done, 1), 1),
        "render_cpu_ms_per_receipt": round(1000 * cpu / max(done, 1), 1),
    }


def start_gunicorn(env: dict, port: int, workers: int, log: Path):
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "balai.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(
                    "gunicorn exited:\n" + log.read_text()[-3000:]
                ) from None
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start:\n" + log.read_text()[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", ""), required=False
    )
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="gunicorn workers (default: one per core, as the README advises)",
    )
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=64, help="client threads")
    parser.add_argument("--unloaded", type=int, default=300, help="samples each")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--skip-loaded", action="store_true")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("--database-url postgres://... (a copy of the 1M register) is needed")
    args.data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="balai-svc-bench-"))
    args.data_dir.mkdir(parents=True, exist_ok=True)
    args.secret = secrets.token_urlsafe(40)
    figures: dict = {
        "benchmark": "services",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_start": load(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(f"load average (1 min) at start: {figures['load_start']}", flush=True)
    env = configure(args)
    figures["database"] = database_info()
    figures.update(prepare(args))
    mpps, dukcapil = officers()
    sizes = inbox_sizes()
    figures["largest_inboxes"] = sizes[:5]
    loaded_count = int(args.rate * args.seconds)
    people = applicants(mpps, args.unloaded + loaded_count + 40)
    print(
        f"{figures['residents']} residents, {figures['applications_before']} "
        f"applications; largest inboxes (open+issued): {sizes[:5]}",
        flush=True,
    )
    port = free_port()
    log = args.data_dir / "gunicorn.log"
    server = start_gunicorn(env, port, args.workers, log)
    client = Client(port)
    try:
        # Warm-up: every worker loads its code, its caches and its connection.
        for kec, nik in people[:40]:
            client.request(*submit_request(mpps[kec], nik))
            client.request(*HEALTH)
            client.request(*inbox_request(mpps[kec]))
        people = people[40:]
        n = args.unloaded
        from balai.services.models import Application

        count0 = Application.objects.count()
        figures["unloaded"] = {
            "healthz": sequential(client, [HEALTH] * n, 200),
            "submit": sequential(
                client,
                [submit_request(mpps[k], nik) for k, nik in people[:n]],
                201,
            ),
            "inbox_mpp": sequential(
                client,
                [inbox_request(o) for o in list(mpps.values()) * (n // len(mpps) + 1)][
                    :n
                ],
                200,
            ),
            "inbox_disdukcapil": sequential(
                client, [inbox_request(dukcapil)] * (n // 3), 200
            ),
        }
        filed = Application.objects.count() - count0
        # A replayed key files nothing and answers the first application.
        kec, nik = people[n]
        key = str(uuid.uuid4())
        first = client.request(*submit_request(mpps[kec], nik, key))
        again = client.request(*submit_request(mpps[kec], nik, key))
        figures["replay_same_answer"] = (
            first[0] == 201
            and again[0] == 201
            and json.loads(first[1])["id"] == json.loads(again[1])["id"]
        )
        figures["unloaded_filed_as_answered"] = filed == figures["unloaded"]["submit"][
            "codes"
        ].get(201, 0)
        print(f"unloaded: {json.dumps(figures['unloaded'])}", flush=True)
        people = people[n + 1 :]
        if not args.skip_loaded:
            count0 = Application.objects.count()
            cpu = phase_cpu(server.pid)
            figures["loaded_healthz"] = open_loop(
                client, [HEALTH] * loaded_count, 200, args.rate, args.threads
            )
            figures["loaded_healthz"].update(
                cpu_spent(cpu, phase_cpu(server.pid), loaded_count)
            )
            print(
                f"loaded healthz: {json.dumps(figures['loaded_healthz'])}", flush=True
            )
            submissions = [
                submit_request(mpps[k], nik) for k, nik in people[:loaded_count]
            ]
            cpu = phase_cpu(server.pid)
            figures["loaded_submit"] = open_loop(
                client, submissions, 201, args.rate, args.threads
            )
            figures["loaded_submit"].update(
                cpu_spent(cpu, phase_cpu(server.pid), loaded_count)
            )
            print(f"loaded submit: {json.dumps(figures['loaded_submit'])}", flush=True)
            figures["loaded_filed_as_answered"] = (
                Application.objects.count() - count0 == figures["loaded_submit"]["ok"]
            )
            h = figures["loaded_healthz"]["latency"].get("p95") or 0
            s = figures["loaded_submit"]["latency"].get("p95") or 0
            figures["loaded_p95_ratio_submit_to_healthz"] = (
                round(s / h, 1) if h else None
            )
        u = figures["unloaded"]
        figures["unloaded_p95_ratio_submit_to_healthz"] = round(
            u["submit"]["p95"] / u["healthz"]["p95"], 1
        )
        figures["explain_largest_inbox"] = explain_inbox(sizes[0][0]) if sizes else ""
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    figures["receipts"] = receipts_pending(30)
    figures["load_end"] = load()
    print(figures.pop("explain_largest_inbox"))
    print(f"load average (1 min) at end: {figures['load_end']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
