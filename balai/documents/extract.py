"""Finding a QR text in what a citizen uploads: a photo, or a PDF.

From a PDF the text is taken, in order, from its metadata (Balai writes
`balai-qr:<url>` into the keywords), its text layer, its embedded images, and
last from a rendering of its first pages (poppler's `pdftoppm`). Whatever is
found is only a candidate: it is verified like any pasted text. Every step is
bounded (size, pixels, pages, time) and never raises on bad files.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000
MAX_SIDE = 2400
MAX_PAGES = 3
RENDER_SECONDS = 20
URL_RE = re.compile(r"(?i)https?://[^\s\"'<>]{1,200}?/v/[a-z2-7]{40,600}")
MARK = "balai-qr:"


def _zxing():
    try:
        import zxingcpp
    except ImportError:  # pragma: no cover - optional at run time
        return None
    return zxingcpp


def available() -> bool:
    return _zxing() is not None


def qr_texts_from_image(data: bytes) -> list[str]:
    """Decode every QR code in an image (PNG, JPEG, ...)."""
    zxingcpp = _zxing()
    if zxingcpp is None:
        return []
    try:
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return []
            image.draft("L", (MAX_SIDE, MAX_SIDE))
            picture = image.convert("L")
        return _decode(picture, zxingcpp)
    except Exception:
        log.info("image not readable as a QR photo", exc_info=True)
        return []


def _decode(picture, zxingcpp) -> list[str]:
    if max(picture.size) > MAX_SIDE:
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
    found = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    return [r.text for r in found if r.text]


def texts_in(text: str) -> list[str]:
    return [m.group(0) for m in URL_RE.finditer(text or "")]


def qr_texts_from_pdf(data: bytes) -> list[str]:
    """Candidate QR texts in a PDF, best source first (duplicates removed)."""
    found: list[str] = []
    found += _from_pdf_structure(data)
    if not found:
        found += _from_rendering(data)
    seen, unique = set(), []
    for text in found:
        if text not in seen:
            seen.add(text)
            unique.append(text)
    return unique


def _from_pdf_structure(data: bytes) -> list[str]:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - optional at run time
        return []
    found: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        meta = reader.metadata or {}
        for key in ("/Keywords", "/Subject"):
            value = str(meta.get(key) or "")
            for part in value.replace(",", " ").split():
                if part.startswith(MARK):
                    found.append(part[len(MARK) :])
        if found:
            return found
        zxingcpp = _zxing()
        for page in reader.pages[:MAX_PAGES]:
            found += texts_in(page.extract_text() or "")
            if found or zxingcpp is None:
                continue
            for image in page.images[:10]:
                found += _decode(image.image.convert("L"), zxingcpp)
    except Exception:
        log.info("PDF structure not readable", exc_info=True)
    return found


def _from_rendering(data: bytes) -> list[str]:
    pdftoppm = shutil.which("pdftoppm")
    zxingcpp = _zxing()
    if pdftoppm is None or zxingcpp is None:
        return []
    found: list[str] = []
    with tempfile.TemporaryDirectory(prefix="balai-verify-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(data)
        try:
            subprocess.run(
                [
                    pdftoppm,
                    "-r",
                    "200",
                    "-gray",
                    "-png",
                    "-f",
                    "1",
                    "-l",
                    str(MAX_PAGES),
                    str(source),
                    str(Path(tmp) / "page"),
                ],
                check=True,
                timeout=RENDER_SECONDS,
                capture_output=True,
            )
        except (subprocess.SubprocessError, OSError):
            return []
        for page in sorted(Path(tmp).glob("page*.png")):
            found += qr_texts_from_image(page.read_bytes())
    return found
