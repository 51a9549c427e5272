import json

import pytest

from balai.notify.actions import queue_message
from balai.notify.models import MessageStatus, OutboxMessage
from balai.notify.sending import send_message

pytestmark = pytest.mark.django_db

URL = "/api/v1/notify/callback/sms"
SECRET = "rahasia-callback-uji"


@pytest.fixture
def sent_message(system_actor, templates, settings, monkeypatch):
    """A message handed to the SMS gateway, awaiting its receipt."""
    from balai.notify import senders

    settings.BALAI_NOTIFY_CALLBACK_SECRET = SECRET
    settings.BALAI_NOTIFY_SENDERS = {"sms": "gateway"}
    monkeypatch.setattr(
        senders.GatewaySender,
        "send",
        lambda self, m: senders.SendResult("sent", "sms", "gw-1"),
    )
    message = queue_message(
        actor=system_actor,
        template="status_berubah",
        recipient="081234567890",
        context={"nomor": "P-1", "layanan": "KK", "status": "selesai", "tautan": "x"},
    )
    message = send_message(str(message.pk))
    assert message.status == MessageStatus.SENT
    return message


def post(client, body, secret=SECRET, url=URL):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return client.post(
        url, data=json.dumps(body), content_type="application/json", **headers
    )


def test_callback_needs_the_shared_secret(client, sent_message):
    body = {"reference": "gw-1", "status": "delivered"}
    assert post(client, body, secret=None).status_code == 401
    assert post(client, body, secret="salah").status_code == 401
    sent_message.refresh_from_db()
    assert sent_message.status == MessageStatus.SENT


def test_callback_without_configured_secret_lets_nobody_in(
    client, sent_message, settings
):
    settings.BALAI_NOTIFY_CALLBACK_SECRET = ""
    response = post(client, {"reference": "gw-1", "status": "delivered"}, secret="")
    assert response.status_code == 401
    response = post(client, {"reference": "gw-1", "status": "delivered"}, secret=" ")
    assert response.status_code == 401


def test_callback_marks_delivered_by_provider_id(client, sent_message):
    response = post(client, {"reference": "gw-1", "status": "delivered"})
    assert response.status_code == 200, response.content
    assert response.json() == {"id": str(sent_message.pk), "status": "delivered"}
    sent_message.refresh_from_db()
    assert sent_message.status == MessageStatus.DELIVERED
    assert sent_message.delivered_at is not None
    # The same receipt again changes nothing.
    assert post(client, {"reference": "gw-1", "status": "delivered"}).status_code == 200


def test_callback_marks_failed_by_our_reference(client, sent_message):
    response = post(
        client,
        {
            "reference": str(sent_message.pk),
            "status": "permanent-failure",
            "error": "nomor tidak aktif",
        },
    )
    assert response.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == MessageStatus.FAILED
    assert sent_message.last_error == "nomor tidak aktif"
    # A late "delivered" after a final failure is refused, not applied.
    late = post(client, {"reference": "gw-1", "status": "delivered"})
    assert late.status_code == 409
    assert late.json()["code"] == "receipt_after_final"


def test_callback_errors(client, sent_message):
    unknown = post(client, {"reference": "gw-1", "status": "mungkin"})
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "receipt_status_unknown"
    missing = post(client, {"reference": "tidak-ada", "status": "delivered"})
    assert missing.status_code == 404
    other = post(
        client,
        {"reference": "gw-1", "status": "delivered"},
        url="/api/v1/notify/callback/whatsapp",
    )
    assert other.status_code == 404, "a provider only reports its own messages"
    assert OutboxMessage.objects.get().status == MessageStatus.SENT
