"""`balai import_residents PATH`: import a SIAK export, an OpenSID penduduk
file or Balai's template into the register (docs/import-template.md)."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.registry.imports import pipeline
from balai.registry.imports.layouts import LAYOUTS
from balai.registry.imports.report import ReportWriter
from balai.registry.models_digitisation import ImportJob


class ProgressBar:
    """A progress bar on stderr: redrawn in place on a terminal, a line every
    tenth of the way otherwise (logs, CI)."""

    WIDTH = 30

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.perf_counter()
        self.last_step = -1

    def __call__(self, done: int, total: int) -> None:
        total = max(total, 1)
        share = min(1.0, done / total)
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        filled = int(share * self.WIDTH)
        text = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%} "
            f"{done}/{total} baris, {rate:,.0f} baris/dtk, sisa ~{left:,.0f} dtk"
        )
        if self.tty:
            self.stream.write("\r" + text)
            if done >= total:
                self.stream.write("\n")
            self.stream.flush()
            return
        step = int(share * 10)
        if step != self.last_step:
            self.last_step = step
            self.stream.write(text + "\n")
            self.stream.flush()


class Command(BaseCommand):
    help = (
        "Impor penduduk dari ekspor SIAK, berkas impor OpenSID atau templat Balai "
        "(csv, xlsx, xls) lewat jalur pendaftaran massal register. Baris yang "
        "ditolak dilaporkan dengan baris, kolom dan alasannya."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="berkas csv, xlsx atau xls")
        parser.add_argument(
            "--format",
            dest="layout",
            choices=("auto", *LAYOUTS),
            default="auto",
            help="format berkas (bawaan: dikenali dari baris judul kolom)",
        )
        parser.add_argument(
            "--village",
            default="",
            help="kode desa/kelurahan tujuan (wajib untuk berkas OpenSID)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="hanya periksa; tidak ada yang ditulis ke register",
        )
        parser.add_argument("--report", help="tulis laporan baris ke berkas CSV ini")
        parser.add_argument(
            "--batch",
            type=int,
            default=pipeline.DEFAULT_BATCH,
            help="baris per transaksi (bawaan %(default)s)",
        )
        parser.add_argument(
            "--user",
            default="",
            help="jalankan sebagai petugas ini (peran dan wilayah kerjanya berlaku)",
        )
        parser.add_argument("--office", default="", help="kantor petugas (--user)")
        parser.add_argument(
            "--writers",
            type=int,
            default=0,
            help="proses penulis bergiliran (bawaan: 2 di PostgreSQL untuk berkas "
            "lebih dari empat batch, selain itu 1)",
        )

    def handle(self, *args, **options):
        actor = self._actor(options["user"], options["office"])
        report = None
        writer = None
        if options["report"]:
            try:
                report = open(options["report"], "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as exc:
                raise CommandError(
                    f"Berkas laporan tidak dapat ditulis: {exc.strerror}"
                ) from exc
            if options["dry_run"]:
                writer = ReportWriter(report)
        bar = ProgressBar(sys.stderr) if options["verbosity"] >= 1 else None
        try:
            summary = pipeline.run_import(
                actor=actor,
                path=options["path"],
                layout=options["layout"],
                village=options["village"].strip(),
                dry_run=options["dry_run"],
                batch_size=options["batch"],
                max_bytes=pipeline.max_file_bytes(),
                progress=bar,
                lines_out=writer.write if writer else None,
                writers=options["writers"] or None,
            )
            if report is not None and writer is None:
                writer = ReportWriter(report)
                writer.write_job(ImportJob.objects.get(pk=summary.job_id))
        except BalaiError as exc:
            raise CommandError(exc.message) from exc
        finally:
            if report is not None:
                report.close()
        if summary.already_done:
            self.stdout.write(
                "Berkas ini sudah pernah diimpor; tidak ada yang diubah "
                "(hasil impor sebelumnya di bawah)."
            )
        elif summary.dry_run:
            self.stdout.write("Uji saja (--dry-run): tidak ada yang ditulis.")
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"{summary.rows} baris data, format {summary.layout} ({summary.source})"
            )
            if writer is not None:
                self.stdout.write(
                    f"Laporan: {options['report']} ({writer.lines} baris)"
                )
        self.stdout.write(summary.line())

    def _actor(self, username: str, office: str) -> Actor:
        if not username:
            return Actor.system(name="import_residents")
        from balai.accounts.models import User
        from balai.accounts.selectors import actor_for

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Petugas {username} tidak ada.")
        return actor_for(user=user, office_code=office or None)
