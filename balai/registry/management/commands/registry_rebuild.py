"""`balai registry_rebuild [--check]`: rebuild residents and KKs from their events."""

from django.core.management.base import BaseCommand, CommandError

from balai.core.actors import Actor
from balai.registry.actions import repair_projection
from balai.registry.rebuild import check

SHOWN = 200


class Command(BaseCommand):
    help = (
        "Bangun ulang data penduduk dan KK dari peristiwanya. Dengan --check hanya "
        "memeriksa: keluar dengan kode bukan nol dan menyebut setiap data yang "
        "berbeda. Tanpa --check memperbaiki data yang berbeda."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="hanya periksa, jangan ubah apa pun",
        )

    def handle(self, *args, **options):
        if options["check"]:
            differences = check()
            self._list(differences)
            if differences:
                raise CommandError(
                    f"{len(differences)} data tidak sesuai dengan peristiwanya."
                )
            self.stdout.write("Semua data penduduk dan KK sesuai dengan peristiwanya.")
            return
        differences = repair_projection(actor=Actor.system(name="registry_rebuild"))
        self._list(differences)
        broken = [d for d in differences if d.problem]
        repaired = len(differences) - len(broken)
        self.stdout.write(f"{repaired} data diperbaiki dari peristiwanya.")
        if broken:
            raise CommandError(
                f"{len(broken)} data tidak dapat dibangun ulang dari peristiwanya; "
                "periksa riwayatnya."
            )

    def _list(self, differences):
        for difference in differences[:SHOWN]:
            self.stdout.write(difference.describe())
        if len(differences) > SHOWN:
            self.stdout.write(f"… dan {len(differences) - SHOWN} lagi")
