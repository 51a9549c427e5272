"""Benchmark the duplicate finder: quality on a synthetic population with
injected duplicates and twins, and speed over a million residents.

Usage (from the repository root):

    .venv/bin/python bench/duplicates_bench.py --quality 100000 \\
        --speed 1000000 [--database-url postgres://.../db_with_residents] \\
        --append BENCHMARKS.md

Quality: `--quality` synthetic residents (`balai.registry.synthetic`), plus
2% injected duplicates made by a fixed, seeded mix (one typo, two typos,
name parts swapped, a part dropped, a part abbreviated to its initial or
"M." for Muhammad, day and month swapped, birth date replaced by 1 January;
each duplicate registered again in the same desa, another desa of the
kecamatan or another kecamatan), plus 1% added twins (same KK, same birth
date and parents, another given name). `find_pairs` runs over all of them;
recall = injected pairs found / injected, precision = injected pairs found /
pairs found, and every twin pair (added or born so in the synthetic
population) proposed is counted.

Speed: `find_pairs` over `--speed` synthetic residents in memory, and, with
`--database-url` (a database holding residents, e.g. the import
benchmark's), `balai find_duplicates --dry-run` timed as a command.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BALAI = str(ROOT / ".venv" / "bin" / "balai")
SEED = 20241231
KINDS = ("typo1", "typo2", "swap", "drop", "abbreviate", "daymonth", "january")
RECALL_TARGET, PRECISION_TARGET = 0.95, 0.98


def setup_django() -> None:
    folder = tempfile.mkdtemp(prefix="balai-dup-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "balai.settings")
    os.environ.setdefault("BALAI_DEBUG", "1")
    os.environ.setdefault("BALAI_DEMO", "1")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/unused.sqlite3"
    import django

    django.setup()


def villages():
    from balai.registry.synthetic import Village

    out = []
    with (ROOT / "balai/regions/data/wilayah_kukar.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["tingkat"] in ("desa", "kelurahan"):
                out.append(
                    Village(row["kode"], row["nama"], row["tingkat"] == "kelurahan")
                )
    return sorted(out, key=lambda v: v.code)


def people(count: int, seed: int):
    """Synthetic residents as `duplicates.Person`, one id each, with raw
    names kept for the injections."""
    from balai.registry.duplicates import Person, fold_place
    from balai.registry.names import name_key
    from balai.registry.synthetic import population

    folded: dict[str, str] = {}

    def key(text: str) -> str:
        found = folded.get(text)
        if found is None:
            found = folded[text] = name_key(text)
        return found

    out = []
    for family in population(count, villages=villages(), seed=seed):
        family_id = uuid.uuid4()
        for member in family.members:
            p = member.person
            out.append(
                (
                    p.name,
                    Person(
                        id=len(out),
                        name=key(p.name),
                        sex=p.sex,
                        birth=p.birth_date,
                        born_in=fold_place(p.birth_place),
                        father=key(p.father_name),
                        mother=key(p.mother_name),
                        village=family.address.village,
                        family=family_id,
                    ),
                )
            )
    return out


def typo(rng: random.Random, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if not letters:
        return text
    i = rng.choice(letters)
    kind = rng.randrange(4)
    alphabet = "abcdefghijklmnoprstuwy"
    if kind == 0:  # substitution
        return text[:i] + rng.choice(alphabet) + text[i + 1 :]
    if kind == 1 and len(letters) > 3:  # deletion
        return text[:i] + text[i + 1 :]
    if kind == 2:  # insertion
        return text[:i] + rng.choice(alphabet) + text[i:]
    if i + 1 < len(text) and text[i + 1].isalpha():  # transposition
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice(alphabet) + text[i + 1 :]


TITLES = {"H.", "Hj.", "Aji", "Awang", "Dayang", "Andi", "Gusti", "I", "Ni"}


def inject(rng: random.Random, raw: str, person, kind: str, all_villages, new_id):
    """A second registration of `person` with one kind of mistake."""
    from balai.registry.names import name_key

    words = raw.split()
    core = [w for w in words if w not in TITLES] or words
    birth = person.birth
    name = raw
    if kind == "typo1":
        name = typo(rng, raw)
    elif kind == "typo2":
        name = typo(rng, typo(rng, raw))
    elif kind == "swap" and len(core) >= 2:
        name = " ".join(core[1:] + core[:1])
    elif kind == "drop" and len(core) >= 2:
        drop = rng.randrange(len(core))
        name = " ".join(w for i, w in enumerate(core) if i != drop)
    elif kind == "abbreviate":
        if "Muhammad" in words:
            name = raw.replace("Muhammad", "M.", 1)
        elif len(core) >= 2:
            name = raw.replace(core[0], core[0][0] + ".", 1)
        else:
            name = typo(rng, raw)
    elif kind == "daymonth" and birth.day <= 12 and birth.day != birth.month:
        birth = datetime.date(birth.year, birth.day, birth.month)
    elif kind in ("daymonth", "january"):
        birth = datetime.date(birth.year, 1, 1)
    else:
        name = typo(rng, raw)
    roll = rng.random()
    village = person.village
    if roll >= 0.5:
        kecamatan = village.rsplit(".", 1)[0]
        pool = [
            v.code
            for v in all_villages
            if (v.code.startswith(kecamatan + ".")) == (roll < 0.8)
        ]
        village = rng.choice(pool) if pool else village
    from dataclasses import replace

    return replace(
        person,
        id=new_id,
        name=name_key(name),
        birth=birth,
        village=village,
        family=uuid.uuid4(),
    )


def quality(count: int) -> dict:
    from dataclasses import replace

    from balai.registry import duplicates
    from balai.registry.names import name_key

    rng = random.Random(SEED)
    base = people(count, seed=7)
    everyone = [p for _raw, p in base]
    all_villages = villages()
    injected: set[tuple[int, int]] = set()
    by_kind: dict[str, list[tuple[int, int]]] = {k: [] for k in KINDS}
    originals = rng.sample(range(len(base)), int(0.02 * len(base)))
    for n, index in enumerate(originals):
        raw, person = base[index]
        kind = KINDS[n % len(KINDS)]
        dup = inject(rng, raw, person, kind, all_villages, len(everyone))
        everyone.append(dup)
        injected.add((person.id, dup.id))
        by_kind[kind].append((person.id, dup.id))
    # Twins: a sibling born the same day, same parents, same KK.
    names_by_sex: dict[str, list[str]] = {"L": [], "P": []}
    for raw, person in base:
        names_by_sex[person.sex].append(raw)
    twins: set[tuple[int, int]] = set()
    for index in rng.sample(range(len(base)), int(0.01 * len(base))):
        raw, person = base[index]
        other = rng.choice(names_by_sex[person.sex])
        while name_key(other) == person.name:
            other = rng.choice(names_by_sex[person.sex])
        twin = replace(person, id=len(everyone), name=name_key(other))
        everyone.append(twin)
        twins.add((person.id, twin.id))
    # Twins the synthetic population has of its own: same KK and birth date,
    # with different names (the generator draws twins' names independently
    # and now and then gives both the same one: two such records are what a
    # double entry looks like, and no family names twins alike).
    seen: dict[tuple, list] = {}
    for _raw, p in base:
        key = (p.family, p.birth)
        for other in seen.get(key, []):
            if other.name != p.name:
                twins.add((other.id, p.id))
        seen.setdefault(key, []).append(p)
    stats = duplicates.Stats()
    started = time.perf_counter()
    found = duplicates.find_pairs(everyone, stats=stats)
    seconds = time.perf_counter() - started
    pairs = {(min(c.first, c.second), max(c.first, c.second)) for c in found}
    hits = pairs & injected
    twin_hits = pairs & {(min(a, b), max(a, b)) for a, b in twins}
    recall = len(hits) / len(injected)
    precision = len(hits) / len(pairs) if pairs else 1.0
    per_kind = {
        kind: round(len(set(items) & pairs) / len(items), 3)
        for kind, items in by_kind.items()
        if items
    }
    return {
        "residents": len(everyone),
        "injected": len(injected),
        "twin_pairs": len(twins),
        "found": len(pairs),
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "twins_proposed": len(twin_hits),
        "recall_by_kind": per_kind,
        "compared": stats.compared,
        "skipped_blocks": stats.skipped_blocks,
        "seconds": round(seconds, 1),
        "ok": recall >= RECALL_TARGET
        and precision >= PRECISION_TARGET
        and not twin_hits,
    }


def speed(count: int) -> dict:
    from balai.registry import duplicates

    everyone = [p for _raw, p in people(count, seed=11)]
    before = os.getloadavg()
    stats = duplicates.Stats()
    started = time.perf_counter()
    found = duplicates.find_pairs(everyone, stats=stats)
    return {
        "residents": len(everyone),
        "seconds": round(time.perf_counter() - started, 1),
        "found": len(found),
        "compared": stats.compared,
        "skipped_blocks": stats.skipped_blocks,
        "load_before": "/".join(f"{x:.1f}" for x in before),
        "load_after": "/".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def command(url: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BALAI_DEBUG": "0",
        "BALAI_DEMO": "1",
        "BALAI_SECRET_KEY": "bench-only-not-a-secret",
    }
    before = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", BALAI, "find_duplicates", "--dry-run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(done.stderr[-3000:])
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return {
        "seconds": round(seconds, 1),
        "output": done.stdout.strip().splitlines(),
        "peak_mb": round(int(peak.group(1)) / 1024) if peak else None,
        "load_before": "/".join(f"{x:.1f}" for x in before),
        "load_after": "/".join(f"{x:.1f}" for x in os.getloadavg()),
        "command": "balai find_duplicates --dry-run",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", type=int, default=100_000)
    parser.add_argument("--speed", type=int, default=0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--append")
    args = parser.parse_args()
    setup_django()
    result: dict = {
        "benchmark": "find_duplicates",
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
        "cpus": os.cpu_count(),
    }
    if args.quality:
        result["quality"] = quality(args.quality)
        print(json.dumps(result["quality"]), flush=True)
    if args.speed:
        result["speed"] = speed(args.speed)
        print(json.dumps(result["speed"]), flush=True)
    if args.database_url:
        result["command"] = command(args.database_url)
        print(json.dumps(result["command"]), flush=True)
    if args.append:
        new = not Path(args.append).exists()
        with open(args.append, "a", encoding="utf-8") as fh:
            if new:
                fh.write("# Benchmarks\n")
            fh.write(markdown(result))


def markdown(r: dict) -> str:
    lines = ["", f"## find_duplicates, {r['date']}", ""]
    lines.append(
        f"Machine: {r['cpus']} cores, 24 GiB; shared with other engineers' work "
        "(load average recorded per run)."
    )
    lines.append("")
    if "quality" in r:
        q = r["quality"]
        lines.append(
            f"- Quality (`bench/duplicates_bench.py --quality`): {q['residents']:,} "
            f"residents with {q['injected']:,} injected duplicates and "
            f"{q['twin_pairs']:,} twin pairs: **recall {q['recall']}, precision "
            f"{q['precision']}, twin pairs proposed {q['twins_proposed']}** "
            f"({q['found']:,} pairs found, {q['compared']:,} compared, "
            f"{q['seconds']} s); recall by kind {q['recall_by_kind']}."
        )
    if "speed" in r:
        s = r["speed"]
        lines.append(
            f"- Speed, in memory: `find_pairs` over {s['residents']:,} residents: "
            f"**{s['seconds']} s** ({s['compared']:,} pairs compared, "
            f"{s['skipped_blocks']} oversized blocks skipped), load "
            f"{s['load_before']} -> {s['load_after']}."
        )
    if "command" in r:
        c = r["command"]
        lines.append(
            f"- `{c['command']}` on the database: **{c['seconds']} s**, peak memory "
            f"{c['peak_mb']} MB, load {c['load_before']} -> {c['load_after']}; "
            f"{' / '.join(c['output'])}."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
