"""How the audit log syncs (balai.sync).

Audit entries are not change records: each office's chain travels as itself.
A node sends the entries of the chains it writes (its offices' and its own
`node:<name>`) after the regency's head; the regency checks every link and
hash exactly as `balai audit_verify` does and appends them with the same ids,
hashes and sequence numbers, so the chain verifies at the regency too.
Checkpoints are not sent: each side signs its own with its own key.

Access-log rows (who read a person's record) are sent as they are; the
regency keeps each once (by id), so the citizen sees reads made at a node.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction

from balai.audit.chain import GENESIS, canonical_time, entry_hash
from balai.audit.models import AccessLog, AccessPurpose, AuditEntry, ChainHead

SPECS: list = []

ENTRY_TEXT = {
    "chain": 64,
    "actor_id": 64,
    "actor_name": 150,
    "office_code": 64,
    "action": 96,
    "object_type": 64,
    "object_id": 64,
}


class ChainFork(Exception):
    """The regency's chain does not continue where the node's entries start."""

    def __init__(self, chain: str, seq: int, hash_: str) -> None:
        super().__init__(chain)
        self.chain, self.seq, self.hash = chain, seq, hash_


class BadEntry(Exception):
    """An entry that is not well formed or does not hash (Indonesian message)."""


def chains_of(node: str, office_codes: list[str]) -> list[str]:
    """The chains a node writes: its offices' and its own."""
    return sorted({*office_codes, f"node:{node}"})


def entry_message(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "chain": entry.chain,
        "seq": entry.seq,
        "at": canonical_time(entry.at),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "office_code": entry.office_code,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def parse_entry(data: Any) -> AuditEntry:
    """Check one entry's form and hash; return it unsaved."""
    if not isinstance(data, dict):
        raise BadEntry("entri audit harus objek")
    try:
        for name, limit in ENTRY_TEXT.items():
            value = data[name]
            if not isinstance(value, str) or len(value) > limit:
                raise BadEntry(f"entri audit: {name} tidak sah")
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise BadEntry("entri audit: nomor urut tidak sah")
        at_text = data["at"]
        at = dt.datetime.strptime(at_text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=dt.UTC
        )
        details = data["details"]
        if not isinstance(details, dict):
            raise BadEntry("entri audit: rincian harus objek")
        for name in ("prev_hash", "hash"):
            value = data[name]
            if not isinstance(value, str) or len(value) != 64:
                raise BadEntry(f"entri audit: {name} tidak sah")
        entry = AuditEntry(
            id=uuid.UUID(str(data["id"])),
            chain=data["chain"],
            seq=seq,
            at=at,
            actor_id=data["actor_id"],
            actor_name=data["actor_name"],
            office_code=data["office_code"],
            action=data["action"],
            object_type=data["object_type"],
            object_id=data["object_id"],
            details=details,
            prev_hash=data["prev_hash"],
            hash=data["hash"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadEntry(f"entri audit tidak lengkap atau rusak: {exc}") from exc
    recomputed = entry_hash(
        prev_hash=entry.prev_hash,
        chain=entry.chain,
        at=at_text,
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        office_code=entry.office_code,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        details=entry.details,
    )
    if recomputed != entry.hash:
        raise BadEntry(f"entri audit {entry.chain}#{entry.seq}: hash tidak cocok")
    return entry


def apply_entries(chain: str, entries: list[Any]) -> int:
    """Append a node's entries to `chain` (inside the caller's transaction).

    Entries the regency already holds (same hash) are skipped; the first new
    one must link to the regency's head, else ChainFork (the node rebases).
    Returns how many were appended.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_entries runs inside a transaction")
    parsed = [parse_entry(e) for e in entries]
    if any(e.chain != chain for e in parsed):
        raise BadEntry("entri audit dari rantai lain")
    head, _ = ChainHead.objects.select_for_update().get_or_create(
        chain=chain, defaults={"seq": 0, "hash": GENESIS}
    )
    held = dict(
        AuditEntry.objects.filter(
            chain=chain, seq__in=[e.seq for e in parsed if e.seq <= head.seq]
        ).values_list("seq", "hash")
    )
    fresh = []
    prev_seq, prev_hash = head.seq, head.hash
    for entry in sorted(parsed, key=lambda e: e.seq):
        if entry.seq <= head.seq:
            if held.get(entry.seq) != entry.hash:
                raise ChainFork(chain, head.seq, head.hash)
            continue
        if entry.seq != prev_seq + 1 or entry.prev_hash != prev_hash:
            raise ChainFork(chain, head.seq, head.hash)
        fresh.append(entry)
        prev_seq, prev_hash = entry.seq, entry.hash
    if fresh:
        AuditEntry.objects.bulk_create(fresh, batch_size=1000)
        head.seq, head.hash = prev_seq, prev_hash
        head.save(update_fields=["seq", "hash"])
    return len(fresh)


def entries_after(chain: str, seq: int, *, limit: int = 2000) -> list[dict[str, Any]]:
    return [
        entry_message(e)
        for e in AuditEntry.objects.filter(chain=chain, seq__gt=seq).order_by("seq")[
            :limit
        ]
    ]


def heads_of(chains: list[str]) -> dict[str, list]:
    return {
        h.chain: [h.seq, h.hash] for h in ChainHead.objects.filter(chain__in=chains)
    }


ACCESS_TEXT = {
    "actor_id": 64,
    "actor_name": 150,
    "office_code": 64,
    "subject_type": 64,
    "subject_id": 64,
    "what": 64,
}


def access_message(row: AccessLog) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "at": row.at.isoformat(),
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "office_code": row.office_code,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "what": row.what,
        "purpose": row.purpose,
    }


def apply_access(rows: list[Any], *, office_codes: list[str]) -> int:
    """Keep a node's access-log rows once each; only reads made at its offices."""
    made = []
    for data in rows:
        try:
            for name, limit in ACCESS_TEXT.items():
                value = data[name]
                if not isinstance(value, str) or len(value) > limit:
                    raise BadEntry(f"log akses: {name} tidak sah")
            if data["purpose"] not in AccessPurpose.values:
                raise BadEntry("log akses: keperluan tidak dikenal")
            if data["office_code"] and data["office_code"] not in office_codes:
                raise BadEntry("log akses dari kantor yang tidak dilayani node ini")
            at = dt.datetime.fromisoformat(data["at"])
            if at.tzinfo is None:
                raise BadEntry("log akses: waktu tanpa zona")
            made.append(
                AccessLog(
                    id=uuid.UUID(str(data["id"])),
                    at=at,
                    **{name: data[name] for name in ACCESS_TEXT},
                    purpose=data["purpose"],
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadEntry(f"log akses rusak: {exc}") from exc
    before = AccessLog.objects.filter(id__in=[m.id for m in made]).count()
    AccessLog.objects.bulk_create(made, ignore_conflicts=True, batch_size=1000)
    return len(made) - before
