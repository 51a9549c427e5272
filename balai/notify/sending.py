"""Sending a queued message: claim it, call its sender, record the result.

The sender runs outside any transaction (a slow gateway must not hold the
database); the claim is a compare-and-set, so a message handed to the worker
twice, or picked up by both the task and the periodic job, is sent once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from balai.core.actors import Actor
from balai.notify.actions import claim_message, due_filter, record_send_result
from balai.notify.models import OutboxMessage
from balai.notify.senders import TEMPORARY_FAILURE, SendResult, sender_for

log = logging.getLogger("balai.notify")


def notify_actor() -> Actor:
    return Actor.system(name="notify")


def send_message(message_id: str) -> OutboxMessage | None:
    """Send one message if it is due; return it as recorded (None if not due)."""
    actor = notify_actor()
    message = claim_message(actor=actor, message_id=str(message_id))
    if message is None:
        return None
    try:
        sender = sender_for(message)
        result = sender.send(message)
    except Exception as exc:
        log.exception("notify sender crashed", extra={"message_id": str(message_id)})
        result = SendResult(
            outcome=TEMPORARY_FAILURE,
            provider="",
            error=f"{type(exc).__name__}: {exc}"[:500],
        )
    return record_send_result(actor=actor, message=message, result=result)


@dataclass
class DueRun:
    picked: int = 0
    sent: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def send_due_messages(*, limit: int = 200) -> DueRun:
    """Send every message whose attempt is due (first tries the worker lost,
    retries after back-off, sends abandoned by a dead worker)."""
    run = DueRun()
    ids = list(
        OutboxMessage.objects.filter(due_filter(timezone.now()))
        .order_by("next_attempt_at", "created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        message = send_message(str(message_id))
        if message is None:
            continue
        run.picked += 1
        status = message.status
        if status == "sent":
            run.sent += 1
        elif status == "delivered":
            run.delivered += 1
        elif status == "queued":
            run.retrying += 1
        elif status == "failed":
            run.failed += 1
    return run
