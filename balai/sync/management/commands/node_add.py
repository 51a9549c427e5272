from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from balai.core.nodes import REGENCY_NODE


class Command(BaseCommand):
    help = (
        "Daftarkan node kecamatan di kabupaten dan tulis berkas kredensialnya "
        "(kunci sinkron node); kunci lama node itu, bila ada, diganti."
    )

    def add_arguments(self, parser):
        parser.add_argument("node", help="kode kecamatan, mis. 64.02.12")
        parser.add_argument(
            "--out", required=True, type=Path, help="berkas kredensial (rahasia)"
        )
        parser.add_argument(
            "--url", default="", help="alamat kabupaten untuk dicatat di kredensial"
        )

    def handle(self, *args, **options):
        from balai.core.actors import Actor
        from balai.regions.models import Region, RegionLevel
        from balai.sync import keys
        from balai.sync.actions import register_node
        from balai.sync.bootstrap import write_credential
        from balai.sync.protocol import b64

        if settings.BALAI_NODE != REGENCY_NODE:
            raise CommandError("Node didaftarkan di server kabupaten.")
        name = options["node"]
        if not Region.objects.filter(code=name, level=RegionLevel.KECAMATAN).exists():
            raise CommandError(f"{name} bukan kode kecamatan yang dikenal.")
        private = Ed25519PrivateKey.generate()
        public = keys.raw_public(private)
        register_node(
            actor=Actor.system(name="node_add"),
            name=name,
            public_key=b64(public),
            key_id=keys.key_id(public),
        )
        write_credential(
            options["out"], node=name, private_key=private, url=options["url"]
        )
        self.stdout.write(
            f"node {name} terdaftar (kunci {keys.key_id(public)}); kredensial di "
            f"{options['out']}. Bawa berkas ini ke node dengan aman, lalu hapus."
        )
        if name not in settings.BALAI_KECAMATAN_NODES:
            self.stdout.write(
                self.style.WARNING(
                    f"Tambahkan {name} ke BALAI_KECAMATAN_NODES di kabupaten, agar "
                    "kabupaten tidak lagi menulis data kantor yang dilayani node ini."
                )
            )
