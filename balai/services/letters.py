"""An office letter issued at the `issue` step, through the documents app's
`issue_document` (numbered, signed with the node's key, rendered to PDF).

Services only map an application onto the letter's subject and facts; the
documents app owns numbering, signing, rendering and verification.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps

from balai.core.actors import Actor
from balai.services.models import Application

# Letter facts the documents templates read, from the service's form fields.
FACTS_FROM_FORM = {
    "sktm": {"income": "monthly_income", "purpose": "purpose"},
    "domisili": {"domicile_address": "address", "since": "since", "purpose": "purpose"},
    "usaha": {
        "business_name": "business_name",
        "business_type": "business_kind",
        "business_address": "business_address",
        "since": "since",
        "purpose": "purpose",
    },
    "pengantar": {"destination": "addressed_to", "purpose": "purpose"},
}


def _rupiah(value: Any) -> str:
    try:
        return "Rp" + f"{int(value):,}".replace(",", ".")
    except (TypeError, ValueError):
        return str(value)


def subject_of(application: Application) -> dict[str, Any]:
    """The person the letter is about, as the documents app takes it."""
    first = application.subjects.select_related("resident", "resident__village")
    subject = next((s.resident for s in first if s.resident), None)
    if subject is None:
        return {"name": application.applicant_name, "nik": ""}
    village = subject.village
    address = ", ".join(
        part
        for part in (
            subject.street,
            f"RT {subject.rt}" if subject.rt else "",
            f"RW {subject.rw}" if subject.rw else "",
            village.name if village else "",
        )
        if part
    )
    return {
        "name": subject.name,
        "nik": subject.nik or "",
        "birth_place": subject.birth_place,
        "birth_date": subject.birth_date.isoformat(),
        "sex": subject.get_sex_display(),
        "religion": subject.get_religion_display(),
        "occupation": subject.get_occupation_display(),
        "address": address,
    }


def facts_of(application: Application, kind: str) -> dict[str, Any]:
    data = dict(application.form_data)
    facts: dict[str, Any] = {"service": application.service.name}
    for fact, field in FACTS_FROM_FORM.get(kind, {}).items():
        if data.get(field) not in (None, ""):
            facts[fact] = data[field]
    if "income" in facts:
        facts["income"] = _rupiah(facts["income"])
    return facts


def issue_letter(*, actor: Actor, application: Application) -> dict[str, Any]:
    """Issue the service's letter; return what to keep in the step's event."""
    kind = application.service.document_kind
    if not kind or not apps.is_installed("balai.documents"):
        return {}
    documents = importlib.import_module("balai.documents.actions")
    document = documents.issue_document(
        actor=actor,
        kind=kind,
        office=application.owner_office,
        subject=subject_of(application),
        facts=facts_of(application, kind),
        application_ref=application.number,
    )
    return {"id": str(document.pk), "number": document.number, "kind": kind}
