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
    """One SIAK document the actor may have: about himself (citizen), in his
    scope (staff who read documents), or of an application he may read (the
    parent who applied for his newborn's akta, the office that filed it)."""
    document = SiakDocument.objects.filter(pk=_uuid(document_id)).first()
    if document is None:
        raise NotFound()
    if actor.is_citizen:
        if actor.resident_id == document.subject_resident_id:
            return document
    elif actor.has_role(*STAFF_READ_ROLES) and actor.covers(
        document.region_code or None
    ):
        return document
    if _reads_its_application(actor, document):
        return document
    raise NotFound()


def _reads_its_application(actor: Actor, document: SiakDocument) -> bool:
    if not document.application_ref:
        return False
    from balai.services.selectors import visible_applications

    return visible_applications(actor).filter(number=document.application_ref).exists()


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


TRACK_WHAT = "track_download"


def deliver_siak_tracked(
    *, actor: Actor | None, document_id: Any, token: str
) -> tuple[SiakDocument, bytes]:
    """The SIAK PDF of an issued application, for whoever tracked it with its
    number and code (the token the tracking page made); access-logged under
    the signed-in user, or as "pelacakan dengan kode" for an anonymous one."""
    from balai.services import siak
    from balai.services.models import Application, Status

    number = siak.read_track_token(token, document_id)
    document = SiakDocument.objects.filter(pk=_uuid(document_id)).first()
    if document is None or not number or document.application_ref != number:
        raise NotFound()
    issued = Application.objects.filter(
        number=number, status__in=(Status.ISSUED, Status.COLLECTED)
    ).exists()
    if not issued:
        raise NotFound()
    data = _blob(document.sha256)
    reader = actor or Actor(user_id=None, username=siak.TRACK_READER)
    subject = _subject_of(document)
    own = (
        reader.is_citizen
        and reader.resident_id is not None
        and str(reader.resident_id) == str(subject.pk)
    )
    log_access(
        actor=reader,
        subject=subject,
        purpose=AccessPurpose.SELF if own else AccessPurpose.SERVICE,
        what=TRACK_WHAT,
    )
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
    # "Pribadi" only for a citizen reading about himself (a parent fetching his
    # newborn's akta reads for the service he applied for).
    own = actor.is_citizen and str(actor.resident_id or "") == str(subject.pk)
    purpose = AccessPurpose.SELF if own else AccessPurpose.SERVICE
    log_access(actor=actor, subject=subject, purpose=purpose, what=what)


def verify(*, text: object) -> Verdict:
    """Verify a QR text with this server's trust (public: no actor)."""
    return verify_text(text, server_trust())


def latest_revocation_list() -> RevocationList | None:
    return RevocationList.objects.order_by("-seq").first()
