"""Measure a submission and an inbox in process: CPU of this process and of
its PostgreSQL backend per request, and the statements a submission sends.

The loaded figures of `bench/services_bench.py` depend on everything else
the machine does; these, from one process and one connection, are what a
change to the request path changes. Used for the in-process figures in
BENCHMARKS.md (services), run on the code of each commit named there:

    .venv/bin/python bench/services_inprocess.py \\
        --database-url postgres://postgres@127.0.0.1:55450/balai_svc --n 300

The database is one `bench/services_bench.py` prepared (the 1,000,000-resident
register, past applications, its counter officers); each run files --n more
applications through the test client (production settings).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import services_bench as sb  # noqa: E402


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler:
    """Where the CPU goes: the stack is read at every millisecond of this
    process's CPU (SIGPROF); a function's share is the share of samples it
    was on the stack for (inclusive) or at its top (self)."""

    def __init__(self) -> None:
        self.inclusive: collections.Counter = collections.Counter()
        self.own: collections.Counter = collections.Counter()
        self.samples = 0

    def _tick(self, _signum: int, frame: Any) -> None:
        self.samples += 1
        seen = set()
        top = True
        while frame is not None:
            code = frame.f_code
            name = f"{code.co_filename.rsplit('site-packages/', 1)[-1]}:{code.co_name}"
            if top:
                self.own[name] += 1
                top = False
            if name not in seen:
                seen.add(name)
                self.inclusive[name] += 1
            frame = frame.f_back

    def start(self) -> None:
        signal.signal(signal.SIGPROF, self._tick)
        signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)

    def report(self, out: Any, top: int = 60) -> None:
        print(f"{self.samples} samples", file=out)
        for title, counter in (("inclusive", self.inclusive), ("self", self.own)):
            print(f"-- {title}", file=out)
            for name, count in counter.most_common(top):
                print(f"{100 * count / self.samples:5.1f}%  {name}", file=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--n", type=int, default=300, help="submissions timed")
    parser.add_argument("--inbox", type=int, default=50, help="inbox requests timed")
    parser.add_argument(
        "--profile", metavar="OUT", help="write a cProfile of the timed submissions"
    )
    parser.add_argument(
        "--statements", action="store_true", help="print one submission's statements"
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="sample the timed submissions' stacks every millisecond of CPU and "
        "print where the CPU went (no tracing overhead, unlike --profile)",
    )
    args = parser.parse_args()
    args.data_dir = Path(tempfile.mkdtemp(prefix="balai-svc-inprocess-"))
    args.secret = "x" * 50
    sb.configure(args)

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("keys_init_root", verbosity=0, if_missing=True)
    mpps, _dukcapil = sb.officers()
    people = sb.applicants(mpps, args.n + 21)
    client = Client(SERVER_NAME="127.0.0.1")

    def submit(kecamatan: str, nik: str) -> None:
        _method, path, body, headers = sb.submit_request(mpps[kecamatan], nik)
        response = client.post(
            path,
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=headers["Authorization"],
            HTTP_IDEMPOTENCY_KEY=headers["Idempotency-Key"],
        )
        if response.status_code != 201:
            raise SystemExit(f"submit answered {response.status_code}")

    for kecamatan, nik in people[:20]:  # warm: code, caches, prepared statements
        submit(kecamatan, nik)
    with CaptureQueriesContext(connection) as queries:
        submit(*people[20])
    # Counted now: the next request clears the connection's query log.
    statements = len(queries)
    if args.statements:
        for query in queries.captured_queries:
            print(query["time"], query["sql"][:300], file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    timed = people[21:]
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    sampler = Sampler() if args.sample else None
    if sampler:
        sampler.start()
    cpu, pg, wall = time.process_time(), backend_cpu(backend), time.perf_counter()
    if profiler:
        profiler.enable()
    for kecamatan, nik in timed:
        submit(kecamatan, nik)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    if sampler:
        sampler.stop()
        sampler.report(sys.stderr)
    cpu, pg = time.process_time() - cpu, backend_cpu(backend) - pg
    wall = time.perf_counter() - wall

    largest = sb.inbox_sizes()[0][0]
    officer = mpps[largest.removeprefix("MPP-")]

    def inbox() -> None:
        response = client.get(
            "/api/v1/applications", HTTP_AUTHORIZATION=f"Bearer {officer['token']}"
        )
        if response.status_code != 200:
            raise SystemExit(f"inbox answered {response.status_code}")

    for _ in range(10):
        inbox()
    inbox_cpu = time.process_time()
    for _ in range(args.inbox):
        inbox()
    inbox_cpu = time.process_time() - inbox_cpu

    n = len(timed)
    figures = {
        "benchmark": "services_inprocess",
        "load_start": sb.load(),
        "submissions": n,
        "statements_per_submission": statements,
        "python_cpu_ms_per_submission": round(cpu * 1000 / n, 2),
        "postgresql_cpu_ms_per_submission": round(pg * 1000 / n, 2),
        "wall_ms_per_submission": round(wall * 1000 / n, 2),
        "inbox_office": largest,
        "inbox_python_cpu_ms": round(inbox_cpu * 1000 / args.inbox, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
