from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from balai.core.nodes import REGENCY_NODE


class Command(BaseCommand):
    help = (
        "Cabut kunci sinkron node (mesin hilang atau dicuri): setiap permintaan "
        "dengan kunci itu ditolak. Daftarkan ulang dengan balai node_add."
    )

    def add_arguments(self, parser):
        parser.add_argument("node")
        parser.add_argument("--reason", default="")

    def handle(self, *args, **options):
        from balai.core.actors import Actor
        from balai.core.errors import NotFound
        from balai.sync.actions import revoke_node_key

        if settings.BALAI_NODE != REGENCY_NODE:
            raise CommandError("Perintah ini dijalankan di server kabupaten.")
        try:
            revoke_node_key(
                actor=Actor.system(name="node_revoke"),
                name=options["node"],
                reason=options["reason"],
            )
        except NotFound as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"kunci sinkron node {options['node']} dicabut")
