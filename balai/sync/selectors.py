"""Reads for the sync pages: this node's state, or every node's at the regency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from balai.core.actors import Actor
from balai.core.errors import NotFound
from balai.core.nodes import REGENCY_NODE
from balai.sync.models import (
    Conflict,
    ConflictStatus,
    PendingChange,
    SyncNode,
    SyncRun,
    SyncState,
)

STATUS_ROLES = (
    "registrar",
    "sysadmin",
    "leader",
    "auditor",
    "registry_officer",
    "counter_officer",
    "helpdesk_officer",
)
CONFLICT_ROLES = ("registrar", "sysadmin", "registry_officer", "counter_officer")


def is_regency() -> bool:
    return settings.BALAI_NODE == REGENCY_NODE


@dataclass
class NodeStatusView:
    state: SyncState | None
    backlog: int
    open_conflicts: int
    runs: list[SyncRun]
    stale_reason: str | None
    hours_since_success: float | None


def node_status(*, actor: Actor) -> NodeStatusView:
    from balai.sync.auth import stale_reason
    from balai.sync.outbox import backlog

    actor.require_role(*STATUS_ROLES)
    state = SyncState.objects.filter(pk=1).first()
    hours = None
    if state and state.last_success_at:
        hours = (timezone.now() - state.last_success_at).total_seconds() / 3600
    return NodeStatusView(
        state=state,
        backlog=backlog(state) if state else 0,
        open_conflicts=Conflict.objects.filter(status=ConflictStatus.OPEN).count(),
        runs=list(SyncRun.objects.order_by("-id")[:20]),
        stale_reason=stale_reason(),
        hours_since_success=hours,
    )


def regency_nodes(*, actor: Actor) -> list[dict[str, Any]]:
    actor.require_role(*STATUS_ROLES)
    counts = dict(
        Conflict.objects.filter(status=ConflictStatus.OPEN)
        .values_list("node")
        .annotate(n=Count("id"))
        .values_list("node", "n")
    )
    pending = dict(
        PendingChange.objects.values_list("node")
        .annotate(n=Count("id"))
        .values_list("node", "n")
    )
    out = []
    for node in SyncNode.objects.order_by("name"):
        if not actor.covers(node.name):
            continue
        out.append(
            {
                "node": node,
                "open_conflicts": counts.get(node.name, 0),
                "pending": pending.get(node.name, 0),
                "errors": list(
                    SyncRun.objects.filter(node=node.name, ok=False)
                    .exclude(error="")
                    .order_by("-id")[:3]
                ),
            }
        )
    return out


def conflicts(*, actor: Actor, status: str = "open") -> QuerySet[Conflict]:
    actor.require_role(*CONFLICT_ROLES)
    qs = Conflict.objects.all()
    if status in ConflictStatus.values:
        qs = qs.filter(status=status)
    if actor.scope is not None:
        allowed = Q(pk__in=[])
        for prefix in actor.scope:
            allowed |= Q(node=prefix) | Q(node__startswith=prefix + ".")
            allowed |= Q(region_code=prefix) | Q(region_code__startswith=prefix + ".")
        qs = qs.filter(allowed)
    return qs.order_by("-created_at")


def conflict(*, actor: Actor, pk: Any) -> Conflict:
    found = conflicts(actor=actor, status="all").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found
