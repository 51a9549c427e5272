"""The wire format of node <-> regency sync (docs/decisions/0008-sync-protocol.md).

Bodies are JSON, gzip-compressed; every node request is signed with the
node's Ed25519 sync key over

    balai-sync-v1 \\n METHOD \\n PATH \\n QUERY \\n TIMESTAMP \\n NODE \\n SHA256(BODY)

(the body as sent, i.e. compressed). Headers carry the node, the timestamp
(Unix seconds on the regency's clock as the node estimates it), the
signature and the protocol version.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib
from typing import Any

PROTOCOL_VERSION = 1
# Versions this code can talk to (a regency may accept an older node).
COMPATIBLE = frozenset({1})
SIGN_DOMAIN = "balai-sync-v1"
BUNDLE_FORMAT = "balai-sync-bundle-v1"
ANSWER_FORMAT = "balai-sync-answer-v1"

H_NODE = "X-Balai-Node"
H_TIME = "X-Balai-Timestamp"
H_SIGNATURE = "X-Balai-Signature"
H_PROTOCOL = "X-Balai-Protocol"

# A request whose timestamp is further than this from the regency's clock is
# refused (the node corrects its own clock's skew first, from /sync/time).
MAX_CLOCK_WINDOW_SECONDS = 300
# A compressed body may not expand beyond this (zip bombs).
MAX_BODY_BYTES = 256 * 1024 * 1024
MAX_COMPRESSED_BYTES = 24 * 1024 * 1024


class ProtocolError(Exception):
    """A message that does not follow the protocol (message in Indonesian)."""

    def __init__(self, message: str, *, code: str = "protocol", status: int = 400):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def incompatible_message(theirs: Any, *, side: str) -> str:
    """Explain a version mismatch to an operator, in Indonesian."""
    return (
        f"Versi protokol sinkron tidak cocok: {side} memakai versi {theirs}, "
        f"perangkat ini versi {PROTOCOL_VERSION}. Perbarui Balai di node agar "
        "sama dengan versi di kabupaten, lalu jalankan sinkron lagi. Tidak ada "
        "data yang dikirim atau diubah."
    )


def check_version(value: Any, *, side: str) -> int:
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise ProtocolError(
            "Versi protokol sinkron tidak disebutkan.", code="protocol_missing"
        ) from None
    if version not in COMPATIBLE:
        raise ProtocolError(
            incompatible_message(version, side=side),
            code="protocol_mismatch",
            status=426,
        )
    return version


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def encode_body(value: Any, *, level: int = 5) -> bytes:
    return gzip.compress(dumps(value), compresslevel=level, mtime=0)


def decode_body(data: bytes, *, encoding: str = "gzip") -> Any:
    """Decompress (bounded) and parse a body; refuse anything malformed."""
    if len(data) > MAX_COMPRESSED_BYTES:
        raise ProtocolError("Kiriman terlalu besar.", code="too_large", status=413)
    if encoding == "gzip":
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(data, MAX_BODY_BYTES)
        except zlib.error as exc:
            raise ProtocolError("Kiriman rusak (gzip).", code="bad_gzip") from exc
        if inflater.unconsumed_tail:
            raise ProtocolError("Kiriman terlalu besar.", code="too_large", status=413)
    else:
        raw = data
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("Kiriman bukan JSON yang sah.", code="bad_json") from exc


def body_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signing_message(
    *, method: str, path: str, query: str, timestamp: str, node: str, body: bytes
) -> bytes:
    return "\n".join(
        [SIGN_DOMAIN, method.upper(), path, query, timestamp, node, body_digest(body)]
    ).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def change_digest(model: str, object_id: str, op: str, payload: Any) -> str:
    """What identifies one change's content (restore detection, duplicates)."""
    return hashlib.sha256(
        canonical({"m": model, "o": object_id, "op": op, "p": payload})
    ).hexdigest()


# --- small validators for what arrives -------------------------------------------


def need(cond: bool, message: str) -> None:
    if not cond:
        raise ProtocolError(message, code="bad_message")


def as_int(value: Any, name: str, *, minimum: int = 0) -> int:
    need(
        isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
        f"Kolom {name} harus bilangan bulat >= {minimum}.",
    )
    return value


def as_str(value: Any, name: str, *, max_length: int = 64) -> str:
    need(
        isinstance(value, str) and len(value) <= max_length,
        f"Kolom {name} harus teks paling panjang {max_length}.",
    )
    return value
