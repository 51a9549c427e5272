"""Writing a few rows of a model in one plain statement."""

from collections.abc import Sequence

from django.db import connection, models

# Beyond this many rows Django's bulk_create (batched) is the better tool.
SMALL_BATCH = 100


def insert_rows(objs: Sequence[models.Model]) -> None:
    """Insert a small batch of new instances of one model in one INSERT.

    Every action's audit entries and change records go through here: for a
    handful of rows Django's `bulk_create` (PostgreSQL's UNNEST of typed
    arrays, each value quoted into an array literal) cost more than the
    rows. Values are prepared by each field as `bulk_create` prepares them;
    an auto-increment key is read back, in order.
    """
    if not objs:
        return
    if len(objs) > SMALL_BATCH:
        type(objs[0])._default_manager.bulk_create(objs, batch_size=2000)
        return
    meta = type(objs[0])._meta
    auto = (
        meta.pk if isinstance(meta.pk, models.AutoField | models.BigAutoField) else None
    )
    fields = [f for f in meta.concrete_fields if f is not auto]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * len(objs))}"
    )
    if auto is not None:
        sql += f" RETURNING {quote(auto.column)}"
    params = [
        f.get_db_prep_save(f.pre_save(obj, add=True), connection)
        for obj in objs
        for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall() if auto is not None else []
    for i, obj in enumerate(objs):
        if keys:
            obj.pk = keys[i][0]
        obj._state.adding = False
        obj._state.db = connection.alias
