"""The per-node change log: every action writes change records in its own
transaction, numbered by (epoch, seq), for the sync app to ship."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction

from balai.core.models import ChangeOp, ChangeRecord, NodeState
from balai.core.nodes import REGENCY_NODE
from balai.core.rows import insert_rows
from balai.core.serialize import model_payload

# The change log's columns in the order the bulk writers (COPY, executemany)
# send them; a writer checks it against the model before writing.
CHANGE_COLUMNS = (
    "node",
    "epoch",
    "seq",
    "model",
    "object_id",
    "op",
    "payload",
    "office_code",
    "region_code",
    "created_at",
    "global_seq",
)


def by_reference() -> bool:
    """Do the bulk paths here write change records by reference (payload SQL
    NULL, decision 0012)? At the regency only: sync serves such a record
    with the record's current row. A node keeps every payload as written
    (its outbox, digests and restores need the row as it was)."""
    return settings.BALAI_NODE == REGENCY_NODE


def is_by_reference(op: str, payload: Any) -> bool:
    """Is this change record (its op and stored payload) one by reference?"""
    return payload is None and op == ChangeOp.UPSERT


def _reserve(count: int) -> tuple[int, int]:
    """Reserve `count` sequence numbers for this node; return (epoch, first seq)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Change records are written inside an action's transaction.")
    # One statement: the counter moved on and read back, its row locked to
    # commit (every writing transaction passes here).
    table = connection.ops.quote_name(NodeState._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + %s "  # noqa: S608
            "WHERE node = %s RETURNING epoch, last_seq",
            [count, settings.BALAI_NODE],
        )
        row = cursor.fetchone()
    if row is not None:
        epoch, last = row
        return epoch, last - count + 1
    state, _ = NodeState.objects.select_for_update().get_or_create(
        node=settings.BALAI_NODE
    )
    first = state.last_seq + 1
    state.last_seq += count
    state.save(update_fields=["last_seq"])
    return state.epoch, first


def log_change(
    obj: models.Model,
    *,
    op: str = ChangeOp.UPSERT,
    office_code: str = "",
    region_code: str = "",
) -> ChangeRecord:
    """Append one change record for `obj`."""
    return log_changes([obj], op=op, office_code=office_code, region_code=region_code)[
        0
    ]


def log_changes(
    objs: Sequence[models.Model],
    *,
    op: str = ChangeOp.UPSERT,
    office_code: str = "",
    region_code: str = "",
    routes: Iterable[tuple[str, str]] | None = None,
) -> list[ChangeRecord]:
    """Append change records for `objs` in one batch (the bulk paths use this).

    `routes`, when given, holds an (office_code, region_code) pair per object.
    """
    if not objs:
        return []
    route_list: list[Any] = (
        list(routes) if routes is not None else [(office_code, region_code)] * len(objs)
    )
    return write_changes(
        [
            change_of(obj, op=op, route=route)
            for obj, route in zip(objs, route_list, strict=True)
        ]
    )


def change_of(obj: models.Model, *, op: str, route: tuple[str, str]) -> dict[str, Any]:
    """Return what a change record keeps of `obj` now (not yet numbered)."""
    return {
        "model": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "op": op,
        "payload": model_payload(obj) if op == ChangeOp.UPSERT else {},
        "office_code": route[0],
        "region_code": route[1],
    }


def write_changes(changes: Sequence[dict[str, Any]]) -> list[ChangeRecord]:
    """Number and write changes made by `change_of`, in their order, in one batch."""
    if not changes:
        return []
    epoch, first = _reserve(len(changes))
    # At the regency a change's global sequence is its own sequence number:
    # reserved under the NodeState lock held to commit, so commit order is
    # global order (the sync app numbers applied node changes from the same
    # counter). Rows written elsewhere get theirs when sync first reads them.
    at_regency = settings.BALAI_NODE == REGENCY_NODE
    records = [
        ChangeRecord(
            node=settings.BALAI_NODE,
            epoch=epoch,
            seq=first + i,
            global_seq=first + i if at_regency else None,
            **change,
        )
        for i, change in enumerate(changes)
    ]
    insert_rows(records)
    return records
