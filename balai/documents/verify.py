"""Checking a QR text against what the verifier trusts: valid, revoked or invalid.

Pure: the trust store (root public key, certificates, key revocations,
document revocations, the offices and their regions) is handed in, from the
database (`balai.documents.trust.server_trust`) or from an exported bundle
(`trust.bundle_trust`). Nothing here raises on bad input: every failure is an
"invalid" verdict with a reason code and an Indonesian message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from balai.documents.keys import (
    REVOCATION_LIST_DOMAIN,
    ROOT_SIGNER,
    Certificate,
    KeyProblem,
    KeyRevocationStatement,
    parse_key_revocation,
    parse_utc,
    unb64,
    verify_raw,
)
from balai.documents.payload import PayloadError, decode

VALID, REVOKED, INVALID = "valid", "revoked", "invalid"
REGENCY_NODE = "regency"
# A document "signed" further in the future than this is refused.
CLOCK_SKEW = dt.timedelta(days=1)

KIND_LABELS = {
    "receipt": "Tanda Terima",
    "sktm": "Surat Keterangan Tidak Mampu",
    "domisili": "Surat Keterangan Domisili",
    "usaha": "Surat Keterangan Usaha",
    "pengantar": "Surat Pengantar",
    "completion": "Bukti Penyelesaian Layanan",
}


@dataclass(frozen=True)
class DocRevocation:
    revoked_at: dt.datetime
    reason: str


@dataclass
class TrustStore:
    """What a verifier trusts; every certificate here already passed the root."""

    root_public: bytes | None
    certs: dict[str, Certificate] = field(default_factory=dict)
    key_revocations: dict[str, KeyRevocationStatement] = field(default_factory=dict)
    doc_revocations: dict[str, DocRevocation] = field(default_factory=dict)
    # Extra lookup for revocations not in the dict (the database on a server).
    revocation_lookup: Callable[[str], DocRevocation | None] | None = None
    # office code -> (region code, office name)
    offices: dict[str, tuple[str, str]] = field(default_factory=dict)
    list_issued_at: dt.datetime | None = None

    def revocation_of(self, digest: str) -> DocRevocation | None:
        found = self.doc_revocations.get(digest)
        if found is None and self.revocation_lookup is not None:
            found = self.revocation_lookup(digest)
        return found


@dataclass
class Verdict:
    status: str
    code: str
    reason: str
    facts: dict[str, Any] | None = None
    digest: str = ""
    node: str = ""
    revoked_at: dt.datetime | None = None
    revocation_reason: str = ""
    list_issued_at: dt.datetime | None = None

    @property
    def is_valid(self) -> bool:
        return self.status == VALID

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "code": self.code,
            "reason": self.reason,
            "facts": self.facts,
            "digest": self.digest,
            "node": self.node,
            "revoked_at": _iso(self.revoked_at),
            "revocation_reason": self.revocation_reason,
            "revocation_list_issued_at": _iso(self.list_issued_at),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _invalid(code: str, reason: str, **kw: Any) -> Verdict:
    return Verdict(status=INVALID, code=code, reason=reason, **kw)


def node_may_sign_for(node: str, region_code: str) -> bool:
    """The regency key signs for any office; a kecamatan key for its own only."""
    if node == REGENCY_NODE:
        return True
    return region_code == node or region_code.startswith(node + ".")


def verify_text(
    text: object, trust: TrustStore, *, now: dt.datetime | None = None
) -> Verdict:
    """Verify a QR text; never raises on any input."""
    try:
        return _verify(text, trust, now=now or dt.datetime.now(dt.UTC))
    except Exception as exc:  # pragma: no cover - a bug must not become a 500
        import logging

        logging.getLogger(__name__).exception("verifier failed")
        return _invalid(
            "error", _("QR tidak dapat diperiksa.") + f" ({type(exc).__name__})"
        )


def _verify(text: object, trust: TrustStore, *, now: dt.datetime) -> Verdict:
    try:
        parsed = decode(text)
    except PayloadError as exc:
        return _invalid(exc.code, exc.message)
    facts = parsed.facts
    shown = facts.as_dict()
    shown["kind_label"] = KIND_LABELS.get(facts.kind, facts.kind)
    office = trust.offices.get(facts.office_code)
    if office:
        shown["office_name"] = office[1]
    common = {"digest": parsed.digest, "list_issued_at": trust.list_issued_at}
    if trust.root_public is None:
        return _invalid(
            "no_trust_anchor",
            _("Verifikator belum memiliki kunci akar kabupaten."),
            **common,
        )
    cert = trust.certs.get(facts.key_id)
    if cert is None:
        return _invalid(
            "unknown_key",
            _("Kunci penanda tangan tidak bersertifikat dari kabupaten."),
            **common,
        )
    common["node"] = cert.node
    if not verify_raw(cert.public_key, parsed.signature, parsed.message):
        return _invalid(
            "bad_signature",
            _("Tanda tangan tidak cocok: isi QR telah diubah atau dipalsukan."),
            **common,
        )
    # From here on the facts are the signer's own words.
    common["facts"] = shown
    if not cert.valid_at(facts.signed_at):
        return _invalid(
            "outside_validity",
            _("Ditandatangani di luar masa berlaku sertifikat kunci."),
            **common,
        )
    if facts.signed_at > now + CLOCK_SKEW:
        return _invalid("future", _("Waktu tanda tangan ada di masa depan."), **common)
    if office is None:
        return _invalid("unknown_office", _("Kantor penerbit tidak dikenal."), **common)
    if not node_may_sign_for(cert.node, office[0]):
        return _invalid(
            "wrong_node",
            _("Kunci node %(node)s tidak berwenang untuk kantor ini.")
            % {"node": cert.node},
            **common,
        )
    key_revocation = trust.key_revocations.get(facts.key_id)
    if key_revocation is not None and facts.signed_at >= key_revocation.revoked_at:
        return _invalid(
            "key_revoked",
            _("Ditandatangani setelah kunci penanda tangan dicabut."),
            revoked_at=key_revocation.revoked_at,
            revocation_reason=key_revocation.reason,
            **common,
        )
    revocation = trust.revocation_of(parsed.digest)
    if revocation is not None:
        return Verdict(
            status=REVOKED,
            code="revoked",
            reason=_("Dokumen ini telah dicabut oleh penerbitnya."),
            revoked_at=revocation.revoked_at,
            revocation_reason=revocation.reason,
            **common,
        )
    return Verdict(
        status=VALID,
        code="valid",
        reason=_("Dokumen sah: ditandatangani oleh kunci resmi kabupaten."),
        **common,
    )


# --- revocation lists -------------------------------------------------------------


@dataclass(frozen=True)
class RevocationListContent:
    seq: int
    issued_at: dt.datetime
    signer: str
    documents: dict[str, DocRevocation]
    keys: dict[str, KeyRevocationStatement]


def read_revocation_list(
    wrapper: dict[str, Any],
    *,
    root_public: bytes,
    certs: dict[str, Certificate],
    key_revocations: dict[str, KeyRevocationStatement] | None = None,
) -> RevocationListContent:
    """Check a published revocation list's signature and read it; raise if bad.

    It must be signed by the root, or by a regency key that was certified,
    current and not revoked when the list was issued.
    """
    try:
        text = wrapper["list"]
        signer = wrapper["signer"]
        signature = unb64(wrapper["signature"])
        body = json.loads(text)
        issued_at = parse_utc(body["issued_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyProblem("Daftar pencabutan rusak.") from exc
    if signer == ROOT_SIGNER:
        public = root_public
    else:
        cert = certs.get(signer)
        revoked = (key_revocations or {}).get(signer)
        if (
            cert is None
            or cert.node != REGENCY_NODE
            or not cert.valid_at(issued_at)
            or (revoked is not None and revoked.revoked_at <= issued_at)
        ):
            raise KeyProblem("Penanda tangan daftar pencabutan tidak berwenang.")
        public = cert.public_key
    if not verify_raw(public, signature, REVOCATION_LIST_DOMAIN + text.encode()):
        raise KeyProblem("Tanda tangan daftar pencabutan tidak sah.")
    try:
        documents = {
            str(d["digest"]): DocRevocation(
                revoked_at=parse_utc(d["revoked_at"]), reason=str(d["reason"])
            )
            for d in body["documents"]
        }
        keys = {}
        for item in body["keys"]:
            statement = parse_key_revocation(
                item["statement"], item["signature"], root_public=root_public
            )
            keys[statement.key_id] = statement
        return RevocationListContent(
            seq=int(body["seq"]),
            issued_at=issued_at,
            signer=signer,
            documents=documents,
            keys=keys,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyProblem("Isi daftar pencabutan tidak sah.") from exc
