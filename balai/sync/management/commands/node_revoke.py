from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

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
        from balai.sync.models import NodeStatus, SyncNode

        if settings.BALAI_NODE != REGENCY_NODE:
            raise CommandError("Perintah ini dijalankan di server kabupaten.")
        updated = SyncNode.objects.filter(pk=options["node"]).update(
            status=NodeStatus.REVOKED,
            revoked_at=timezone.now(),
            status_note=options["reason"][:255],
        )
        if not updated:
            raise CommandError("Node tidak terdaftar.")
        self.stdout.write(f"kunci sinkron node {options['node']} dicabut")
