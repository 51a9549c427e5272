"""Writes to the audit log. Every domain action calls `record` (or `record_many`)
for what it changed; the change record for sync is written in the same call."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from balai.audit.chain import (
    GENESIS,
    canonical_time,
    checkpoint_message,
    hash_of,
    load_signing_key,
)
from balai.audit.models import (
    AccessLog,
    AccessPurpose,
    AuditEntry,
    ChainHead,
    Checkpoint,
)
from balai.core.actions import current_action, deferred_writes
from balai.core.actors import Actor
from balai.core.changelog import change_of, write_changes
from balai.core.models import ChangeOp
from balai.core.rows import insert_rows, select_rows, update_row
from balai.core.serialize import json_value

P = ParamSpec("P")
R = TypeVar("R")


def chain_for(actor: Actor) -> str:
    """Return the chain an actor writes to: his office's, or this node's."""
    return actor.office_code or f"node:{settings.BALAI_NODE}"


def _route(obj: models.Model) -> tuple[str, str]:
    route = getattr(obj, "sync_route", None)
    return route() if callable(route) else ("", "")


def record(
    *,
    actor: Actor,
    target: models.Model | None = None,
    action: str = "",
    details: dict[str, Any] | None = None,
    change: str | None = ChangeOp.UPSERT,
) -> AuditEntry:
    """Append one audit entry (and the target's change record) to the log."""
    targets = [target] if target is not None else []
    return record_many(
        actor=actor,
        targets=targets,
        action=action,
        details=[details or {}] if targets else None,
        change=change,
        summary=details if not targets else None,
    )[0]


@dataclass
class _Group:
    """What one `record_many` call writes: its entries wait for their place
    in the chain (seq, hashes), its change records for their numbers."""

    chain: str
    entries: list[AuditEntry]
    changes: list[dict[str, Any]]


def record_many(
    *,
    actor: Actor,
    targets: Sequence[models.Model],
    action: str = "",
    details: Sequence[dict[str, Any]] | None = None,
    change: str | None = ChangeOp.UPSERT,
    summary: dict[str, Any] | None = None,
) -> list[AuditEntry]:
    """Append one entry per target in one batch; with no target, one summary entry.

    Inside a `batched` block the entries (and change records, of the targets
    as they are now) are written when the block ends: until then the entries
    returned have no place in the chain yet.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit entries are written inside an action's transaction.")
    code = action or current_action()
    if not code:
        raise RuntimeError("An audit entry needs an action code.")
    if targets:
        detail_list = list(details) if details is not None else [{}] * len(targets)
        rows = [
            (t._meta.label_lower, str(t.pk), json_value(d))
            for t, d in zip(targets, detail_list, strict=True)
        ]
    else:
        rows = [("", "", json_value(summary or {}))]
    chain = chain_for(actor)
    group = _Group(
        chain=chain,
        entries=[
            AuditEntry(
                chain=chain,
                actor_id=str(actor.user_id or ""),
                actor_name=actor.username,
                office_code=actor.office_code,
                action=code,
                object_type=object_type,
                object_id=object_id,
                details=detail,
            )
            for object_type, object_id, detail in rows
        ],
        changes=[change_of(t, op=change, route=_route(t)) for t in targets]
        if change
        else [],
    )
    pending = deferred_writes.get()
    if pending is None:
        _write([group])
    else:
        pending.append(group)
    return group.entries


def _write(groups: list[_Group]) -> None:
    """Chain and write the groups' entries and change records, in order."""
    heads = {}
    # Heads locked in one order by every writer: no deadlock between batches.
    for chain in sorted({g.chain for g in groups}):
        heads[chain] = _locked_head(chain)
    # Stamped under the head's lock, as before batching: times never go
    # backwards along a chain.
    now = timezone.now()
    entries = [e for g in groups for e in g.entries]
    for entry in entries:
        head = heads[entry.chain]
        entry.at = now
        entry.seq, entry.prev_hash = head.seq + 1, head.hash
        entry.hash = hash_of(entry)
        head.seq, head.hash = entry.seq, entry.hash
    insert_rows(entries)
    for head in heads.values():
        update_row(head, fields=["seq", "hash"])
    write_changes([c for g in groups for c in g.changes])


def _locked_head(chain: str) -> ChainHead:
    """The chain's head, locked to commit (made if missing); in a plain
    statement, since every action passes here."""
    found = select_rows(ChainHead, where="chain = %s", params=[chain], for_update=True)
    if found:
        return found[0]
    head, _ = ChainHead.objects.select_for_update().get_or_create(
        chain=chain, defaults={"seq": 0, "hash": GENESIS}
    )
    return head


@contextlib.contextmanager
def batched() -> Iterator[None]:
    """Write the audit entries and change records of a block at its end, in one
    batch: one chain-head and one change-log lock, taken as late as possible,
    instead of a round of them per `record` call. Use it inside the
    transaction, around code that does not read back what it audited; a block
    that fails writes nothing (its transaction rolls back)."""
    if deferred_writes.get() is not None:
        yield
        return
    groups: list[_Group] = []
    token = deferred_writes.set(groups)
    try:
        yield
    finally:
        deferred_writes.reset(token)
    _write(groups)


def batched_audit(fn: Callable[P, R]) -> Callable[P, R]:
    """Run an action's body in `batched` (put it under `@action`)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with batched():
            return fn(*args, **kwargs)

    return wrapper


def log_access(
    *,
    actor: Actor,
    subject: models.Model,
    purpose: str = AccessPurpose.SERVICE,
    what: str = "record",
) -> AccessLog:
    """Write that `actor` read a person's record (UU 27/2022)."""
    return AccessLog.objects.create(
        actor_id=str(actor.user_id or ""),
        actor_name=actor.username,
        office_code=actor.office_code,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        what=what,
        purpose=purpose,
    )


def make_checkpoints() -> list[Checkpoint]:
    """Sign the head of every chain that grew since its last checkpoint.

    Safe to run twice at once: a checkpoint another run already made for the
    same head is skipped, not duplicated.
    """
    key = load_signing_key(create=True)
    made = []
    for head in ChainHead.objects.order_by("chain"):
        last = Checkpoint.objects.filter(chain=head.chain).order_by("-seq").first()
        if last is not None and last.seq >= head.seq:
            continue
        now = timezone.now()
        signed_at = canonical_time(now)
        message = checkpoint_message(
            chain=head.chain, seq=head.seq, hash_=head.hash, signed_at=signed_at
        )
        try:
            with transaction.atomic():
                made.append(
                    Checkpoint.objects.create(
                        chain=head.chain,
                        seq=head.seq,
                        hash=head.hash,
                        signed_at=now,
                        key_id=key.key_id,
                        signature=key.sign(message),
                    )
                )
        except IntegrityError:
            continue
    return made
