"""`balai find_duplicates`: list residents who may be the same person."""

import time

from django.core.management.base import BaseCommand, CommandError

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.registry import duplicates


class Command(BaseCommand):
    help = (
        "Cari pasangan penduduk yang mungkin data ganda (beberapa kunci blok, skor "
        "nama/tanggal lahir/orang tua/alamat). Pasangan disimpan untuk ditinjau; "
        "tidak ada data penduduk yang diubah."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--threshold",
            type=float,
            default=duplicates.THRESHOLD,
            help="skor terendah sebuah pasangan (0-1, bawaan %(default)s)",
        )
        parser.add_argument("--kecamatan", default="", help="hanya kecamatan ini")
        parser.add_argument(
            "--dry-run", action="store_true", help="hitung saja, jangan simpan"
        )

    def handle(self, *args, **options):
        if not 0 < options["threshold"] <= 1:
            raise CommandError("Ambang skor harus di antara 0 dan 1.")
        actor = Actor.system(name="find_duplicates")
        started = time.perf_counter()
        stats = duplicates.Stats()
        try:
            found = duplicates.find_pairs(
                duplicates.residents(actor, kecamatan=options["kecamatan"]),
                threshold=options["threshold"],
                stats=stats,
            )
            added = 0
            if not options["dry_run"]:
                added = duplicates.record_pairs(actor=actor, candidates=found)
        except BalaiError as exc:
            raise CommandError(exc.message) from exc
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{stats.residents} penduduk, {stats.blocks} blok "
            f"({stats.skipped_blocks} terlalu besar dilewati), {stats.compared} "
            f"pasangan dibandingkan, {stats.twins} kembar disisihkan."
        )
        self.stdout.write(
            f"pairs={len(found)} new={added} seconds={seconds:.1f} "
            f"keys={','.join(f'{k}:{v}' for k, v in sorted(stats.keys.items()))}"
        )
