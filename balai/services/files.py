"""Uploaded files: the type is read from the content (never the name or the
browser's word), the size is capped, images are re-encoded without metadata,
and the bytes are stored once under their SHA-256, outside the web root.

Only PDF, JPEG and PNG are taken. A PDF is refused when it carries scripts or
launch actions; an image is decoded by Pillow and written again from its
pixels, which drops EXIF (GPS position, camera serial) and anything appended.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from balai.core.errors import BalaiError

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
ALLOWED = (PDF, JPEG, PNG)
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Pixels beyond this are refused (a decompression bomb fills memory).
MAX_PIXELS = 40_000_000
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia)\b")


def max_bytes() -> int:
    return int(getattr(settings, "BALAI_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def sniff(head: bytes) -> str | None:
    """Return the content type told by the first bytes, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def read_limited(upload: IO[bytes] | bytes) -> bytes:
    """Read at most the limit plus one byte; refuse anything larger."""
    limit = max_bytes()
    if isinstance(upload, bytes | bytearray):
        data = bytes(upload)
    else:
        seekable = getattr(upload, "seekable", None)
        if callable(seekable) and seekable():
            upload.seek(0)
        data = upload.read(limit + 1)
    if len(data) > limit:
        raise BalaiError(
            f"Berkas terlalu besar. Ukuran maksimal {limit // (1024 * 1024)} MB.",
            code="file_too_large",
            extra={"max_bytes": limit},
            status_code=413,
        )
    if not data:
        raise BalaiError("Berkas kosong.", code="file_empty")
    return data


def _refuse_type() -> BalaiError:
    return BalaiError(
        "Jenis berkas tidak diterima. Unggah PDF, JPEG, atau PNG.",
        code="file_type_refused",
        status_code=415,
    )


def _clean_pdf(data: bytes) -> bytes:
    if b"%%EOF" not in data[-2048:]:
        raise BalaiError("Berkas PDF tidak utuh.", code="file_pdf_broken")
    if _PDF_ACTIVE.search(data):
        raise BalaiError(
            "PDF ini memuat skrip atau lampiran tersembunyi dan tidak dapat "
            "diterima. Cetak ulang sebagai PDF biasa.",
            code="file_pdf_active",
            status_code=415,
        )
    return data


def _clean_image(data: bytes, content_type: str) -> bytes:
    fmt = "JPEG" if content_type == JPEG else "PNG"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != fmt:
                    raise _refuse_type()
                if probe.width * probe.height > MAX_PIXELS:
                    raise BalaiError(
                        "Gambar terlalu besar (piksel).", code="file_too_large"
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                # Apply the EXIF orientation, then drop every bit of metadata.
                image = ImageOps.exif_transpose(image)
                # Pixels only: a new image from the raw bytes carries no info.
                clean = Image.frombytes(image.mode, image.size, image.tobytes())
                if image.mode == "P" and image.getpalette():
                    clean.putpalette(image.getpalette())
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BalaiError(
            "Gambar rusak atau bukan gambar yang sah.", code="file_image_broken"
        ) from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise BalaiError(
            "Gambar terlalu besar (piksel).", code="file_too_large"
        ) from exc
    out = io.BytesIO()
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        clean.save(out, format="JPEG", quality=88, optimize=True)
    else:
        clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def clean_upload(upload: IO[bytes] | bytes) -> CleanFile:
    """Check an upload and return its clean bytes, type and hash."""
    data = read_limited(upload)
    content_type = sniff(data[:16])
    if content_type is None:
        raise _refuse_type()
    data = _clean_pdf(data) if content_type == PDF else _clean_image(data, content_type)
    return CleanFile(
        content=data,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def store_blob_bytes(name: str, content: bytes) -> None:
    """Write content under its storage name once (content-addressed)."""
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(content))


def open_blob(name: str):
    return default_storage.open(name, "rb")
