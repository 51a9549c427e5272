"""API: delivery receipts from SMS and WhatsApp gateways.

POST /api/v1/notify/callback/{provider} with `Authorization: Bearer <secret>`
(`BALAI_NOTIFY_CALLBACK_SECRET`) and `{"reference", "status", "error"}`, where
`reference` is Balai's message id (sent to the gateway as `reference`) or the
gateway's own id.
"""

import hmac

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer

from balai.core.actors import Actor
from balai.notify.actions import record_delivery_receipt

router = Router(tags=["notify"])


class CallbackSecret(HttpBearer):
    """The shared secret the gateways send; no secret configured = no entry."""

    def authenticate(self, request: HttpRequest, token: str):
        secret = getattr(settings, "BALAI_NOTIFY_CALLBACK_SECRET", "")
        if not secret or not token:
            return None
        if hmac.compare_digest(token.encode(), secret.encode()):
            return "gateway"
        return None


class ReceiptIn(Schema):
    reference: str
    status: str
    error: str = ""


class ReceiptOut(Schema):
    id: str
    status: str


class ErrorOut(Schema):
    message: str
    code: str
    extra: dict


@router.post(
    "/callback/{provider}",
    response={200: ReceiptOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=CallbackSecret(),
)
def delivery_callback(request: HttpRequest, provider: str, body: ReceiptIn):
    """Record a delivery receipt (delivered or failed) for a message."""
    message = record_delivery_receipt(
        actor=Actor.system(name=f"notify-callback:{provider[:32]}"),
        provider=provider,
        reference=body.reference,
        status=body.status,
        error=body.error,
    )
    return {"id": str(message.pk), "status": message.status}
