"""Writes of the notification outbox.

`queue_message` writes the message in the caller's transaction and hands it to
the task queue only once that transaction commits: a rolled-back application
sends nothing. Sending itself (`balai.notify.sending`) claims a message, calls
the sender outside any transaction, and records the result: three short
transactions, so no network call ever holds the database.

Notify rows are node-local: audited, but kept out of the sync change log
(`change=None`).
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from balai.audit.actions import record, record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict, NotFound
from balai.core.queue import enqueue_with_transaction
from balai.notify import recipients
from balai.notify.catalog import CATALOG
from balai.notify.models import (
    FINAL_STATUSES,
    REDACTED_BODY,
    Channel,
    MessageStatus,
    MessageTemplate,
    OutboxMessage,
)
from balai.notify.senders import (
    DELIVERED,
    PERMANENT_FAILURE,
    SENT,
    TEMPORARY_FAILURE,
    SendResult,
)
from balai.notify.templating import check_context, render, validate_template

TEMPLATE_ADMIN_ROLES = ("service_admin", "sysadmin")
DEFAULT_RETRY_MINUTES = (1, 5, 25, 125)
DEFAULT_MAX_ATTEMPTS = 5


def retry_minutes() -> tuple[int, ...]:
    return tuple(getattr(settings, "BALAI_NOTIFY_RETRY_MINUTES", DEFAULT_RETRY_MINUTES))


def max_attempts() -> int:
    return int(getattr(settings, "BALAI_NOTIFY_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def retry_delay(attempts: int) -> datetime.timedelta:
    """Return the wait after the `attempts`-th failed attempt: 1, 5, 25… minutes."""
    steps = retry_minutes()
    return datetime.timedelta(minutes=steps[min(attempts, len(steps)) - 1])


# --- Templates ----------------------------------------------------------------


@action("notify.templates.seed")
def seed_templates(*, actor: Actor) -> list[MessageTemplate]:
    """Create the shipped templates that are missing; keep existing ones as they are."""
    actor.require_role(*TEMPLATE_ADMIN_ROLES)
    existing = set(MessageTemplate.objects.values_list("code", "channel"))
    created = []
    for spec in CATALOG:
        for channel, (subject, body) in spec.texts.items():
            if (spec.code, channel) in existing:
                continue
            validate_template(subject=subject, body=body, fields=spec.fields)
            created.append(
                MessageTemplate.objects.create(
                    code=spec.code,
                    channel=channel,
                    name=spec.name,
                    subject=subject,
                    body=body,
                    fields=list(spec.fields),
                    is_sensitive=spec.sensitive,
                )
            )
    if created:
        record_many(
            actor=actor,
            targets=created,
            details=[{"code": t.code, "channel": t.channel} for t in created],
            change=None,
        )
    return created


@action("notify.template.update")
def update_template(
    *,
    actor: Actor,
    template: MessageTemplate,
    subject: str,
    body: str,
    fields: list[str],
    is_active: bool = True,
) -> MessageTemplate:
    """Change a template's text; it must use exactly the fields it declares."""
    actor.require_role(*TEMPLATE_ADMIN_ROLES)
    validate_template(subject=subject, body=body, fields=fields)
    if template.channel != Channel.EMAIL and subject:
        raise BalaiError(
            "Hanya templat surel yang memakai subjek.", code="template_subject_unused"
        )
    template.subject, template.body = subject, body
    template.fields, template.is_active = list(fields), is_active
    template.save()
    record(
        actor=actor,
        target=template,
        details={"code": template.code, "channel": template.channel},
        change=None,
    )
    return template


# --- Queueing -----------------------------------------------------------------


def _resolve_template(template: MessageTemplate | str, channel: str) -> MessageTemplate:
    if isinstance(template, MessageTemplate):
        if template.channel != channel:
            raise BalaiError(
                "Kanal templat tidak cocok dengan penerima.",
                code="template_channel_mismatch",
            )
        found = template
    else:
        found = MessageTemplate.objects.filter(code=template, channel=channel).first()
        if found is None:
            raise NotFound(
                f"Templat pesan '{template}' untuk kanal {channel} tidak ada.",
                code="template_not_found",
            )
    if not found.is_active:
        raise BalaiError(
            f"Templat pesan '{found.code}' ({found.channel}) tidak aktif.",
            code="template_inactive",
        )
    return found


def _enqueue_send(message_id: str) -> None:
    """Hand a message to the task queue, with the transaction that queued it."""
    from balai.notify.tasks import send_message_task

    enqueue_with_transaction(send_message_task, message_id)


@action("notify.message.queue")
def queue_message(
    *,
    actor: Actor,
    template: MessageTemplate | str,
    recipient: str,
    context: Mapping[str, Any],
    channel: str | None = None,
) -> OutboxMessage:
    """Write a message to the outbox; it is sent once the caller's transaction
    commits. `template` is a template or its code; `channel` defaults to e-mail
    for an address and SMS for a phone number."""
    if channel is None:
        if isinstance(template, MessageTemplate):
            channel = template.channel
        else:
            channel = recipients.guess_channel(
                recipient,
                phone_channel=getattr(settings, "BALAI_NOTIFY_PHONE_CHANNEL", "sms"),
            )
    if channel not in Channel.values:
        raise BalaiError(
            "Kanal pesan harus salah satu dari: " + ", ".join(Channel.values) + ".",
            code="channel_unknown",
        )
    tpl = _resolve_template(template, channel)
    to = recipients.normalize(channel, recipient)
    check_context(fields=tpl.fields, context=context)
    now = timezone.now()
    message = OutboxMessage.objects.create(
        owner_office_id=actor.office_id,
        template=tpl,
        template_code=tpl.code,
        channel=channel,
        recipient=to,
        subject=render(tpl.subject, context),
        body=render(tpl.body, context),
        is_sensitive=tpl.is_sensitive,
        status=MessageStatus.QUEUED,
        next_attempt_at=now,
        queued_by=actor.username[:150],
    )
    record(
        actor=actor,
        target=message,
        details={
            "template": tpl.code,
            "channel": channel,
            "recipient": recipients.mask(to),
        },
        change=None,
    )
    message_id = str(message.pk)
    _enqueue_send(message_id)
    return message


@action("notify.message.queue_office_head")
def queue_to_office_head(
    *, actor: Actor, office: Any, template: str, context: Mapping[str, Any]
) -> list[OutboxMessage]:
    """Queue a message to the head of an office (e-mail and SMS, as he has them)."""
    from balai.accounts.selectors import office_head

    posting = office_head(office=office)
    if posting is None:
        raise BalaiError(
            f"{office} belum memiliki kepala kantor yang tercatat.",
            code="office_head_missing",
        )
    user = posting.user
    queued = []
    for channel, address in (("email", user.email), ("sms", user.phone)):
        if (
            address
            and MessageTemplate.objects.filter(
                code=template, channel=channel, is_active=True
            ).exists()
        ):
            queued.append(
                queue_message(
                    actor=actor,
                    template=template,
                    recipient=address,
                    context=context,
                    channel=channel,
                )
            )
    if not queued:
        raise BalaiError(
            "Kepala kantor tidak memiliki surel atau nomor ponsel untuk templat ini.",
            code="office_head_unreachable",
        )
    return queued


# --- Sending (called by balai.notify.sending) -----------------------------------


def _stale_before(now: datetime.datetime) -> datetime.datetime:
    minutes = int(getattr(settings, "BALAI_NOTIFY_STALE_SENDING_MINUTES", 15))
    return now - datetime.timedelta(minutes=minutes)


def due_filter(now: datetime.datetime) -> Q:
    """Messages whose attempt is due, and sends abandoned by a dead worker."""
    return Q(status=MessageStatus.QUEUED, next_attempt_at__lte=now) | Q(
        status=MessageStatus.SENDING, sending_started_at__lt=_stale_before(now)
    )


@action("notify.message.claim")
def claim_message(*, actor: Actor, message_id: str) -> OutboxMessage | None:
    """Mark a due message as being sent, unless someone else already has."""
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id)
        .filter(due_filter(now))
        .update(
            status=MessageStatus.SENDING,
            attempts=F("attempts") + 1,
            sending_started_at=now,
            next_attempt_at=None,
        )
    )
    if not claimed:
        return None
    message = OutboxMessage.objects.get(pk=message_id)
    record(
        actor=actor,
        target=message,
        details={"status": message.status, "attempt": message.attempts},
        change=None,
    )
    return message


@action("notify.message.result")
def record_send_result(
    *, actor: Actor, message: OutboxMessage, result: SendResult
) -> OutboxMessage:
    """Record what the sender said: sent, delivered, or a failure (retried with
    back-off until the attempts run out; a permanent failure stops at once)."""
    now = timezone.now()
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != MessageStatus.SENDING:
        # A delivery receipt overtook us; keep its verdict, note the hand-over.
        if not message.sent_at:
            message.sent_at = now
            message.save(update_fields=["sent_at", "updated_at"])
        return message
    message.provider = result.provider[:32]
    message.provider_ref = result.provider_ref[:128]
    message.last_error = result.error[:500]
    message.sending_started_at = None
    if result.outcome in (SENT, DELIVERED):
        message.sent_at = now
        message.status = MessageStatus.SENT
        if result.outcome == DELIVERED:
            message.status = MessageStatus.DELIVERED
            message.delivered_at = now
    elif result.outcome == TEMPORARY_FAILURE and message.attempts < max_attempts():
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = now + retry_delay(message.attempts)
    elif result.outcome in (TEMPORARY_FAILURE, PERMANENT_FAILURE):
        message.status = MessageStatus.FAILED
        message.failed_at = now
    else:
        raise ValueError(f"unknown send outcome {result.outcome!r}")
    if message.is_sensitive and message.status != MessageStatus.QUEUED:
        message.body = REDACTED_BODY
    message.save()
    record(
        actor=actor,
        target=message,
        details={
            "status": message.status,
            "attempt": message.attempts,
            "provider": message.provider,
            "error": message.last_error,
            "next_attempt_at": message.next_attempt_at,
        },
        change=None,
    )
    if message.status == MessageStatus.QUEUED:
        _schedule_retry(message)
    return message


def _schedule_retry(message: OutboxMessage) -> None:
    """Ask the task backend to retry at the due time, when it can defer work.

    Without deferral (the immediate backend in tests) the periodic
    `notify.retry_due` job picks the message up; with both, the claim makes
    sure only one of them sends.
    """
    from balai.notify.tasks import send_message_task

    if not send_message_task.get_backend().supports_defer:
        return
    message_id, due = str(message.pk), message.next_attempt_at
    transaction.on_commit(
        lambda: send_message_task.using(run_after=due).enqueue(message_id)
    )


# --- Delivery receipts ----------------------------------------------------------

CALLBACK_STATUSES = {
    "delivered": MessageStatus.DELIVERED,
    "diterima": MessageStatus.DELIVERED,
    "failed": MessageStatus.FAILED,
    "gagal": MessageStatus.FAILED,
    "permanent-failure": MessageStatus.FAILED,
    "temporary-failure": MessageStatus.FAILED,
    "technical-failure": MessageStatus.FAILED,
}


@action("notify.message.receipt")
def record_delivery_receipt(
    *, actor: Actor, provider: str, reference: str, status: str, error: str = ""
) -> OutboxMessage:
    """Apply a gateway's delivery receipt: delivered or failed (final)."""
    wanted = CALLBACK_STATUSES.get(status.strip().lower())
    if wanted is None:
        raise BalaiError(
            "Status laporan pengiriman tidak dikenal: "
            + status
            + ". Gunakan: "
            + ", ".join(sorted(CALLBACK_STATUSES))
            + ".",
            code="receipt_status_unknown",
            status_code=422,
        )
    reference = (reference or "").strip()
    message = None
    if reference:
        match = Q(provider_ref=reference)
        with contextlib.suppress(ValueError):
            match |= Q(pk=uuid.UUID(reference))
        message = (
            OutboxMessage.objects.select_for_update()
            .filter(provider=provider)
            .filter(match)
            .first()
        )
    if message is None:
        raise NotFound("Pesan dengan referensi ini tidak ditemukan.")
    if message.status == wanted:
        return message
    if message.status in FINAL_STATUSES:
        raise Conflict(
            f"Pesan sudah berstatus {message.get_status_display()}; laporan "
            "pengiriman ini diabaikan.",
            code="receipt_after_final",
        )
    now = timezone.now()
    message.status = wanted
    message.sending_started_at = None
    message.next_attempt_at = None
    if wanted == MessageStatus.DELIVERED:
        message.delivered_at = now
    else:
        message.failed_at = now
        message.last_error = (error or f"penyedia melaporkan {status}")[:500]
    message.sent_at = message.sent_at or now
    if message.is_sensitive:
        message.body = REDACTED_BODY
    message.save()
    record(
        actor=actor,
        target=message,
        details={"status": wanted, "provider": provider, "receipt": status},
        change=None,
    )
    return message
