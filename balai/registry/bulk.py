"""Writing many rows fast, the same rows the ORM would write.

On PostgreSQL the rows go in with ``COPY`` (psycopg's ``cursor.copy``); on
other databases with ``bulk_create``. The change records that sync ships are
written beside them: through `balai.core.changelog.log_changes` on the ORM
path, and on the COPY path as the very rows `log_changes` would write (same
sequence reservation, same payload, same routing) — the tests compare the two.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from balai.core.changelog import _reserve, log_changes
from balai.core.models import ChangeOp, ChangeRecord
from balai.core.serialize import json_value

BATCH = 5000


def use_copy() -> bool:
    return connection.vendor == "postgresql"


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.column]


def _copy(table: str, columns: Sequence[str], rows: Any) -> None:
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def insert(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    routes: Sequence[tuple[str, str]],
) -> None:
    """Insert `rows` (every concrete field, by attname) and log their changes."""
    if not rows:
        return
    fields = _columns(model)
    if not use_copy():
        objs = model.objects.bulk_create(
            [model(**row) for row in rows], batch_size=1000
        )
        log_changes(objs, op=ChangeOp.UPSERT, routes=routes)
        return
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}

    def values(row: dict[str, Any]) -> tuple:
        return tuple(
            json.dumps(row[f.attname]) if f.attname in json_fields else row[f.attname]
            for f in fields
        )

    _copy(model._meta.db_table, [f.column for f in fields], map(values, rows))
    _copy_changes(model, rows, fields, routes)


def _copy_changes(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    fields: list[models.Field],
    routes: Sequence[tuple[str, str]],
) -> None:
    """Write the change records `log_changes` would write for these rows."""
    epoch, first = _reserve(len(rows))
    label = model._meta.label_lower
    node = settings.BALAI_NODE
    now = timezone.now()
    names = [f.attname for f in fields]
    pk = model._meta.pk.attname

    def change(i: int, row: dict[str, Any], route: tuple[str, str]) -> tuple:
        payload = {name: json_value(row[name]) for name in names}
        return (
            node,
            epoch,
            first + i,
            label,
            str(row[pk]),
            ChangeOp.UPSERT.value,
            json.dumps(payload),
            route[0],
            route[1],
            now,
        )

    _copy(
        ChangeRecord._meta.db_table,
        [
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
        ],
        (
            change(i, row, route)
            for i, (row, route) in enumerate(zip(rows, routes, strict=True))
        ),
    )


def full_row(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Return `values` completed with every other concrete field's default."""
    row = {}
    for f in _columns(model):
        if f.attname in values:
            row[f.attname] = values[f.attname]
        elif f.has_default():
            row[f.attname] = f.get_default()
        else:
            row[f.attname] = None
    return row
