"""Writes of the sync app that people make: registering, retiring and
revoking nodes (at the regency), settling a conflict. Each is audited."""

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


@action("sync.node.register")
def register_node(*, actor: Actor, name: str, public_key: str, key_id: str):
    """Register a node's sync key (a new node, or a new key for a known one)."""
    from balai.sync.models import NodeStatus, SyncNode

    actor.require_role("sysadmin")
    node, _created = SyncNode.objects.update_or_create(
        name=name,
        defaults={
            "public_key": public_key,
            "key_id": key_id,
            "status": NodeStatus.ACTIVE,
            "revoked_at": None,
            "retired_at": None,
            "status_note": "",
        },
    )
    record(actor=actor, target=node, details={"key_id": key_id}, change=None)
    return node


@action("sync.node.retire")
def retire_node(*, actor: Actor, name: str, note: str = ""):
    from balai.sync.models import NodeStatus, SyncNode

    actor.require_role("sysadmin")
    node = SyncNode.objects.select_for_update().filter(pk=name).first()
    if node is None:
        raise NotFound("Node tidak terdaftar.")
    node.status, node.retired_at = NodeStatus.RETIRED, timezone.now()
    node.status_note = note[:255]
    node.save(update_fields=["status", "retired_at", "status_note"])
    record(actor=actor, target=node, details={"note": note[:255]}, change=None)
    return node


@action("sync.node.revoke")
def revoke_node_key(*, actor: Actor, name: str, reason: str = ""):
    from balai.sync.models import NodeStatus, SyncNode

    actor.require_role("sysadmin")
    node = SyncNode.objects.select_for_update().filter(pk=name).first()
    if node is None:
        raise NotFound("Node tidak terdaftar.")
    node.status, node.revoked_at = NodeStatus.REVOKED, timezone.now()
    node.status_note = reason[:255]
    node.save(update_fields=["status", "revoked_at", "status_note"])
    record(
        actor=actor,
        target=node,
        details={"key_id": node.key_id, "reason": reason[:255]},
        change=None,
    )
    return node
