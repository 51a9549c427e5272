"""A node's outbox: its own change records the regency has not acknowledged,
numbered by (epoch, seq); epochs; what the regency's acknowledgement means.

The outbox is every change record of this node after the acknowledged
(epoch, seq). A node restored from a backup has forgotten acknowledgements
and reuses numbers the regency already holds for other changes: it notices
when the regency's acknowledged change is not the one it holds under that
number (`reconcile`), and renumbers everything unacknowledged into a new
epoch (`start_new_epoch`), so its new changes are never taken for old ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from balai.core.models import ChangeRecord, NodeState
from balai.sync import framework
from balai.sync.models import SyncState, SyncVersion
from balai.sync.protocol import change_digest


def me() -> str:
    return settings.BALAI_NODE


def state() -> SyncState:
    found = SyncState.objects.filter(pk=1).first()
    if found is None:
        raise SyncNotReady(
            "Node ini belum disiapkan untuk sinkron. Jalankan `balai node_init`."
        )
    return found


class SyncNotReady(Exception):
    """This installation is not a sync node yet (message in Indonesian)."""


def after_acked(s: SyncState) -> Q:
    return Q(epoch__gt=s.acked_epoch) | Q(epoch=s.acked_epoch, seq__gt=s.acked_seq)


def outbox(s: SyncState | None = None):
    s = s or state()
    return ChangeRecord.objects.filter(node=me()).filter(after_acked(s))


def backlog(s: SyncState | None = None) -> int:
    try:
        return outbox(s).count()
    except SyncNotReady:
        return 0


def unpushed_keys(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these records have changes here the regency has not seen."""
    s = SyncState.objects.filter(pk=1).first()
    if s is None or not keys:
        return set()
    found: set[tuple[str, str]] = set()
    by_model: dict[str, list[str]] = {}
    for label, oid in keys:
        by_model.setdefault(label, []).append(oid)
    pending = outbox(s)
    for label, oids in by_model.items():
        for start in range(0, len(oids), 900):
            chunk = oids[start : start + 900]
            found.update(
                (label, oid)
                for oid in pending.filter(model=label, object_id__in=chunk)
                .values_list("object_id", flat=True)
                .distinct()
            )
    return found


@dataclass
class Batch:
    epoch: int
    first: int
    last: int
    records: list[dict[str, Any]]
    epoch_start: dict[str, int] | None

    @property
    def size(self) -> int:
        return len(self.records)

    def message(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "first": self.first,
            "last": self.last,
            "epoch_start": self.epoch_start,
            "changes": self.records,
        }


def next_batch(s: SyncState, *, limit: int) -> Batch | None:
    """The next run of unacknowledged changes, all in one epoch, with the
    base (regency version last seen) of each record."""
    rows = list(
        outbox(s)
        .order_by("epoch", "seq")
        .values(
            "id",
            "epoch",
            "seq",
            "model",
            "object_id",
            "op",
            "payload",
            "office_code",
            "region_code",
            "created_at",
        )[:limit]
    )
    if not rows:
        return None
    epoch = rows[0]["epoch"]
    rows = [r for r in rows if r["epoch"] == epoch]
    first = s.acked_seq + 1 if epoch == s.acked_epoch else 1
    last = rows[-1]["seq"]
    sent = []
    local = set(framework.labels_of(framework.LOCAL))
    keys = [(r["model"], r["object_id"]) for r in rows if r["model"] not in local]
    bases = _bases(keys, s.floor)
    blind = _blind(keys)
    for row in rows:
        if row["model"] in local:
            continue
        key = (row["model"], row["object_id"])
        base = bases.get(key, s.floor)
        if key in blind and row["id"] <= blind[key]:
            # Made before this node took the regency's answer to a conflict
            # on the record: it must not slip through on the new base.
            base = 0
        sent.append(
            {
                "seq": row["seq"],
                "model": row["model"],
                "object_id": row["object_id"],
                "op": row["op"],
                "payload": row["payload"],
                "office_code": row["office_code"],
                "region_code": row["region_code"],
                "created_at": row["created_at"].isoformat(),
                "base": base,
            }
        )
    epoch_start = None
    if epoch > s.acked_epoch:
        epoch_start = dict(s.epoch_start or {})
        epoch_start.setdefault("prev_epoch", s.acked_epoch)
        epoch_start.setdefault("prev_seq", s.acked_seq)
        epoch_start.setdefault("renumbered", 0)
    return Batch(epoch, first, last, sent, epoch_start)


def _bases(keys: Iterable[tuple[str, str]], floor: int) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    by_model: dict[str, list[str]] = {}
    for label, oid in keys:
        by_model.setdefault(label, []).append(oid)
    for label, oids in by_model.items():
        for start in range(0, len(oids), 900):
            chunk = oids[start : start + 900]
            for oid, g in SyncVersion.objects.filter(
                model=label, object_id__in=chunk
            ).values_list("object_id", "global_seq"):
                out[(label, oid)] = max(g, floor)
    return out


def _blind(keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Records with a refused change here, and the newest local change
    record id when the regency's version was taken."""
    from balai.sync.models import Conflict, ConflictKind

    out: dict[tuple[str, str], int] = {}
    if not keys:
        return out
    wanted = sorted({oid for _label, oid in keys})
    for start in range(0, len(wanted), 900):
        for label, oid, marker in (
            Conflict.objects.filter(applied_marker__isnull=False)
            .exclude(kind=ConflictKind.RENUMBERED)
            .filter(object_id__in=wanted[start : start + 900])
            .values_list("model", "object_id", "applied_marker")
        ):
            key = (label, oid)
            out[key] = max(out.get(key, 0), marker)
    return out


def record_ack(epoch: int, seq: int) -> None:
    """The regency holds everything of this node up to (epoch, seq)."""
    SyncState.objects.filter(pk=1).filter(
        Q(acked_epoch__lt=epoch) | Q(acked_epoch=epoch, acked_seq__lt=seq)
    ).update(acked_epoch=epoch, acked_seq=seq)


def digest_of(epoch: int, seq: int) -> str | None:
    row = (
        ChangeRecord.objects.filter(node=me(), epoch=epoch, seq=seq)
        .values("model", "object_id", "op", "payload")
        .first()
    )
    if row is None:
        return None
    return change_digest(row["model"], row["object_id"], row["op"], row["payload"])


def reconcile(acked: dict[str, Any], *, regency_epoch: int) -> str:
    """Compare the regency's acknowledgement with what this node holds.

    Returns "same", "caught_up" (an acknowledgement was lost: take it),
    "behind_regency" (the regency holds less than we thought: send again) or
    "new_epoch" (this node was restored from a backup: renumbered).
    """
    s = state()
    r_epoch, r_seq = int(acked.get("epoch", 0)), int(acked.get("seq", 0))
    ours = (s.acked_epoch, s.acked_seq)
    theirs = (r_epoch, r_seq)
    if theirs == ours:
        return "same"
    if theirs < ours:
        SyncState.objects.filter(pk=1).update(acked_epoch=r_epoch, acked_seq=r_seq)
        return "behind_regency"
    digest_seq = int(acked.get("digest_seq") or 0)
    digest = acked.get("digest") or ""
    mine = digest_of(r_epoch, digest_seq) if digest_seq else None
    if digest_seq and mine == digest:
        record_ack(r_epoch, r_seq)
        return "caught_up"
    start_new_epoch(min_epoch=max(regency_epoch, r_epoch))
    return "new_epoch"


def start_new_epoch(*, min_epoch: int = 0) -> tuple[int, int]:
    """Renumber every unacknowledged change of this node into a new epoch.

    Returns (new epoch, how many changes were renumbered). Actions wait on
    the NodeState lock meanwhile, so none is numbered in between.
    """
    with transaction.atomic():
        ns, _ = NodeState.objects.select_for_update().get_or_create(node=me())
        s = SyncState.objects.select_for_update().get(pk=1)
        new_epoch = max(ns.epoch, s.acked_epoch, min_epoch) + 1
        ids = list(outbox(s).order_by("epoch", "seq").values_list("id", flat=True))
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            records = list(
                ChangeRecord.objects.filter(id__in=chunk).order_by("epoch", "seq")
            )
            for i, record in enumerate(records, start=start + 1):
                record.epoch, record.seq = new_epoch, i
            ChangeRecord.objects.bulk_update(records, ["epoch", "seq"])
        ns.epoch, ns.last_seq = new_epoch, len(ids)
        ns.save(update_fields=["epoch", "last_seq"])
        s.epoch_start = {
            "prev_epoch": s.acked_epoch,
            "prev_seq": s.acked_seq,
            "renumbered": len(ids),
        }
        s.save(update_fields=["epoch_start"])
    return new_epoch, len(ids)
