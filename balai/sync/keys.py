"""The dedicated Ed25519 keys of sync: one per node, one for the regency.

Decision (docs/decisions/0008): sync does not reuse the document-signing node
keys of `balai.documents`. Those sign letters citizens carry for years and
are rotated and revoked on that schedule; a sync key authenticates a machine
to the regency and is revoked when the machine is retired or lost. Keeping
them apart means retiring a node never invalidates its letters, and a leaked
sync key never lets anyone sign a letter.

Files under `BALAI_KEY_DIR/sync/` (0600, never in the repository):

    node-ed25519.pem        a node's private key (node side)
    regency.pub             the regency's public key (node side)
    regency-ed25519.pem     the regency's private key (regency side: signs
                            answer bundles for nodes without a link)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings

from balai.sync.protocol import b64, unb64

NODE_KEY_FILE = "node-ed25519.pem"
REGENCY_KEY_FILE = "regency-ed25519.pem"
REGENCY_PUBLIC_FILE = "regency.pub"


class KeyProblem(Exception):
    """A key that cannot be used (message in Indonesian)."""


def key_dir() -> Path:
    return Path(settings.BALAI_KEY_DIR) / "sync"


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def pem_of(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private(path: Path, key: Ed25519PrivateKey, *, replace: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists() and not replace:
        raise KeyProblem(f"Kunci {path.name} sudah ada; tidak ditimpa.")
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem_of(key))
    os.replace(tmp, path)


def read_private(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyProblem(
            f"Kunci sinkron {path.name} tidak ditemukan. Jalankan `balai node_init` "
            "dengan berkas kredensial dari kabupaten."
        ) from exc
    if os.stat(path).st_mode & 0o077:
        raise KeyProblem(f"Izin berkas kunci {path.name} terlalu longgar (chmod 600).")
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem("Kunci sinkron harus Ed25519.")
    return key


def load_pem(data: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem("Kunci sinkron harus Ed25519.")
    return key


def node_key() -> Ed25519PrivateKey:
    return read_private(key_dir() / NODE_KEY_FILE)


def regency_key(*, create: bool = False) -> Ed25519PrivateKey:
    path = key_dir() / REGENCY_KEY_FILE
    if not path.exists() and create:
        write_private(path, Ed25519PrivateKey.generate())
    return read_private(path)


def regency_public() -> bytes | None:
    path = key_dir() / REGENCY_PUBLIC_FILE
    if not path.exists():
        return None
    return unb64(path.read_text(encoding="ascii").strip())


def write_regency_public(raw: bytes) -> None:
    path = key_dir() / REGENCY_PUBLIC_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(b64(raw) + "\n", encoding="ascii")


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return b64(key.sign(message))


def verify(public_raw: bytes, message: bytes, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(unb64(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
