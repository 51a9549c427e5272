"""Hashing, signing and checking of audit chains."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings

GENESIS = "0" * 64
KEY_FILE = "audit-ed25519.pem"


def entry_hash(
    *,
    prev_hash: str,
    chain: str,
    at: str,
    actor_id: str,
    actor_name: str,
    office_code: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any],
) -> str:
    """Return the SHA-256 of an entry's canonical JSON, chained to `prev_hash`.

    The sequence number is left out on purpose: order is carried by
    `prev_hash`, so a swap shows as a broken link, not as an edit.
    """
    body = json.dumps(
        {
            "prev": prev_hash,
            "chain": chain,
            "at": at,
            "actor_id": actor_id,
            "actor": actor_name,
            "office": office_code,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def hash_of(entry: Any) -> str:
    """Recompute the hash of a stored entry."""
    return entry_hash(
        prev_hash=entry.prev_hash,
        chain=entry.chain,
        at=canonical_time(entry.at),
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        office_code=entry.office_code,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        details=entry.details,
    )


def canonical_time(value: Any) -> str:
    """Return a timestamp as UTC ISO text with microseconds."""
    from datetime import UTC

    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        raw = self.public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()


def key_path() -> Path:
    return Path(settings.BALAI_KEY_DIR) / KEY_FILE


def load_signing_key(*, create: bool = False) -> SigningKey:
    """Load the checkpoint key from the key folder (0600), making it if asked."""
    path = key_path()
    if not path.exists():
        if not create:
            raise FileNotFoundError(
                f"Kunci tanda tangan audit tidak ditemukan di {path}."
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError("Kunci audit harus Ed25519.")
    return SigningKey(private)


def checkpoint_message(*, chain: str, seq: int, hash_: str, signed_at: str) -> bytes:
    return f"balai-audit-checkpoint|{chain}|{seq}|{hash_}|{signed_at}".encode()


def verify_signature(key: SigningKey, message: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.public.verify(base64.b64decode(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
