"""Reads of the outbox, for administrators and tests. Recipients stay masked."""

from django.db.models import QuerySet

from balai.core.actors import Actor
from balai.notify.models import OutboxMessage

OUTBOX_READ_ROLES = ("sysadmin", "auditor")


def outbox(*, actor: Actor, status: str | None = None) -> QuerySet[OutboxMessage]:
    """Messages queued by the actor's office (all, for regency-wide roles)."""
    actor.require_role(*OUTBOX_READ_ROLES)
    qs = OutboxMessage.objects.select_related("owner_office").order_by("-created_at")
    if not actor.sees_everything:
        qs = qs.filter(actor.scope_q("owner_office__region__code"))
    return qs.filter(status=status) if status else qs
