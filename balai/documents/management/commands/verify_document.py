import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from balai.documents import extract, keys
from balai.documents.trust import build_server_trust, bundle_trust
from balai.documents.verify import INVALID, REVOKED, Verdict, verify_text


class Command(BaseCommand):
    help = (
        "Periksa dokumen Balai tanpa server web: dari teks QR atau dari PDF-nya. "
        "Kepercayaan dari folder kunci dan basis data node ini, atau dari bundel "
        "(--bundle, hasil GET /api/v1/documents/trust). Kode keluar: 0 sah, "
        "1 tidak sah, 2 dicabut."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--qr-text")
        source.add_argument("--pdf", type=Path)
        parser.add_argument("--bundle", type=Path, default=None)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, qr_text, pdf, bundle, json: bool = False, **options):
        store = self._trust(bundle)
        if pdf is not None:
            try:
                data = pdf.read_bytes()
            except OSError as exc:
                raise CommandError(f"PDF tidak dapat dibaca: {exc}") from exc
            texts = extract.qr_texts_from_pdf(data)
            verdicts = [verify_text(t, store) for t in texts[:5]]
            verdict = next(
                (v for v in verdicts if v.status != INVALID),
                verdicts[0]
                if verdicts
                else Verdict(
                    status=INVALID, code="no_qr", reason="Tidak ada QR Balai dalam PDF."
                ),
            )
        else:
            verdict = verify_text(qr_text, store)
        self._print(verdict, as_json=json)
        if verdict.status == INVALID:
            raise CommandError(f"TIDAK SAH: {verdict.reason}", returncode=1)
        if verdict.status == REVOKED:
            raise CommandError(f"DICABUT: {verdict.revocation_reason}", returncode=2)

    def _trust(self, bundle):
        if bundle is None:
            return build_server_trust()
        try:
            return bundle_trust(json_load(bundle))
        except (OSError, ValueError, keys.KeyProblem) as exc:
            raise CommandError(f"Bundel tidak dapat dipakai: {exc}") from exc

    def _print(self, verdict: Verdict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json_dumps(verdict.as_dict()))
            return
        words = {"valid": "SAH", "revoked": "DICABUT", "invalid": "TIDAK SAH"}
        self.stdout.write(f"{words[verdict.status]}: {verdict.reason} [{verdict.code}]")
        for key, value in (verdict.facts or {}).items():
            self.stdout.write(f"  {key}: {value}")
        if verdict.revoked_at:
            self.stdout.write(
                f"  dicabut: {verdict.revoked_at:%Y-%m-%d %H:%M} UTC "
                f"({verdict.revocation_reason})"
            )


def json_load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
