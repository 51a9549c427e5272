"""Sync under faults: two real processes (the regency served by gunicorn on
PostgreSQL, a kecamatan node on SQLite) talking HTTP through a proxy that
loses, doubles and reorders requests; kill -9 of either side at random
moments mid-batch; a node restored from an older backup; a node clock hours
off. After each trial both sides sync until quiet and are compared:

- diverged: a table of what the node may hold whose content hash differs
  between regency and node;
- lost: a record of the node's own tables the node holds but the regency
  does not (and, through the hash, anything the regency holds for the node
  that the node lacks);
- doubled: a change of the node stored twice at the regency (same record,
  same content under two numbers: a replay taken for a new change).

The last line is `trials=N lost=L doubled=D diverged=V`.

    BALAI_CI_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/sync_faults.py --trials 60
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from balai.sync.tests.harness import (  # noqa: E402
    NODE,
    OWN_TABLES,
    ChaosProxy,
    Pair,
    Template,
    admin_connection,
    compare,
    doubled_at_regency,
    pg_url,
    wait_for_acks,
)

KINDS = ("kill_regency", "kill_node", "flaky_link", "replays", "restore", "clock")


def settle(p: Pair, proxy: ChaosProxy) -> None:
    """Calm the link and sync until a round moves nothing."""
    proxy.calm()
    for _attempt in range(12):
        if p.server is None or p.server.poll() is not None:
            p.start()
        result = p.sync(check=False)
        if (
            result.returncode == 0
            and "dikirim 0 perubahan" in result.stdout
            and ("diterima 0 perubahan" in result.stdout)
        ):
            return
        time.sleep(0.5)
    raise RuntimeError("sync did not settle: " + result.stdout + result.stderr[-2000:])


def work(
    p: Pair,
    rng: random.Random,
    *,
    env: dict | None = None,
    letters: bool = True,
    families: tuple[int, int] = (8, 25),
) -> None:
    p.node.tool(
        "work",
        "--seed",
        str(rng.randint(1, 10**9)),
        "--families",
        str(rng.randint(*families)),
        "--tickets",
        str(rng.randint(2, 8)),
        "--applications",
        str(rng.randint(0, 2) if letters else 0),
        "--births",
        str(rng.randint(0, 3)),
        env=env,
    )
    if rng.random() < 0.5:  # the regency works too: newcomers, catalogue
        p.regency.tool("regency-day", "--seed", str(rng.randint(1, 10**9)))


SMALL = {"BALAI_SYNC_BATCH": "40", "BALAI_SYNC_PAGE": "60"}


def trial(kind: str, p: Pair, proxy: ChaosProxy, rng: random.Random) -> str:
    if kind in ("kill_regency", "kill_node"):
        work(p, rng, families=(60, 160))
        running = p.node.popen("sync", env=SMALL)
        # Kill once the push is under way: after the first few batches were
        # acknowledged, at a random moment inside a later one.
        wait_for_acks(p, running, 40 * rng.randint(1, 6))
        time.sleep(rng.uniform(0.0, 0.6))
        if kind == "kill_regency":
            p.kill_server()
            running.wait(timeout=300)
            p.start()
        else:
            running.kill()
            running.wait(timeout=60)
        cut = "mid-sync" if running.returncode != 0 else "after the round"
        return f"kill -9 {cut}"
    if kind == "flaky_link":
        work(p, rng)
        proxy.drop_before, proxy.drop_after = 0.25, 0.25
        failures = sum(
            p.sync(check=False, env=SMALL).returncode != 0 for _n in range(4)
        )
        return f"{failures}/4 rounds cut"
    if kind == "replays":
        work(p, rng)
        proxy.duplicate, proxy.replay = 0.4, 0.4
        failures = sum(
            p.sync(check=False, env=SMALL).returncode != 0 for _n in range(3)
        )
        return f"{failures}/3 rounds refused a gap"
    if kind == "restore":
        database = p.node.data_dir / "balai.sqlite3"
        settle(p, proxy)
        p.node.run(
            "shell",
            "-c",
            "from django.db import connection;"
            "connection.cursor().execute('PRAGMA wal_checkpoint(TRUNCATE)')",
        )
        backup = p.dir / "backup.sqlite3"
        shutil.copy(database, backup)
        work(p, rng)
        if rng.random() < 0.7:
            p.sync(check=False, env=SMALL)  # the regency sees (part of) it
        for suffix in ("-wal", "-shm"):
            (database.parent / (database.name + suffix)).unlink(missing_ok=True)
        shutil.copy(backup, database)
        work(p, rng)
        return "restored"
    if kind == "clock":
        hours = rng.choice([-8, -5, -2, 3, 6])
        env = {"BALAI_CLOCK_OFFSET_SECONDS": str(hours * 3600)}
        # A clock behind the letter key's start rightly refuses to sign letters.
        work(p, rng, env=env, letters=hours > 0)
        p.sync(check=False, env={**SMALL, **env})
        return f"clock {hours:+d} h"
    raise ValueError(kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the pair's files")
    args = parser.parse_args()
    url = pg_url()
    if not url:
        sys.exit("BALAI_CI_PG_URL tidak diatur (postgres://user@host:port/db).")
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="balai-sync-faults-"))
    template = Template(url, base)
    started = time.time()
    template.ensure()
    p = Pair(url, base, template=template)
    proxy = None
    totals = {"lost": 0, "doubled": 0, "diverged": 0}
    try:
        p.start()
        proxy = ChaosProxy(p.port, seed=args.seed)
        p.regency_url = f"http://127.0.0.1:{proxy.port}"
        p.init_node()
        for n in range(1, args.trials + 1):
            kind = KINDS[(n - 1) % len(KINDS)]
            t0 = time.time()
            note = trial(kind, p, proxy, rng)
            settle(p, proxy)
            bad, lost = compare(p, OWN_TABLES)
            doubled = doubled_at_regency(p, NODE)
            totals["diverged"] += len(bad)
            totals["lost"] += sum(len(v) for v in lost.values())
            totals["doubled"] += doubled
            print(
                f"trial {n:3d} {kind:13s} {note:26s} "
                f"diverged={bad or 0} lost={sum(len(v) for v in lost.values())} "
                f"doubled={doubled} ({time.time() - t0:.1f} s)",
                flush=True,
            )
        audit = p.regency.run("audit_verify", check=False)
        print(
            "audit_verify at the regency: "
            f"{audit.stdout.strip() or audit.stderr.strip()}"
        )
        print(f"proxy: {proxy.counts}; {time.time() - started:.0f} s in all")
        conflicts = (
            p.regency.run(
                "shell",
                "-c",
                "from balai.sync.models import Conflict;"
                "from django.db.models import Count;"
                "print(dict(Conflict.objects.values_list('kind').annotate(n=Count('id'))))",
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        print(f"conflicts at the regency by kind: {conflicts}")
        refused = (
            p.regency.run(
                "shell",
                "-c",
                "from balai.sync.models import Conflict;"
                "print(Conflict.objects.exclude(kind='renumbered').count())",
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        print(
            f"node changes refused as conflicts (kept in the conflict list, the "
            f"node's version saved): {refused}"
        )
    finally:
        if proxy is not None:
            proxy.close()
        p.close(keep=args.keep)
        with admin_connection(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template.db}"')
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(
        f"trials={args.trials} lost={totals['lost']} doubled={totals['doubled']} "
        f"diverged={totals['diverged']}"
    )


if __name__ == "__main__":
    main()
