"""`balai seed_population --residents N`: a synthetic Kukar in the register."""

import datetime
import multiprocessing
import multiprocessing.connection
import queue
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.utils import timezone

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.registry.actions import register_residents_bulk
from balai.registry.bulk import forget_inherited_connections
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
            "--workers",
            type=int,
            default=0,
            help="penulis paralel (bawaan: 2 di PostgreSQL, 1 di SQLite)",
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
        workers = options["workers"] or (2 if connection.vendor == "postgresql" else 1)
        started = time.perf_counter()
        totals = {"residents": 0, "families": 0, "batches": 0}
        lock = threading.Lock()

        def write(number: int, batch: list) -> None:
            try:
                result = register_residents_bulk(
                    actor=actor,
                    families=batch,
                    occurred_on=as_of,
                    label=f"seed_population seed={options['seed']} batch={number}",
                )
            except BalaiError as exc:
                raise CommandError(exc.message) from exc
            with lock:
                totals["residents"] += result.residents
                totals["families"] += result.families
                totals["batches"] += 1
                if options["verbosity"] >= 2 or totals["batches"] % 20 == 0:
                    self.stdout.write(
                        f"  {totals['residents']} penduduk, {totals['families']} KK "
                        f"({time.perf_counter() - started:.0f} dtk)"
                    )

        def batches():
            return _batches(
                population(total, villages=villages, seed=options["seed"], as_of=as_of),
                batch_size,
            )

        if workers == 1:
            for number, batch in enumerate(batches(), start=1):
                write(number, batch)
        elif "fork" in multiprocessing.get_all_start_methods():
            done = _write_in_processes(batches, write, workers, totals)
            for name, value in done.items():
                totals[name] += value
        else:
            _write_in_threads(batches(), write, workers)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{totals['residents']} penduduk dalam {totals['families']} KK tercatat "
            f"dalam {elapsed:.1f} detik."
        )


def _write_in_processes(batches, write, workers: int, totals: dict) -> dict:
    """Write batches with `workers` forked processes, each with its own
    connection and one transaction per batch: worker k writes batches k+1,
    k+1+workers, ... Each makes the whole (seeded, so identical) population
    itself and skips the others' batches: making it costs less than handing
    it over a pipe would. Python's work then runs on every core, not on one
    (threads share one interpreter lock). The change log and the audit chain
    are locked per batch, so their order stays whole; batches commit in any
    order, as with threads. Return the totals of all workers."""
    context = multiprocessing.get_context("fork")
    connections.close_all()  # never share a connection with a child

    def work(k: int, send) -> None:
        forget_inherited_connections()
        try:
            for number, batch in enumerate(batches(), start=1):
                if (number - 1) % workers == k:
                    write(number, batch)
            send.send(("done", dict(totals)))
        except CommandError as exc:
            send.send(("refused", str(exc)))
        except BaseException as exc:  # handed to the parent
            send.send(("failed", f"{type(exc).__name__}: {exc}"))
        finally:
            connections.close_all()
            send.close()

    children = []
    for k in range(workers):
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=work, args=(k, send), daemon=True)
        child.start()
        send.close()
        children.append((child, receive))
    out = {"residents": 0, "families": 0, "batches": 0}
    try:
        waiting = {receive: child for child, receive in children}
        while waiting:
            for receive in multiprocessing.connection.wait(list(waiting)):
                waiting.pop(receive)
                try:
                    kind, value = receive.recv()
                except EOFError:
                    raise CommandError(
                        "Penulis seed_population berhenti tiba-tiba."
                    ) from None
                if kind != "done":
                    raise CommandError(value)
                for name in out:
                    out[name] += value[name]
    finally:
        for child, receive in children:
            receive.close()
            if child.is_alive():
                child.terminate()
            child.join(timeout=30)
    return out


def _write_in_threads(batches, write, workers: int) -> None:
    """Write batches with `workers` threads, each with its own connection and
    its own transaction per batch: while one waits on PostgreSQL (COPY, the
    change records, the commit) another prepares its batch. The change log
    and the audit chain are locked per batch, so their order stays whole."""
    work: queue.Queue = queue.Queue(maxsize=workers)
    stop = object()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            while (item := work.get()) is not stop:
                if not failures:
                    try:
                        write(*item)
                    except BaseException as exc:
                        failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for number, batch in enumerate(batches, start=1):
            if failures:
                break
            work.put((number, batch))
    finally:
        for _thread in threads:
            work.put(stop)
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]


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
