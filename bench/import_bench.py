"""Benchmark `balai import_residents`: a synthetic SIAK export through the
whole import (residents, KKs, events, change log, audit, report, job).

Usage (from the repository root; a throwaway PostgreSQL server whose
databases this script may drop and create):

    .venv/bin/python bench/import_bench.py \\
        --server-url postgres://postgres@127.0.0.1:55437/postgres \\
        --rows 1000000 --sqlite-rows 150000 --opensid-rows 10000 \\
        --append BENCHMARKS.md

What it does, each part timed on its own fresh database (migrated and the
regions loaded first, not timed):

1. writes the input files into a temporary directory, from the synthetic
   population of `balai.registry.synthetic` (SIAK layout csv; OpenSID layout
   csv of one village);
2. PostgreSQL: `balai import_residents` of the SIAK file as a child process
   (wall time, peak memory from /usr/bin/time), the rows it wrote, the
   import's first pass over the file timed alone (`first_pass`), then a
   bare COPY of the same resident rows into an unindexed table (same script,
   same server): the ratio bare/import says how close the import comes to
   the database's own floor;
3. the OpenSID-layout file (rows/s, beside OpenSID v2410's own import:
   about 260 rows/s, failing at 25,000-30,000 rows);
4. SQLite: the SIAK file cut to `--sqlite-rows`.

The machine's load average is recorded before and after each run: the
figures mean little without it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BALAI = str(ROOT / ".venv" / "bin" / "balai")
OPENSID_ROWS_PER_SECOND = 260  # OpenSID v2410: 10,000 rows in 38-39 s
OPENSID_VILLAGE = "64.02.06.1001"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


def memory_gib() -> float:
    text = Path("/proc/meminfo").read_text()
    kib = int(re.search(r"MemTotal:\s+(\d+)", text).group(1))
    return kib / 1024 / 1024


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (the import reads its file and writes
    in forked processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "status").read_text()
        except OSError:
            continue
        parent = re.search(r"PPid:\s+(\d+)", text)
        children.setdefault(int(parent.group(1)) if parent else 0, []).append(
            int(entry.name)
        )
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _kib(path: str, field: str) -> int:
    try:
        text = Path(path).read_text()
    except OSError:
        return 0
    found = re.search(rf"^{field}:\s+(\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def tree_rss_kib(root: int) -> int:
    """The resident memory of `root` and its descendants, summed."""
    return sum(_kib(f"/proc/{pid}/status", "VmRSS") for pid in process_tree(root))


def tree_pss_kib(root: int) -> int:
    """The proportional memory (PSS) of `root` and its descendants: a page
    shared by n processes (the forked reader and writers share the parent's)
    counts 1/n in each, so the sum is what the tree holds."""
    return sum(_kib(f"/proc/{pid}/smaps_rollup", "Pss") for pid in process_tree(root))


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving one database, sampled
    (the server is shared: its other databases' work is not counted)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.seen: dict[int, float] = {}
        self.conn = None
        if url:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)
            self.own = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]

    def sample(self) -> None:
        if self.conn is None:
            return
        tick = os.sysconf("SC_CLK_TCK")
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> %s",
            [self.own],
        ).fetchall()
        for (pid,) in rows:
            try:
                text = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            self.seen[pid] = (int(fields[11]) + int(fields[12])) / tick

    def total(self) -> float | None:
        if self.conn is None:
            return None
        self.conn.close()
        return sum(self.seen.values())


def run(
    args: list[str],
    env: dict[str, str],
    *,
    timed: bool = False,
    backends: BackendCpu | None = None,
) -> dict:
    command = ["/usr/bin/time", "-v", *args] if timed else args
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak_tree = peak_pss = 0
    if timed:
        while True:
            try:
                out, err = process.communicate(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                peak_tree = max(peak_tree, tree_rss_kib(process.pid))
                peak_pss = max(peak_pss, tree_pss_kib(process.pid))
                if backends is not None:
                    backends.sample()
    else:
        out, err = process.communicate()
    seconds = time.perf_counter() - started
    done = subprocess.CompletedProcess(command, process.returncode, out, err)
    if done.returncode != 0:
        sys.exit(
            f"{' '.join(args)} gagal:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    result = {"seconds": seconds, "stdout": done.stdout, "stderr": done.stderr}
    if peak_tree:
        result["peak_tree_mb"] = peak_tree / 1024
        result["peak_tree_pss_mb"] = peak_pss / 1024
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if peak:
        result["peak_mb"] = int(peak.group(1)) / 1024
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", done.stderr)
    if cpu:
        result["cpu_seconds"] = sum(float(x) for x in cpu)
    return result


def prepare(env: dict[str, str]) -> None:
    run([BALAI, "migrate", "--noinput", "-v0"], env)
    run([BALAI, "load_regions", "-v0"], env)
    url = env.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        # Statistics as a running regency has them. Without, the planner's
        # choices (the foreign-key checks' among them) changed whenever
        # autovacuum first analysed the new tables during the run.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")


def make_files(folder: Path, rows: int, opensid_rows: int, seed: int) -> dict:
    """Write the input files (not timed) with the synthetic generator."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "balai.settings")
    os.environ.setdefault("BALAI_DEBUG", "1")
    os.environ.setdefault("BALAI_DEMO", "1")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'unused.sqlite3'}"
    import csv

    import django

    django.setup()
    from balai.registry.imports import samples
    from balai.registry.synthetic import Village, population

    villages: dict[str, str] = {}
    kecamatan: dict[str, str] = {}
    listing: list[Village] = []
    with (ROOT / "balai/regions/data/wilayah_kukar.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["tingkat"] == "kecamatan":
                kecamatan[row["kode"]] = row["nama"]
            elif row["tingkat"] in ("desa", "kelurahan"):
                villages[row["kode"]] = row["nama"]
                listing.append(
                    Village(row["kode"], row["nama"], row["tingkat"] == "kelurahan")
                )
    listing.sort(key=lambda v: v.code)
    started = time.perf_counter()
    siak = folder / "siak.csv"
    samples.write_csv(
        siak,
        samples.SIAK_HEADER,
        samples.siak_rows(
            population(rows, villages=listing, seed=seed), villages, kecamatan
        ),
    )
    one = [v for v in listing if v.code == OPENSID_VILLAGE]
    opensid = folder / "opensid.csv"
    samples.write_csv(
        opensid,
        samples.OPENSID_HEADER,
        samples.opensid_rows(population(opensid_rows, villages=one, seed=seed + 1)),
    )
    return {
        "siak": siak,
        "opensid": opensid,
        "generate_seconds": time.perf_counter() - started,
        "siak_bytes": siak.stat().st_size,
    }


def head(path: Path, rows: int, target: Path) -> Path:
    """The header and the first `rows` data rows of a csv (whole KKs may be
    cut at the end: those rows are then reported, as any file would be)."""
    with (
        path.open(encoding="utf-8") as source,
        target.open("w", encoding="utf-8") as out,
    ):
        for index, line in enumerate(source):
            if index > rows:
                break
            out.write(line)
    return target


def counts(env: dict[str, str]) -> dict:
    code = (
        "import json\n"
        "from balai.registry.models import Resident, Family, LifeEvent\n"
        "from balai.core.models import ChangeRecord\n"
        "from balai.audit.models import AuditEntry\n"
        "from balai.registry.models_digitisation import ImportIssue\n"
        "print(json.dumps({'residents': Resident.objects.count(),"
        "'families': Family.objects.count(), 'events': LifeEvent.objects.count(),"
        "'change_records': ChangeRecord.objects.count(),"
        "'audit_entries': AuditEntry.objects.count(),"
        "'report_lines': ImportIssue.objects.count()}))"
    )
    out = run([BALAI, "shell", "-c", code], env)["stdout"]
    return json.loads(out.strip().splitlines()[-1])


def import_once(
    env: dict[str, str], path: Path, extra: list[str], pg_url: str | None = None
) -> dict:
    before = load()
    backends = BackendCpu(pg_url)
    result = run(
        [BALAI, "import_residents", str(path), "-v0", *extra],
        env,
        timed=True,
        backends=backends,
    )
    pg_cpu = backends.total()
    line = result["stdout"].strip().splitlines()[-1]
    figures = dict(pair.split("=") for pair in line.split())
    return {
        "seconds": round(result["seconds"], 1),
        "cpu_python": round(result.get("cpu_seconds", 0), 1),
        # This database's backends only, sampled every 0.5 s (the last
        # half second of a backend may be missed).
        "cpu_postgresql": round(pg_cpu, 1) if pg_cpu is not None else None,
        "peak_mb": round(result.get("peak_mb", 0)),
        # Sampled every 0.5 s: the command, its reader process and `time`.
        "peak_tree_mb": round(result.get("peak_tree_mb", 0)),
        # The same processes' proportional set size (shared pages split).
        "peak_tree_pss_mb": round(result.get("peak_tree_pss_mb", 0)),
        "summary": line,
        "rows": sum(int(figures[k]) for k in ("imported", "rejected", "duplicates")),
        "load_before": before,
        "load_after": load(),
    }


def first_pass(env: dict[str, str], path: Path) -> dict:
    """Time the import's first pass over the file alone (`pipeline.scan`:
    layout, rows, each KK's last line, SHA-256), in a fresh process: it runs
    before any batch is written, with one core busy."""
    code = (
        "import json, time\n"
        "from balai.registry.imports import pipeline\n"
        "context = pipeline.build_context('')\n"
        "cpu, wall = time.process_time(), time.perf_counter()\n"
        f"scanned, _ = pipeline.scan({str(path)!r}, context=context, max_bytes=None)\n"
        "print(json.dumps({'seconds': round(time.perf_counter() - wall, 2),"
        " 'cpu_seconds': round(time.process_time() - cpu, 2),"
        " 'rows': scanned.rows, 'kks': len(scanned.last_line)}))"
    )
    out = run([BALAI, "shell", "-c", code], env)["stdout"]
    return json.loads(out.strip().splitlines()[-1])


def bare_copy(url: str, folder: Path) -> dict:
    """COPY the imported resident rows into an unindexed table: the floor."""
    import psycopg

    dump = folder / "residents.copy"
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        with (
            dump.open("wb") as fh,
            cur.copy("COPY registry_resident TO STDOUT") as copy,
        ):
            for block in copy:
                fh.write(block)
        cur.execute("DROP TABLE IF EXISTS bench_bare_resident")
        cur.execute("CREATE TABLE bench_bare_resident (LIKE registry_resident)")
        started = time.perf_counter()
        with (
            conn.transaction(),
            dump.open("rb") as fh,
            cur.copy("COPY bench_bare_resident FROM STDIN") as copy,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        cur.execute("SELECT count(*) FROM bench_bare_resident")
        rows = cur.fetchone()[0]
        cur.execute("DROP TABLE bench_bare_resident")
    dump.unlink()
    return {"seconds": round(seconds, 2), "rows": rows}


def fresh_pg(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", server_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", default=os.environ.get("BENCH_PG_URL", ""))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite-rows", type=int, default=150_000)
    parser.add_argument("--opensid-rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--append", help="append the results to this Markdown file")
    args = parser.parse_args()
    results: dict = {
        "benchmark": "import_residents",
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_gib(), 1),
        "python": platform.python_version(),
    }
    # Debug off (Django would keep every query in memory); demo mode only so
    # that no secret key and second factor are needed.
    base = {
        **os.environ,
        "BALAI_DEBUG": "0",
        "BALAI_DEMO": "1",
        "BALAI_SECRET_KEY": "bench-only-not-a-secret",
    }
    with tempfile.TemporaryDirectory(prefix="balai-import-bench-") as tmp:
        folder = Path(tmp)
        files = make_files(folder, args.rows, args.opensid_rows, args.seed)
        results["files"] = {
            "rows": args.rows,
            "siak_mb": round(files["siak_bytes"] / 1e6, 1),
            "generate_seconds": round(files["generate_seconds"], 1),
        }
        print(f"berkas dibuat: {results['files']}", flush=True)
        if args.server_url:
            import psycopg

            with psycopg.connect(args.server_url) as conn:
                results["postgresql"] = conn.execute("SHOW server_version").fetchone()[
                    0
                ]
                results["pg_settings"] = {
                    name: conn.execute(f"SHOW {name}").fetchone()[0]
                    for name in ("shared_buffers", "max_wal_size", "synchronous_commit")
                }
            url = fresh_pg(args.server_url, "balai_imp_bench")
            env = {**base, "DATABASE_URL": url}
            prepare(env)
            pg = import_once(env, files["siak"], [], url)
            pg["rows_per_second"] = round(pg["rows"] / pg["seconds"])
            pg["written"] = counts(env)
            pg["bare_copy"] = bare_copy(url, folder)
            pg["bare_copy_ratio"] = round(pg["bare_copy"]["seconds"] / pg["seconds"], 3)
            pg["command"] = "balai import_residents siak.csv -v0"
            pg["first_pass"] = first_pass(env, files["siak"])
            results["pg_import"] = pg
            print(f"PostgreSQL: {json.dumps(pg)}", flush=True)
            url = fresh_pg(args.server_url, "balai_imp_bench_opensid")
            env = {**base, "DATABASE_URL": url}
            prepare(env)
            osid = import_once(
                env, files["opensid"], ["--village", OPENSID_VILLAGE], url
            )
            osid["rows_per_second"] = round(osid["rows"] / osid["seconds"])
            osid["opensid_v2410_rows_per_second"] = OPENSID_ROWS_PER_SECOND
            osid["command"] = (
                f"balai import_residents opensid.csv --village {OPENSID_VILLAGE}"
            )
            results["pg_opensid"] = osid
            print(f"OpenSID-layout: {json.dumps(osid)}", flush=True)
        if not args.skip_sqlite:
            env = {**base, "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
            prepare(env)
            part = head(files["siak"], args.sqlite_rows, folder / "siak_sqlite.csv")
            lite = import_once(env, part, [])
            lite["rows_per_second"] = round(lite["rows"] / lite["seconds"])
            lite["command"] = f"balai import_residents siak_{args.sqlite_rows}.csv -v0"
            results["sqlite_import"] = lite
            print(f"SQLite: {json.dumps(lite)}", flush=True)
    print(json.dumps(results))
    if args.append:
        new = not Path(args.append).exists()
        with open(args.append, "a", encoding="utf-8") as fh:
            if new:
                fh.write("# Benchmarks\n")
            fh.write(markdown(results))


def markdown(r: dict) -> str:
    lines = [
        "",
        f"## import_residents, {r['date']}",
        "",
        f"Machine: {r['cpus']} cores, {r['memory_gib']} GiB, Python {r['python']}; "
        "shared with other engineers' tests and benchmarks (load average "
        "1/5/15 min recorded per run). Input: synthetic Kukar "
        f"(`balai.registry.synthetic`), SIAK layout csv of {r['files']['rows']:,} rows "
        f"({r['files']['siak_mb']} MB).",
        "",
    ]
    if "pg_import" in r:
        pg = r["pg_import"]
        w = pg["written"]
        lines += [
            f"- PostgreSQL {r['postgresql']} ({r['pg_settings']}): "
            f"`{pg['command']}`: **{pg['seconds']} s** for {pg['rows']:,} rows "
            f"({pg['rows_per_second']:,} rows/s), CPU {pg['cpu_python']} s in the "
            f"command + {pg['cpu_postgresql']} s in PostgreSQL, "
            f"peak memory {pg['peak_mb']} MB (largest process; all its processes "
            f"together {pg['peak_tree_mb']} MB), "
            f"load {pg['load_before']} -> {pg['load_after']}; `{pg['summary']}`; "
            f"written: {w['residents']:,} residents, {w['families']:,} KK, "
            f"{w['events']:,} events, {w['change_records']:,} change records, "
            f"{w['audit_entries']:,} audit entries.",
            f"- Bare COPY of the same {pg['bare_copy']['rows']:,} resident rows into "
            f"an unindexed table: {pg['bare_copy']['seconds']} s; ratio bare/import "
            f"**{pg['bare_copy_ratio']}**.",
            f"- The import's first pass over the file alone (`pipeline.scan`): "
            f"{pg['first_pass']['seconds']} s wall, "
            f"{pg['first_pass']['cpu_seconds']} s CPU.",
        ]
    if "pg_opensid" in r:
        o = r["pg_opensid"]
        lines.append(
            f"- OpenSID layout, {o['rows']:,} rows (`{o['command']}`, PostgreSQL): "
            f"{o['seconds']} s, **{o['rows_per_second']:,} rows/s** (OpenSID v2410: "
            f"~{o['opensid_v2410_rows_per_second']} rows/s), load {o['load_before']} "
            f"-> {o['load_after']}."
        )
    if "sqlite_import" in r:
        s = r["sqlite_import"]
        lines.append(
            f"- SQLite: `{s['command']}`: **{s['seconds']} s** for {s['rows']:,} rows "
            f"({s['rows_per_second']:,} rows/s), CPU {s['cpu_python']} s, "
            f"peak memory {s['peak_mb']} MB (all processes {s['peak_tree_mb']} MB), "
            "load "
            f"{s['load_before']} -> {s['load_after']}; `{s['summary']}`."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
