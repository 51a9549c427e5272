import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from balai.core.nodes import REGENCY_NODE
from balai.documents import conf, keys
from balai.documents.actions import register_certificate
from balai.documents.management.commands._keys import (
    add_root_key_argument,
    describe,
    system_actor,
)


class Command(BaseCommand):
    help = (
        "Buat kunci akar dokumen kabupaten (Ed25519, berkas 0600) dan, kecuali "
        "--no-node-key, kunci tanda tangan server kabupaten yang disertifikasinya."
    )

    def add_arguments(self, parser):
        add_root_key_argument(parser)
        parser.add_argument("--no-node-key", action="store_true")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Tidak berbuat apa-apa bila kunci akar sudah ada (untuk demo/skrip).",
        )
        parser.add_argument("--days", type=int, default=None)

    def handle(
        self,
        *args,
        root_key=None,
        no_node_key=False,
        days=None,
        if_missing=False,
        **options,
    ):
        if if_missing and (
            keys.load_root_public() is not None
            or (root_key or keys.root_key_path()).exists()
        ):
            self.stdout.write("Kunci akar sudah ada; tidak ada yang diubah.")
            return
        try:
            root = keys.create_root_key(root_key)
        except keys.KeyProblem as exc:
            raise CommandError(str(exc)) from exc
        public = keys.raw_public(root.public_key())
        self.stdout.write(
            f"Kunci akar dibuat (publik {keys.b64(public)}). Simpan berkas privatnya "
            "di tempat aman/luring; server hanya memerlukan root.pub."
        )
        if no_node_key:
            return
        now = timezone.now().replace(microsecond=0)
        cert = keys.new_node_key(
            root=root,
            node=REGENCY_NODE,
            not_before=now,
            not_after=now + dt.timedelta(days=days or conf.node_key_days()),
            issued_at=now,
        )
        register_certificate(actor=system_actor(), certificate=cert)
        self.stdout.write(f"Dibuat: {describe(cert)}.")
