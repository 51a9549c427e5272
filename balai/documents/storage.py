"""A content-addressed store for PDFs, outside the web root.

A blob's name is the SHA-256 of its bytes (`ab/cd/abcd...pdf`), so the same
PDF is kept once, a name says exactly what it holds, and sync can ship blobs
by hash. Writes go to a temporary file and are renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from balai.documents import conf

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def path_of(sha256: str) -> Path:
    if not HEX64.match(sha256 or ""):
        raise ValueError("not a sha256")
    return conf.store_dir() / sha256[:2] / sha256[2:4] / f"{sha256}.pdf"


def put(data: bytes) -> str:
    """Store `data` and return its SHA-256 (hex); storing twice is a no-op."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_of(digest)
    if target.exists() and target.stat().st_size == len(data):
        return digest
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def get(sha256: str) -> bytes:
    """Return a blob's bytes, checking they still hash to their name."""
    data = path_of(sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OSError(f"blob {sha256[:12]} rusak (hash tidak cocok)")
    return data


def exists(sha256: str) -> bool:
    try:
        return path_of(sha256).exists()
    except ValueError:
        return False
