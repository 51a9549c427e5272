from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Siapkan node kecamatan: pasang kunci sinkron dari berkas kredensial "
        "kabupaten, ambil snapshot data yang boleh dipegang node, mulai sinkron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--regency",
            required=True,
            help="alamat server kabupaten, mis. https://balai.kukarkab.go.id",
        )
        parser.add_argument(
            "--node", required=True, help="kode kecamatan, mis. 64.02.12"
        )
        parser.add_argument(
            "--credential", required=True, type=Path, help="berkas dari balai node_add"
        )
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, **options):
        from balai.sync.bootstrap import init_node
        from balai.sync.client import SyncError

        if not options["no_migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        try:
            init_node(
                url=options["regency"],
                node=options["node"],
                credential=options["credential"],
                log=self.stdout.write,
            )
        except SyncError as exc:
            raise CommandError(exc.message) from exc
