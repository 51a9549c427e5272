"""Writes to the audit log. Every domain action calls `record` (or `record_many`)
for what it changed; the change record for sync is written in the same call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from balai.audit.chain import (
    GENESIS,
    canonical_time,
    checkpoint_message,
    entry_hash,
    load_signing_key,
)
from balai.audit.models import (
    AccessLog,
    AccessPurpose,
    AuditEntry,
    ChainHead,
    Checkpoint,
)
from balai.core.actions import current_action
from balai.core.actors import Actor
from balai.core.changelog import log_changes
from balai.core.models import ChangeOp
from balai.core.serialize import json_value


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


def record_many(
    *,
    actor: Actor,
    targets: Sequence[models.Model],
    action: str = "",
    details: Sequence[dict[str, Any]] | None = None,
    change: str | None = ChangeOp.UPSERT,
    summary: dict[str, Any] | None = None,
) -> list[AuditEntry]:
    """Append one entry per target in one batch; with no target, one summary entry."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit entries are written inside an action's transaction.")
    code = action or current_action()
    if not code:
        raise RuntimeError("An audit entry needs an action code.")
    chain = chain_for(actor)
    head, _ = ChainHead.objects.select_for_update().get_or_create(
        chain=chain, defaults={"seq": 0, "hash": GENESIS}
    )
    now = timezone.now()
    at = canonical_time(now)
    rows: list[tuple[str, str, dict[str, Any]]]
    if targets:
        detail_list = list(details) if details is not None else [{}] * len(targets)
        rows = [
            (t._meta.label_lower, str(t.pk), json_value(d))
            for t, d in zip(targets, detail_list, strict=True)
        ]
    else:
        rows = [("", "", json_value(summary or {}))]
    entries = []
    prev, seq = head.hash, head.seq
    for object_type, object_id, detail in rows:
        seq += 1
        digest = entry_hash(
            prev_hash=prev,
            chain=chain,
            at=at,
            actor_id=str(actor.user_id or ""),
            actor_name=actor.username,
            office_code=actor.office_code,
            action=code,
            object_type=object_type,
            object_id=object_id,
            details=detail,
        )
        entries.append(
            AuditEntry(
                chain=chain,
                seq=seq,
                at=now,
                actor_id=str(actor.user_id or ""),
                actor_name=actor.username,
                office_code=actor.office_code,
                action=code,
                object_type=object_type,
                object_id=object_id,
                details=detail,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    head.seq, head.hash = seq, prev
    head.save(update_fields=["seq", "hash"])
    if targets and change:
        log_changes(list(targets), op=change, routes=[_route(t) for t in targets])
    return entries


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
