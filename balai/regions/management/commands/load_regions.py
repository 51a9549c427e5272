from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.regions.actions import REGIONS_CSV, ensure_offices, load_regions


class Command(BaseCommand):
    help = "Muat wilayah Kemendagri kabupaten ini dan kantor-kantornya (aman diulang)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=REGIONS_CSV)

    def handle(self, *args, **options):
        actor = Actor.system(name="load_regions")
        try:
            regions = load_regions(actor=actor, path=options["file"])
            offices = ensure_offices(actor=actor)
        except BalaiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"wilayah: {regions.created} baru, {regions.updated} diubah, "
            f"{regions.unchanged} tetap; kantor: {offices.created} baru, "
            f"{offices.unchanged} tetap"
        )
