"""Sync with no link at all: signed bundles on a USB stick.

At the node, `balai sync --export FILE` writes everything the regency has
not acknowledged (changes in batches, audit entries, access log, the files
they refer to) and where the node's pull stands. At the regency,
`balai sync --import FILE` checks the node's signature and applies it exactly
as pushes over the network (importing twice changes nothing), then writes an
answer bundle, signed with the regency's key: the acknowledgement, conflicts,
the changes to pull, the records they refer to, the regency's audit entries
the node lacks, and files. `balai sync --import-answer FILE` at the node
applies the answer.

A bundle file is one header line (JSON: format, protocol, node, sha256 of
the body, signature) followed by the gzip-compressed JSON body.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from balai.sync import blobs, engine, keys, outbox, routing
from balai.sync.client import SyncError, apply_conflicts
from balai.sync.models import NodeStatus, SyncNode, SyncRun, SyncState
from balai.sync.protocol import (
    ANSWER_FORMAT,
    BUNDLE_FORMAT,
    PROTOCOL_VERSION,
    ProtocolError,
    check_version,
    unb64,
)

MAGIC = b"BALAI-SYNC\n"


def _bundle_message(fmt: str, node: str, digest: str) -> bytes:
    return f"{fmt}\n{node}\n{digest}".encode()


def write(path: Path, fmt: str, node: str, body: dict[str, Any], key: Any) -> None:
    data = gzip.compress(json.dumps(body, ensure_ascii=False).encode(), compresslevel=6)
    digest = hashlib.sha256(data).hexdigest()
    header = {
        "format": fmt,
        "protocol": PROTOCOL_VERSION,
        "node": node,
        "sha256": digest,
        "signature": keys.sign(key, _bundle_message(fmt, node, digest)),
        "created": time.time(),
    }
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(MAGIC)
        fh.write(json.dumps(header).encode() + b"\n")
        fh.write(data)
    tmp.replace(path)


def read(path: Path, fmt: str) -> tuple[dict[str, Any], bytes]:
    raw = path.read_bytes()
    if not raw.startswith(MAGIC):
        raise SyncError("Berkas ini bukan bundel sinkron Balai.")
    head, _, data = raw[len(MAGIC) :].partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError as exc:
        raise SyncError("Kepala bundel rusak.") from exc
    if header.get("format") != fmt:
        raise SyncError(
            f"Bundel ini berjenis {header.get('format')}, bukan {fmt} yang diharapkan."
        )
    try:
        check_version(header.get("protocol"), side="bundel")
    except ProtocolError as exc:
        raise SyncError(exc.message, code=exc.code) from exc
    if hashlib.sha256(data).hexdigest() != header.get("sha256"):
        raise SyncError("Isi bundel rusak atau terpotong (hash tidak cocok).")
    return header, data


def _body(data: bytes) -> dict[str, Any]:
    return json.loads(gzip.decompress(data))


def _file_entry(kind: str, sha: str) -> dict[str, str] | None:
    if not blobs.have(kind, sha):
        return None
    content = blobs.final_path(kind, sha).read_bytes()
    return {"kind": kind, "sha256": sha, "data": base64.b64encode(content).decode()}


def _store_files(files: list[dict[str, str]]) -> None:
    for item in files:
        content = base64.b64decode(item["data"])
        blobs.append(item["kind"], item["sha256"], 0, content, len(content))


# --- at the node -------------------------------------------------------------------


def export(path: Path, *, batch: int | None = None) -> dict[str, int]:
    """Write everything unacknowledged to a signed bundle."""
    from balai.sync.auditsync import bundle_audit

    s = outbox.state()
    batch = batch or int(getattr(settings, "BALAI_SYNC_BATCH", 2000))
    batches = []
    shadow = SyncState(
        **{f.attname: getattr(s, f.attname) for f in SyncState._meta.fields}
    )
    files: dict[tuple[str, str], dict[str, str]] = {}
    while True:
        b = outbox.next_batch(shadow, limit=batch)
        if b is None:
            break
        batches.append(b.message())
        rows: dict[str, list[dict]] = {}
        for record in b.records:
            if record["op"] == "upsert":
                rows.setdefault(record["model"], []).append(record["payload"])
        for ref in blobs.refs_in(rows):
            if ref not in files and (entry := _file_entry(*ref)):
                files[ref] = entry
        shadow.acked_epoch, shadow.acked_seq = b.epoch, b.last
    body = {
        "node": s.node,
        "hello": {
            "node_time": timezone.now().timestamp(),
            "backlog": outbox.backlog(s),
            "software": "bundle",
        },
        "acked": [s.acked_epoch, s.acked_seq],
        "batches": batches,
        "audit": bundle_audit(),
        "files": list(files.values()),
        "pull": {"cursor": s.cursor, "conflict_rev": s.conflict_rev},
    }
    write(path, BUNDLE_FORMAT, s.node, body, keys.node_key())
    SyncRun.objects.create(
        node=s.node,
        kind="export",
        ok=True,
        finished_at=timezone.now(),
        pushed=sum(len(b["changes"]) for b in batches),
    )
    return {"batches": len(batches), "changes": sum(len(b["changes"]) for b in batches)}


def import_answer(path: Path) -> dict[str, int]:
    """Apply the regency's answer bundle at the node."""
    from balai.sync.auditsync import rebase

    s = outbox.state()
    header, data = read(path, ANSWER_FORMAT)
    if header.get("node") != s.node:
        raise SyncError(f"Jawaban ini untuk node {header.get('node')}, bukan {s.node}.")
    public = keys.regency_public()
    digest = header["sha256"]
    if public is None or not keys.verify(
        public, _bundle_message(ANSWER_FORMAT, s.node, digest), header["signature"]
    ):
        raise SyncError("Tanda tangan kabupaten pada jawaban tidak sah.")
    body = _body(data)
    outcome = outbox.reconcile(body["acked"], regency_epoch=int(body.get("epoch") or 0))
    _store_files(body.get("files", []))
    pulled = 0
    with transaction.atomic():
        new = apply_conflicts(body.get("conflicts", []))
        locked = SyncState.objects.select_for_update().get(pk=1)
        if locked.cursor <= int(body["pull"]["from"]):
            applied = engine.node_apply(body["pull"]["changes"])
            pulled = applied.applied
            if body.get("references"):
                engine.node_apply(body["references"])
            from balai.sync.client import missing_references

            missing = missing_references(applied.rows)
            if missing:
                raise SyncError(
                    "Jawaban tidak memuat data yang dirujuk: "
                    + ", ".join(f"{m['model']} {m['object_id']}" for m in missing[:5])
                )
            locked.cursor = max(locked.cursor, int(body["pull"]["next_cursor"]))
            locked.save(update_fields=["cursor"])
    for chain, info in (body.get("audit") or {}).items():
        acked = int((s.audit_acked or {}).get(chain, 0))
        rebase(chain, info["entries"], acked=acked)
        _remember_audit(chain, int(info["head"]))
    SyncState.objects.filter(pk=1).update(last_success_at=timezone.now(), last_error="")
    SyncRun.objects.create(
        node=s.node,
        kind="import",
        ok=True,
        finished_at=timezone.now(),
        pulled=pulled,
        conflicts=new,
    )
    return {
        "pulled": pulled,
        "conflicts": new,
        "epoch": 1 if outcome == "new_epoch" else 0,
    }


def _remember_audit(chain: str, seq: int) -> None:
    with transaction.atomic():
        s = SyncState.objects.select_for_update().get(pk=1)
        acked = dict(s.audit_acked or {})
        acked[chain] = max(int(acked.get(chain, 0)), seq)
        s.audit_acked = acked
        s.save(update_fields=["audit_acked"])


# --- at the regency -------------------------------------------------------------------


def import_bundle(path: Path, answer_path: Path) -> dict[str, Any]:
    """Apply a node's bundle (idempotently) and write the answer."""
    from balai.sync import server

    header, data = read(path, BUNDLE_FORMAT)
    name = header.get("node", "")
    node = SyncNode.objects.filter(pk=name).first()
    if node is None:
        raise SyncError(f"Node {name} tidak terdaftar di kabupaten.")
    if node.status != NodeStatus.ACTIVE:
        raise SyncError(
            f"Node {name} berstatus {node.get_status_display()}; bundelnya ditolak."
        )
    if not keys.verify(
        unb64(node.public_key),
        _bundle_message(BUNDLE_FORMAT, name, header["sha256"]),
        header["signature"],
    ):
        raise SyncError("Tanda tangan node pada bundel tidak sah.")
    body = _body(data)
    if body.get("node") != name:
        raise SyncError("Isi bundel untuk node lain.")
    server.hello(node, body.get("hello") or {})
    _store_files(body.get("files", []))
    applied = conflicts = 0
    try:
        for message in body.get("batches", []):
            answer = server.push(SyncNode.objects.get(pk=name), message)
            applied += answer.get("accepted", 0)
            conflicts += len(answer.get("conflicts", []))
    except ProtocolError as exc:
        raise SyncError(exc.message, code=exc.code) from exc
    audit = body.get("audit") or {}
    chains_answer: dict[str, Any] = {}
    from balai.audit.appliers import (
        ChainFork,
        apply_access,
        apply_entries,
        heads_of,
    )

    route = routing.NodeRoute(name)
    for chain, info in (audit.get("chains") or {}).items():
        try:
            with transaction.atomic():
                apply_entries(chain, info.get("entries", []))
        except ChainFork:
            pass
        head = heads_of([chain]).get(chain, [0, ""])
        after = int(info.get("after", 0))
        chains_answer[chain] = {
            "head": head[0],
            "entries": _all_entries(chain, after),
        }
    with transaction.atomic():
        apply_access(audit.get("access") or [], office_codes=route.office_codes)
    node = SyncNode.objects.get(pk=name)
    pull = body.get("pull") or {}
    cursor = int(pull.get("cursor", 0))
    changes: list[dict[str, Any]] = []
    next_cursor = cursor
    while True:
        page = routing.pull_page(name, next_cursor, limit=5000)
        changes += page["changes"]
        next_cursor = page["next_cursor"]
        if not page["more"]:
            break
    references = _references_for(name, changes)
    from balai.sync.models import Conflict

    conflict_rows = Conflict.objects.filter(
        node=name, rev__gt=int(pull.get("conflict_rev", 0))
    ).order_by("rev")
    answer = {
        "node": name,
        "epoch": node.epoch,
        "acked": server.ack_of(node),
        "conflicts": [engine.conflict_message(c) for c in conflict_rows],
        "pull": {"from": cursor, "changes": changes, "next_cursor": next_cursor},
        "references": references,
        "audit": chains_answer,
        "files": _files_for(name, changes + references),
    }
    write(answer_path, ANSWER_FORMAT, name, answer, keys.regency_key(create=True))
    SyncNode.objects.filter(pk=name).update(
        last_pull_at=timezone.now(), pull_cursor=cursor
    )
    return {"applied": applied, "conflicts": conflicts, "pulled": len(changes)}


def _all_entries(chain: str, after: int) -> list[dict[str, Any]]:
    from balai.audit.appliers import entries_after

    out: list[dict[str, Any]] = []
    while True:
        page = entries_after(chain, after)
        out += page
        if len(page) < 2000:
            return out
        after = page[-1]["seq"]


def _references_for(node: str, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows the pulled rows refer to that the node will not get otherwise."""
    from balai.sync import framework
    from balai.sync.models import NodeBackfill

    seen: set[tuple[str, str]] = {(c["model"], str(c["object_id"])) for c in changes}
    out: list[dict[str, Any]] = []
    todo = list(changes)
    for _depth in range(6):
        wanted: set[tuple[str, str]] = set()
        for change in todo:
            spec = framework.spec_for(change["model"])
            payload = change.get("payload") or {}
            if spec is None or not payload:
                continue
            for attname, target in spec.fk_fields:
                value = payload.get(attname)
                if value is not None and (target, str(value)) not in seen:
                    wanted.add((target, str(value)))
        todo = []
        for label, oid in sorted(wanted):
            seen.add((label, oid))
            if routing.record_routed(node, label, oid):
                continue
            state = engine.regency_state(label, oid)
            if state["row"] is None:
                continue
            NodeBackfill.objects.get_or_create(node=node, model=label, object_id=oid)
            change = {
                "model": label,
                "object_id": oid,
                "op": "upsert",
                "payload": state["row"],
                "global_seq": state["version"],
            }
            out.append(change)
            todo.append(change)
        if not todo:
            break
    return out


def _files_for(node: str, changes: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows: dict[str, list[dict]] = {}
    for change in changes:
        if change.get("payload"):
            rows.setdefault(change["model"], []).append(change["payload"])
    files = []
    for kind, sha in sorted(blobs.refs_in(rows)):
        entry = _file_entry(kind, sha)
        if entry:
            files.append(entry)
    return files


def check_regency() -> None:
    from balai.core.nodes import REGENCY_NODE

    if settings.BALAI_NODE != REGENCY_NODE:
        raise SyncError("Perintah ini dijalankan di server kabupaten.")
