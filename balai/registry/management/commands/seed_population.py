"""`balai seed_population --residents N`: a synthetic Kukar in the register."""

import datetime
import queue
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.registry.actions import register_residents_bulk
from balai.registry.models import Resident
from balai.registry.synthetic import (
    AS_OF,
    DUKCAPIL_TOTAL,
    population,
    villages_from_regions,
)


class Command(BaseCommand):
    help = (
        "Isi register yang masih kosong dengan penduduk sintetis Kutai Kartanegara "
        "(tidak ada orang nyata), lewat jalur pendaftaran massal yang sama dengan "
        "impor: peristiwa, log perubahan dan audit ikut tertulis."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--residents",
            type=int,
            default=DUKCAPIL_TOTAL,
            help=f"jumlah penduduk (bawaan {DUKCAPIL_TOTAL}, angka Dukcapil Des 2024)",
        )
        parser.add_argument("--seed", type=int, default=1, help="benih acak")
        parser.add_argument(
            "--batch", type=int, default=5000, help="penduduk per transaksi"
        )
        parser.add_argument(
            "--as-of",
            type=datetime.date.fromisoformat,
            default=AS_OF,
            help="tanggal acuan data (bawaan 2024-12-31)",
        )

    def handle(self, *args, **options):
        total, batch_size = options["residents"], options["batch"]
        as_of = options["as_of"]
        if total < 1 or batch_size < 1:
            raise CommandError("Jumlah penduduk dan ukuran batch harus positif.")
        if as_of > timezone.localdate():
            raise CommandError("Tanggal acuan tidak boleh di masa depan.")
        villages = villages_from_regions()
        if not villages:
            raise CommandError("Muat wilayah dulu: balai load_regions.")
        if Resident.objects.exists():
            raise CommandError(
                "Register sudah berisi penduduk; seed_population hanya untuk "
                "register yang kosong."
            )
        actor = Actor.system(name="seed_population")
        started = time.perf_counter()
        done = families_done = 0
        number = 0

        def flush(batch):
            nonlocal done, families_done, number
            number += 1
            try:
                result = register_residents_bulk(
                    actor=actor,
                    families=batch,
                    occurred_on=as_of,
                    label=f"seed_population seed={options['seed']} batch={number}",
                )
            except BalaiError as exc:
                raise CommandError(exc.message) from exc
            done += result.residents
            families_done += result.families
            if options["verbosity"] >= 2 or number % 20 == 0:
                self.stdout.write(
                    f"  {done} penduduk, {families_done} KK "
                    f"({time.perf_counter() - started:.0f} dtk)"
                )

        for batch in _batches(
            population(total, villages=villages, seed=options["seed"], as_of=as_of),
            batch_size,
        ):
            flush(batch)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{done} penduduk dalam {families_done} KK tercatat dalam "
            f"{elapsed:.1f} detik."
        )


def _batches(families, size: int):
    """Yield lists of KKs of about `size` residents, made by a second thread
    while the database takes the previous batch (generation is pure Python,
    the writer mostly waits on PostgreSQL)."""
    ready: queue.Queue = queue.Queue(maxsize=2)
    done = object()
    failure: list[BaseException] = []

    def make():
        try:
            batch, count = [], 0
            for family in families:
                batch.append(family)
                count += len(family.members)
                if count >= size:
                    ready.put(batch)
                    batch, count = [], 0
            if batch:
                ready.put(batch)
        except BaseException as exc:  # handed to the writer below
            failure.append(exc)
        finally:
            ready.put(done)

    maker = threading.Thread(target=make, daemon=True)
    maker.start()
    while (item := ready.get()) is not done:
        yield item
    maker.join()
    if failure:
        raise failure[0]
