"""Reads of the documents app, scoped to the caller; deliveries are logged."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from balai.accounts.models import Role
from balai.audit.actions import log_access
from balai.audit.models import AccessPurpose
from balai.core.actors import Actor
from balai.core.errors import BalaiError, NotFound
from balai.documents import storage
from balai.documents.models import IssuedDocument, RevocationList, SiakDocument
from balai.documents.trust import server_trust
from balai.documents.verify import Verdict, verify_text

STAFF_READ_ROLES = (
    Role.COUNTER_OFFICER,
    Role.REGISTRY_OFFICER,
    Role.REGISTRAR,
    Role.SERVICE_ADMIN,
    Role.LEADER,
    Role.AUDITOR,
    Role.SYSADMIN,
)
DELIVERY_WHAT = ("download", "print")


def issued_documents(*, actor: Actor) -> QuerySet[IssuedDocument]:
    """Documents of the offices the actor covers, newest first."""
    actor.require_role(*STAFF_READ_ROLES)
    return (
        IssuedDocument.objects.filter(actor.scope_q("office__region_id"))
        .select_related("office", "revocation")
        .order_by("-signed_at")
    )


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound() from exc


def issued_document(*, actor: Actor, document_id: Any) -> IssuedDocument:
    """One issued document the actor may see (staff in scope, or its citizen)."""
    pk = _uuid(document_id)
    document = IssuedDocument.objects.select_related("office").filter(pk=pk).first()
    if document is None:
        raise NotFound()
    if actor.is_citizen:
        own = str(document.subject.get("resident_id") or "")
        if not actor.resident_id or own != str(actor.resident_id):
            raise NotFound()
        return document
    if not actor.has_role(*STAFF_READ_ROLES):
        raise NotFound()
    actor.require_covers(document.office.region_id)
    return document


def issued_pdf(
    *, actor: Actor, document_id: Any, what: str = "download"
) -> tuple[IssuedDocument, bytes]:
    """The stored PDF of an issued letter; the read is written to the access log."""
    if what not in DELIVERY_WHAT:
        raise BalaiError("Jenis akses tidak dikenal.", code="invalid")
    document = issued_document(actor=actor, document_id=document_id)
    data = _issued_bytes(document)
    _log(actor, document, what)
    return document, data


def siak_documents_of(*, actor: Actor, resident_id: Any) -> QuerySet[SiakDocument]:
    """The SIAK documents kept for a resident (a citizen sees only his own)."""
    rid = _uuid(resident_id)
    qs = SiakDocument.objects.filter(subject_resident_id=rid).order_by("-created_at")
    if actor.is_citizen:
        return qs if actor.resident_id == rid else qs.none()
    actor.require_role(*STAFF_READ_ROLES)
    if actor.sees_everything:
        return qs
    return qs.filter(actor.scope_q("region_code"))


def siak_document(*, actor: Actor, document_id: Any) -> SiakDocument:
    document = SiakDocument.objects.filter(pk=_uuid(document_id)).first()
    if document is None:
        raise NotFound()
    if actor.is_citizen:
        if actor.resident_id != document.subject_resident_id:
            raise NotFound()
        return document
    if not actor.has_role(*STAFF_READ_ROLES):
        raise NotFound()
    actor.require_covers(document.region_code or None)
    return document


def deliver_siak(
    *, actor: Actor, document_id: Any, what: str
) -> tuple[SiakDocument, bytes]:
    """The SIAK PDF for download or counter print, written to the access log."""
    if what not in DELIVERY_WHAT:
        raise BalaiError("Jenis akses tidak dikenal.", code="invalid")
    if what == "print" and actor.is_citizen:
        raise NotFound()
    document = siak_document(actor=actor, document_id=document_id)
    data = _blob(document.sha256)
    _log(actor, _subject_of(document), what)
    return document, data


def _blob(sha256: str) -> bytes:
    try:
        return storage.get(sha256)
    except (OSError, ValueError) as exc:
        raise BalaiError(
            "Berkas dokumen tidak tersedia di server ini.",
            code="blob_missing",
            status_code=503,
        ) from exc


def _issued_bytes(document: IssuedDocument) -> bytes:
    """The stored PDF; one left for after commit and not yet rendered is
    rendered now (`actions.pdf_of`)."""
    if document.pdf_sha256:
        return _blob(document.pdf_sha256)
    from balai.documents.actions import pdf_of

    return pdf_of(document)


def _subject_of(document: SiakDocument) -> Any:
    """The resident the access log names (the document when he is not here)."""
    from balai.registry.models import Resident

    return (
        Resident.objects.filter(pk=document.subject_resident_id).only("pk").first()
        or document
    )


def _log(actor: Actor, subject: Any, what: str) -> None:
    purpose = AccessPurpose.SELF if actor.is_citizen else AccessPurpose.SERVICE
    log_access(actor=actor, subject=subject, purpose=purpose, what=what)


def verify(*, text: object) -> Verdict:
    """Verify a QR text with this server's trust (public: no actor)."""
    return verify_text(text, server_trust())


def latest_revocation_list() -> RevocationList | None:
    return RevocationList.objects.order_by("-seq").first()
