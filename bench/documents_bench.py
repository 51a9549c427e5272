"""Benchmark issued documents: issue (number + sign + render + store), verify, batch.

Usage (from the repository root):

    .venv/bin/python bench/documents_bench.py
    .venv/bin/python bench/documents_bench.py --samples 300 --verify-samples 5000 \\
        --batch 1000 --database-url postgres://postgres@127.0.0.1:55439/balai_bench

Without --database-url everything lives in a fresh SQLite file in a temporary
directory, with keys and the PDF store beside it. The database is migrated,
the regions loaded, the document keys made (`keys_init_root`) and a desa head
and clerk posted, all through the real commands and actions.

Timed, each as p50/p95/p99 in milliseconds (wall clock; CPU time alongside):
- issue: `issue_document` as the services app calls it (lock the series,
  number, sign, render the A4 PDF with WeasyPrint, store it, audit) — target
  p95 <= 300 ms; its baselines: one bare WeasyPrint render of the same letter
  HTML and one bare Ed25519 signature;
- verify: `selectors.verify(text=)` on the QR texts issued above (decode,
  certificate, signature, office, key and document revocation; one database
  query) — target p95 <= 5 ms; baseline: one bare Ed25519 verification;
- batch: `--batch` letters in one `issue_documents` call (one transaction, PDFs
  rendered by `--workers` processes) — target 1,000 in <= 120 s; the estimate
  for issuing them one by one (mean of the issue samples x N) is shown beside.
The load average is printed at the start and at the end: other work on the
machine inflates wall times, so CPU times are printed too (the batch's
includes its render workers'). Baselines beside the QR: the letter's QR as
made (`payload.make_qr`, mask chosen by `qrmask`) and segno choosing the
same mask itself. Run it under `flock` on the shared bench lock so two heavy
runs never overlap.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"issue_p95_ms": 300.0, "verify_p95_ms": 5.0, "batch_1000_s": 120.0}
DESA = "DESA-64.02.12.2001"
KINDS = ["sktm", "domisili", "usaha", "pengantar", "receipt", "completion"]
NAMES = [
    "SITI AMINAH",
    "MUHAMMAD RIZKY FIRMANSYAH",
    "YOHANES LIRUNG",
    "DAYANG NORHAYATI",
    "ANDI SAPUTRA",
    "NUR'AINI BINTI ABDULLAH",
    "I KETUT SUARDANA",
    "RATNA SARI DEWI",
]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return round(ordered[index], 3)

    return {"n": len(ordered), "p50": at(50), "p95": at(95), "p99": at(99)}


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return (
        (time.perf_counter() - wall) * 1000,
        (time.process_time() - cpu) * 1000,
        result,
    )


def configure(args: argparse.Namespace) -> str:
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="balai-docbench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "balai.settings"
    os.environ.setdefault("BALAI_DEMO", "1")
    os.environ["BALAI_DEBUG"] = "0"
    os.environ["BALAI_DATA_DIR"] = str(data_dir)
    os.environ["BALAI_KEY_DIR"] = str(data_dir / "keys")
    os.environ["BALAI_PUBLIC_URL"] = "https://balai.kukarkab.go.id"
    os.environ["BALAI_NODE"] = "regency"
    os.environ.pop("BALAI_KECAMATAN_NODES", None)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (WAL, file)"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def prepare():
    """Migrate, load regions, make keys, post a head and a clerk.

    Returns the clerk's actor and the desa office.
    """
    from django.core.management import call_command

    from balai.accounts.actions import create_posting, create_staff
    from balai.accounts.models import User
    from balai.accounts.selectors import actor_for
    from balai.core.actors import Actor
    from balai.documents import keys
    from balai.regions.models import Office

    call_command("migrate", verbosity=0)
    call_command("load_regions", verbosity=0)
    if keys.load_root_public() is None:
        call_command("keys_init_root", stdout=io.StringIO())
    office = Office.objects.get(code=DESA)
    system = Actor.system(name="bench")
    clerk = User.objects.filter(username="bench.kaur").first()
    if clerk is None:
        start = dt.date(2024, 1, 1)
        head = create_staff(
            actor=system,
            username="bench.kades",
            full_name="Hj. Rahmawati",
            password="x" * 12,
            check_password=False,
        )
        create_posting(
            actor=system,
            user=head,
            office=office,
            position="Kepala Desa Gunung Sari",
            role="leader",
            start_date=start,
            is_head=True,
        )
        clerk = create_staff(
            actor=system,
            username="bench.kaur",
            full_name="Yohanes Lirung",
            password="x" * 12,
            check_password=False,
            nip="198001012005011001",
        )
        create_posting(
            actor=system,
            user=clerk,
            office=office,
            position="Kaur Umum",
            role="counter_officer",
            start_date=start,
        )
    return actor_for(user=clerk), office


FACTS = {
    "purpose": "Pendaftaran beasiswa",
    "service": "Surat Keterangan",
    "items": ["KTP-el", "KK"],
    "business_name": "Warung Berkah",
}


def subject_of(rng: random.Random) -> dict[str, str]:
    return {
        "name": rng.choice(NAMES),
        "nik": f"640212{rng.randrange(10**10):010d}",
        "birth_place": "Tabang",
        "birth_date": "1990-01-10",
        "sex": "Perempuan",
        "religion": "Islam",
        "occupation": "Petani/Pekebun",
        "address": "RT 002, Desa Gunung Sari, Kecamatan Tabang",
    }


def issuer(actor, office, rng: random.Random) -> Callable[[], object]:
    from balai.documents.actions import issue_document

    def issue():
        return issue_document(
            actor=actor,
            kind=rng.choice(KINDS),
            office=office,
            subject=subject_of(rng),
            facts=FACTS,
            application_ref=f"APL-2026-{rng.randrange(10**6):06d}",
        )

    return issue


def baselines(issue: Callable[[], object]) -> dict[str, dict[str, float]]:
    """A bare WeasyPrint render of one letter and bare Ed25519 sign/verify."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from balai.documents import render

    captured = {}
    original = render.write_pdf

    def capture(html, **kwargs):
        captured.update(html=html, kwargs=kwargs)
        return original(html, **kwargs)

    render.write_pdf = capture
    try:
        issue()  # one more letter, to capture its HTML
    finally:
        render.write_pdf = original
    render_ms = [
        timed(lambda: original(captured["html"], **captured["kwargs"]))[0]
        for _ in range(30)
    ]
    import segno

    from balai.documents import payload

    qr_text = captured["kwargs"]["qr_text"]
    qr_ms = [timed(lambda: payload.make_qr(qr_text))[0] for _ in range(100)]
    segno_ms = [
        timed(lambda: segno.make(qr_text, error="m", boost_error=False, micro=False))[0]
        for _ in range(100)
    ]
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = b"x" * 120
    signature = key.sign(message)
    sign_ms = [timed(lambda: key.sign(message))[0] for _ in range(500)]
    verify_ms = [
        timed(lambda: public.verify(signature, message))[0] for _ in range(500)
    ]
    return {
        "weasyprint_render_only": percentiles(render_ms),
        # The letter's QR as made (mask chosen by balai.documents.qrmask) and
        # segno choosing the same mask itself.
        "qr_make": percentiles(qr_ms),
        "segno_make_auto_mask": percentiles(segno_ms),
        "ed25519_sign": percentiles(sign_ms),
        "ed25519_verify": percentiles(verify_ms),
    }


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f", {int(fh.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    python = platform.python_version()
    return f"{platform.machine()} {os.cpu_count()} cores{mem}, Python {python}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--verify-samples", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--workers", type=int, default=None, help="render processes (CPU count)"
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--json", default="", help="also write the results here")
    parser.add_argument("--seed", type=int, default=20261112)
    args = parser.parse_args()

    load_start = [round(v, 1) for v in os.getloadavg()]
    started_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"start {started_at}, load average {load_start}", file=sys.stderr)
    database = configure(args)
    actor, office = prepare()
    rng = random.Random(args.seed)
    issue = issuer(actor, office, rng)
    for _ in range(5):  # warm-up: fonts, template engine, trust cache
        issue()

    issue_wall, issue_cpu, texts = [], [], []
    for _ in range(args.samples):
        wall, cpu, document = timed(issue)
        issue_wall.append(wall)
        issue_cpu.append(cpu)
        texts.append(document.qr_text)

    from balai.documents.selectors import verify

    for text in texts[:20]:
        assert verify(text=text).status == "valid"
    verify_ms, verify_cpu = [], []
    for i in range(args.verify_samples):
        text = texts[i % len(texts)]
        wall, cpu, _ = timed(lambda t=text: verify(text=t))
        verify_ms.append(wall)
        verify_cpu.append(cpu)

    from balai.documents.actions import Letter, issue_documents

    letters = [
        Letter(
            kind=rng.choice(KINDS),
            office=office,
            subject=subject_of(rng),
            facts=FACTS,
            application_ref=f"APL-2026-{i:06d}",
        )
        for i in range(args.batch)
    ]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    batch_started = time.perf_counter()
    batch_cpu = time.process_time()
    issued = issue_documents(actor=actor, letters=letters, workers=args.workers)
    batch_seconds = time.perf_counter() - batch_started
    batch_cpu_seconds = time.process_time() - batch_cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu_seconds = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    assert len(issued) == args.batch
    assert verify(text=issued[-1].qr_text).status == "valid"

    base = baselines(issue)
    results = {
        "date": dt.date.today().isoformat(),
        "started_at": started_at,
        "machine": machine(),
        "load_average_start": load_start,
        "load_average": [round(v, 1) for v in os.getloadavg()],
        "database": database,
        "issue_ms": percentiles(issue_wall),
        "issue_cpu_ms": percentiles(issue_cpu),
        "verify_ms": percentiles(verify_ms),
        "verify_cpu_ms": percentiles(verify_cpu),
        "batch": {
            "documents": args.batch,
            "workers": args.workers or min(os.cpu_count() or 1, 4),
            "sequential_estimate_s": round(
                sum(issue_wall) / len(issue_wall) * args.batch / 1000, 1
            ),
            "seconds": round(batch_seconds, 1),
            "cpu_seconds": round(batch_cpu_seconds, 1),
            "workers_cpu_seconds": round(workers_cpu_seconds, 1),
            "per_document_ms": round(batch_seconds * 1000 / max(args.batch, 1), 1),
        },
        "baseline": base,
    }
    results["ratio_to_baseline_p95"] = {
        "issue_vs_render_only": round(
            results["issue_ms"]["p95"] / base["weasyprint_render_only"]["p95"], 2
        ),
        "verify_vs_ed25519_verify": round(
            results["verify_ms"]["p95"] / base["ed25519_verify"]["p95"], 1
        ),
    }
    batch_1000 = batch_seconds * 1000 / max(args.batch, 1)
    results["targets_met"] = {
        "issue_p95_le_300ms": results["issue_ms"]["p95"] <= TARGETS["issue_p95_ms"],
        "verify_p95_le_5ms": results["verify_ms"]["p95"] <= TARGETS["verify_p95_ms"],
        "batch_1000_le_120s": batch_1000 <= TARGETS["batch_1000_s"],
    }
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
