from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from balai.core.errors import BalaiError
from balai.documents import keys
from balai.documents.actions import register_key_revocation
from balai.documents.management.commands._keys import (
    add_root_key_argument,
    load_root,
    parse_moment,
    system_actor,
)
from balai.documents.models import KeyCertificate


class Command(BaseCommand):
    help = (
        "Cabut kunci sebuah node mulai suatu saat: yang ditandatanganinya sejak saat "
        "itu tidak sah, yang sebelumnya tetap sah. Ditandatangani kunci akar."
    )

    def add_arguments(self, parser):
        parser.add_argument("--key-id", required=True)
        parser.add_argument(
            "--at", required=True, help="ISO (WITA bila tanpa zona) atau now"
        )
        parser.add_argument("--reason", default="")
        add_root_key_argument(parser)

    def handle(self, *args, key_id, at, reason, root_key, **options):
        key_id = key_id.strip().lower()
        if not KeyCertificate.objects.filter(key_id=key_id).exists():
            raise CommandError(f"Kunci {key_id} tidak dikenal.")
        root = load_root(root_key)
        statement = keys.make_key_revocation(
            root=root,
            key_id=key_id,
            revoked_at=parse_moment(at),
            reason=" ".join(reason.split())[:300],
            issued_at=timezone.now().replace(microsecond=0),
        )
        try:
            register_key_revocation(
                actor=system_actor(), statement=statement, root_key=root
            )
        except BalaiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Kunci {key_id} dicabut mulai {keys.utc_text(statement.revoked_at)}; "
            "daftar pencabutan baru diterbitkan."
        )
