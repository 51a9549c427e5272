"""Letters: HTML templates (files an administrator edits) to A4 PDF (WeasyPrint).

Templates live in `templates/documents/letters/`; a folder named by the
setting `BALAI_LETTER_TEMPLATE_DIR` is searched first, so an administrator can
change a letter without touching Python. The context every template gets is
documented in `templates/documents/letters/README.md`.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template import Context, Engine
from django.template.exceptions import TemplateDoesNotExist, TemplateSyntaxError

from balai.core.dates import long_date
from balai.core.errors import BalaiError
from balai.documents import conf
from balai.documents.payload import make_qr

BUILTIN_DIR = Path(__file__).resolve().parent / "templates" / "documents" / "letters"


def tanggal(value: Any) -> str:
    """`2026-11-12` -> `12 November 2026` (the date as letters print it)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return "" if value is None else str(value)
    return long_date(value)


def format_nip(nip: str) -> str:
    """`198001012005011001` -> `19800101 200501 1 001` (the printed NIP)."""
    nip = (nip or "").strip()
    if len(nip) != 18 or not nip.isdigit():
        return nip
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"


def template_dirs() -> list[Path]:
    dirs = []
    custom = conf.letter_template_dir()
    if custom is not None:
        dirs.append(custom)
    dirs.append(BUILTIN_DIR)
    return dirs


_engines: dict[tuple, Engine] = {}
_engines_lock = threading.Lock()


def _templates_signature() -> tuple:
    """Every file under the template folders, with its size and mtime.

    Stat-ing a few files costs microseconds; parsing the templates again
    costs ~10 ms a letter. Any edit, new or removed file changes this.
    """
    entries = []
    for folder in template_dirs():
        entries.append(("dir", str(folder)))
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def engine() -> Engine:
    """A template engine for letters only: the override folder, then ours.

    Compiled templates are kept while no file under the template folders
    changes, so an edited template still takes effect on the next letter.
    """
    signature = _templates_signature()
    with _engines_lock:
        cached = _engines.get(signature)
        if cached is None:
            _engines.clear()
            cached = _engines[signature] = Engine(
                dirs=[str(d) for d in template_dirs()],
                loaders=[
                    (
                        "django.template.loaders.cached.Loader",
                        ["django.template.loaders.filesystem.Loader"],
                    )
                ],
                autoescape=True,
                debug=False,
                builtins=["balai.documents.templatetags.letters"],
                string_if_invalid="",
            )
    return cached


def template_name(kind: str) -> str:
    return f"{kind}.html"


def template_source(kind: str) -> Path:
    """The file a kind's letter is rendered from (override first)."""
    for folder in template_dirs():
        path = folder / template_name(kind)
        if path.exists():
            return path
    raise BalaiError(
        f"Templat surat '{template_name(kind)}' tidak ditemukan.",
        code="template_missing",
    )


def render_html(kind: str, context: dict[str, Any]) -> str:
    try:
        template = engine().get_template(template_name(kind))
        return template.render(Context(context, autoescape=True))
    except TemplateDoesNotExist as exc:
        raise BalaiError(
            f"Templat surat '{template_name(kind)}' tidak ditemukan.",
            code="template_missing",
        ) from exc
    except TemplateSyntaxError as exc:
        raise BalaiError(
            f"Templat surat '{template_name(kind)}' rusak: {exc}",
            code="template_invalid",
        ) from exc


def _allowed_file(path: Path) -> bool:
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return any(resolved.is_relative_to(d.resolve()) for d in template_dirs())


def _fetcher():
    """Let letters load data: URIs and files beside the templates, nothing else."""
    from weasyprint.urls import URLFetcher

    class LetterFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "file" and not _allowed_file(Path(unquote(parts.path))):
                raise ValueError(f"Berkas tidak diizinkan dalam surat: {url[:80]}")
            return super().fetch(url, headers)

    return LetterFetcher(allowed_protocols={"data", "file"}, timeout=5)


_local = threading.local()


def _font_config():
    """One font configuration per thread (building one costs ~10 ms a letter)."""
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


def write_pdf(html: str, *, title: str, qr_text: str) -> bytes:
    from weasyprint import HTML

    base = template_dirs()[0]
    document = HTML(
        string=html, base_url=base.as_uri() + "/", url_fetcher=_fetcher()
    ).render(font_config=_font_config())
    document.metadata.title = title
    document.metadata.authors = ["Balai"]
    # The payload travels in the PDF metadata too, so a verifier can read it
    # without decoding the QR image (it is verified all the same).
    document.metadata.keywords = [f"balai-qr:{qr_text}"]
    document.metadata.generator = "Balai"
    return document.write_pdf()


def qr_image(qr_text: str) -> str:
    """The QR as an SVG data URI (vector: sharp at any print size).

    A PNG would save WeasyPrint ~10 ms a letter (no path to parse and paint),
    but a low-resolution scan of a PNG QR (pdftoppm at 100-110 dpi, blurred,
    as in the photocopy test) decodes far less often than the vector one, so
    the vector stays.
    """
    return make_qr(qr_text).svg_data_uri(scale=1, border=4, dark="#000", light="#fff")


def render_letter(kind: str, context: dict[str, Any]) -> bytes:
    """Render one letter to PDF bytes; `context` follows the README."""
    html = render_html(kind, context)
    return write_pdf(html, title=context["doc"]["title"], qr_text=context["qr_text"])


def letter_context(
    *,
    kind: str,
    kind_label: str,
    office: Any,
    number: str,
    signed_on: dt.date,
    signed_at: dt.datetime,
    subject: dict[str, Any],
    facts: dict[str, Any],
    signer: dict[str, Any],
    qr_text: str,
    nik_masked: str,
    application_ref: str,
    issued_by: str,
) -> dict[str, Any]:
    """Build the documented template context of a letter."""
    head = letterhead(office)
    return {
        "doc": {
            "kind": kind,
            "title": kind_label,
            "number": number,
            "date": signed_on,
            "date_text": tanggal(signed_on),
            "place": head["place"],
            "place_date": f"{head['place']}, {tanggal(signed_on)}",
            "signed_at": signed_at,
            "application_ref": application_ref,
            "issued_by": issued_by,
        },
        "office": {
            "code": office.code,
            "name": office.name,
            "short_name": office.short_name,
            "kind": office.kind,
            "address": office.address,
            "phone": office.phone,
            "email": office.email,
            "region_code": office.region_id,
        },
        "letterhead": head,
        "subject": subject,
        "nik_masked": nik_masked,
        "facts": facts,
        "signer": {**signer, "nip_text": format_nip(signer.get("nip", ""))},
        "qr_text": qr_text,
        "qr_image": qr_image(qr_text),
        "verify_url": conf.public_url() + "/verifikasi",
    }


def letterhead(office: Any) -> dict[str, Any]:
    """The kop surat: government, unit lines, address and the place of issue."""
    from balai.regions.models import OfficeKind, Region

    regency = Region.objects.filter(code=settings.BALAI_REGENCY).first()
    regency_name = regency.name if regency else settings.BALAI_REGENCY
    region = office.region
    lines = [f"PEMERINTAH KABUPATEN {regency_name.upper()}"]
    if office.kind == OfficeKind.REGENCY:
        unit = office.name.replace(f" Kabupaten {regency_name}", "")
        lines.append(unit.upper())
        place = conf.regency_seat()
    elif office.kind == OfficeKind.MPP:
        lines.append(f"KECAMATAN {region.name.upper()}")
        place = region.name
    else:
        label = "DESA" if office.kind == OfficeKind.DESA else "KELURAHAN"
        kecamatan = region.parent.name if region.parent_id else ""
        if kecamatan:
            lines.append(f"KECAMATAN {kecamatan.upper()}")
        lines.append(f"{label} {region.name.upper()}")
        place = region.name
    contact = ", ".join(
        part
        for part in (
            office.address,
            f"Kode Pos {region.postal_code}" if region.postal_code else "",
            f"Telp. {office.phone}" if office.phone else "",
            office.email,
        )
        if part
    )
    return {"lines": lines, "contact": contact, "place": place}
