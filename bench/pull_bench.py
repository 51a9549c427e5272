"""One sync pull of imported residents at the regency: how long a page takes
to serve (`balai.sync.routing.pull_page`), in Python and in PostgreSQL, on a
database an import wrote (e.g. the one `bench/import_bench.py` leaves).

    DATABASE_URL=postgres://.../balai_imp_bench \\
        .venv/bin/python bench/pull_bench.py --node 64.02.06 --limit 2000

First the regency's unstamped change records (the COPY path's) get their
global sequence (`routing.stamp`, what the first pull after an import does;
timed on its own), then pages are served from a few cursors, each `--repeat`
times: wall, Python CPU, the PostgreSQL backend's CPU (read from /proc: the
server must run on this machine), the page's records and its gzip size as
sent. Prints JSON. It writes only the stamps.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def backend_cpu(pid: int) -> float:
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default="64.02.06")
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "balai.settings")
    os.environ.setdefault("BALAI_DEMO", "1")
    os.environ.setdefault("BALAI_DEBUG", "0")
    os.environ.setdefault("BALAI_SECRET_KEY", "bench-only-not-a-secret")
    import django

    django.setup()
    from django.db import connection

    from balai.core.models import ChangeRecord
    from balai.sync import routing
    from balai.sync.protocol import encode_body

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    out: dict = {
        "node": args.node,
        "limit": args.limit,
        "change_records": ChangeRecord.objects.count(),
        "by_reference": ChangeRecord.objects.filter(payload__isnull=True).count(),
    }
    started, pg0 = time.perf_counter(), backend_cpu(pid)
    stamped = routing.stamp(routing.head())
    out["stamp"] = {
        "records": stamped,
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_postgresql": round(backend_cpu(pid) - pg0, 2),
    }
    top = routing.head()
    pages = []
    for cursor in (0, top // 2):
        walls, pys, pgs = [], [], []
        for _ in range(args.repeat):
            w0, p0, g0 = time.perf_counter(), time.process_time(), backend_cpu(pid)
            page = routing.pull_page(args.node, cursor, limit=args.limit)
            body = encode_body(page)
            walls.append(time.perf_counter() - w0)
            pys.append(time.process_time() - p0)
            pgs.append(backend_cpu(pid) - g0)
        kinds: dict[str, int] = {}
        for change in page["changes"]:
            kinds[change["model"]] = kinds.get(change["model"], 0) + 1
        pages.append(
            {
                "cursor": cursor,
                "next_cursor": page["next_cursor"],
                "changes": len(page["changes"]),
                "models": kinds,
                "gzip_kb": round(len(body) / 1024),
                "wall_ms": round(statistics.median(walls) * 1000),
                "python_cpu_ms": round(statistics.median(pys) * 1000),
                "postgresql_cpu_ms": round(statistics.median(pgs) * 1000),
            }
        )
    out["pages"] = pages
    print(json.dumps(out))


if __name__ == "__main__":
    main()
