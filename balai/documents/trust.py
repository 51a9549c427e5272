"""Where a verifier's trust comes from: this server (key folder + database) or
an exported bundle (the offline verifier and `verify_document --bundle`).

The root public key is read from the key folder, never from the database:
certificates and revocation statements may come from anywhere (database,
files, sync) because each is checked against the root before it is used.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from django.db import transaction

from balai.documents import keys
from balai.documents.keys import Certificate, KeyProblem, KeyRevocationStatement
from balai.documents.models import (
    DocumentRevocation,
    KeyCertificate,
    KeyRevocation,
    RevocationList,
)
from balai.documents.verify import (
    DocRevocation,
    RevocationListContent,
    TrustStore,
    read_revocation_list,
)

log = logging.getLogger(__name__)
CACHE_SECONDS = 30
_lock = threading.Lock()
_cache: dict[str, Any] = {"at": 0.0, "store": None}


def invalidate() -> None:
    """Forget the cached trust store (after a key or revocation changes)."""
    with _lock:
        _cache["store"] = None


def invalidate_on_commit() -> None:
    transaction.on_commit(invalidate)


def load_certificates(root_public: bytes) -> dict[str, Certificate]:
    """Every certificate in the database and the key folder that the root signed."""
    found: dict[str, Certificate] = {}
    sources = [
        (c.certificate, c.signature)
        for c in KeyCertificate.objects.only("certificate", "signature")
    ]
    sources += keys.certificate_files()
    for text, signature in sources:
        try:
            cert = keys.parse_certificate(text, signature, root_public=root_public)
        except KeyProblem:
            log.warning("certificate ignored: not signed by this regency's root")
            continue
        found[cert.key_id] = cert
    return found


def load_key_revocations(root_public: bytes) -> dict[str, KeyRevocationStatement]:
    found: dict[str, KeyRevocationStatement] = {}
    for row in KeyRevocation.objects.only("statement", "signature"):
        try:
            statement = keys.parse_key_revocation(
                row.statement, row.signature, root_public=root_public
            )
        except KeyProblem:
            log.warning("key revocation ignored: not signed by the root")
            continue
        found[statement.key_id] = statement
    return found


def latest_list(
    root_public: bytes,
    certs: dict[str, Certificate],
    key_revocations: dict[str, KeyRevocationStatement],
) -> RevocationListContent | None:
    row = RevocationList.objects.order_by("-seq").first()
    if row is None:
        return None
    try:
        return read_revocation_list(
            wrapper_of(row),
            root_public=root_public,
            certs=certs,
            key_revocations=key_revocations,
        )
    except KeyProblem:
        log.warning("stored revocation list %s does not verify", row.seq)
        return None


def wrapper_of(row: RevocationList) -> dict[str, str]:
    return {"list": row.body, "signature": row.signature, "signer": row.signer}


def _db_revocation(digest: str) -> DocRevocation | None:
    row = (
        DocumentRevocation.objects.filter(digest=digest)
        .only("revoked_at", "reason")
        .first()
    )
    if row is None:
        return None
    return DocRevocation(revoked_at=row.revoked_at, reason=row.reason)


def _office_map() -> dict[str, tuple[str, str]]:
    from balai.regions.models import Office

    return {
        code: (region, name)
        for code, region, name in Office.objects.values_list(
            "code", "region_id", "name"
        )
    }


def build_server_trust() -> TrustStore:
    root_public = keys.load_root_public()
    if root_public is None:
        return TrustStore(root_public=None, offices=_office_map())
    certs = load_certificates(root_public)
    key_revocations = load_key_revocations(root_public)
    published = latest_list(root_public, certs, key_revocations)
    doc_revocations: dict[str, DocRevocation] = {}
    list_issued_at = None
    if published is not None:
        doc_revocations = dict(published.documents)
        for key_id, statement in published.keys.items():
            key_revocations.setdefault(key_id, statement)
        list_issued_at = published.issued_at
    return TrustStore(
        root_public=root_public,
        certs=certs,
        key_revocations=key_revocations,
        doc_revocations=doc_revocations,
        revocation_lookup=_db_revocation,
        offices=_office_map(),
        list_issued_at=list_issued_at,
    )


def server_trust() -> TrustStore:
    """This server's trust store, cached for a few seconds per process.

    Document revocations are looked up in the database on every check, so a
    revocation counts at once; certificates and key revocations within
    CACHE_SECONDS (at once in the process that made them).
    """
    with _lock:
        store = _cache["store"]
        if store is not None and time.monotonic() - _cache["at"] < CACHE_SECONDS:
            return store
    store = build_server_trust()
    with _lock:
        _cache["store"], _cache["at"] = store, time.monotonic()
    return store


# --- bundles (offline) ------------------------------------------------------------

BUNDLE_FORMAT = "balai-trust-v1"


def export_bundle() -> dict[str, Any]:
    """What an offline verifier needs: root key, certificates, revocations, offices."""
    root_public = keys.load_root_public()
    if root_public is None:
        raise KeyProblem("Kunci publik akar belum ada (balai keys_init_root).")
    certs = load_certificates(root_public)
    key_revocations = load_key_revocations(root_public)
    row = RevocationList.objects.order_by("-seq").first()
    return {
        "format": BUNDLE_FORMAT,
        "exported_at": keys.utc_text(dt.datetime.now(dt.UTC)),
        "root_public_key": keys.b64(root_public),
        "certificates": [
            c.as_file() for c in sorted(certs.values(), key=lambda c: c.key_id)
        ],
        "key_revocations": [
            {"statement": s.text, "signature": s.signature}
            for s in sorted(key_revocations.values(), key=lambda s: s.key_id)
        ],
        "revocation_list": wrapper_of(row) if row is not None else None,
        "offices": {code: list(v) for code, v in sorted(_office_map().items())},
    }


def bundle_trust(bundle: dict[str, Any]) -> TrustStore:
    """A trust store from an exported bundle; refuses a bundle that is not one."""
    try:
        if bundle.get("format") != BUNDLE_FORMAT:
            raise KeyProblem("Berkas ini bukan bundel kepercayaan Balai.")
        root_public = keys.unb64(bundle["root_public_key"])
        certs = {}
        for item in bundle["certificates"]:
            try:
                cert = keys.parse_certificate(
                    item["certificate"], item["signature"], root_public=root_public
                )
            except KeyProblem:
                continue
            certs[cert.key_id] = cert
        key_revocations = {}
        for item in bundle.get("key_revocations") or []:
            try:
                s = keys.parse_key_revocation(
                    item["statement"], item["signature"], root_public=root_public
                )
            except KeyProblem:
                continue
            key_revocations[s.key_id] = s
        offices = {
            str(code): (str(v[0]), str(v[1]))
            for code, v in (bundle.get("offices") or {}).items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise KeyProblem("Bundel kepercayaan rusak.") from exc
    store = TrustStore(
        root_public=root_public,
        certs=certs,
        key_revocations=key_revocations,
        offices=offices,
    )
    if bundle.get("revocation_list"):
        published = read_revocation_list(
            bundle["revocation_list"],
            root_public=root_public,
            certs=certs,
            key_revocations=key_revocations,
        )
        store.doc_revocations = dict(published.documents)
        for key_id, statement in published.keys.items():
            store.key_revocations.setdefault(key_id, statement)
        store.list_issued_at = published.issued_at
    return store
