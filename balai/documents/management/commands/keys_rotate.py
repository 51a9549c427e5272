from django.conf import settings
from django.core.management.base import BaseCommand

from balai.documents import keys
from balai.documents.management.commands._keys import (
    add_root_key_argument,
    describe,
    load_root,
)
from balai.documents.management.commands.keys_issue_node import check_node, issue


class Command(BaseCommand):
    help = (
        "Ganti kunci tanda tangan sebuah node (bawaan: node ini). Sertifikat kunci "
        "lama tetap disimpan, jadi dokumen lama tetap sah; kunci privat lama di "
        "mesin ini dihapus kecuali --keep-old."
    )

    def add_arguments(self, parser):
        parser.add_argument("--node", default=None)
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--keep-old", action="store_true")
        add_root_key_argument(parser)

    def handle(self, *args, node, days, keep_old, root_key, **options):
        node = check_node(node or settings.BALAI_NODE)
        root = load_root(root_key)
        old = keys.node_private_keys(node)
        cert = issue(root=root, node=node, days=days)
        self.stdout.write(f"Dibuat: {describe(cert)}.")
        for key_id, path in old.items():
            if keep_old:
                self.stdout.write(f"Kunci lama {key_id} disimpan (--keep-old).")
                continue
            path.unlink()
            self.stdout.write(
                f"Kunci privat lama {key_id} dihapus; sertifikatnya tetap berlaku "
                "untuk memeriksa dokumen lama."
            )
