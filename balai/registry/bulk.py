"""Writing many rows fast, the same rows the ORM would write.

On PostgreSQL the rows go in with ``COPY`` (psycopg's ``cursor.copy``); on
other databases with ``bulk_create``. The change records that sync ships are
written beside them:

- on the ORM path through `balai.core.changelog.log_changes`;
- on the COPY path as the very rows `log_changes` would write: the same
  sequence numbers (reserved with the change log's own `_reserve`), the same
  routing, and the same payload (every concrete field by attname, as
  `balai.core.serialize.model_payload` makes it), built by PostgreSQL from the
  rows just copied (``to_jsonb``) instead of in Python. The tests compare the
  stored payloads with `model_payload` of the reloaded rows.

Timestamps written here are whole seconds, so that PostgreSQL's JSON text of a
timestamp and Python's ``isoformat`` are the same characters.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models

from balai.core.changelog import _reserve, log_changes
from balai.core.models import ChangeOp, ChangeRecord


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
        write = copy.write_row
        for row in rows:
            write(row)


def insert(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]],
    *,
    routes: Sequence[tuple[str, str]],
) -> int:
    """Insert `rows` (every concrete field, by attname; an iterator is
    consumed while the rows stream in) and log their changes. `routes` holds
    an (office code, region code) pair per row, complete once `rows` is."""
    fields = _columns(model)
    if not use_copy():
        objs = [model(**row) for row in rows]
        if objs:
            model.objects.bulk_create(objs, batch_size=1000)
            log_changes(objs, op=ChangeOp.UPSERT, routes=routes)
        return len(objs)
    get = operator.itemgetter(*[f.attname for f in fields])
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    pk_name = model._meta.pk.attname
    pks: list[Any] = []

    def values(row: dict[str, Any]) -> Any:
        pks.append(row[pk_name])
        out = get(row)
        if not json_at:
            return out
        out = list(out)
        for i in json_at:
            out[i] = json.dumps(out[i])
        return out

    _copy(model._meta.db_table, [f.column for f in fields], map(values, rows))
    if pks:
        _changes_from_rows(model, pks, fields, routes)
    return len(pks)


def _changes_from_rows(
    model: type[models.Model],
    pks: Sequence[Any],
    fields: list[models.Field],
    routes: Sequence[tuple[str, str]],
) -> None:
    """Write, from the rows just copied, the change records `log_changes`
    would write for them."""
    if len(routes) != len(pks):
        raise RuntimeError("one route per row")
    epoch, first = _reserve(len(pks))
    pk = model._meta.pk
    qn = connection.ops.quote_name
    # Every concrete field under its attname, as model_payload has it.
    selected = ", ".join(f"t.{qn(f.column)} AS {qn(f.attname)}" for f in fields)
    change = ChangeRecord._meta.db_table
    table = model._meta.db_table
    pk_type = "uuid" if isinstance(pk, models.UUIDField) else "bigint"
    sql = f"""
        INSERT INTO {qn(change)}
            (node, epoch, seq, model, object_id, op, payload,
             office_code, region_code, created_at)
        SELECT %s, %s, %s + o.n - 1, %s, o.id::text, %s, x.payload,
               o.office, o.region, now()
        FROM unnest(%s::{pk_type}[], %s::text[], %s::text[])
             WITH ORDINALITY AS o(id, office, region, n)
        CROSS JOIN LATERAL (
            SELECT to_jsonb(s) AS payload FROM (
                SELECT {selected} FROM {qn(table)} t WHERE t.{qn(pk.column)} = o.id
            ) s
        ) x
        ORDER BY o.n
    """  # noqa: S608 - names from the model, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                settings.BALAI_NODE,
                epoch,
                first,
                model._meta.label_lower,
                ChangeOp.UPSERT.value,
                list(pks),
                [route[0] for route in routes],
                [route[1] for route in routes],
            ],
        )
        if cursor.rowcount != len(pks):
            raise RuntimeError("change records do not match the rows written")


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
