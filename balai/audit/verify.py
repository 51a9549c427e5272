"""Check every audit chain against its links and its signed checkpoints."""

from __future__ import annotations

from dataclasses import dataclass

from balai.audit.chain import (
    GENESIS,
    canonical_time,
    checkpoint_message,
    hash_of,
    load_signing_key,
    verify_signature,
)
from balai.audit.models import AuditEntry, ChainHead, Checkpoint


@dataclass(frozen=True)
class Finding:
    chain: str
    seq: int | None
    entry_id: str
    kind: str  # edited, deleted, inserted, reordered, cut, bad_checkpoint
    message: str

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else ""
        ident = f" (id {self.entry_id})" if self.entry_id else ""
        return f"rantai {self.chain} {where}{ident}: {self.message}"


def chains() -> list[str]:
    names = set(ChainHead.objects.values_list("chain", flat=True))
    names |= set(AuditEntry.objects.values_list("chain", flat=True).distinct())
    names |= set(Checkpoint.objects.values_list("chain", flat=True).distinct())
    return sorted(names)


def verify_chain(chain: str) -> Finding | None:
    """Return the first tampering found in `chain`, or None when it is intact."""
    entries = list(AuditEntry.objects.filter(chain=chain).order_by("seq"))
    stored_hashes = {e.hash: i for i, e in enumerate(entries)}
    prev_hash, expected_seq = GENESIS, 1
    for i, entry in enumerate(entries):
        ident = str(entry.id)
        if hash_of(entry) != entry.hash:
            return Finding(chain, entry.seq, ident, "edited", "isi entri diubah")
        if entry.prev_hash != prev_hash:
            # Where does this entry's link point? That tells what happened.
            target = stored_hashes.get(entry.prev_hash)
            if target is not None and target > i:
                return Finding(
                    chain,
                    entry.seq,
                    ident,
                    "reordered",
                    f"urutan tertukar dengan entri #{entries[target].seq}",
                )
            if target is not None and target < i - 1:
                inserted = entries[i - 1]
                return Finding(
                    chain,
                    inserted.seq,
                    str(inserted.id),
                    "inserted",
                    "entri disisipkan (tidak ada dalam rantai asli)",
                )
            return Finding(
                chain,
                entry.seq,
                ident,
                "deleted",
                "entri sebelum entri ini dihapus (tautan hash putus)",
            )
        if entry.seq != expected_seq:
            return Finding(
                chain,
                entry.seq,
                ident,
                "deleted",
                f"nomor urut melompat dari #{expected_seq - 1} ke #{entry.seq}",
            )
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    return _check_checkpoints(chain, entries)


def _check_checkpoints(chain: str, entries: list[AuditEntry]) -> Finding | None:
    by_seq = {e.seq: e for e in entries}
    last_seq = entries[-1].seq if entries else 0
    checkpoints = list(Checkpoint.objects.filter(chain=chain).order_by("seq"))
    key = load_signing_key() if checkpoints else None
    for cp in checkpoints:
        message = checkpoint_message(
            chain=chain,
            seq=cp.seq,
            hash_=cp.hash,
            signed_at=canonical_time(cp.signed_at),
        )
        if key is None or not verify_signature(key, message, cp.signature):
            return Finding(
                chain, cp.seq, "", "bad_checkpoint", "tanda tangan checkpoint tidak sah"
            )
        if cp.seq > last_seq:
            return Finding(
                chain,
                last_seq,
                "",
                "cut",
                f"rantai terpotong: checkpoint bertanda tangan mencatat #{cp.seq}, "
                f"rantai hanya sampai #{last_seq}",
            )
        entry = by_seq.get(cp.seq)
        if entry is None or entry.hash != cp.hash:
            return Finding(
                chain,
                cp.seq,
                str(entry.id) if entry else "",
                "edited",
                "entri tidak cocok dengan checkpoint bertanda tangan",
            )
    head = ChainHead.objects.filter(chain=chain).first()
    if head is not None and head.seq > last_seq:
        return Finding(
            chain,
            last_seq,
            "",
            "cut",
            f"rantai terpotong: kepala rantai #{head.seq}, "
            f"entri hanya sampai #{last_seq}",
        )
    return None


def verify_all() -> list[Finding]:
    """Verify every chain; return one finding per broken chain."""
    return [f for chain in chains() if (f := verify_chain(chain)) is not None]
