"""The SIAK-issued PDF, kept by the documents app at the `issue` step.

`store_siak_document` keeps it content-addressed and delivers it with the
access log (`/dokumen/siak/<id>/download|print`) to the person it is about,
staff in scope, and whoever may read its application (a parent is not the
newborn, but applied for him). The application keeps its attachment too; the
attachment link sends a kept PDF to that same logged path, and logs one the
documents app does not keep. The tracking page links a signed, short-lived
token instead of the tracking code (`track_token`).
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.core import signing

from balai.core.actors import Actor
from balai.core.errors import NotFound
from balai.services import files, register
from balai.services.models import Application, Attachment, AttachmentKind

# The documents app's kind of SIAK document, by service code prefix.
KIND_BY_SERVICE = (
    ("akta-kelahiran", "akta_lahir"),
    ("akta-kematian", "akta_mati"),
    ("akta-perkawinan", "akta_kawin"),
    ("akta-perceraian", "akta_cerai"),
    ("kk-", "kk"),
    ("kia", "kia"),
    ("pindah-", "pindah"),
)
# Which recorded number names the document, in order of preference.
NUMBER_KEYS = ("akta_number", "skpwni_number", "kk_number", "nik")


def kind_of(service_code: str) -> str:
    for prefix, kind in KIND_BY_SERVICE:
        if service_code.startswith(prefix):
            return kind
    return "lainnya"


def _subject_id(app: Application) -> Any:
    created = register._earlier(app, "resident_id").get("resident_id")
    if created:
        return created
    first = app.subjects.filter(resident__isnull=False).first()
    if first is not None:
        return first.resident_id
    return app.applicant_resident_id


def store(
    *, actor: Actor, application: Application, claimed: list[Attachment]
) -> dict[str, Any]:
    """Hand the SIAK PDF to the documents app; return what the event keeps."""
    if not apps.is_installed("balai.documents"):
        return {}
    pdf = next((a for a in claimed if a.kind == AttachmentKind.SIAK_DOCUMENT), None)
    subject = _subject_id(application)
    numbers = application.issued_numbers or {}
    number = next((numbers[k] for k in NUMBER_KEYS if numbers.get(k)), "")
    if pdf is None or subject is None or not number:
        return {}
    with files.open_blob(pdf.blob.storage_name) as handle:
        content = handle.read()
    documents = importlib.import_module("balai.documents.actions")
    document = documents.store_siak_document(
        actor=actor,
        kind=kind_of(application.service.code),
        number=number,
        subject_resident_id=subject,
        pdf_bytes=content,
        application_ref=application.number,
    )
    return {"id": str(document.pk), "kind": document.kind, "number": number}


def documents_of(application: Application) -> list:
    if not apps.is_installed("balai.documents"):
        return []
    model = apps.get_model("documents", "SiakDocument")
    return list(model.objects.filter(application_ref=application.number))


def document_of_attachment(attachment: Attachment) -> Any:
    """The documents app's SIAK document kept from this attachment, or None."""
    if (
        attachment.kind != AttachmentKind.SIAK_DOCUMENT
        or attachment.application_id is None
        or not apps.is_installed("balai.documents")
    ):
        return None
    model = apps.get_model("documents", "SiakDocument")
    return (
        model.objects.filter(
            application_ref=attachment.application.number,
            sha256=attachment.blob_id,
        )
        .order_by("-created_at")
        .first()
    )


# --- Downloads from the tracking page ------------------------------------------
# Whoever gave the number and the tracking code may download the SIAK PDF of
# an issued application. The page does not put the code in the link: it links
# a signed token naming the document and the application number, good for
# TRACK_TOKEN_MAX_AGE seconds; the documents app checks it, delivers, and
# writes the access log ("pelacakan dengan kode").

TRACK_TOKEN_SALT = "balai.services.siak.track-download"  # noqa: S105 (a salt, public)
TRACK_TOKEN_MAX_AGE = 60 * 60
TRACK_READER = "pelacakan dengan kode"


def track_token(document_id: Any, number: str) -> str:
    return signing.dumps(
        {"d": str(document_id), "n": number}, salt=TRACK_TOKEN_SALT, compress=True
    )


def log_attachment_download(*, actor: Actor, attachment: Attachment) -> None:
    """Write the access log for a SIAK PDF served from the application's
    attachment (one the documents app does not keep)."""
    from balai.audit.actions import log_access
    from balai.audit.models import AccessPurpose
    from balai.registry.models import Resident

    application = attachment.application
    subject_id = _subject_id(application)
    subject = (
        Resident.objects.filter(pk=subject_id).only("pk").first()
        if subject_id
        else None
    ) or application
    own = actor.is_citizen and str(actor.resident_id or "") == str(subject.pk)
    log_access(
        actor=actor,
        subject=subject,
        purpose=AccessPurpose.SELF if own else AccessPurpose.SERVICE,
        what="download",
    )


def read_track_token(token: str, document_id: Any) -> str:
    """Return the application number a valid, fresh token for this document
    names; NotFound otherwise (forged, expired, for another document)."""
    try:
        data = signing.loads(token, salt=TRACK_TOKEN_SALT, max_age=TRACK_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise NotFound(
            "Tautan unduhan ini sudah kedaluwarsa. Lacak ulang permohonan Anda.",
            code="link_expired",
        ) from None
    except signing.BadSignature:
        raise NotFound() from None
    if not isinstance(data, dict) or data.get("d") != str(document_id):
        raise NotFound()
    return str(data.get("n") or "")
