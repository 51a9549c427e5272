"""Writing a few rows of a model in one plain statement, and reading the
few rows every request needs."""

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin, Field

M = TypeVar("M", bound=models.Model)

# Beyond this many rows Django's bulk_create (batched) is the better tool.
SMALL_BATCH = 100


def insert_rows(
    objs: Sequence[models.Model], *, unless_taken: Sequence[str] = ()
) -> int:
    """Insert a small batch of new instances of one model in one INSERT;
    return how many rows were written.

    Every action's audit entries and change records go through here: for a
    handful of rows Django's `bulk_create` (PostgreSQL's UNNEST of typed
    arrays, each value quoted into an array literal) cost more than the
    rows. Values are prepared by each field as `bulk_create` prepares them;
    an auto-increment key is read back, in order. With `unless_taken` (the
    fields of a unique constraint) one row is written unless that key is
    taken (`ON CONFLICT DO NOTHING`): 0 then, and the instance stays unsaved.
    """
    if not objs:
        return 0
    if unless_taken and len(objs) != 1:
        raise ValueError("unless_taken writes one row at a time")
    if len(objs) > SMALL_BATCH:
        type(objs[0])._default_manager.bulk_create(objs, batch_size=2000)
        return len(objs)
    meta = type(objs[0])._meta
    auto = meta.pk if isinstance(meta.pk, AutoFieldMixin) else None
    fields = [f for f in meta.concrete_fields if f is not auto]
    plan = _plan(type(objs[0]), fields)
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * len(objs))}"
    )
    if unless_taken:
        taken = ", ".join(quote(meta.get_field(n).column) for n in unless_taken)
        sql += f" ON CONFLICT ({taken}) DO NOTHING"
    sql += f" RETURNING {quote(meta.pk.column)}"
    params = []
    add = params.append
    for obj in objs:
        for field, attname, plain in plan:
            value = (
                field.pre_save(obj, add=True)
                if attname is None
                else getattr(obj, attname)
            )
            if value is None or value.__class__ is plain:
                add(value)
            else:
                add(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    if len(keys) != len(objs):
        return 0  # unless_taken: the key was taken
    for obj, (key,) in zip(objs, keys, strict=True):
        if auto is not None:
            obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias
    return len(objs)


def update_row(obj: models.Model, *, fields: Sequence[str]) -> None:
    """Write these fields of a saved instance in one plain UPDATE, as
    ``save(update_fields=...)`` writes them (an ``auto_now`` field stamped
    now; no signals: Balai connects none to these models)."""
    meta = obj._meta
    chosen = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in chosen)
    params = [
        f.get_db_prep_save(f.pre_save(obj, add=False), connection) for f in chosen
    ]
    params.append(meta.pk.get_db_prep_value(obj.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {sets} "  # noqa: S608
            f"WHERE {quote(meta.pk.column)} = %s",
            params,
        )
        if cursor.rowcount != 1:
            raise RuntimeError(f"{meta.label} {obj.pk} was not there to update")


# Fields whose value of exactly this type is already what the database takes
# (their get_db_prep_save gives it back unchanged).
_PLAIN_TYPES: dict[type[Field], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
}
_plans: dict[tuple, list[tuple[Field, str | None, Any]]] = {}


def _plan(
    model: type[models.Model], fields: list[Field]
) -> list[tuple[Field, str | None, Any]]:
    """Per field: the field, the attribute to read (None: ask its `pre_save`,
    e.g. `auto_now`) and the type whose values go to the database as they are
    (None: every value through `get_db_prep_save`). Preparing each value
    through its field was most of this function's time."""
    key = (model, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        plan = [
            (
                field,
                field.attname if type(field).pre_save is Field.pre_save else None,
                _plain_type(field),
            )
            for field in fields
        ]
        _plans[key] = plan
    return plan


def _plain_type(field: Field) -> Any:
    target = field.target_field if field.is_relation else field
    if type(target) is models.UUIDField and connection.features.has_native_uuid_field:
        return uuid.UUID
    return _PLAIN_TYPES.get(type(target))


def select_rows(
    model: type[M],
    *,
    where: str,
    params: Sequence[Any],
    order_by: str = "",
    for_update: bool = False,
) -> list[M]:
    """Return the rows of `model` matching `where` (SQL over its columns,
    `%s` for each of `params`, which the caller gives as the database takes
    them: `db_value`), as instances, in `order_by` order; with `for_update`
    locked to the end of the transaction (where the database locks rows).

    For the few reads every request makes (the token, the actor's postings,
    the catalogue entry, the audit chain's head): building the ORM's query
    took several times as long as the database needed to answer it.
    """
    quote = connection.ops.quote_name
    sql = f"SELECT * FROM {quote(model._meta.db_table)} WHERE {where}"  # noqa: S608
    if order_by:
        sql += f" ORDER BY {order_by}"
    if for_update and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return list(model._default_manager.raw(sql, params))


def db_value(model: type[models.Model], field_name: str, value: Any) -> Any:
    """`value` of `model`'s field as the database takes it (a plain
    statement's parameter)."""
    field = model._meta.get_field(field_name)
    return field.get_db_prep_value(value, connection, prepared=False)
