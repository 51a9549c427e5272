"""`balai scheduler`: the one process that enqueues periodic jobs."""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from balai.core import scheduler
from balai.core.models import ScheduledJob


class Command(BaseCommand):
    help = (
        "Jalankan penjadwal: masukkan tugas berkala (misalnya checkpoint audit) ke "
        "antrean tugas pada selangnya. Tugas dikerjakan oleh `balai db_worker`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Periksa sekali, masukkan tugas yang jatuh tempo, lalu berhenti.",
        )
        parser.add_argument(
            "--list", action="store_true", help="Tampilkan tugas terjadwal saja."
        )
        parser.add_argument(
            "--max-sleep",
            type=float,
            default=30.0,
            help="Jeda terlama antara dua pemeriksaan, dalam detik (bawaan 30).",
        )

    def handle(self, *args, **options):
        if options["list"]:
            self._list()
            return
        if options["once"]:
            self._tick()
            return
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        names = ", ".join(j.name for j in scheduler.registered_jobs()) or "-"
        self.stdout.write(f"Penjadwal berjalan; tugas: {names}.")
        while not stop.is_set():
            close_old_connections()
            self._tick()
            stop.wait(scheduler.seconds_until_next(ceiling=options["max_sleep"]))
        close_old_connections()
        self.stdout.write("Penjadwal berhenti.")

    def _tick(self) -> None:
        for name in scheduler.tick():
            self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} antre: {name}")

    def _list(self) -> None:
        rows = {r.name: r for r in ScheduledJob.objects.all()}
        for job in scheduler.registered_jobs():
            row = rows.get(job.name)
            minutes = job.current_interval().total_seconds() / 60
            if row is None:
                state = "belum pernah dijalankan"
            else:
                last = row.last_run_at.isoformat() if row.last_run_at else "-"
                state = (
                    f"terakhir {last}, berikutnya {row.next_run_at.isoformat()}, "
                    f"{row.runs} kali"
                )
            self.stdout.write(f"{job.name}: tiap {minutes:g} menit; {state}")
