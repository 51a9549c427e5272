"""The signed QR payload: one canonical binary encoding, base32 in a URL.

Specified in docs/decisions/0007-document-signatures.md. In short:

    body = version(1) kind(1) date(2) signed_at(4) key_id(4) nik_head(2) nik_tail(2)
           len(1) number  len(1) office_code  len(1) name        (big-endian)
    signature = Ed25519(node key, "balai-document-v1\\n" + body)
    payload = base32(body + signature), RFC 4648 alphabet, upper case, no padding
    QR text = PUBLIC_URL (scheme and host upper-cased) + "/V/" + payload

Everything in the QR is then in the QR alphanumeric set, which keeps a full
letter's facts within version 10 at error correction M. When the name does
not fit it is cut at a character boundary and bit 7 of the kind byte says so.

This module is pure (no database): the server, the command line and the
tests share it, and the offline verifier (JavaScript) mirrors it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
import re
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

import segno

from balai.documents import qrmask
from balai.documents.keys import DOCUMENT_DOMAIN

VERSION = 1
KIND_CODES = {
    "receipt": 1,
    "sktm": 2,
    "domisili": 3,
    "usaha": 4,
    "pengantar": 5,
    "completion": 6,
}
KINDS_BY_CODE = {v: k for k, v in KIND_CODES.items()}
TRUNCATED = 0x80
EPOCH = dt.date(2000, 1, 1)
NO_NIK = 0xFFFF
HEADER = struct.Struct(">BBHI4sHH")
SIGNATURE_BYTES = 64
MIN_BYTES = HEADER.size + 3 + SIGNATURE_BYTES
MAX_TEXT = 2048  # longest text a verifier looks at
MAX_QR_VERSION = 10
QR_ERROR = "m"
# Alphanumeric-mode capacity of a version 10 QR at level M, and byte mode's.
ALNUM_CAPACITY = 311
BYTE_CAPACITY = 213
ALNUM = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
B32 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
MIN_NAME_BYTES = 12
# What a pasted text may be wrapped with (ASCII white space only).
SPACES = re.compile(r"[ \t\n\r\f\v]+")


class PayloadError(ValueError):
    """A QR text that is not a Balai payload; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Facts:
    """What the QR states, signed."""

    kind: str
    number: str
    name: str
    nik_masked: str
    date: dt.date
    office_code: str
    key_id: str
    signed_at: dt.datetime
    name_truncated: bool = False

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "number": self.number,
            "name": self.name,
            "name_truncated": self.name_truncated,
            "nik_masked": self.nik_masked,
            "date": self.date.isoformat(),
            "office_code": self.office_code,
            "key_id": self.key_id,
            "signed_at": self.signed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


@dataclass(frozen=True)
class Parsed:
    facts: Facts
    body: bytes
    signature: bytes

    @property
    def digest(self) -> str:
        return digest_of(self.body)

    @property
    def message(self) -> bytes:
        return DOCUMENT_DOMAIN + self.body


def digest_of(body: bytes) -> str:
    """The document's public id: the first 32 hex digits of SHA-512(body)."""
    return hashlib.sha512(body).hexdigest()[:32]


def mask_nik(nik: str) -> str:
    """`6402011234560012` -> `6402********0012`; anything else -> ''."""
    nik = (nik or "").strip()
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        return ""
    return nik[:4] + "*" * 8 + nik[-4:]


def _nik_parts(masked: str) -> tuple[int, int]:
    if not masked:
        return NO_NIK, NO_NIK
    return int(masked[:4]), int(masked[-4:])


def _printable(text: str) -> bool:
    return all(ord(c) >= 0x20 and not (0x7F <= ord(c) <= 0x9F) for c in text)


def _short(text: str, label: str, limit: int) -> bytes:
    data = text.encode("utf-8")
    if not text or len(data) > limit or not _printable(text):
        raise PayloadError("field_invalid", f"{label} tidak dapat dimuat dalam QR.")
    return data


def encode_body(facts: Facts) -> bytes:
    if facts.kind not in KIND_CODES:
        raise PayloadError("kind_unknown", "Jenis dokumen tidak dikenal.")
    number = _short(facts.number, "Nomor dokumen", 64)
    office = _short(facts.office_code, "Kode kantor", 32)
    name = _short(facts.name, "Nama", 255)
    key_id = bytes.fromhex(facts.key_id)
    days = (facts.date - EPOCH).days
    seconds = int(facts.signed_at.timestamp())
    if len(key_id) != 4 or not 0 < days < 0xFFFF or not 0 < seconds < 2**32:
        raise PayloadError("field_invalid", "Tanggal atau kunci di luar jangkauan.")
    head, tail = _nik_parts(facts.nik_masked)
    kind = KIND_CODES[facts.kind] | (TRUNCATED if facts.name_truncated else 0)
    return (
        HEADER.pack(VERSION, kind, days, seconds, key_id, head, tail)
        + bytes([len(number)])
        + number
        + bytes([len(office)])
        + office
        + bytes([len(name)])
        + name
    )


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def url_prefix(public_url: str) -> str:
    """The QR text before the payload: scheme and host upper-cased, + '/V/'."""
    parts = urlsplit(public_url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PayloadError("config", "BALAI_PUBLIC_URL harus berupa alamat http(s).")
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path}/V/"


def _capacity_bytes(prefix: str) -> int:
    """How many payload bytes fit after `prefix` in a version-10 M QR."""
    if set(prefix) <= ALNUM:
        chars = ALNUM_CAPACITY - len(prefix)
    else:
        chars = BYTE_CAPACITY - len(prefix.encode("utf-8"))
    return math.floor(chars * 5 / 8)


def _cut(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore").rstrip()


def fit_name(*, name: str, number: str, office_code: str, prefix: str) -> str:
    """Return the longest start of `name` whose payload still fits the QR."""
    room = (
        _capacity_bytes(prefix)
        - MIN_BYTES
        - len(number.encode("utf-8"))
        - len(office_code.encode("utf-8"))
    )
    if room < MIN_NAME_BYTES:
        raise PayloadError(
            "config",
            "Alamat publik atau nomor dokumen terlalu panjang untuk QR versi 10.",
        )
    return _cut(name, min(room, 255))


def make_qr(text: str) -> segno.QRCode:
    """The QR of a payload URL: level M, never a bigger version than 10."""
    qr = qrmask.make(text, error=QR_ERROR)
    if qr.version > MAX_QR_VERSION:
        raise PayloadError("too_big", f"QR versi {qr.version} melebihi versi 10.")
    return qr


@dataclass(frozen=True)
class Signed:
    facts: Facts
    payload: str
    url: str
    digest: str


def sign(*, facts: Facts, signer, public_url: str) -> Signed:
    """Sign the facts (cutting the name to fit) and return the QR text."""
    prefix = url_prefix(public_url)
    fitted = fit_name(
        name=facts.name,
        number=facts.number,
        office_code=facts.office_code,
        prefix=prefix,
    )
    if fitted != facts.name:
        facts = Facts(**{**facts.__dict__, "name": fitted, "name_truncated": True})
    body = encode_body(facts)
    signature = signer.sign(DOCUMENT_DOMAIN + body)
    payload = b32(body + signature)
    return Signed(
        facts=facts, payload=payload, url=prefix + payload, digest=digest_of(body)
    )


# --- reading ----------------------------------------------------------------------


def extract_payload(text: object) -> str:
    """Return the base32 payload of a QR text (a URL or the bare payload)."""
    if not isinstance(text, str):
        raise PayloadError("not_text", "Isi QR harus berupa teks.")
    if len(text) > MAX_TEXT:
        raise PayloadError("too_long", "Teks terlalu panjang untuk QR dokumen Balai.")
    compact = SPACES.sub("", text)
    if not compact:
        raise PayloadError("empty", "Teks QR kosong.")
    if not compact.isascii():
        raise PayloadError(
            "bad_encoding", "Teks ini bukan QR dokumen Balai (pengodean salah)."
        )
    upper = compact.upper()
    cut = upper.rfind("/V/")
    if cut >= 0:
        upper = upper[cut + 3 :]
    if not upper or not set(upper) <= B32:
        raise PayloadError(
            "bad_encoding", "Teks ini bukan QR dokumen Balai (pengodean salah)."
        )
    return upper


def decode(text: object) -> Parsed:
    """Parse a QR text into facts, body and signature, strictly; never trusts it."""
    payload = extract_payload(text)
    if len(payload) % 8 in (1, 3, 6):
        raise PayloadError("truncated", "Teks QR terpotong atau tidak lengkap.")
    try:
        raw = base64.b32decode(payload + "=" * (-len(payload) % 8))
    except ValueError as exc:
        raise PayloadError("bad_encoding", "Pengodean base32 tidak sah.") from exc
    if b32(raw) != payload:
        raise PayloadError("bad_encoding", "Pengodean base32 tidak kanonik.")
    if len(raw) < MIN_BYTES:
        raise PayloadError("truncated", "Teks QR terpotong atau tidak lengkap.")
    body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    version, kind_byte, days, seconds, key_id, head, tail = HEADER.unpack_from(body)
    if version != VERSION:
        raise PayloadError("version", f"Versi QR {version} tidak dikenal.")
    kind = KINDS_BY_CODE.get(kind_byte & ~TRUNCATED)
    if kind is None:
        raise PayloadError("kind_unknown", "Jenis dokumen dalam QR tidak dikenal.")
    strings = []
    pos = HEADER.size
    for _field in range(3):
        if pos >= len(body):
            raise PayloadError("truncated", "Teks QR terpotong atau tidak lengkap.")
        size = body[pos]
        chunk = body[pos + 1 : pos + 1 + size]
        if len(chunk) != size or size == 0:
            raise PayloadError("truncated", "Teks QR terpotong atau tidak lengkap.")
        try:
            value = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError("bad_text", "Teks dalam QR tidak sah.") from exc
        if not _printable(value):
            raise PayloadError("bad_text", "Teks dalam QR memuat karakter kendali.")
        strings.append(value)
        pos += 1 + size
    if pos != len(body):
        raise PayloadError("trailing", "QR memuat data tambahan yang tidak dikenal.")
    number, office_code, name = strings
    if not (number.isascii() and office_code.isascii()):
        raise PayloadError("bad_text", "Nomor atau kode kantor tidak sah.")
    if (head == NO_NIK) != (tail == NO_NIK) or (
        head != NO_NIK and (head > 9999 or tail > 9999)
    ):
        raise PayloadError("bad_nik", "NIK dalam QR tidak sah.")
    if days == 0 or seconds == 0:
        raise PayloadError("bad_date", "Tanggal dalam QR tidak sah.")
    facts = Facts(
        kind=kind,
        number=number,
        name=name,
        nik_masked="" if head == NO_NIK else f"{head:04d}{'*' * 8}{tail:04d}",
        date=EPOCH + dt.timedelta(days=days),
        office_code=office_code,
        key_id=key_id.hex(),
        signed_at=dt.datetime.fromtimestamp(seconds, tz=dt.UTC),
        name_truncated=bool(kind_byte & TRUNCATED),
    )
    return Parsed(facts=facts, body=body, signature=signature)
