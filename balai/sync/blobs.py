"""Content-addressed files (attachments, issued PDFs, SIAK PDFs) on the move.

A file is named by its SHA-256; both sides store it where its own app keeps
it. Transfers go in ranges and resume: the receiver keeps a `.part` file and
says how much it has; a finished file is hashed before it is put in place, so
a file that arrives damaged is never used.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage

KINDS = ("attachment", "document")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024
MAX_BLOB_BYTES = 64 * 1024 * 1024


class BlobProblem(Exception):
    """A blob that cannot be stored or read (message in Indonesian)."""


def check(kind: str, sha: str) -> None:
    if kind not in KINDS or not HEX64.match(sha or ""):
        raise BlobProblem("Nama berkas tidak sah.")


def final_path(kind: str, sha: str) -> Path:
    check(kind, sha)
    if kind == "attachment":
        return Path(default_storage.path(f"blobs/{sha[:2]}/{sha[2:4]}/{sha}"))
    from balai.documents import storage

    return storage.path_of(sha)


def partial_path(kind: str, sha: str) -> Path:
    check(kind, sha)
    folder = Path(settings.DATA_DIR) / "sync" / "partial"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{kind}-{sha}.part"


def have(kind: str, sha: str) -> bool:
    try:
        return final_path(kind, sha).exists()
    except (BlobProblem, ValueError):
        return False


def received(kind: str, sha: str) -> int:
    """How many bytes of an unfinished transfer are here (0 if none)."""
    path = partial_path(kind, sha)
    return path.stat().st_size if path.exists() else 0


def size_of(kind: str, sha: str) -> int:
    return final_path(kind, sha).stat().st_size


def read_range(kind: str, sha: str, start: int, length: int) -> bytes:
    with final_path(kind, sha).open("rb") as fh:
        fh.seek(start)
        return fh.read(length)


def append(kind: str, sha: str, start: int, data: bytes, total: int) -> int:
    """Add bytes at `start` to an unfinished file; finish it when complete.

    Returns how many bytes are here afterwards (== total once placed).
    A start other than what is here is refused by returning what is here.
    """
    if have(kind, sha):
        return total
    if total > MAX_BLOB_BYTES or total <= 0:
        raise BlobProblem("Ukuran berkas tidak sah.")
    path = partial_path(kind, sha)
    here = path.stat().st_size if path.exists() else 0
    if start != here:
        return here
    if here + len(data) > total:
        raise BlobProblem("Berkas lebih panjang dari ukurannya.")
    with path.open("ab") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    here += len(data)
    if here == total:
        place(kind, sha, path)
    return here


def place(kind: str, sha: str, source: Path) -> None:
    """Verify a finished file's hash and move it into place."""
    digest = hashlib.sha256()
    with source.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    if digest.hexdigest() != sha:
        source.unlink(missing_ok=True)
        raise BlobProblem(
            f"Berkas {sha[:12]} rusak dalam perjalanan (hash tidak cocok); "
            "dikirim ulang pada sinkron berikutnya."
        )
    target = final_path(kind, sha)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    os.chmod(source, 0o640)
    os.replace(source, target)


def refs_in(rows_by_model: dict[str, list[dict]]) -> set[tuple[str, str]]:
    """Every (kind, sha) the rows refer to."""
    from balai.sync import framework

    found: set[tuple[str, str]] = set()
    for label, rows in rows_by_model.items():
        spec = framework.spec_for(label)
        if spec is None or spec.blob_refs is None:
            continue
        for row in rows:
            for kind, sha in spec.blob_refs(row):
                if sha and HEX64.match(str(sha)):
                    found.add((kind, str(sha)))
    return found


def holders(kind: str, sha: str) -> list[tuple[str, str]]:
    """Records referring to a blob, asked of the domains."""
    from balai.documents.appliers import blob_holders as document_holders
    from balai.services.appliers import blob_holders as attachment_holders

    return attachment_holders(kind, sha) + document_holders(kind, sha)


def missing_count() -> dict[str, int]:
    """Rows here whose file is not here (yet): for the status page."""
    from balai.documents.models import IssuedDocument, SiakDocument
    from balai.services.models import Blob

    missing = {"attachment": 0, "document": 0}
    for sha in Blob.objects.values_list("sha256", flat=True).iterator():
        if not have("attachment", sha):
            missing["attachment"] += 1
    for sha in (
        IssuedDocument.objects.exclude(pdf_sha256="")
        .values_list("pdf_sha256", flat=True)
        .iterator()
    ):
        if not have("document", sha):
            missing["document"] += 1
    for sha in SiakDocument.objects.values_list("sha256", flat=True).iterator():
        if not have("document", sha):
            missing["document"] += 1
    return missing
