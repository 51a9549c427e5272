"""The messages the services send, through the notification outbox (`notify`).

This adapter is the one place services talk to `balai.notify`: the outbox
writes in the caller's transaction and sends after commit. When the notify
app is not installed on a node, nothing is sent and a warning is logged (the
one-time code is logged only in demo/debug mode, where no real phone exists).

Status messages are best effort: a missing template or an office head
without a phone never blocks an officer's step. The sign-up code is not: a
citizen who cannot receive it must be told (`required=True`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.conf import settings

from balai.core.actors import Actor
from balai.core.errors import BalaiError

log = logging.getLogger("balai.services.notify")

OTP_TEMPLATE = "otp_pendaftaran"
RECEIVED_TEMPLATE = "permohonan_diterima"
STATUS_TEMPLATE = "status_berubah"
REVISION_TEMPLATE = "perlu_perbaikan"
READY_TEMPLATE = "siap_diambil"
WARNING_TEMPLATE = "sla_peringatan"
BREACH_TEMPLATE = "sla_terlampaui"


def outbox_installed() -> bool:
    return apps.is_installed("balai.notify")


def queue_text(
    *,
    actor: Actor,
    template: str,
    recipient: str,
    context: Mapping[str, Any],
    required: bool = False,
) -> bool:
    """Queue one message to a phone or address; True when it is in the outbox."""
    if not recipient:
        return False
    if not outbox_installed():
        if settings.BALAI_DEMO or settings.DEBUG:
            log.warning("outbox absent; %s to %s: %s", template, recipient, context)
        else:
            log.warning("outbox absent; message %s not sent", template)
        return False
    from balai.notify.actions import queue_message

    try:
        queue_message(
            actor=actor, template=template, recipient=recipient, context=context
        )
    except BalaiError as exc:
        if required:
            raise
        log.warning("message %s not queued: %s", template, exc.message)
        return False
    return True


def notify_office_head(
    *, actor: Actor, office: Any, template: str, context: Mapping[str, Any]
) -> str:
    """Queue a message to the head of `office`; return who it went to ('' if none)."""
    if not outbox_installed():
        log.warning("outbox absent; %s for the head of %s", template, office)
        return ""
    from balai.notify.actions import queue_to_office_head

    try:
        queue_to_office_head(
            actor=actor, office=office, template=template, context=context
        )
    except BalaiError as exc:
        log.warning("office head of %s not notified: %s", office, exc.message)
        return ""
    return f"kepala {office.code}"
