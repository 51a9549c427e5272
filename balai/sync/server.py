"""The regency's side of sync: who is calling, and what each request does.

Every request but /time is signed by a registered, active node; a retired
node or a revoked key is refused with a clear message, as is a node speaking
another protocol version. See docs/decisions/0008-sync-protocol.md.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from balai.core.ids import new_id
from balai.core.nodes import REGENCY_NODE
from balai.sync import engine, framework, keys, routing
from balai.sync.models import (
    Conflict,
    NodeBackfill,
    NodeEpoch,
    NodeStatus,
    PendingChange,
    SyncNode,
    SyncRun,
)
from balai.sync.protocol import (
    H_NODE,
    H_PROTOCOL,
    H_SIGNATURE,
    H_TIME,
    MAX_CLOCK_WINDOW_SECONDS,
    PROTOCOL_VERSION,
    ProtocolError,
    as_int,
    as_str,
    change_digest,
    check_version,
    need,
    signing_message,
    unb64,
)

log = logging.getLogger("balai.sync")
PULL_LIMIT_MAX = 5000
SNAPSHOT_PAGE_MAX = 5000


def require_regency() -> None:
    if settings.BALAI_NODE != REGENCY_NODE:
        raise ProtocolError(
            "Alamat ini hanya dilayani server kabupaten.",
            code="not_regency",
            status=404,
        )


def authenticate(request: HttpRequest, body: bytes) -> SyncNode:
    """Check protocol version, node, key status, clock window and signature."""
    require_regency()
    name = request.headers.get(H_NODE, "")
    stamp = request.headers.get(H_TIME, "")
    signature = request.headers.get(H_SIGNATURE, "")
    if not (name and stamp and signature):
        raise ProtocolError(
            "Permintaan sinkron tanpa tanda tangan node.", code="unsigned", status=401
        )
    check_version(request.headers.get(H_PROTOCOL), side="node")
    node = SyncNode.objects.filter(pk=name).first()
    if node is None:
        raise ProtocolError(
            f"Node {name} tidak terdaftar di kabupaten.",
            code="unknown_node",
            status=401,
        )
    if node.status == NodeStatus.REVOKED:
        raise ProtocolError(
            f"Kunci sinkron node {name} sudah dicabut kabupaten; permintaan ditolak. "
            "Hubungi administrator kabupaten untuk kunci baru.",
            code="key_revoked",
            status=403,
        )
    if node.status == NodeStatus.RETIRED:
        raise ProtocolError(
            f"Node {name} sudah dipensiunkan; sinkron tidak lagi diterima.",
            code="node_retired",
            status=403,
        )
    try:
        moment = float(stamp)
    except ValueError:
        raise ProtocolError(
            "Cap waktu tidak sah.", code="bad_timestamp", status=401
        ) from None
    if abs(moment - time.time()) > MAX_CLOCK_WINDOW_SECONDS:
        raise ProtocolError(
            "Cap waktu permintaan terlalu jauh dari jam kabupaten (lebih dari "
            f"{MAX_CLOCK_WINDOW_SECONDS // 60} menit). Node menyesuaikan selisih jam "
            "dari /sync/time; coba lagi.",
            code="clock_window",
            status=401,
        )
    message = signing_message(
        method=request.method or "",
        path=request.path,
        query=request.META.get("QUERY_STRING", ""),
        timestamp=stamp,
        node=name,
        body=body,
    )
    if not keys.verify(unb64(node.public_key), message, signature):
        raise ProtocolError(
            "Tanda tangan permintaan tidak sah.", code="bad_signature", status=401
        )
    return node


# --- hello --------------------------------------------------------------------------


def hello(node: SyncNode, body: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    node_time = body.get("node_time")
    skew = None
    if isinstance(node_time, int | float):
        skew = float(node_time) - time.time()
    backlog = body.get("backlog")
    SyncNode.objects.filter(pk=node.pk).update(
        last_seen_at=now,
        clock_skew_seconds=skew,
        backlog=backlog if isinstance(backlog, int) and backlog >= 0 else None,
        protocol=PROTOCOL_VERSION,
        software=str(body.get("software", ""))[:64],
    )
    from balai.audit.appliers import chains_of, heads_of

    route = routing.NodeRoute(node.name)
    chains = chains_of(node.name, route.office_codes)
    return {
        "protocol": PROTOCOL_VERSION,
        "server_time": time.time(),
        "node": node.name,
        "status": node.status,
        "epoch": node.epoch,
        "acked": ack_of(node),
        "audit_heads": heads_of(chains),
        "chains": chains,
        "head": routing.head(),
    }


def ack_of(node: SyncNode) -> dict[str, Any]:
    return {
        "epoch": node.epoch,
        "seq": node.high_seq,
        "digest_seq": node.digest_seq,
        "digest": node.high_digest,
    }


# --- push ---------------------------------------------------------------------------


def _items(changes: Any, epoch: int, first: int, last: int) -> list[engine.Item]:
    need(isinstance(changes, list), "Kolom changes harus daftar.")
    items = []
    previous = first - 1
    for change in changes:
        need(isinstance(change, dict), "Setiap perubahan harus objek.")
        seq = as_int(change.get("seq"), "seq", minimum=1)
        need(previous < seq <= last, "Nomor urut perubahan tidak berurutan.")
        previous = seq
        items.append(
            engine.Item(
                epoch=epoch,
                seq=seq,
                model=as_str(change.get("model"), "model"),
                object_id=as_str(change.get("object_id"), "object_id"),
                op=as_str(change.get("op"), "op", max_length=8),
                payload=change.get("payload"),
                office_code=as_str(
                    change.get("office_code", ""), "office_code", max_length=32
                ),
                region_code=as_str(
                    change.get("region_code", ""), "region_code", max_length=32
                ),
                created_at=as_str(change.get("created_at", ""), "created_at"),
                base=as_int(change.get("base", 0), "base"),
            )
        )
    return items


def push(node: SyncNode, body: dict[str, Any]) -> dict[str, Any]:
    """Apply one batch of a node's changes in one transaction."""
    need(isinstance(body, dict), "Kiriman harus objek.")
    epoch = as_int(body.get("epoch"), "epoch", minimum=1)
    first = as_int(body.get("first"), "first", minimum=1)
    last = as_int(body.get("last"), "last", minimum=first)
    items = _items(body.get("changes"), epoch, first, last)
    start = body.get("epoch_start") or None
    run = SyncRun(node=node.name, kind="push")
    began = time.monotonic()
    with transaction.atomic():
        node = SyncNode.objects.select_for_update().get(pk=node.pk)
        if node.status != NodeStatus.ACTIVE:
            raise ProtocolError("Node tidak aktif.", code="node_inactive", status=403)
        if epoch < node.epoch:
            return _ack(node, epoch, first, last, skipped=len(items))
        if epoch > node.epoch:
            if first != 1:
                raise ProtocolError(
                    "Epoch baru harus dimulai dari nomor 1.", code="gap", status=409
                )
            if node.epoch > 0:
                need(isinstance(start, dict), "Epoch baru tanpa keterangan awalnya.")
            start = start or {}
            prev_epoch = as_int(start.get("prev_epoch", 0), "prev_epoch")
            prev_seq = as_int(start.get("prev_seq", 0), "prev_seq")
            renumbered = as_int(start.get("renumbered", 0), "renumbered")
            need(prev_epoch < epoch, "Epoch sebelumnya harus lebih kecil.")
            NodeEpoch.objects.create(
                node=node.name,
                epoch=epoch,
                prev_epoch=prev_epoch,
                prev_seq=prev_seq,
                renumbered=renumbered,
            )
            _orphan_lost_pending(node.name, epoch, prev_epoch, prev_seq)
            node.epoch, node.high_seq = epoch, 0
            node.high_digest, node.digest_seq = "", 0
        if first > node.high_seq + 1:
            raise ProtocolError(
                f"Ada kiriman yang terlewat: kabupaten menerima sampai nomor "
                f"{node.high_seq}, kiriman ini mulai nomor {first}.",
                code="gap",
                status=409,
            )
        fresh = [i for i in items if i.seq > node.high_seq]
        if last <= node.high_seq:
            return _ack(node, epoch, first, last, skipped=len(items))
        pending = [
            engine.Item(
                epoch=p.epoch,
                seq=p.seq,
                model=p.model,
                object_id=p.object_id,
                op=p.op,
                payload=p.payload,
                office_code=p.office_code,
                region_code=p.region_code,
                created_at=p.created_at.isoformat(),
                base=p.base,
                pending_id=p.id,
            )
            for p in PendingChange.objects.filter(node=node.name).order_by(
                "epoch", "seq"
            )
        ]
        result = engine.apply_unit(node.name, pending + fresh)
        if fresh:
            tip = fresh[-1]
            node.digest_seq = tip.seq
            node.high_digest = change_digest(
                tip.model, tip.object_id, tip.op, tip.payload
            )
        node.high_seq = last
        node.last_push_at = timezone.now()
        node.last_error = ""
        node.save()
        NodeEpoch.objects.filter(node=node.name, epoch=epoch).update(
            high_seq=last, high_digest=node.high_digest, digest_seq=node.digest_seq
        )
        run.pushed, run.conflicts = result.accepted, len(result.conflicts)
        run.ok, run.finished_at = True, timezone.now()
        run.save()
        answer = _ack(
            node,
            epoch,
            first,
            last,
            accepted=result.accepted,
            skipped=result.skipped + (len(items) - len(fresh)),
            parked=result.parked,
        )
        answer["seconds"] = round(time.monotonic() - began, 3)
        return answer


def _orphan_lost_pending(name: str, epoch: int, prev_epoch: int, prev_seq: int) -> None:
    """Changes still waiting here that the node lost (restored from a backup)
    will never be completed: keep them as conflicts, not pending forever."""
    from django.db.models import Q

    from balai.sync.models import ConflictKind, ConflictStatus

    lost = PendingChange.objects.filter(node=name, epoch__lt=epoch).filter(
        Q(epoch__gt=prev_epoch) | Q(epoch=prev_epoch, seq__gt=prev_seq)
    )
    rows = list(lost)
    if not rows:
        return
    made = [
        Conflict(
            node=name,
            epoch=p.epoch,
            seq=p.seq,
            model=p.model,
            object_id=p.object_id,
            op=p.op,
            kind=ConflictKind.MISSING_REFERENCE,
            message=(
                "Perubahan ini menunggu data yang dirujuknya, tetapi node dipulihkan "
                "dari cadangan sebelum data itu terkirim; perubahan tidak dapat "
                "diterapkan."
            ),
            advice=engine.ADVICE[ConflictKind.MISSING_REFERENCE],
            office_code=p.office_code,
            region_code=p.region_code,
            payload=p.payload if isinstance(p.payload, dict) else {},
            status=ConflictStatus.OPEN,
        )
        for p in rows
    ]
    from balai.core.changelog import _reserve

    _epoch, first = _reserve(len(made))
    for n, conflict in enumerate(made):
        conflict.rev = first + n
    Conflict.objects.bulk_create(made, batch_size=500)
    lost.delete()


def _ack(node: SyncNode, epoch: int, first: int, last: int, **counts: int) -> dict:
    conflicts = Conflict.objects.filter(
        node=node.name, epoch=epoch, seq__gte=first, seq__lte=last
    ).order_by("rev")
    return {
        "acked": ack_of(node),
        **counts,
        "pending": PendingChange.objects.filter(node=node.name).count(),
        "conflicts": [engine.conflict_message(c) for c in conflicts],
    }


# --- pull ---------------------------------------------------------------------------


def pull(node: SyncNode, body: dict[str, Any]) -> dict[str, Any]:
    need(isinstance(body, dict), "Kiriman harus objek.")
    cursor = as_int(body.get("cursor", 0), "cursor")
    limit = min(as_int(body.get("limit", 2000), "limit", minimum=1), PULL_LIMIT_MAX)
    conflict_rev = as_int(body.get("conflict_rev", 0), "conflict_rev")
    page = routing.pull_page(node.name, cursor, limit=limit)
    conflicts = Conflict.objects.filter(node=node.name, rev__gt=conflict_rev).order_by(
        "rev"
    )[:500]
    page["conflicts"] = [engine.conflict_message(c) for c in conflicts]
    SyncNode.objects.filter(pk=node.pk).update(
        pull_cursor=cursor, last_pull_at=timezone.now()
    )
    return page


# --- backfill: records a node's records refer to -----------------------------------


def backfill(node: SyncNode, body: dict[str, Any]) -> dict[str, Any]:
    """Rows a node needs because a record it holds refers to them."""
    wanted = body.get("wanted") if isinstance(body, dict) else None
    need(isinstance(wanted, list) and len(wanted) <= 2000, "Daftar wanted tidak sah.")
    rows = []
    refused = []
    with transaction.atomic():
        for want in wanted:
            need(isinstance(want, dict), "Setiap permintaan harus objek.")
            label = as_str(want.get("model"), "model")
            oid = as_str(want.get("object_id"), "object_id")
            ref_label = as_str(want.get("ref_model"), "ref_model")
            ref_id = as_str(want.get("ref_id"), "ref_id")
            field = as_str(want.get("field"), "field")
            if not _backfill_allowed(node.name, label, oid, ref_label, ref_id, field):
                refused.append({"model": label, "object_id": oid})
                continue
            state = engine.regency_state(label, oid)
            if state["row"] is None:
                refused.append({"model": label, "object_id": oid})
                continue
            spec = framework.spec_for(label)
            if spec and spec.outgoing:
                state["row"] = spec.outgoing(state["row"])
            NodeBackfill.objects.get_or_create(
                node=node.name, model=label, object_id=oid
            )
            rows.append(
                {
                    "model": label,
                    "object_id": oid,
                    "op": "upsert",
                    "payload": state["row"],
                    "global_seq": state["version"],
                }
            )
    return {"changes": rows, "refused": refused}


def _backfill_allowed(
    node: str, label: str, oid: str, ref_label: str, ref_id: str, field: str
) -> bool:
    spec = framework.spec_for(label)
    ref_spec = framework.spec_for(ref_label)
    if spec is None or ref_spec is None or spec.kind == framework.LOCAL:
        return False
    if spec.kind == framework.REFERENCE:
        return True
    if (field, label) not in ref_spec.fk_fields:
        return False
    if not routing.record_routed(node, ref_label, ref_id):
        return False
    current = ref_spec.model._default_manager.filter(pk=ref_id).values(field).first()
    if current is not None and str(current[field]) == oid:
        return True
    from balai.core.models import ChangeRecord

    # A record by reference (payload NULL, decision 0012) tells no earlier
    # value: only its current row (above) counts for it.
    return any(
        str((payload or {}).get(field)) == oid
        for payload in ChangeRecord.objects.filter(
            model=ref_label, object_id=ref_id
        ).values_list("payload", flat=True)
    )


# --- snapshot (bootstrap) -------------------------------------------------------------


def _snapshot_dir() -> Path:
    path = Path(settings.DATA_DIR) / "sync" / "snapshots"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def snapshot_start(node: SyncNode) -> dict[str, Any]:
    """Fix what a new node may hold and the cursor it starts pulling from."""
    # Pulls go on from here: only as far as every change has its number.
    cursor = routing.stamp(routing.head())
    ids = {
        label: routing.holdable_ids(node.name, label)
        for label in framework.synced_labels()
    }
    session = str(new_id())
    path = _snapshot_dir() / f"{session}.json"
    path.write_text(json.dumps({"node": node.name, "cursor": cursor, "ids": ids}))
    return {
        "session": session,
        "cursor": cursor,
        "models": [{"model": label, "count": len(v)} for label, v in ids.items()],
        "epoch": node.epoch,
        "acked": ack_of(node),
    }


def snapshot_page(node: SyncNode, body: dict[str, Any]) -> dict[str, Any]:
    session = as_str(body.get("session"), "session", max_length=40)
    need(all(c in "0123456789abcdef-" for c in session), "Sesi tidak sah.")
    label = as_str(body.get("model"), "model")
    offset = as_int(body.get("offset", 0), "offset")
    limit = min(as_int(body.get("limit", 2000), "limit", minimum=1), SNAPSHOT_PAGE_MAX)
    path = _snapshot_dir() / f"{session}.json"
    if not path.exists():
        raise ProtocolError(
            "Sesi snapshot tidak ada lagi; mulai ulang.", code="gone", status=410
        )
    data = json.loads(path.read_text())
    need(data["node"] == node.name, "Sesi snapshot milik node lain.")
    ids = data["ids"].get(label, [])[offset : offset + limit]
    spec = framework.spec_for(label)
    need(spec is not None, "Jenis data tidak dikenal.")
    from balai.core.serialize import model_payload

    rows = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        objs = spec.model._default_manager.filter(pk__in=chunk)
        if spec.m2m:
            objs = objs.prefetch_related(*spec.m2m)
        for obj in objs:
            payload = model_payload(obj)
            if spec.outgoing:
                payload = spec.outgoing(payload)
            if spec.m2m:
                payload["_m2m"] = {
                    name: [
                        str(pk)
                        for pk in getattr(obj, name).values_list("pk", flat=True)
                    ]
                    for name in spec.m2m
                }
            rows.append(
                {
                    "model": label,
                    "object_id": str(obj.pk),
                    "op": "upsert",
                    "payload": payload,
                }
            )
    return {"changes": rows, "done": offset + limit >= len(data["ids"].get(label, []))}


def sweep_snapshots(max_age_seconds: int = 86400) -> None:
    folder = _snapshot_dir()
    now = time.time()
    for path in folder.glob("*.json"):
        if now - path.stat().st_mtime > max_age_seconds:
            path.unlink(missing_ok=True)


# --- audit --------------------------------------------------------------------------


def audit_push(node: SyncNode, body: dict[str, Any]) -> dict[str, Any]:
    from balai.audit.appliers import (
        BadEntry,
        ChainFork,
        apply_access,
        apply_entries,
        chains_of,
        heads_of,
    )

    route = routing.NodeRoute(node.name)
    allowed = set(chains_of(node.name, route.office_codes))
    chains = body.get("chains") or {}
    need(isinstance(chains, dict), "Kolom chains harus objek.")
    forks = {}
    appended = 0
    for chain, entries in chains.items():
        if chain not in allowed:
            raise ProtocolError(
                f"Rantai audit {chain} bukan milik node ini.",
                code="not_served",
                status=403,
            )
        need(
            isinstance(entries, list) and len(entries) <= 5000, "Entri terlalu banyak."
        )
        try:
            with transaction.atomic():
                appended += apply_entries(chain, entries)
        except ChainFork as fork:
            forks[chain] = [fork.seq, fork.hash]
        except BadEntry as exc:
            raise ProtocolError(str(exc), code="bad_audit") from exc
    access = body.get("access") or []
    need(isinstance(access, list) and len(access) <= 5000, "Log akses terlalu banyak.")
    try:
        with transaction.atomic():
            kept = apply_access(access, office_codes=route.office_codes)
    except BadEntry as exc:
        raise ProtocolError(str(exc), code="bad_access_log") from exc
    return {
        "appended": appended,
        "access_kept": kept,
        "forks": forks,
        "heads": heads_of(sorted(allowed)),
    }


def audit_fetch(node: SyncNode, body: dict[str, Any]) -> dict[str, Any]:
    from balai.audit.appliers import chains_of, entries_after

    route = routing.NodeRoute(node.name)
    chain = as_str(body.get("chain"), "chain")
    if chain not in chains_of(node.name, route.office_codes):
        raise ProtocolError(
            "Rantai audit bukan milik node ini.", code="not_served", status=403
        )
    after = as_int(body.get("after", 0), "after")
    return {"entries": entries_after(chain, after)}


def note_error(node_name: str, message: str) -> None:
    SyncNode.objects.filter(pk=node_name).update(last_error=message[:2000])


def environment_ok() -> bool:
    return os.environ.get("BALAI_NODE", settings.BALAI_NODE) == REGENCY_NODE
