from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from balai.documents import keys
from balai.documents.offline import build_html
from balai.documents.trust import export_bundle
from balai.regions.models import Region


class Command(BaseCommand):
    help = (
        "Tulis verifikator luring: satu berkas HTML berisi kunci publik akar, "
        "sertifikat kunci, daftar pencabutan bertanda tangan terbaru dan daftar "
        "kantor; memeriksa Ed25519 di peramban tanpa koneksi."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path)

    def handle(self, *args, out: Path, **options):
        try:
            bundle = export_bundle()
        except keys.KeyProblem as exc:
            raise CommandError(str(exc)) from exc
        regency = Region.objects.filter(code=settings.BALAI_REGENCY).first()
        html = build_html(bundle, regency_name=regency.name if regency else "")
        out.write_text(html, encoding="utf-8")
        listed = bundle["revocation_list"]
        self.stdout.write(
            f"Verifikator luring ditulis ke {out} ({len(html) // 1024} KiB, "
            f"{len(bundle['certificates'])} sertifikat, daftar pencabutan: "
            f"{'ada' if listed else 'belum ada'})."
        )
