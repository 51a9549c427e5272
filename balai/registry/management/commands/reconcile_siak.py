"""`balai reconcile_siak PATH`: compare a SIAK export with the register."""

from django.core.management.base import BaseCommand, CommandError

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.registry.reconcile import run_reconciliation


class Command(BaseCommand):
    help = (
        "Bandingkan ekspor SIAK dengan register: penduduk yang hanya ada di SIAK, "
        "yang hanya ada di Balai, dan data yang berbeda. Tidak ada yang diubah: "
        "petugas meninjau daftar di halaman rekonsiliasi."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="ekspor SIAK (csv, xlsx, xls)")
        parser.add_argument(
            "--user", default="", help="jalankan sebagai petugas ini (wilayah kerjanya)"
        )
        parser.add_argument("--office", default="", help="kantor petugas (--user)")

    def handle(self, *args, **options):
        actor = Actor.system(name="reconcile_siak")
        if options["user"]:
            from balai.accounts.models import User
            from balai.accounts.selectors import actor_for

            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"Petugas {options['user']} tidak ada.")
            actor = actor_for(user=user, office_code=options["office"] or None)
        try:
            run = run_reconciliation(actor=actor, path=options["path"])
        except BalaiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Rekonsiliasi {run.pk}: {run.rows} baris SIAK, "
            f"{len(run.villages)} desa/kelurahan, "
            f"{run.rows_unreadable} baris tidak terbaca."
        )
        self.stdout.write(
            f"only_siak={run.only_siak} only_balai={run.only_balai} "
            f"differences={run.differences}"
        )
