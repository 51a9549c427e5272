"""The gateway adapter against a loopback HTTP server (no outside host), the
e-mail sender against Django's in-memory backend, and sender selection."""

import json
import smtplib
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from balai.notify.senders import (
    ConsoleSender,
    EmailSender,
    GatewaySender,
    SimulatedSender,
    sender_for,
)


class Gateway(BaseHTTPRequestHandler):
    """Answers what the test sets in `server.reply`; keeps what it received."""

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.server.received.append(
            {
                "auth": self.headers.get("Authorization"),
                "type": self.headers.get("Content-Type"),
                "body": json.loads(self.rfile.read(length)),
            }
        )
        status, body, delay = self.server.reply
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    server.received = []
    server.reply = (200, {"id": "gw-77"}, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def message(**kwargs):
    values = {
        "id": uuid.uuid4(),
        "channel": "sms",
        "recipient": "+6281234567890",
        "subject": "",
        "body": "Halo",
        "is_sensitive": False,
    }
    values.update(kwargs)
    return SimpleNamespace(**values)


def adapter(server, **kwargs):
    host, port = server.server_address
    return GatewaySender(
        channel="sms",
        url=f"http://{host}:{port}/kirim",
        token="rahasia-gw",
        timeout=kwargs.pop("timeout", 2),
    )


def test_gateway_posts_json_with_token_and_reads_the_id(gateway):
    msg = message()
    result = adapter(gateway).send(msg)
    assert (result.outcome, result.provider, result.provider_ref) == (
        "sent",
        "sms",
        "gw-77",
    )
    [got] = gateway.received
    assert got["auth"] == "Bearer rahasia-gw"
    assert got["type"] == "application/json"
    assert got["body"] == {
        "to": "+6281234567890",
        "channel": "sms",
        "message": "Halo",
        "reference": str(msg.id),
    }


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, "permanent_failure"),
        (404, "permanent_failure"),
        (422, "permanent_failure"),
        (401, "temporary_failure"),
        (429, "temporary_failure"),
        (500, "temporary_failure"),
        (503, "temporary_failure"),
    ],
)
def test_http_status_maps_to_outcome(gateway, status, outcome):
    gateway.reply = (status, {"error": "nomor salah"}, 0)
    result = adapter(gateway).send(message())
    assert result.outcome == outcome
    assert result.error.startswith(f"HTTP {status}")


def test_timeout_is_a_temporary_failure(gateway):
    gateway.reply = (200, {"id": "late"}, 1.5)
    result = adapter(gateway, timeout=0.3).send(message())
    assert result.outcome == "temporary_failure"
    assert "batas waktu" in result.error or "tidak terjangkau" in result.error


def test_unreachable_or_unconfigured_gateway_is_temporary():
    closed = GatewaySender(channel="sms", url="http://127.0.0.1:9/", token="t")
    assert closed.send(message()).outcome == "temporary_failure"
    bare = GatewaySender(channel="sms", url="", token="")
    assert "belum dikonfigurasi" in bare.send(message()).error
    odd = GatewaySender(channel="sms", url="file:///etc/passwd", token="t")
    assert odd.send(message()).outcome == "temporary_failure"


def test_email_sender_uses_the_django_backend(mailoutbox, settings):
    settings.BALAI_NOTIFY_FROM_EMAIL = "Balai <noreply@balai.test>"
    result = EmailSender().send(
        message(channel="email", recipient="rina@contoh.go.id", subject="S", body="B")
    )
    assert result.outcome == "sent"
    [mail] = mailoutbox
    assert (mail.to, mail.subject, mail.body) == (["rina@contoh.go.id"], "S", "B")
    assert mail.from_email == "Balai <noreply@balai.test>"


def test_email_refused_recipient_is_permanent(monkeypatch):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"x@y.id": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    result = EmailSender().send(message(channel="email", recipient="x@y.id"))
    assert result.outcome == "permanent_failure"


def test_email_server_down_is_temporary(monkeypatch):
    def down(self, fail_silently=False):
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", down)
    result = EmailSender().send(message(channel="email", recipient="x@y.id"))
    assert result.outcome == "temporary_failure"


def test_sender_selection_follows_settings(settings):
    settings.BALAI_NOTIFY_SENDERS = {
        "sms": "gateway",
        "whatsapp": "console",
        "email": "email",
    }
    settings.BALAI_NOTIFY_GATEWAYS = {"sms": {"URL": "https://gw.test", "TOKEN": "t"}}
    assert isinstance(sender_for(message()), GatewaySender)
    assert isinstance(sender_for(message(channel="whatsapp")), ConsoleSender)
    assert isinstance(
        sender_for(message(channel="email", recipient="a@b.id")), EmailSender
    )
    # A simulated recipient never reaches the configured gateway.
    assert isinstance(sender_for(message(recipient="+628000000001")), SimulatedSender)
    settings.BALAI_NOTIFY_SENDERS = {"sms": "email"}
    with pytest.raises(ValueError, match="tidak cocok"):
        sender_for(message())


def test_console_hides_secret_bodies_outside_demo(settings, caplog):
    settings.DEBUG = False
    settings.BALAI_DEMO = False
    caplog.set_level("INFO", logger="balai.notify")
    result = ConsoleSender().send(message(body="Kode 123456", is_sensitive=True))
    assert result.outcome == "delivered"
    assert "123456" not in caplog.text
    assert "+6281234567890" not in caplog.text
