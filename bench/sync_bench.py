"""A week offline at a busy MPP, then one sync: how long the regency takes to
receive and apply ~100,000 change records over loopback HTTP, against a
bare bulk insert of the same rows in the same run.

Two real processes: the regency served by gunicorn on PostgreSQL, the node
on SQLite. The node does the week through the real actions (KKs entered in
batches of 50, the queue, a few applications with signed receipts), then
`balai sync` pushes its outbox in gzip batches; the regency validates and
applies each batch in one transaction (the domains' appliers, the register's
projection, conflicts, global sequence). The baseline copies the same final
rows and the same change records into a copy of the regency's database with
PostgreSQL COPY, no validation, no HTTP.

    BALAI_CI_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/sync_bench.py [--families 15000 --tickets 1000]

Prints the figures and, with --record, appends them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from balai.sync.tests.harness import (  # noqa: E402
    NODE,
    Pair,
    Template,
    _with_db,
    admin_connection,
    diverged,
    doubled_at_regency,
    pg_url,
)

BASELINE = r"""
import json, sqlite3, sys, time
import django
django.setup()
from django.apps import apps
from django.db import connection, transaction
from balai.core.models import ChangeRecord

source = sqlite3.connect(sys.argv[1])
rows = source.execute(
    "SELECT model, object_id, op, payload, office_code, region_code, created_at, "
    "epoch, seq FROM core_changerecord WHERE node = ? ORDER BY epoch, seq",
    [sys.argv[2]],
).fetchall()
started = time.monotonic()
final = {}
for model, oid, op, payload, *_rest in rows:
    final[(model, oid)] = json.loads(payload)
by_model = {}
for (model, oid), payload in final.items():
    by_model.setdefault(model, []).append(payload)
order = ["regions", "accounts", "registry", "services", "antrian", "documents"]
qn = connection.ops.quote_name
with transaction.atomic(), connection.cursor() as cursor:
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    for label in sorted(by_model, key=lambda l: order.index(l.split(".")[0])):
        model = apps.get_model(label)
        fields = [f for f in model._meta.concrete_fields]
        names = ", ".join(qn(f.column) for f in fields)
        json_at = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
        sql = f"COPY {qn(model._meta.db_table)} ({names}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for payload in by_model[label]:
                copy.write_row([
                    json.dumps(payload[f.attname]) if f.attname in json_at
                    else payload[f.attname]
                    for f in fields
                ])
    columns = ["node", "epoch", "seq", "model", "object_id", "op", "payload",
               "office_code", "region_code", "created_at", "global_seq"]
    names = ", ".join(qn(c) for c in columns)
    with cursor.copy(
        f"COPY {qn(ChangeRecord._meta.db_table)} ({names}) FROM STDIN"
    ) as copy:
        for n, row in enumerate(rows):
            model, oid, op, payload, office, region, created, epoch, seq = row
            copy.write_row([sys.argv[2], epoch, seq, model, oid, op, payload, office,
                            region, created, 10**12 + n])
print(json.dumps({"seconds": time.monotonic() - started, "rows": len(final),
                  "changes": len(rows)}))
"""


def machine() -> str:
    cores = os.cpu_count()
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = 0
    return f"{cores} cores, {memory:.0f} GiB, {platform.system()} {platform.machine()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=15000)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--applications", type=int, default=20)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--record", action="store_true", help="append to BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = pg_url()
    if not url:
        sys.exit("BALAI_CI_PG_URL tidak diatur (postgres://user@host:port/db).")
    base = Path(tempfile.mkdtemp(prefix="balai-sync-bench-"))
    template = Template(url, base)
    template.ensure()
    p = Pair(url, base, template=template)
    scratch = p.name + "_bare"
    figures: dict = {}
    try:
        p.start(workers=args.workers)
        p.init_node()
        t0 = time.monotonic()
        week = p.node.tool(
            "week",
            "--families",
            str(args.families),
            "--tickets",
            str(args.tickets),
            "--applications",
            str(args.applications),
            timeout=7200,
        )
        figures["week_seconds"] = time.monotonic() - t0
        database = p.node.data_dir / "balai.sqlite3"
        with sqlite3.connect(database) as conn:
            figures["changes"] = conn.execute(
                "SELECT count(*) FROM core_changerecord WHERE node = ?", [NODE]
            ).fetchone()[0]
        print(
            f"week at the node: {week} -> {figures['changes']} change records "
            f"({figures['week_seconds']:.0f} s)",
            flush=True,
        )
        # The bare insert gets a copy of the regency as it is before the sync
        # (no server connected while PostgreSQL copies the database).
        p.stop_server()
        with admin_connection(url) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s",
                [p.name],
            )
            conn.execute(f'CREATE DATABASE "{scratch}" TEMPLATE "{p.name}"')
        p.start(workers=args.workers)
        t0 = time.monotonic()
        out = p.node.run("sync", env={"BALAI_SYNC_BATCH": str(args.batch)}).stdout
        figures["round_seconds"] = time.monotonic() - t0
        match = re.search(r"kirim ([0-9.]+) s", out)
        figures["push_seconds"] = (
            float(match.group(1)) if match else figures["round_seconds"]
        )
        print(out.strip(), flush=True)
        regency, node = p.fingerprints()
        figures["diverged"] = diverged(regency, node)
        figures["doubled"] = doubled_at_regency(p)
        bare_side = p.regency.__class__(
            "bare",
            p.dir / "bare",
            {"BALAI_NODE": "regency", "DATABASE_URL": _with_db(url, scratch)},
        )
        script = p.dir / "bare.py"
        script.write_text(BASELINE)
        result = __import__("subprocess").run(
            [sys.executable, str(script), str(database), NODE],
            cwd=ROOT,
            env=bare_side.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(result.stderr[-4000:])
        bare = json.loads(result.stdout.strip().splitlines()[-1])
        figures["bare_seconds"] = bare["seconds"]
        figures["ratio"] = figures["push_seconds"] / bare["seconds"]
        figures["rate"] = figures["changes"] / figures["push_seconds"]
    finally:
        p.close(keep=args.keep)
        with admin_connection(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
            conn.execute(f'DROP DATABASE IF EXISTS "{template.db}"')
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    lines = [
        f"- changes pushed and applied: {figures['changes']:,}",
        "- push (HTTP, validate, apply, store), seconds: "
        f"{figures['push_seconds']:.1f} "
        f"({figures['rate']:,.0f} changes/s); whole round "
        f"{figures['round_seconds']:.1f} s",
        f"- bare COPY of the same rows and change records, seconds: "
        f"{figures['bare_seconds']:.1f}",
        f"- ratio push / bare insert: {figures['ratio']:.1f}x",
        f"- after sync: diverged tables {figures['diverged'] or 0}, "
        f"doubled {figures['doubled']}",
    ]
    print("\n".join(lines))
    if args.record:
        with admin_connection(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        load = os.getloadavg()[0]
        entry = [
            "",
            f"## Sync: a week offline at a busy MPP (balai.sync) — {dt.date.today()}",
            "",
            f"Machine: {machine()}, Python {platform.python_version()}; regency on "
            f"PostgreSQL {version} served by gunicorn ({args.workers} workers), node "
            f"on SQLite, loopback HTTP; 1-minute load average {load:.1f} at the end "
            "(shared machine).",
            "",
            "Command: `BALAI_CI_PG_URL=postgres://…/postgres .venv/bin/python "
            f"bench/sync_bench.py --families {args.families} --tickets {args.tickets} "
            f"--applications {args.applications} --batch {args.batch} --record`",
            "",
            f"The week at the node, through the real actions: {args.families:,} KKs "
            f"entered in batches of 50 over seven days, {args.tickets:,} queue tickets "
            f"taken, called, served and finished, {args.applications} applications "
            f"with signed receipts ({figures['week_seconds']:.0f} s). Then one "
            "`balai sync`: "
            f"the outbox pushed in gzip batches of {args.batch:,}, each validated and "
            "applied at the regency in one transaction (appliers, the register's "
            "projection, conflicts, global sequence). Baseline: PostgreSQL COPY of the "
            "same final rows and the same change records into a copy of the regency's "
            "database taken just before the sync, no validation, no HTTP.",
            "",
            *lines,
            "",
        ]
        with (ROOT / "BENCHMARKS.md").open("a") as fh:
            fh.write("\n".join(entry))


if __name__ == "__main__":
    main()
