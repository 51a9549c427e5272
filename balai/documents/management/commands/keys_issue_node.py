import datetime as dt
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from balai.core.nodes import REGENCY_NODE
from balai.documents import conf, keys
from balai.documents.actions import register_certificate
from balai.documents.management.commands._keys import (
    add_root_key_argument,
    describe,
    load_root,
    parse_moment,
    system_actor,
)
from balai.documents.models import KeyCertificate
from balai.regions.models import Region, RegionLevel

KECAMATAN = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")


def check_node(node: str) -> str:
    node = node.strip()
    if node == REGENCY_NODE:
        return node
    if (
        not KECAMATAN.match(node)
        or not Region.objects.filter(code=node, level=RegionLevel.KECAMATAN).exists()
    ):
        raise CommandError(
            f"Node '{node}' bukan 'regency' atau kode kecamatan yang dikenal."
        )
    return node


def issue(*, root, node: str, days: int | None, not_before=None, out_dir=None):
    now = timezone.now().replace(microsecond=0)
    start = not_before or now
    cert = keys.new_node_key(
        root=root,
        node=node,
        not_before=start,
        not_after=start + dt.timedelta(days=days or conf.node_key_days()),
        issued_at=now,
        taken_ids=set(KeyCertificate.objects.values_list("key_id", flat=True)),
        out_dir=out_dir,
    )
    register_certificate(actor=system_actor(), certificate=cert)
    return cert


class Command(BaseCommand):
    help = (
        "Terbitkan kunci tanda tangan untuk satu node (server kabupaten atau "
        "kecamatan): kunci privat 0600 + sertifikat yang ditandatangani kunci akar."
    )

    def add_arguments(self, parser):
        parser.add_argument("--node", required=True)
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--not-before", default=None)
        parser.add_argument(
            "--out", type=Path, default=None, help="Folder tujuan (bawaan: key dir)"
        )
        add_root_key_argument(parser)

    def handle(self, *args, node, days, not_before, out, root_key, **options):
        node = check_node(node)
        root = load_root(root_key)
        start = parse_moment(not_before) if not_before else None
        cert = issue(root=root, node=node, days=days, not_before=start, out_dir=out)
        folder = out or keys.node_dir(node)
        self.stdout.write(
            f"Dibuat: {describe(cert)}. Berkas: {folder}/{cert.key_id}.pem (rahasia, "
            f"0600) dan {cert.key_id}.cert.json; salin keduanya beserta root.pub ke "
            f"folder kunci node itu (documents/nodes/{node}/)."
        )
