"""A node's audit chains and access log on their way to the regency.

The node sends each chain it writes (its offices' and `node:<name>`) from
the regency's head on. When the regency's head is not an entry the node
holds (the node was restored from a backup, or someone wrote to the chain at
the regency), the node *rebases* what it has not sent yet: it takes the
regency's entries it lacks and appends its own unsent entries after them,
each re-linked and re-hashed with its content unchanged. Entries already at
the regency are never rewritten; the rebase itself is written to the audit
log (`sync.audit.rebase`, with every old and new hash), so it shows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from balai.audit.appliers import access_message, entry_message, parse_entry
from balai.audit.chain import GENESIS, canonical_time, entry_hash
from balai.audit.models import AccessLog, AuditEntry, ChainHead, Checkpoint
from balai.core.actors import Actor
from balai.sync.models import SyncState

PAGE = 1000


def _fetch_all(client: Any, chain: str, after: int, until: int) -> list[dict]:
    entries: list[dict] = []
    while after < until:
        got = client.call("/audit/fetch", {"chain": chain, "after": after})["entries"]
        if not got:
            break
        entries += got
        after = got[-1]["seq"]
    return [e for e in entries if e["seq"] <= until]


def rebase(chain: str, theirs: list[dict[str, Any]], *, acked: int) -> dict[str, Any]:
    """Put the regency's entries under this node's unsent ones (see module)."""
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(
            chain=chain, defaults={"seq": 0, "hash": GENESIS}
        )
        mine = list(
            AuditEntry.objects.filter(chain=chain, seq__gt=acked).order_by("seq")
        )
        by_seq = {e["seq"]: e for e in theirs}
        common = acked
        for entry in mine:
            other = by_seq.get(entry.seq)
            if other is None or other["hash"] != entry.hash:
                break
            common = entry.seq
        unsent = [e for e in mine if e.seq > common]
        incoming = [parse_entry(e) for e in theirs if e["seq"] > common]
        if not incoming and not unsent:
            return {"chain": chain, "moved": 0}
        AuditEntry.objects.filter(chain=chain, seq__gt=common).delete()
        dropped = list(
            Checkpoint.objects.filter(chain=chain, seq__gt=common).values_list(
                "seq", flat=True
            )
        )
        Checkpoint.objects.filter(chain=chain, seq__gt=common).delete()
        if common:
            last = AuditEntry.objects.get(chain=chain, seq=common)
            prev_seq, prev_hash = last.seq, last.hash
        else:
            prev_seq, prev_hash = 0, GENESIS
        AuditEntry.objects.bulk_create(incoming)
        if incoming:
            prev_seq, prev_hash = incoming[-1].seq, incoming[-1].hash
        moved = []
        for entry in unsent:
            old = (entry.seq, entry.hash)
            entry.seq = prev_seq + 1
            entry.prev_hash = prev_hash
            entry.hash = entry_hash(
                prev_hash=prev_hash,
                chain=entry.chain,
                at=canonical_time(entry.at),
                actor_id=entry.actor_id,
                actor_name=entry.actor_name,
                office_code=entry.office_code,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                details=entry.details,
            )
            moved.append([old[0], old[1], entry.seq, entry.hash])
            prev_seq, prev_hash = entry.seq, entry.hash
        AuditEntry.objects.bulk_create(unsent)
        head.seq, head.hash = prev_seq, prev_hash
        head.save(update_fields=["seq", "hash"])
        note = {
            "chain": chain,
            "common": common,
            "taken_from_regency": len(incoming),
            "moved": moved[:200],
            "moved_count": len(moved),
            "checkpoints_dropped": dropped,
        }
        from balai.audit.actions import record

        record(
            actor=Actor.system(name="sync"),
            action="sync.audit.rebase",
            details=note,
            change=None,
        )
    return note


def sync_audit(client: Any, hello: dict[str, Any]) -> int:
    """Send every chain this node writes, and the access log; return entries sent."""
    sent = 0
    chains = hello.get("chains") or []
    heads = hello.get("audit_heads") or {}
    for chain in chains:
        sent += _sync_chain(client, chain, heads.get(chain, [0, GENESIS]))
    _send_access(client)
    return sent


def _sync_chain(client: Any, chain: str, regency_head: list) -> int:
    r_seq, r_hash = int(regency_head[0]), str(regency_head[1])
    s = SyncState.objects.get(pk=1)
    acked = min(int((s.audit_acked or {}).get(chain, 0)), r_seq)
    if r_seq:
        mine = (
            AuditEntry.objects.filter(chain=chain, seq=r_seq)
            .values_list("hash", flat=True)
            .first()
        )
        if mine != r_hash:
            rebase(chain, _fetch_all(client, chain, acked, r_seq), acked=acked)
    sent = 0
    after = r_seq
    forks = 0
    while True:
        entries = [
            entry_message(e)
            for e in AuditEntry.objects.filter(chain=chain, seq__gt=after).order_by(
                "seq"
            )[:PAGE]
        ]
        if not entries:
            break
        answer = client.call("/audit", {"chains": {chain: entries}})
        fork = (answer.get("forks") or {}).get(chain)
        if fork:
            forks += 1
            if forks > 3:
                raise RuntimeError(f"rantai audit {chain} terus bercabang")
            base = min(after, int(fork[0]))
            rebase(chain, _fetch_all(client, chain, base, int(fork[0])), acked=base)
            after = int(fork[0])
            continue
        sent += answer.get("appended", 0)
        after = entries[-1]["seq"]
        _remember(chain, after)
        if len(entries) < PAGE:
            break
    if after == r_seq:
        _remember(chain, r_seq)
    return sent


def _remember(chain: str, seq: int) -> None:
    with transaction.atomic():
        s = SyncState.objects.select_for_update().get(pk=1)
        acked = dict(s.audit_acked or {})
        acked[chain] = seq
        s.audit_acked = acked
        s.save(update_fields=["audit_acked"])


def _access_rows(after: int, limit: int) -> list[tuple[int, AccessLog]]:
    table = AccessLog._meta.db_table
    rows = list(
        AccessLog.objects.raw(
            f"SELECT *, rowid AS _rowid FROM {table} WHERE rowid > %s "  # noqa: S608
            "ORDER BY rowid LIMIT %s",
            [after, limit],
        )
    )
    return [(row._rowid, row) for row in rows]


def _send_access(client: Any) -> None:
    if "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        return  # a node runs on SQLite (rowid is the send order)
    while True:
        s = SyncState.objects.get(pk=1)
        rows = _access_rows(s.access_rowid, PAGE)
        if not rows:
            return
        client.call(
            "/audit", {"chains": {}, "access": [access_message(r) for _i, r in rows]}
        )
        SyncState.objects.filter(pk=1).update(access_rowid=rows[-1][0])
        if len(rows) < PAGE:
            return


def bundle_audit() -> dict[str, Any]:
    """Entries and access rows not yet acknowledged (for a USB bundle)."""
    from balai.audit.appliers import chains_of
    from balai.regions.models import Office
    from balai.sync.engine import within

    s = SyncState.objects.get(pk=1)
    offices = [
        code
        for code, region in Office.objects.values_list("code", "region_id")
        if within(region, s.node)
    ]
    chains = {}
    for chain in chains_of(s.node, offices):
        after = int((s.audit_acked or {}).get(chain, 0))
        entries = [
            entry_message(e)
            for e in AuditEntry.objects.filter(chain=chain, seq__gt=after).order_by(
                "seq"
            )
        ]
        chains[chain] = {"after": after, "entries": entries}
    access = []
    if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        access = [access_message(r) for _i, r in _access_rows(s.access_rowid, 10**9)]
    return {"chains": chains, "access": access}
