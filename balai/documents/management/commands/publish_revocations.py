from django.core.management.base import BaseCommand, CommandError

from balai.core.errors import BalaiError
from balai.documents.actions import publish_revocation_list
from balai.documents.management.commands._keys import (
    add_root_key_argument,
    load_root,
    system_actor,
)


class Command(BaseCommand):
    help = (
        "Terbitkan daftar pencabutan bertanda tangan (kunci kabupaten; atau kunci "
        "akar dengan --with-root)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--with-root", action="store_true")
        add_root_key_argument(parser)

    def handle(self, *args, with_root, root_key, **options):
        root = load_root(root_key) if (with_root or root_key) else None
        try:
            row = publish_revocation_list(actor=system_actor(), root_key=root)
        except BalaiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Daftar pencabutan #{row.seq} diterbitkan ({row.signer}).")
