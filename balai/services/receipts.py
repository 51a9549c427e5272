"""The receipt (tanda terima) of every application, issued at submission
through the documents app (`issue_document(kind="receipt")`) in the
submission's own transaction: no application without its receipt.

Numbering and signing happen in that transaction (the document row with its
number and signed QR); the PDF is rendered on its first download and kept
(`render_later`): a submission does not wait
~0.1-0.2 s for WeasyPrint, and a receipt nobody downloads (the number and
tracking code are on the confirmation page and in the message) costs no
rendering at all. Rendered in a task after every submission, receipts would
need several times the CPU of the submissions themselves (BENCHMARKS.md,
services).

The receipt is found again by the documents' `application_ref` (the
application number) and kind; the submit event keeps its id and number too.
Who signs: at a counter the receiving officer (his own posting at the
office); online the head of the filing office (the documents app's rule for
a signer without a posting there). No signer or no key: the submission is
refused and nothing is written, as for office letters (decision 0005).
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps

from balai.core.actors import Actor
from balai.services import calendar as cal
from balai.services.models import Application

RECEIPT_KIND = "receipt"


def _documents():
    return importlib.import_module("balai.documents.actions")


def _facts(application: Application, attachment_labels: list[str]) -> dict[str, Any]:
    received = cal.to_wita(application.submitted_at)
    facts: dict[str, Any] = {
        "service": application.service.name,
        "received_at": f"{received:%d-%m-%Y %H:%M} WITA",
        "notes": (
            f"Kode lacak: {application.tracking_code}. Kantor penerima: "
            f"{application.filed_office.name}. Saluran: "
            f"{application.get_channel_display()}."
        ),
    }
    if application.due_date:
        facts["estimated_done"] = application.due_date.isoformat()
    if attachment_labels:
        facts["items"] = attachment_labels
    return facts


def _subject(application: Application) -> dict[str, Any]:
    """The applicant; the documents app prints his NIK masked in the QR."""
    resident = application.applicant_resident
    subject: dict[str, Any] = {
        "name": application.applicant_name,
        "nik": (resident.nik or "") if resident is not None else "",
    }
    if resident is not None:
        # Lets the citizen download his own receipt (documents' access rule).
        subject["resident_id"] = str(resident.pk)
    return subject


def issue_receipt(
    *, actor: Actor, application: Application, attachment_labels: list[str]
) -> dict[str, Any]:
    """Issue the receipt; return what the submit event keeps (id, number)."""
    if not apps.is_installed("balai.documents"):
        return {}
    issuer = actor
    if actor.is_citizen:
        # A citizen holds no issuing role: the node issues it for the office.
        issuer = Actor.system(name="penerimaan-daring", office=application.filed_office)
    document = _documents().issue_document(
        actor=issuer,
        kind=RECEIPT_KIND,
        office=application.filed_office,
        subject=_subject(application),
        facts=_facts(application, attachment_labels),
        application_ref=application.number,
        render_later=True,
    )
    return {"id": str(document.pk), "number": document.number}


def receipt_of(application: Application):
    """The application's receipt (IssuedDocument), or None."""
    if not apps.is_installed("balai.documents"):
        return None
    model = apps.get_model("documents", "IssuedDocument")
    return (
        model.objects.filter(application_ref=application.number, kind=RECEIPT_KIND)
        .only("pk", "number", "application_ref", "kind")
        .order_by("signed_at")
        .first()
    )
