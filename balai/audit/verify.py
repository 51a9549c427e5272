"""Check every audit chain against its links and its signed checkpoints.

Each entry's hash covers its content and the previous entry's hash (not its
sequence number), so a tampered chain shows as one of:

- edited: an entry's content no longer matches its hash (or was rehashed,
  which breaks the next link, or the whole chain was rewritten, which the
  signed checkpoints catch);
- deleted: a link points at a hash that is no longer stored, or the
  sequence numbers jump;
- inserted: an entry that the next entry's link skips over, or that lies past
  the chain head written by the action that appended it;
- reordered: a link points forward, at an entry stored later in the chain;
- cut: the chain ends before its head or its last signed checkpoint.

The finding names the first entry in chain order where the damage shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from balai.audit.chain import (
    GENESIS,
    SigningKey,
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
    # edited, deleted, inserted, reordered, cut, head_missing, bad_checkpoint, no_key
    kind: str
    message: str

    def __str__(self) -> str:
        where = f" #{self.seq}" if self.seq is not None else ""
        ident = f" (id {self.entry_id})" if self.entry_id else ""
        return f"rantai {self.chain}{where}{ident} [{self.kind}]: {self.message}"


def chains() -> list[str]:
    names = set(ChainHead.objects.values_list("chain", flat=True))
    names |= set(AuditEntry.objects.values_list("chain", flat=True).distinct())
    names |= set(Checkpoint.objects.values_list("chain", flat=True).distinct())
    return sorted(names)


def _broken_link(
    chain: str, entries: list[AuditEntry], i: int, positions: dict[str, int]
) -> Finding:
    """Explain why entries[i] does not link to the entry before it."""
    entry = entries[i]
    before = entries[i - 1] if i > 0 else None
    expected = before.hash if before is not None else GENESIS
    after = entries[i + 1] if i + 1 < len(entries) else None
    target = positions.get(entry.prev_hash)
    if target is not None and target > i:
        return Finding(
            chain,
            entry.seq,
            str(entry.id),
            "reordered",
            f"urutan diubah: entri ini seharusnya berada sesudah entri "
            f"#{entries[target].seq}",
        )
    if after is not None and after.prev_hash == expected:
        # The next entry links straight over this one: it was never in the chain.
        return Finding(
            chain,
            entry.seq,
            str(entry.id),
            "inserted",
            "entri disisipkan: entri sesudahnya menaut langsung ke entri sebelumnya",
        )
    if target is not None and target < i - 1:
        inserted = entries[target + 1]
        return Finding(
            chain,
            inserted.seq,
            str(inserted.id),
            "inserted",
            f"entri disisipkan: entri #{entry.seq} menaut ke entri "
            f"#{entries[target].seq}, melewati entri ini",
        )
    first_missing = before.seq + 1 if before is not None else 1
    if entry.seq > first_missing:
        last_missing = entry.seq - 1
        span = (
            f"#{first_missing}"
            if first_missing == last_missing
            else f"#{first_missing}-#{last_missing}"
        )
        return Finding(
            chain,
            first_missing,
            str(entry.id),
            "deleted",
            f"entri {span} dihapus: entri #{entry.seq} menaut ke hash yang tidak "
            "ada lagi",
        )
    if before is None:
        return Finding(
            chain,
            entry.seq,
            str(entry.id),
            "deleted",
            "awal rantai hilang: entri pertama tidak menaut ke awal rantai",
        )
    return Finding(
        chain,
        before.seq,
        str(before.id),
        "edited",
        f"isi entri diubah dan hash-nya dihitung ulang (tautan entri #{entry.seq} "
        "tidak lagi cocok); atau entri sesudahnya dihapus lalu nomor urut digeser",
    )


def verify_chain(chain: str) -> Finding | None:
    """Return the first tampering found in `chain`, or None when it is intact."""
    entries = list(AuditEntry.objects.filter(chain=chain).order_by("seq", "id"))
    head = ChainHead.objects.filter(chain=chain).first()
    positions: dict[str, int] = {}
    for i, e in enumerate(entries):
        positions.setdefault(e.hash, i)
    prev_hash, expected_seq = GENESIS, 1
    for i, entry in enumerate(entries):
        ident = str(entry.id)
        if hash_of(entry) != entry.hash:
            after = entries[i + 1] if i + 1 < len(entries) else None
            if after is not None and after.prev_hash == prev_hash:
                return Finding(
                    chain,
                    entry.seq,
                    ident,
                    "inserted",
                    "entri disisipkan: entri sesudahnya menaut langsung ke entri "
                    "sebelumnya",
                )
            if after is None and head is not None and entry.seq > head.seq:
                return Finding(
                    chain,
                    entry.seq,
                    ident,
                    "inserted",
                    f"entri ditambahkan di luar log: kepala rantai di #{head.seq}",
                )
            return Finding(chain, entry.seq, ident, "edited", "isi entri diubah")
        if entry.prev_hash != prev_hash:
            return _broken_link(chain, entries, i, positions)
        if entry.seq != expected_seq:
            return Finding(
                chain,
                expected_seq,
                ident,
                "deleted",
                f"nomor urut melompat dari #{expected_seq - 1} ke #{entry.seq}: "
                "entri di antaranya dihapus dan tautannya dipalsukan",
            )
        if head is not None and entry.seq > head.seq:
            return Finding(
                chain,
                entry.seq,
                ident,
                "inserted",
                f"entri ditambahkan di luar log: kepala rantai di #{head.seq}",
            )
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    if head is None and entries:
        return Finding(
            chain, None, "", "head_missing", "kepala rantai hilang dari basis data"
        )
    if head is not None and entries and head.seq == entries[-1].seq:
        last = entries[-1]
        if head.hash != last.hash:
            return Finding(
                chain,
                last.seq,
                str(last.id),
                "edited",
                "entri terakhir diubah dan hash-nya dihitung ulang: tidak cocok "
                "dengan kepala rantai",
            )
    return _check_checkpoints(chain, entries, head)


def _check_checkpoints(
    chain: str, entries: list[AuditEntry], head: ChainHead | None
) -> Finding | None:
    by_seq = {e.seq: e for e in entries}
    last_seq = entries[-1].seq if entries else 0
    checkpoints = list(Checkpoint.objects.filter(chain=chain).order_by("seq"))
    key: SigningKey | None = None
    if checkpoints:
        try:
            key = load_signing_key()
        except FileNotFoundError:
            return Finding(
                chain,
                None,
                "",
                "no_key",
                "kunci tanda tangan audit tidak ditemukan; checkpoint tidak dapat "
                "diperiksa",
            )
    good_seq = 0
    for cp in checkpoints:
        assert key is not None
        message = checkpoint_message(
            chain=chain,
            seq=cp.seq,
            hash_=cp.hash,
            signed_at=canonical_time(cp.signed_at),
        )
        if cp.key_id != key.key_id or not verify_signature(key, message, cp.signature):
            return Finding(
                chain,
                cp.seq,
                "",
                "bad_checkpoint",
                f"tanda tangan checkpoint #{cp.seq} tidak sah (id {cp.id})",
            )
        if cp.seq > last_seq:
            return Finding(
                chain,
                last_seq + 1,
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
                f"rantai ditulis ulang: entri #{cp.seq} tidak cocok dengan checkpoint "
                f"bertanda tangan; perubahan ada di antara #{good_seq + 1} dan "
                f"#{cp.seq}",
            )
        good_seq = cp.seq
    if head is not None and head.seq > last_seq:
        return Finding(
            chain,
            last_seq + 1,
            "",
            "cut",
            f"rantai terpotong: kepala rantai #{head.seq}, "
            f"entri hanya sampai #{last_seq}",
        )
    return None


def verify_all() -> list[Finding]:
    """Verify every chain; return one finding per broken chain."""
    return [f for chain in chains() if (f := verify_chain(chain)) is not None]
