"""Writes of the sync app that people make: settling a conflict."""

from __future__ import annotations

from django.utils import timezone

from balai.audit.actions import record
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.changelog import _reserve
from balai.core.errors import BalaiError, NotFound
from balai.core.nodes import REGENCY_NODE
from balai.sync.models import Conflict, ConflictStatus

RESOLVER_ROLES = ("registrar", "sysadmin")


@action("sync.conflict.resolve")
def resolve_conflict(*, actor: Actor, conflict: Conflict, note: str) -> Conflict:
    """Mark a conflict settled, with what was done (at the regency; the node
    learns it at its next sync)."""
    from django.conf import settings

    actor.require_role(*RESOLVER_ROLES)
    if settings.BALAI_NODE != REGENCY_NODE:
        raise BalaiError(
            "Konflik diselesaikan oleh pencatat sipil di kabupaten.",
            code="resolve_at_regency",
        )
    conflict = Conflict.objects.select_for_update().filter(pk=conflict.pk).first()
    if conflict is None or not actor.covers(conflict.node):
        raise NotFound()
    note = (note or "").strip()
    if len(note) < 5:
        raise BalaiError(
            "Tuliskan apa yang sudah dilakukan (paling sedikit 5 huruf).",
            code="note_required",
        )
    if conflict.status == ConflictStatus.RESOLVED:
        return conflict
    _epoch, rev = _reserve(1)
    conflict.status = ConflictStatus.RESOLVED
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = actor.username
    conflict.resolution_note = note[:2000]
    conflict.rev = rev
    conflict.save()
    record(
        actor=actor,
        target=conflict,
        details={"node": conflict.node, "kind": conflict.kind, "note": note[:500]},
        change=None,
    )
    return conflict
