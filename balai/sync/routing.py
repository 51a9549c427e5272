"""Which changes a node may hold (at the regency): routing for pulls,
snapshots and backfills.

A node named by its kecamatan code K holds:
- every change routed to an office it serves (office in K) or a region in K;
- catalogue and reference data (models declared REFERENCE);
- the accounts of staff ever posted at its offices (their later changes,
  e.g. deactivation, must reach it);
- a record it was sent because one of its records refers to it (backfill);
- every later change of a record it ever held (a resident who moved away, an
  application handed to a regency office): it must not keep a stale copy.
It never receives its own changes back, except those it lost by being
restored from a backup (sent back so it holds them again).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.apps import apps
from django.db.models import Exists, F, Max, OuterRef, Q

from balai.core.changelog import is_by_reference
from balai.core.models import ChangeRecord, NodeState
from balai.core.nodes import REGENCY_NODE
from balai.core.serialize import model_payload
from balai.sync import framework
from balai.sync.engine import within
from balai.sync.models import NodeBackfill, NodeEpoch


class NodeRoute:
    def __init__(self, node: str) -> None:
        self.node = node

    @cached_property
    def office_codes(self) -> list[str]:
        from balai.regions.models import Office

        return sorted(
            code
            for code, region in Office.objects.values_list("code", "region_id")
            if within(region, self.node)
        )

    @cached_property
    def user_ids(self) -> list[str]:
        from balai.accounts.models import Posting

        return sorted(
            {
                str(u)
                for u in Posting.objects.filter(
                    office__code__in=self.office_codes
                ).values_list("user_id", flat=True)
            }
        )

    def own_q(self) -> Q:
        """Changes routed to this node by their own route."""
        q = (
            Q(office_code__in=self.office_codes)
            | Q(region_code=self.node)
            | Q(region_code__startswith=self.node + ".")
            | Q(model__in=framework.labels_of(framework.REFERENCE))
        )
        if self.user_ids:
            q |= Q(model__in=framework.labels_of(framework.USER)) & Q(
                object_id__in=self.user_ids
            )
        return q

    def backfill_q(self) -> Q:
        return Q(
            Exists(
                NodeBackfill.objects.filter(
                    node=self.node,
                    model=OuterRef("model"),
                    object_id=OuterRef("object_id"),
                )
            )
        )

    def followed_q(self) -> Q:
        """Later changes of movable records this node held before."""
        movable = [s.label for s in framework.specs().values() if s.movable]
        earlier = ChangeRecord.objects.filter(
            model=OuterRef("model"),
            object_id=OuterRef("object_id"),
            global_seq__lt=OuterRef("global_seq"),
        ).filter(self.own_q())
        return Q(model__in=movable) & Q(Exists(earlier))

    def echo_q(self) -> Q:
        """Not the node's own changes, except those it lost (restore)."""
        q = ~Q(node=self.node)
        for epoch, pe, ps in NodeEpoch.objects.filter(node=self.node).values_list(
            "epoch", "prev_epoch", "prev_seq"
        ):
            q |= Q(node=self.node, epoch__lt=epoch) & (
                Q(epoch__gt=pe) | Q(epoch=pe, seq__gt=ps)
            )
        return q

    def routed_q(self) -> Q:
        return self.own_q() | self.backfill_q() | self.followed_q()


def head() -> int:
    """The newest global sequence whose change (and every older one) is
    committed: the regency's change counter as committed."""
    state = NodeState.objects.filter(node=REGENCY_NODE).first()
    return state.last_seq if state else 0


# At most this many of the COPY path's records are stamped per request: the
# first pull after an import of a million residents stamped 2.6 million in
# one 30-second UPDATE inside the request.
STAMP_BATCH = 100_000


def stamp(upto: int) -> int:
    """Give the regency's rows written by the COPY path (seq ≤ `upto`) their
    global sequence, the oldest first, at most `STAMP_BATCH` of them; return
    the newest sequence up to which every change has its number (`upto`
    once none is left). Nothing may be served beyond it: a record numbered
    later with a smaller number would be skipped."""
    pending = ChangeRecord.objects.filter(
        node=REGENCY_NODE, global_seq__isnull=True, seq__lte=upto
    )
    last_of_batch = list(
        pending.order_by("seq").values_list("seq", flat=True)[
            STAMP_BATCH - 1 : STAMP_BATCH
        ]
    )
    bound = last_of_batch[0] if last_of_batch else upto
    pending.filter(seq__lte=bound).update(global_seq=F("seq"))
    return bound


def pull_page(node: str, cursor: int, *, limit: int) -> dict[str, Any]:
    """The changes after `cursor` that `node` may hold, in global order."""
    committed = head()
    top = stamp(committed)
    route = NodeRoute(node)
    rows = list(
        ChangeRecord.objects.filter(global_seq__gt=cursor, global_seq__lte=top)
        .filter(route.routed_q())
        .filter(route.echo_q())
        .order_by("global_seq")
        .values(
            "global_seq",
            "node",
            "epoch",
            "seq",
            "model",
            "object_id",
            "op",
            "payload",
        )[:limit]
    )
    full = len(rows) >= limit
    next_cursor = rows[-1]["global_seq"] if full else max(top, cursor)
    changes = []
    for row in fill_by_reference(rows, route):
        spec = framework.spec_for(row["model"])
        payload = row["payload"]
        if spec is not None and spec.outgoing is not None and payload:
            payload = spec.outgoing(payload)
        changes.append({**row, "payload": payload})
    return {
        "changes": changes,
        "next_cursor": next_cursor,
        "head": top,
        "more": full or top < committed,
    }


def fill_by_reference(rows: list[dict[str, Any]], route: NodeRoute) -> list[dict]:
    """The page's change records as a node receives them: a record written by
    reference (payload NULL, decision 0012) carries its record's current row
    (`model_payload`, one query per model); one whose record no longer exists,
    or that is superseded (a newer change of the same record that this node
    is served, in this page or a later one, delivers the current row with its
    own, newer version), is left out. The rows stay in order; the caller's
    cursor still moves past what is left out.

    The rows are read before the newer changes are looked for, so a change
    committed in between makes the older record superseded (left out) rather
    than served with a state newer than its version says."""
    wanted: dict[str, dict[str, int]] = {}
    for row in rows:
        if is_by_reference(row["op"], row["payload"]):
            wanted.setdefault(row["model"], {})[row["object_id"]] = row["global_seq"]
    if not wanted:
        return rows
    current: dict[tuple[str, str], dict[str, Any]] = {}
    for label, versions in wanted.items():
        model = apps.get_model(label)
        for obj in model._default_manager.filter(pk__in=list(versions)):
            current[(label, str(obj.pk))] = model_payload(obj)
    superseded: set[tuple[str, str]] = set()
    for label, versions in wanted.items():
        superseded |= _superseded(label, versions, route)
    out = []
    for row in rows:
        if not is_by_reference(row["op"], row["payload"]):
            out.append(row)
            continue
        key = (row["model"], row["object_id"])
        if key in superseded or key not in current:
            continue
        out.append({**row, "payload": current[key]})
    return out


def _superseded(label: str, versions: dict[str, int], route: NodeRoute) -> set:
    """Which of these records (object id -> the global sequence of the
    by-reference record served) have a newer change that this node is
    served. Usually none: one query finds each record's newest change; only
    records with a newer one are checked against the node's route."""
    ids = list(versions)
    newer = {
        oid
        for oid, top in ChangeRecord.objects.filter(model=label, object_id__in=ids)
        .values("object_id")
        .annotate(top=Max("global_seq"))
        .values_list("object_id", "top")
        if top is not None and top > versions[oid]
    }
    if not newer:
        return set()
    served = (
        ChangeRecord.objects.filter(
            model=label,
            object_id__in=sorted(newer),
            global_seq__gt=min(versions[oid] for oid in newer),
        )
        .filter(route.routed_q())
        .filter(route.echo_q())
        .values_list("object_id", "global_seq")
    )
    return {(label, oid) for oid, g in served if g > versions[oid]}


def holdable_ids(node: str, label: str) -> list[str]:
    """Ids of the records of `label` the node may hold now (for a snapshot)."""
    spec = framework.spec_for(label)
    if spec is None or spec.kind == framework.LOCAL:
        return []
    if spec.kind == framework.REFERENCE:
        return [
            str(pk) for pk in spec.model._default_manager.values_list("pk", flat=True)
        ]
    route = NodeRoute(node)
    ids = set(
        ChangeRecord.objects.filter(model=label)
        .filter(route.own_q() | route.backfill_q())
        .values_list("object_id", flat=True)
        .distinct()
    )
    if spec.kind == framework.USER:
        ids |= set(route.user_ids)
    existing = set()
    id_list = sorted(ids)
    for start in range(0, len(id_list), 2000):
        chunk = id_list[start : start + 2000]
        existing.update(
            str(pk)
            for pk in spec.model._default_manager.filter(pk__in=chunk).values_list(
                "pk", flat=True
            )
        )
    return sorted(existing)


def record_routed(node: str, label: str, object_id: str) -> bool:
    """Is a record one this node may hold (routed, backfilled or reference)?"""
    spec = framework.spec_for(label)
    if spec is None or spec.kind == framework.LOCAL:
        return False
    if spec.kind == framework.REFERENCE:
        return True
    route = NodeRoute(node)
    if spec.kind == framework.USER and object_id in route.user_ids:
        return True
    return (
        ChangeRecord.objects.filter(model=label, object_id=object_id)
        .filter(route.own_q())
        .exists()
        or NodeBackfill.objects.filter(
            node=node, model=label, object_id=object_id
        ).exists()
    )
