"""Senders: how a message leaves Balai, chosen per channel in settings.

- `console`: writes the message to the log and counts it as delivered (the
  default, for development and demos);
- `gateway`: an SMS or WhatsApp gateway reached over HTTPS, posting JSON with a
  bearer token; delivery is confirmed later by the gateway's callback;
- `email`: Django's e-mail backend (SMTP in production).

A simulated recipient (see `recipients`) never reaches any of them.
A sender never touches the database: it is called outside any transaction and
returns a `SendResult` that the caller records.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

from balai.notify import recipients

log = logging.getLogger("balai.notify")

SENT = "sent"
DELIVERED = recipients.DELIVERED
TEMPORARY_FAILURE = recipients.TEMPORARY_FAILURE
PERMANENT_FAILURE = recipients.PERMANENT_FAILURE

# HTTP answers that say "this message will never go": a bad number or payload.
_PERMANENT_HTTP = frozenset({400, 404, 410, 413, 422})


@dataclass(frozen=True)
class SendResult:
    outcome: str
    provider: str
    provider_ref: str = ""
    error: str = ""


class Outgoing(Protocol):
    """What a sender needs of a message (an `OutboxMessage` fits)."""

    id: Any
    channel: str
    recipient: str
    subject: str
    body: str
    is_sensitive: bool


class Sender:
    name = "base"

    def send(self, message: Outgoing) -> SendResult:  # pragma: no cover - abstract
        raise NotImplementedError


class SimulatedSender(Sender):
    """Answer for the simulated recipients: the outcome is fixed by the address."""

    name = "simulasi"

    def send(self, message: Outgoing) -> SendResult:
        outcome = recipients.simulated_outcome(message.recipient) or DELIVERED
        errors = {
            TEMPORARY_FAILURE: "simulasi: kegagalan sementara",
            PERMANENT_FAILURE: "simulasi: nomor atau alamat tidak dapat dihubungi",
        }
        return SendResult(
            outcome=outcome,
            provider=self.name,
            provider_ref=f"sim-{message.id}",
            error=errors.get(outcome, ""),
        )


class ConsoleSender(Sender):
    """Write the message to the log; count it as delivered."""

    name = "console"

    def send(self, message: Outgoing) -> SendResult:
        show_body = not message.is_sensitive or settings.DEBUG or settings.BALAI_DEMO
        log.info(
            "notify.console %s to %s: %s",
            message.channel,
            recipients.mask(message.recipient)
            if not (settings.DEBUG or settings.BALAI_DEMO)
            else message.recipient,
            message.body if show_body else "[pesan rahasia]",
            extra={"message_id": str(message.id)},
        )
        return SendResult(outcome=DELIVERED, provider=self.name)


class GatewaySender(Sender):
    """Post the message as JSON to an SMS or WhatsApp gateway.

    The gateway answers 2xx with `{"id": "..."}` when it accepts the message;
    the delivery receipt arrives later at /api/v1/notify/callback/<channel>.
    """

    def __init__(self, *, channel: str, url: str, token: str, timeout: float = 10):
        self.name = channel
        self.url = url
        self.token = token
        self.timeout = timeout

    def _request(self, message: Outgoing) -> urllib.request.Request:
        payload = {
            "to": message.recipient,
            "channel": message.channel,
            "message": message.body,
            "reference": str(message.id),
        }
        return urllib.request.Request(  # noqa: S310 - scheme checked in send()
            self.url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "Balai-notify/1",
            },
        )

    def send(self, message: Outgoing) -> SendResult:
        if urlsplit(self.url).scheme not in ("http", "https") or not self.token:
            return SendResult(
                outcome=TEMPORARY_FAILURE,
                provider=self.name,
                error="gateway belum dikonfigurasi (URL atau token kosong)",
            )
        try:
            with urllib.request.urlopen(  # noqa: S310 - scheme checked above
                self._request(message), timeout=self.timeout
            ) as response:
                raw = response.read(65536)
                status = response.status
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
            outcome = (
                PERMANENT_FAILURE if exc.code in _PERMANENT_HTTP else TEMPORARY_FAILURE
            )
            return SendResult(
                outcome=outcome,
                provider=self.name,
                error=f"HTTP {exc.code}: {detail}"[:500],
            )
        except TimeoutError:
            return SendResult(
                outcome=TEMPORARY_FAILURE,
                provider=self.name,
                error=f"batas waktu {self.timeout} detik terlampaui",
            )
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return SendResult(
                outcome=TEMPORARY_FAILURE,
                provider=self.name,
                error=f"gateway tidak terjangkau: {reason}"[:500],
            )
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        ref = ""
        if isinstance(data, dict):
            ref = str(data.get("id") or data.get("message_id") or "")[:128]
        if not 200 <= status < 300:  # pragma: no cover - urllib raises for these
            return SendResult(
                outcome=TEMPORARY_FAILURE, provider=self.name, error=f"HTTP {status}"
            )
        return SendResult(outcome=SENT, provider=self.name, provider_ref=ref)


class EmailSender(Sender):
    """Send through Django's e-mail backend; SMTP gives no delivery receipt."""

    name = "email"

    def send(self, message: Outgoing) -> SendResult:
        mail = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=getattr(settings, "BALAI_NOTIFY_FROM_EMAIL", None),
            to=[message.recipient],
        )
        try:
            mail.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult(
                outcome=PERMANENT_FAILURE,
                provider=self.name,
                error=f"alamat ditolak server surel: {exc}"[:500],
            )
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult(
                outcome=TEMPORARY_FAILURE,
                provider=self.name,
                error=f"server surel: {exc}"[:500],
            )
        return SendResult(outcome=SENT, provider=self.name)


def _gateway(channel: str) -> GatewaySender:
    conf = getattr(settings, "BALAI_NOTIFY_GATEWAYS", {}).get(channel, {})
    return GatewaySender(
        channel=channel,
        url=conf.get("URL", ""),
        token=conf.get("TOKEN", ""),
        timeout=float(conf.get("TIMEOUT", 10)),
    )


def sender_for(message: Outgoing) -> Sender:
    """Return the sender for a message: simulated, else the channel's setting."""
    if recipients.simulated_outcome(message.recipient):
        return SimulatedSender()
    kind = getattr(settings, "BALAI_NOTIFY_SENDERS", {}).get(message.channel, "console")
    if kind == "console":
        return ConsoleSender()
    if kind == "gateway" and message.channel in recipients.PHONE_CHANNELS:
        return _gateway(message.channel)
    if kind == "email" and message.channel == "email":
        return EmailSender()
    raise ValueError(
        f"Pengirim '{kind}' tidak cocok untuk kanal '{message.channel}' "
        "(BALAI_NOTIFY_SENDERS)."
    )
