"""JSON API of issued documents: verify a QR, read the revocation list, revoke."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema

from balai.accounts.auth import STAFF_AUTH, api_actor
from balai.core.errors import BalaiError
from balai.documents import actions, ratelimit, selectors
from balai.documents.keys import KeyProblem
from balai.documents.trust import export_bundle

router = Router(tags=["documents"])

MAX_BODY = 64 * 1024
VERIFY_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"qr_text": {"type": "string", "maxLength": 2048}},
                    "required": ["qr_text"],
                    "additionalProperties": False,
                }
            }
        },
    }
}


class FactsOut(Schema):
    kind: str
    kind_label: str
    number: str
    name: str
    name_truncated: bool
    nik_masked: str
    date: str
    office_code: str
    office_name: str | None = None
    key_id: str
    signed_at: str


class VerdictOut(Schema):
    status: str
    code: str
    reason: str
    facts: FactsOut | None
    digest: str
    node: str
    revoked_at: str | None
    revocation_reason: str
    revocation_list_issued_at: str | None


class ErrorOut(Schema):
    message: str
    code: str
    extra: dict


def _bad_request(message: str) -> BalaiError:
    return BalaiError(message, code="bad_request", status_code=400)


def _qr_text_of(request: HttpRequest) -> str:
    """Read `{"qr_text": "..."}` from the body, strictly and safely.

    Parsed here rather than by a schema so that no body (deep nesting, huge
    numbers, wrong encoding) can raise past this function.
    """
    body = request.body
    if len(body) > MAX_BODY:
        raise _bad_request("Isi permintaan terlalu besar.")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad_request("Isi permintaan harus JSON UTF-8 yang sah.") from exc
    if not isinstance(data, dict):
        raise _bad_request('Isi permintaan harus objek {"qr_text": "..."}.')
    unknown = sorted(set(data) - {"qr_text"})
    if unknown:
        raise _bad_request("Kolom tidak dikenal: " + ", ".join(unknown)[:200])
    if "qr_text" not in data:
        raise _bad_request("Kolom qr_text wajib diisi.")
    return data["qr_text"]  # any type: the verifier answers "invalid" for non-text


@router.post(
    "/verify",
    auth=None,
    response={200: VerdictOut, 400: ErrorOut, 429: ErrorOut},
    openapi_extra=VERIFY_BODY_SCHEMA,
)
def verify(request: HttpRequest):
    """Verify the text of a document's QR: valid, revoked or invalid, with why.

    Public and rate limited per IP. Only facts covered by a good signature
    are returned.
    """
    ratelimit.check(request)
    verdict = selectors.verify(text=_qr_text_of(request))
    return verdict.as_dict()


@router.get("/revocations", auth=None, response={200: dict, 503: ErrorOut})
def revocations(request: HttpRequest):
    """The latest signed revocation list (documents and node keys).

    `list` is the canonical JSON that was signed, `signature` the Ed25519
    signature (base64) over "balai-revocation-list-v1\\n" + list, `signer`
    "root" or the key id of a regency key. Verifiers cache it.
    """
    row = selectors.latest_revocation_list()
    if row is None:
        raise BalaiError(
            "Daftar pencabutan belum diterbitkan.", code="no_list", status_code=503
        )
    response = JsonResponse(
        {
            "list": row.body,
            "signature": row.signature,
            "signer": row.signer,
            "seq": row.seq,
            "issued_at": row.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    response["Cache-Control"] = "public, max-age=300"
    return response


@router.get("/trust", auth=None, response={200: dict, 503: ErrorOut})
def trust_bundle(request: HttpRequest):
    """Everything an offline verifier needs: the root public key, the key
    certificates, key revocations, the latest revocation list and the offices."""
    try:
        bundle = export_bundle()
    except KeyProblem as exc:
        raise BalaiError(
            "Kunci dokumen belum disiapkan.", code="no_trust_anchor", status_code=503
        ) from exc
    response = JsonResponse(bundle)
    response["Cache-Control"] = "public, max-age=300"
    return response


class RevokeIn(Schema):
    reason: str


class RevokeOut(Schema):
    document_id: str
    number: str
    revoked_at: str
    reason: str


@router.post(
    "/{document_id}/revoke",
    auth=STAFF_AUTH,
    response={
        200: RevokeOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
)
def revoke(request: HttpRequest, document_id: str, body: RevokeIn):
    """Revoke an issued document (head of the issuing office, or a sysadmin)."""
    actor = api_actor(request)
    document = selectors.issued_document(actor=actor, document_id=document_id)
    revocation = actions.revoke_document(
        actor=actor,
        document=document,
        reason=body.reason,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return {
        "document_id": str(document.pk),
        "number": document.number,
        "revoked_at": revocation.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": revocation.reason,
    }
