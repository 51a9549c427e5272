from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from balai.core.nodes import REGENCY_NODE


class Command(BaseCommand):
    help = "Pensiunkan node kecamatan: sinkron berikutnya darinya ditolak."

    def add_arguments(self, parser):
        parser.add_argument("node")
        parser.add_argument("--note", default="")
        parser.add_argument(
            "--force", action="store_true", help="walau masih ada antrean"
        )

    def handle(self, *args, **options):
        from balai.core.actors import Actor
        from balai.sync.actions import retire_node
        from balai.sync.models import PendingChange, SyncNode

        if settings.BALAI_NODE != REGENCY_NODE:
            raise CommandError("Perintah ini dijalankan di server kabupaten.")
        node = SyncNode.objects.filter(pk=options["node"]).first()
        if node is None:
            raise CommandError("Node tidak terdaftar.")
        waiting = PendingChange.objects.filter(node=node.name).count()
        if (waiting or node.backlog) and not options["force"]:
            raise CommandError(
                f"Node {node.name} masih punya {node.backlog or 0} perubahan di "
                f"antrean dan {waiting} tertunda di kabupaten. Sinkronkan dulu, atau "
                "--force."
            )
        retire_node(
            actor=Actor.system(name="node_retire"), name=node.name, note=options["note"]
        )
        self.stdout.write(f"node {node.name} dipensiunkan")
