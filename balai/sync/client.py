"""A node's side of sync: talking to the regency, and one sync round.

A round: measure the clock skew, say hello (learn what the regency holds of
this node; notice a restore from backup), push the outbox in batches (files
first), send the audit chains and access log, pull what changed at the
regency in pages (fetching records referred to), fetch files. Every step is
idempotent and resumable: a round cut anywhere (a dropped link, a killed
process on either side) is simply run again and ends in the same state.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import logging
import os
import ssl
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from balai.core.models import ChangeRecord
from balai.sync import blobs, engine, framework, keys, outbox
from balai.sync.models import Conflict, SyncRun, SyncState
from balai.sync.protocol import (
    H_NODE,
    H_PROTOCOL,
    H_SIGNATURE,
    H_TIME,
    PROTOCOL_VERSION,
    ProtocolError,
    check_version,
    decode_body,
    encode_body,
    signing_message,
)

log = logging.getLogger("balai.sync")
API_PREFIX = "/api/v1/sync"
CONFLICT_PAGE = 500  # conflicts per pull answer (server.pull)
SOFTWARE = "balai-sync/1"


def node_time() -> float:
    """This node's clock (as set, maybe wrong) in Unix seconds."""
    return timezone.now().timestamp()


class SyncError(Exception):
    """A round that could not finish (message in Indonesian)."""

    def __init__(self, message: str, *, code: str = "sync_error", status: int = 0):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


# --- HTTP -----------------------------------------------------------------------------


class Regency:
    """Signed requests to the regency's /api/v1/sync endpoints."""

    def __init__(
        self, url: str, node: str, key: Any, *, skew: float = 0.0, timeout: float = 120
    ) -> None:
        parsed = urllib.parse.urlsplit(url.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SyncError(f"Alamat kabupaten tidak sah: {url}")
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.prefix = parsed.path.rstrip("/") + API_PREFIX
        self.node, self.key, self.skew, self.timeout = node, key, skew, timeout

    @classmethod
    def for_node(cls, s: SyncState, **kwargs: Any) -> Regency:
        if not s.regency_url:
            raise SyncError(
                "Alamat kabupaten belum diatur (balai node_init --regency)."
            )
        try:
            key = keys.node_key()
        except keys.KeyProblem as exc:
            raise SyncError(str(exc)) from exc
        return cls(s.regency_url, s.node, key, **kwargs)

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                self.host,
                self.port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def raw(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        query: str = "",
        headers: dict[str, str] | None = None,
        signed: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        full = self.prefix + path
        all_headers = {H_PROTOCOL: str(PROTOCOL_VERSION), **(headers or {})}
        if signed:
            stamp = f"{node_time() - self.skew:.3f}"
            message = signing_message(
                method=method,
                path=full,
                query=query,
                timestamp=stamp,
                node=self.node,
                body=body,
            )
            all_headers.update(
                {
                    H_NODE: self.node,
                    H_TIME: stamp,
                    H_SIGNATURE: keys.sign(self.key, message),
                }
            )
        target = full + (f"?{query}" if query else "")
        conn = self._connection()
        try:
            conn.request(method, target, body=body or None, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            got = {k.lower(): v for k, v in response.getheaders()}
            return response.status, got, data
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise SyncError(
                f"Sambungan ke kabupaten gagal ({type(exc).__name__}: {exc}); "
                "sinkron dilanjutkan lain kali dari titik yang sama.",
                code="link",
            ) from exc
        finally:
            conn.close()

    def call(self, path: str, payload: Any, *, signed: bool = True) -> Any:
        body = encode_body(payload)
        status, headers, data = self.raw(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            signed=signed,
        )
        return self._decode(status, headers, data)

    def _decode(self, status: int, headers: dict[str, str], data: bytes) -> Any:
        try:
            parsed = decode_body(data, encoding=headers.get("content-encoding", ""))
        except ProtocolError:
            parsed = None
        if status >= 400:
            if isinstance(parsed, dict) and "message" in parsed:
                raise SyncError(
                    parsed["message"], code=parsed.get("code", ""), status=status
                )
            raise SyncError(
                f"Kabupaten menjawab dengan kesalahan {status}.",
                code="http",
                status=status,
            )
        if parsed is None:
            raise SyncError("Jawaban kabupaten rusak.", code="bad_answer")
        try:
            check_version(headers.get(H_PROTOCOL.lower()), side="kabupaten")
        except ProtocolError as exc:
            raise SyncError(exc.message, code=exc.code) from exc
        return parsed

    def measure_skew(self) -> float:
        """Node clock minus regency clock, in seconds (half the round trip off)."""
        sent = node_time()
        status, headers, data = self.raw("GET", "/time", signed=False)
        back = node_time()
        answer = self._decode(status, headers, data)
        skew = (sent + back) / 2 - float(answer["server_time"])
        self.skew = skew
        return skew

    # files
    def upload_blob(self, kind: str, sha: str) -> None:
        path = blobs.final_path(kind, sha)
        if not path.exists():
            return
        answer = self.call("/blob/stat", {"kind": kind, "sha256": sha})
        if answer.get("have"):
            return
        total = path.stat().st_size
        start = int(answer.get("received") or 0)
        with path.open("rb") as fh:
            while start < total:
                fh.seek(start)
                chunk = fh.read(blobs.CHUNK)
                status, headers, data = self.raw(
                    "PUT",
                    f"/blob/{kind}/{sha}",
                    body=chunk,
                    query=f"start={start}&total={total}",
                    headers={"Content-Type": "application/octet-stream"},
                )
                got = self._decode(status, headers, data)
                new_start = int(got["received"])
                if new_start <= start and new_start < total:
                    start = new_start
                    continue
                start = new_start

    def download_blob(self, kind: str, sha: str) -> bool:
        if blobs.have(kind, sha):
            return True
        while True:
            start = blobs.received(kind, sha)
            status, headers, data = self.raw(
                "GET", f"/blob/{kind}/{sha}", headers={"Range": f"bytes={start}-"}
            )
            if status in (403, 404):
                return False
            if status not in (200, 206):
                self._decode(status, headers, data)
                return False
            total = int(headers.get("content-range", "/0").rsplit("/", 1)[1] or 0)
            if status == 200:
                start = 0
                blobs.partial_path(kind, sha).unlink(missing_ok=True)
            here = blobs.append(kind, sha, start, data, total)
            if here >= total:
                return True


# --- conflicts ------------------------------------------------------------------------


def apply_conflicts(messages: list[dict[str, Any]], *, advance: bool = True) -> int:
    """Keep the regency's conflicts here and take the regency's version of
    each record concerned (inside the caller's transaction). Returns how
    many were new. Only the pull's stream (every conflict, in rev order)
    advances the conflict cursor; a push's answer carries those of its batch
    only, early."""
    new = 0
    top_rev = 0
    for m in messages:
        top_rev = max(top_rev, int(m.get("rev") or 0))
        existing = Conflict.objects.filter(pk=m["id"]).first()
        fields = {
            "status": m["status"],
            "resolved_by": m.get("resolved_by") or "",
            "resolution_note": m.get("resolution_note") or "",
            "rev": int(m.get("rev") or 0),
            "resolved_at": m.get("resolved_at"),
        }
        if existing is not None:
            Conflict.objects.filter(pk=existing.pk).update(**fields)
            continue
        new += 1
        conflict = Conflict(
            id=m["id"],
            node=settings.BALAI_NODE,
            epoch=m.get("epoch"),
            seq=m.get("seq"),
            model=m["model"],
            object_id=m["object_id"],
            op=m.get("op") or "upsert",
            kind=m["kind"],
            message=m["message"],
            advice=m.get("advice") or "",
            office_code=m.get("office_code") or "",
            region_code=m.get("region_code") or "",
            payload=m.get("payload") or {},
            **fields,
        )
        state = m.get("state")
        if state is not None:
            _take_regency_state(state, rev=conflict.rev)
            conflict.applied_at = timezone.now()
            conflict.applied_marker = (
                ChangeRecord.objects.filter(node=settings.BALAI_NODE)
                .order_by("-id")
                .values_list("id", flat=True)
                .first()
                or 0
            )
        conflict.save(force_insert=True)
    if top_rev and advance:
        SyncState.objects.filter(pk=1, conflict_rev__lt=top_rev).update(
            conflict_rev=top_rev
        )
    return new


def _take_regency_state(state: dict[str, Any], *, rev: int) -> None:
    label, oid, row = state["model"], str(state["object_id"]), state.get("row")
    spec = framework.spec_for(label)
    if spec is None or spec.kind == framework.LOCAL:
        return
    version = max(int(state.get("version") or 0), rev)
    if row is None:
        engine.delete_with_dependents(label, [oid])
    else:
        engine.node_apply(
            [{"model": label, "object_id": oid, "op": "upsert", "payload": row}],
            keep_local=False,
        )
    engine.remember_versions([(label, oid, version)])


# --- references (backfill) ------------------------------------------------------------


def missing_references(rows_by_model: dict[str, list[dict[str, Any]]]) -> list[dict]:
    """Records the written rows refer to that this node does not hold."""
    wanted: dict[tuple[str, str], dict[str, str]] = {}
    for label, rows in rows_by_model.items():
        spec = framework.spec_for(label)
        if spec is None:
            continue
        for attname, target in spec.fk_fields:
            refs: dict[str, tuple[str, str]] = {}
            for row in rows:
                value = row.get(attname)
                if value is not None:
                    refs.setdefault(str(value), (str(row[spec.pk_attname]), attname))
            if not refs:
                continue
            model = engine._model_of(target)
            ids = list(refs)
            present: set[str] = set()
            for start in range(0, len(ids), 900):
                present.update(
                    str(v)
                    for v in model._default_manager.filter(
                        pk__in=ids[start : start + 900]
                    ).values_list("pk", flat=True)
                )
            for oid in ids:
                if oid not in present and (target, oid) not in wanted:
                    ref_id, field_name = refs[oid]
                    wanted[(target, oid)] = {
                        "model": target,
                        "object_id": oid,
                        "ref_model": label,
                        "ref_id": ref_id,
                        "field": field_name,
                    }
    return list(wanted.values())


def repair_references(client: Regency | None, applied: engine.PulledRows) -> None:
    """Fetch what written rows refer to, until nothing is missing."""
    rows = applied.rows
    for _depth in range(8):
        wanted = missing_references(rows)
        if not wanted:
            return
        if client is None:
            raise SyncError(
                "Data yang dirujuk belum ada di node: "
                + ", ".join(f"{w['model']} {w['object_id']}" for w in wanted[:5])
            )
        fetched: list[dict[str, Any]] = []
        refused: list[dict[str, Any]] = []
        for start in range(0, len(wanted), 1000):
            answer = client.call("/backfill", {"wanted": wanted[start : start + 1000]})
            fetched += answer.get("changes", [])
            refused += answer.get("refused", [])
        if refused:
            raise SyncError(
                "Kabupaten tidak memberikan data yang dirujuk: "
                + ", ".join(f"{r['model']} {r['object_id']}" for r in refused[:5])
            )
        rows = engine.node_apply(fetched).rows
    raise SyncError("Rujukan data terlalu dalam untuk dilengkapi.")


# --- the round ------------------------------------------------------------------------


@dataclass
class RoundReport:
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    batches: int = 0
    pages: int = 0
    audit_sent: int = 0
    blobs_up: int = 0
    blobs_down: int = 0
    blobs_missing: int = 0
    skew: float | None = None
    epoch_event: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [
            f"dikirim {self.pushed} perubahan dalam {self.batches} kiriman",
            f"diterima {self.pulled} perubahan dalam {self.pages} halaman",
            f"konflik baru {self.conflicts}",
            f"entri audit {self.audit_sent}",
            f"berkas naik {self.blobs_up}, turun {self.blobs_down}",
        ]
        if self.blobs_missing:
            parts.append(f"berkas belum tersedia {self.blobs_missing}")
        if self.skew is not None:
            parts.append(f"selisih jam {self.skew:+.0f} detik")
        if self.epoch_event:
            parts.append(f"epoch: {self.epoch_event}")
        if self.seconds:
            parts.append(
                "waktu " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
            )
        return "; ".join(parts)


@contextlib.contextmanager
def _timed(report: RoundReport, name: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        report.seconds[name] = time.monotonic() - started


@contextlib.contextmanager
def round_lock() -> Iterator[None]:
    folder = Path(settings.DATA_DIR) / "sync"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (folder / "round.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncError(
                "Sinkron lain sedang berjalan di node ini.", code="busy"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_round(
    *,
    client: Regency | None = None,
    push_limit: int | None = None,
    pull_limit: int | None = None,
) -> RoundReport:
    """One sync round with the regency (see the module docstring)."""
    push_limit = push_limit or int(getattr(settings, "BALAI_SYNC_BATCH", 2000))
    pull_limit = pull_limit or int(getattr(settings, "BALAI_SYNC_PAGE", 2000))
    s = outbox.state()
    run = SyncRun.objects.create(node=s.node, kind="round")
    SyncState.objects.filter(pk=1).update(last_attempt_at=timezone.now())
    report = RoundReport()
    try:
        with round_lock():
            client = client or Regency.for_node(s)
            report.skew = client.measure_skew()
            SyncState.objects.filter(pk=1).update(clock_skew_seconds=report.skew)
            hello = say_hello(client, report)
            from balai.sync import auditsync

            with _timed(report, "kirim"):
                _push(client, report, push_limit)
            with _timed(report, "audit"):
                report.audit_sent = auditsync.sync_audit(client, hello)
            with _timed(report, "tarik"):
                _pull(client, report, pull_limit)
    except SyncError as exc:
        _finish(run, report, error=exc.message)
        raise
    except Exception as exc:
        log.exception("sync.round.failed")
        _finish(run, report, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(run, report)
    SyncState.objects.filter(pk=1).update(last_success_at=timezone.now(), last_error="")
    return report


def _finish(run: SyncRun, report: RoundReport, *, error: str = "") -> None:
    run.finished_at = timezone.now()
    run.ok = not error
    run.pushed, run.pulled, run.conflicts = (
        report.pushed,
        report.pulled,
        report.conflicts,
    )
    run.error = error[:2000]
    run.save()
    if error:
        SyncState.objects.filter(pk=1).update(last_error=error[:2000])
    SyncRun.objects.filter(
        pk__in=list(SyncRun.objects.order_by("-id").values_list("id", flat=True)[500:])
    ).delete()


def say_hello(client: Regency, report: RoundReport | None = None) -> dict[str, Any]:
    s = outbox.state()
    hello = client.call(
        "/hello",
        {
            "node_time": node_time(),
            "backlog": outbox.backlog(s),
            "cursor": s.cursor,
            "acked": [s.acked_epoch, s.acked_seq],
            "software": SOFTWARE,
        },
    )
    if hello.get("node") != s.node:
        raise SyncError("Kabupaten menjawab untuk node lain.")
    outcome = outbox.reconcile(
        hello["acked"], regency_epoch=int(hello.get("epoch") or 0)
    )
    if report is not None:
        report.epoch_event = outcome if outcome != "same" else ""
    if outcome == "new_epoch":
        log.warning("sync.restore_detected", extra={"node": s.node})
    return hello


def _push(client: Regency, report: RoundReport, limit: int) -> None:
    while True:
        s = outbox.state()
        batch = outbox.next_batch(s, limit=limit)
        if batch is None:
            return
        rows: dict[str, list[dict]] = defaultdict(list)
        for record in batch.records:
            if record["op"] == "upsert":
                rows[record["model"]].append(record["payload"])
        for kind, sha in sorted(blobs.refs_in(rows)):
            if blobs.have(kind, sha):
                client.upload_blob(kind, sha)
                report.blobs_up += 1
        try:
            answer = client.call("/push", batch.message())
        except SyncError as exc:
            if exc.status == 409 and exc.code == "gap":
                say_hello(client)
                if limit > 1:
                    continue
            if exc.status in (400, 413) and limit > 50 and "besar" in exc.message:
                limit //= 2
                continue
            raise
        acked = answer["acked"]
        with transaction.atomic():
            report.conflicts += apply_conflicts(
                answer.get("conflicts", []), advance=False
            )
            if (int(acked["epoch"]), int(acked["seq"])) == (batch.epoch, batch.last):
                outbox.record_ack(batch.epoch, batch.last)
        if (int(acked["epoch"]), int(acked["seq"])) != (batch.epoch, batch.last):
            # The regency holds something else than this batch's end (an older
            # epoch skipped, more than we sent): compare again before going on.
            say_hello(client, report)
        report.pushed += len(batch.records)
        report.batches += 1
        report.seconds["kabupaten"] = report.seconds.get("kabupaten", 0.0) + float(
            answer.get("seconds") or 0
        )


def _pull(client: Regency, report: RoundReport, limit: int) -> None:
    wanted_files: set[tuple[str, str]] = set()
    while True:
        s = outbox.state()
        answer = client.call(
            "/pull",
            {"cursor": s.cursor, "limit": limit, "conflict_rev": s.conflict_rev},
        )
        with transaction.atomic():
            locked = SyncState.objects.select_for_update().get(pk=1)
            if locked.cursor != s.cursor:
                raise SyncError("Sinkron lain mengubah posisi tarik; diulang nanti.")
            report.conflicts += apply_conflicts(answer.get("conflicts", []))
            applied = engine.node_apply(answer["changes"])
            repair_references(client, applied)
            locked.cursor = max(int(answer["next_cursor"]), locked.cursor)
            locked.save(update_fields=["cursor"])
        wanted_files |= blobs.refs_in(applied.rows)
        report.pulled += applied.applied
        report.pages += 1
        more_conflicts = len(answer.get("conflicts", [])) >= CONFLICT_PAGE
        if not answer.get("more") and not more_conflicts:
            break
    fetch_files(client, wanted_files, report)


def fetch_files(
    client: Regency, wanted: set[tuple[str, str]], report: RoundReport
) -> None:
    for kind, sha in sorted(wanted):
        if blobs.have(kind, sha):
            continue
        try:
            if client.download_blob(kind, sha):
                report.blobs_down += 1
            else:
                report.blobs_missing += 1
        except blobs.BlobProblem as exc:
            report.notes.append(str(exc))
            report.blobs_missing += 1


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_dir() -> Path:
    return Path(os.environ.get("BALAI_DATA_DIR") or settings.DATA_DIR)
