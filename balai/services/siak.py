"""The SIAK-issued PDF, kept by the documents app at the `issue` step.

`store_siak_document` keeps it content-addressed and delivers it with the
access log (`/dokumen/siak/<id>/download|print`); the application keeps its
attachment too (the applicant downloads it from his application, since the
documents app lets a citizen fetch only documents about himself: a parent is
not the newborn).
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps

from balai.core.actors import Actor
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
