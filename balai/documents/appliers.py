"""How issued documents sync (balai.sync).

Number series, issued letters, their revocations and SIAK PDFs belong to the
office that keeps them, written by the node serving it; keys, certificates
and revocation lists are the regency's reference data. A letter number
already issued at the regency for the same series cannot be renumbered (the
number is inside the signed QR): it is a conflict for an officer to settle
(revoke one of the two letters and issue it again). PDFs travel as
content-addressed blobs.
"""

from __future__ import annotations

from typing import Any

from balai.sync.framework import OWNED, REFERENCE, ModelSpec


def _office(values: dict[str, Any], unit: Any) -> str | None:
    return unit.offices.region_of_id(values.get("office_id"))


def _revocation_owner(values: dict[str, Any], unit: Any) -> str | None:
    document = unit.final("documents.issueddocument", values["document_id"])
    if document is None:
        return None
    return unit.offices.region_of_id(document.get("office_id"))


def _duplicate(field: str, value: Any) -> str:
    return (
        "Surat dengan nomor atau isi yang sama sudah terbit di kabupaten "
        f"({field}={value})."
    )


SPECS = [
    ModelSpec("documents.documentsequence", kind=OWNED, owner=_office),
    ModelSpec(
        "documents.issueddocument",
        kind=OWNED,
        owner=_office,
        blob_refs=lambda v: (
            [("document", v["pdf_sha256"])] if v.get("pdf_sha256") else []
        ),
        duplicate_message=_duplicate,
    ),
    ModelSpec("documents.documentrevocation", kind=OWNED, owner=_revocation_owner),
    ModelSpec(
        "documents.siakdocument",
        kind=OWNED,
        movable=True,
        owner=lambda v, unit: unit.offices.region_of_id(v.get("owner_office_id")),
        blob_refs=lambda v: [("document", v["sha256"])] if v.get("sha256") else [],
    ),
    ModelSpec("documents.keycertificate", kind=REFERENCE),
    ModelSpec("documents.keyrevocation", kind=REFERENCE),
    ModelSpec("documents.revocationlist", kind=REFERENCE),
]


def blob_holders(kind: str, sha256: str) -> list[tuple[str, str]]:
    """Records that refer to a document blob (who may fetch it)."""
    from balai.documents.models import IssuedDocument, SiakDocument

    if kind != "document":
        return []
    found = [
        ("documents.issueddocument", str(pk))
        for pk in IssuedDocument.objects.filter(pdf_sha256=sha256).values_list(
            "pk", flat=True
        )[:50]
    ]
    found += [
        ("documents.siakdocument", str(pk))
        for pk in SiakDocument.objects.filter(sha256=sha256).values_list(
            "pk", flat=True
        )[:50]
    ]
    return found
