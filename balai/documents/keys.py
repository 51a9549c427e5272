"""Document signing keys: the regency root key, node keys and their certificates.

Layout under `BALAI_KEY_DIR/documents/` (never inside the repository):

    root/root-ed25519.pem        root private key (0600); may live offline instead
    root.pub                     root public key (base64 of the 32 raw bytes)
    nodes/<node>/<key_id>.pem    a node's private signing key (0600)
    nodes/<node>/<key_id>.cert.json  its certificate (public)

A certificate is the canonical JSON of
`{key_id, public_key, node, not_before, not_after, issued_at}` signed by the
root. A key revocation is the canonical JSON of
`{key_id, revoked_at, reason, issued_at}` signed by the root. Each signature
covers a fixed domain prefix plus the text, so no signature made for one
purpose is accepted for another. Private keys are never logged or printed.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from balai.documents import conf

CERT_DOMAIN = b"balai-key-certificate-v1\n"
KEY_REVOCATION_DOMAIN = b"balai-key-revocation-v1\n"
REVOCATION_LIST_DOMAIN = b"balai-revocation-list-v1\n"
DOCUMENT_DOMAIN = b"balai-document-v1\n"
ROOT_SIGNER = "root"
CERT_FIELDS = ("issued_at", "key_id", "node", "not_after", "not_before", "public_key")
KEY_REVOCATION_FIELDS = ("issued_at", "key_id", "reason", "revoked_at")


class KeyProblem(Exception):
    """A key or certificate that cannot be used (message in Indonesian)."""


# --- encodings --------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, ASCII only: one text for one value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def utc_text(value: dt.datetime) -> str:
    """A moment as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds)."""
    if value.tzinfo is None:
        raise ValueError("aware datetime needed")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> dt.datetime:
    if not isinstance(text, str) or len(text) != 20 or not text.endswith("Z"):
        raise ValueError("bad timestamp")
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_raw: bytes) -> str:
    """The 8-hex-digit id of a public key: SHA-512 of its 32 bytes, first 4 bytes.

    (SHA-512 because Ed25519 needs it anyway: a verifier carries one hash.)
    The QR carries these 4 bytes.
    """
    return hashlib.sha512(public_raw).hexdigest()[:8]


def verify_raw(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- certificates -----------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    key_id: str
    node: str
    public_key: bytes
    not_before: dt.datetime
    not_after: dt.datetime
    issued_at: dt.datetime
    text: str
    signature: str

    def valid_at(self, moment: dt.datetime) -> bool:
        return self.not_before <= moment <= self.not_after

    def as_file(self) -> dict[str, str]:
        return {"certificate": self.text, "signature": self.signature}


def make_certificate(
    *,
    root: Ed25519PrivateKey,
    public_raw: bytes,
    node: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    issued_at: dt.datetime,
) -> Certificate:
    body = {
        "issued_at": utc_text(issued_at),
        "key_id": key_id_of(public_raw),
        "node": node,
        "not_after": utc_text(not_after),
        "not_before": utc_text(not_before),
        "public_key": b64(public_raw),
    }
    text = canonical_json(body)
    signature = b64(root.sign(CERT_DOMAIN + text.encode("ascii")))
    return parse_certificate(text, signature, root_public=raw_public(root.public_key()))


def parse_certificate(text: str, signature: str, *, root_public: bytes) -> Certificate:
    """Check a certificate against the root key and return it; raise if bad."""
    try:
        sig = unb64(signature)
        message = CERT_DOMAIN + text.encode("ascii")
    except (ValueError, UnicodeEncodeError) as exc:
        raise KeyProblem("Sertifikat kunci rusak.") from exc
    if not verify_raw(root_public, sig, message):
        raise KeyProblem("Tanda tangan sertifikat kunci tidak sah.")
    try:
        body = json.loads(text)
        if not isinstance(body, dict) or tuple(sorted(body)) != CERT_FIELDS:
            raise ValueError("fields")
        public_raw = unb64(body["public_key"])
        if len(public_raw) != 32 or key_id_of(public_raw) != body["key_id"]:
            raise ValueError("key")
        cert = Certificate(
            key_id=body["key_id"],
            node=str(body["node"]),
            public_key=public_raw,
            not_before=parse_utc(body["not_before"]),
            not_after=parse_utc(body["not_after"]),
            issued_at=parse_utc(body["issued_at"]),
            text=text,
            signature=signature,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyProblem("Isi sertifikat kunci tidak sah.") from exc
    if canonical_json(body) != text:
        raise KeyProblem("Sertifikat kunci tidak kanonik.")
    return cert


@dataclass(frozen=True)
class KeyRevocationStatement:
    key_id: str
    revoked_at: dt.datetime
    reason: str
    issued_at: dt.datetime
    text: str
    signature: str


def make_key_revocation(
    *,
    root: Ed25519PrivateKey,
    key_id: str,
    revoked_at: dt.datetime,
    reason: str,
    issued_at: dt.datetime,
) -> KeyRevocationStatement:
    text = canonical_json(
        {
            "issued_at": utc_text(issued_at),
            "key_id": key_id,
            "reason": reason,
            "revoked_at": utc_text(revoked_at),
        }
    )
    signature = b64(root.sign(KEY_REVOCATION_DOMAIN + text.encode("ascii")))
    return parse_key_revocation(
        text, signature, root_public=raw_public(root.public_key())
    )


def parse_key_revocation(
    text: str, signature: str, *, root_public: bytes
) -> KeyRevocationStatement:
    try:
        ok = verify_raw(
            root_public, unb64(signature), KEY_REVOCATION_DOMAIN + text.encode("ascii")
        )
    except (ValueError, UnicodeEncodeError) as exc:
        raise KeyProblem("Pernyataan pencabutan kunci rusak.") from exc
    if not ok:
        raise KeyProblem("Tanda tangan pencabutan kunci tidak sah.")
    try:
        body = json.loads(text)
        if not isinstance(body, dict) or tuple(sorted(body)) != KEY_REVOCATION_FIELDS:
            raise ValueError("fields")
        return KeyRevocationStatement(
            key_id=str(body["key_id"]),
            revoked_at=parse_utc(body["revoked_at"]),
            reason=str(body["reason"]),
            issued_at=parse_utc(body["issued_at"]),
            text=text,
            signature=signature,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyProblem("Isi pencabutan kunci tidak sah.") from exc


# --- files --------------------------------------------------------------------------


def root_key_path() -> Path:
    return conf.key_dir() / "root" / "root-ed25519.pem"


def root_public_path() -> Path:
    return conf.key_dir() / "root.pub"


def node_dir(node: str) -> Path:
    if not node or "/" in node or node.startswith("."):
        raise KeyProblem("Nama node tidak sah.")
    return conf.key_dir() / "nodes" / node


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(path, 0o600)


def _read_private(path: Path) -> Ed25519PrivateKey:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise KeyProblem(f"Kunci privat tidak dapat dibaca: {path.name}.") from exc
    if info.st_mode & 0o077:
        raise KeyProblem(
            f"Izin berkas kunci {path.name} terlalu longgar; harus 0600 (chmod 600)."
        )
    # Every receipt and letter is signed with it: parsed once per version of
    # the file (a replaced or rewritten key file is read again).
    return _parsed_private(
        str(path), info.st_ino, info.st_mtime_ns, info.st_size, info.st_mode
    )


@functools.lru_cache(maxsize=16)
def _parsed_private(
    path: str, _ino: int, _mtime_ns: int, _size: int, _mode: int
) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyProblem(
            f"Kunci privat tidak dapat dibaca: {Path(path).name}."
        ) from exc
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem("Kunci harus Ed25519.")
    return key


def create_root_key(path: Path | None = None) -> Ed25519PrivateKey:
    """Make the root key (refusing to overwrite one) and publish its public key."""
    path = path or root_key_path()
    if path.exists():
        raise KeyProblem("Kunci akar sudah ada; tidak ditimpa.")
    key = Ed25519PrivateKey.generate()
    _write_private(path, key)
    write_root_public(raw_public(key.public_key()))
    return key


def write_root_public(public_raw: bytes) -> None:
    target = root_public_path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.write_text(b64(public_raw) + "\n", encoding="ascii")


def load_root_key(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or root_key_path()
    if not path.exists():
        raise KeyProblem(
            "Kunci akar tidak ditemukan. Jalankan `balai keys_init_root` atau "
            "tunjuk berkasnya dengan --root-key."
        )
    return _read_private(path)


def load_root_public() -> bytes | None:
    path = root_public_path()
    if not path.exists():
        return None
    raw = unb64(path.read_text(encoding="ascii").strip())
    if len(raw) != 32:
        raise KeyProblem("Kunci publik akar rusak.")
    return raw


def new_node_key(
    *,
    root: Ed25519PrivateKey,
    node: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    issued_at: dt.datetime,
    taken_ids: set[str] | frozenset[str] = frozenset(),
    out_dir: Path | None = None,
) -> Certificate:
    """Make a node key, certify it, and write key (0600) and certificate."""
    if not_after <= not_before:
        raise KeyProblem("Masa berlaku kunci tidak sah.")
    for _attempt in range(16):
        private = Ed25519PrivateKey.generate()
        public_raw = raw_public(private.public_key())
        if key_id_of(public_raw) not in taken_ids:
            break
    else:  # pragma: no cover - 16 collisions of 32-bit ids in a row
        raise KeyProblem("Tidak dapat membuat id kunci yang unik.")
    cert = make_certificate(
        root=root,
        public_raw=public_raw,
        node=node,
        not_before=not_before,
        not_after=not_after,
        issued_at=issued_at,
    )
    folder = out_dir or node_dir(node)
    _write_private(folder / f"{cert.key_id}.pem", private)
    (folder / f"{cert.key_id}.cert.json").write_text(
        canonical_json(cert.as_file()) + "\n", encoding="ascii"
    )
    return cert


def certificate_files() -> list[tuple[str, str]]:
    """Return (certificate text, signature) of every certificate file found."""
    found = []
    base = conf.key_dir() / "nodes"
    if not base.exists():
        return found
    for path in sorted(base.glob("*/*.cert.json")):
        try:
            data = json.loads(path.read_text(encoding="ascii"))
            found.append((str(data["certificate"]), str(data["signature"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


@dataclass(frozen=True)
class NodeSigner:
    """A node's private key together with its certificate."""

    private: Ed25519PrivateKey
    cert: Certificate

    @property
    def key_id(self) -> str:
        return self.cert.key_id

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def node_private_keys(node: str) -> dict[str, Path]:
    """Return {key_id: path} of the private keys this machine holds for `node`."""
    folder = node_dir(node)
    if not folder.exists():
        return {}
    return {p.name.removesuffix(".pem"): p for p in sorted(folder.glob("*.pem"))}


def load_signer(
    *,
    node: str,
    certs: dict[str, Certificate],
    revoked: dict[str, dt.datetime],
    at: dt.datetime,
) -> NodeSigner:
    """Pick the newest key of `node` that is certified, current and not revoked."""
    usable = []
    for key_id, path in node_private_keys(node).items():
        cert = certs.get(key_id)
        if cert is None or cert.node != node or not cert.valid_at(at):
            continue
        revoked_at = revoked.get(key_id)
        if revoked_at is not None and revoked_at <= at:
            continue
        usable.append((cert.not_before, cert.issued_at, key_id, path, cert))
    if not usable:
        raise KeyProblem(
            f"Node {node} tidak memiliki kunci tanda tangan yang berlaku. "
            "Minta kunci baru ke kabupaten (balai keys_issue_node)."
        )
    *_, path, cert = max(usable, key=lambda u: (u[0], u[1], u[2]))
    private = _read_private(path)
    if raw_public(private.public_key()) != cert.public_key:
        raise KeyProblem("Kunci privat tidak cocok dengan sertifikatnya.")
    return NodeSigner(private=private, cert=cert)
