"""Benchmark `balai seed_population`: a synthetic Kukar written through the
register's bulk action (COPY on PostgreSQL).

Usage (from the repository root, against an empty, throwaway database):

    .venv/bin/python bench/seed_population.py --residents 1000000 \\
        --database-url postgres://postgres@127.0.0.1:55434/balai_seed

The database is migrated and the regions loaded first (not timed); the
register must be empty. Prints the wall time of the command, the rows it
wrote and the database size, then one JSON line for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BALAI = str(ROOT / ".venv" / "bin" / "balai")


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [BALAI, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"balai {' '.join(args)} gagal:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def counts(env: dict[str, str]) -> dict[str, int]:
    code = (
        "import json;from django.db import connection;"
        "from balai.registry.models import Resident,Family,LifeEvent;"
        "from balai.core.models import ChangeRecord;"
        "from balai.audit.models import AuditEntry;"
        "c=connection.cursor();"
        "size=None\n"
        "if connection.vendor=='postgresql':\n"
        "    c.execute('select pg_database_size(current_database())');"
        "size=c.fetchone()[0]\n"
        "print(json.dumps({'residents':Resident.objects.count(),"
        "'families':Family.objects.count(),'events':LifeEvent.objects.count(),"
        "'change_records':ChangeRecord.objects.count(),"
        "'audit_entries':AuditEntry.objects.count(),'database_bytes':size}))"
    )
    return json.loads(run(["shell", "-c", code], env).strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL URL of an empty throwaway database",
    )
    args = parser.parse_args()
    if not args.database_url:
        sys.exit("--database-url (atau DATABASE_URL) wajib diisi.")
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "BALAI_DEBUG": "1",
        "BALAI_DEMO": "1",
    }
    run(["migrate", "--noinput", "-v0"], env)
    run(["load_regions"], env)
    if counts(env)["residents"]:
        sys.exit("Register di database ini tidak kosong; pakai database baru.")
    command = [
        "seed_population",
        f"--residents={args.residents}",
        f"--seed={args.seed}",
        f"--batch={args.batch}",
    ]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    output = run(command, env)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    python_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    rows = counts(env)
    print(output.strip().splitlines()[-1])
    print(f"balai {' '.join(command)}: {seconds:.1f} s")
    print(f"  CPU of the command (Python): {python_cpu:.1f} s")
    for name, value in rows.items():
        print(f"  {name}: {value}")
    print(
        json.dumps(
            {
                "benchmark": "seed_population",
                "date": datetime.date.today().isoformat(),
                "residents": args.residents,
                "seconds": round(seconds, 1),
                "python_cpu_seconds": round(python_cpu, 1),
                "per_second": round(args.residents / seconds),
                "database": args.database_url.split("://")[0],
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                **rows,
            }
        )
    )


if __name__ == "__main__":
    main()
