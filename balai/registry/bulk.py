"""Writing many rows fast, the same rows the ORM would write.

On PostgreSQL the rows go in with ``COPY`` (psycopg's ``cursor.copy``, in
binary format with each column's dumper chosen by its type: `_copy`); on
other databases with ``executemany`` (below). The change records that sync ships are
written beside them:

- on the ORM path through `balai.core.changelog.log_changes`;
- on the COPY path as the very rows `log_changes` would write: the same
  sequence numbers (reserved with the change log's own `_reserve`), the same
  routing, and the same payload (every concrete field by attname, as
  `balai.core.serialize.model_payload` makes it), built by PostgreSQL from the
  rows just copied (``to_jsonb``) instead of in Python. The tests compare the
  stored payloads with `model_payload` of the reloaded rows.

On other databases (SQLite) the rows go in with ``executemany`` of plain
tuples, each value adapted as the field's ``get_db_prep_save`` would adapt it
(`_db_adapters`), and the change records beside them as the rows
`log_changes` writes: same numbering, routing, global sequence at the
regency, and payload (`model_payload` of the row, made from the row's values
by `_payload_makers`). No model instance is built: on SQLite that was most of
the bulk path's time (``bulk_create`` and ``log_changes`` through the ORM).
`balai/registry/tests/test_bulk.py` compares the stored columns and payloads
with what ``bulk_create`` and `log_changes` store.

At the regency (`balai.core.changelog.by_reference`) both paths write the
change records **by reference** (decision 0012): the same numbering, routing
and global sequence, but no copy of the row (payload SQL NULL); sync sends
such a record with its current row (`balai.sync.routing.fill_by_reference`).
A node writes the full payloads described above (its outbox needs the row as
it was).

Timestamps written here are whole seconds, so that PostgreSQL's JSON text of a
timestamp and Python's ``isoformat`` are the same characters.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import json
import operator
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, connections, models
from django.utils import timezone
from pydantic_core import to_json

from balai.core.changelog import CHANGE_COLUMNS, _reserve, by_reference
from balai.core.models import ChangeOp, ChangeRecord
from balai.core.nodes import REGENCY_NODE
from balai.core.serialize import json_value

# Connections a forked child inherited and must neither use nor close.
_inherited: list[Any] = []


def forget_inherited_connections() -> None:
    """In a forked child process: leave the parent's open database
    connections alone and connect afresh. The child's copy of a connection
    shares the parent's socket, so using it mixes both processes' statements
    in one session, and closing it (or its finalizer) ends the parent's
    session. The copies are kept referenced (never finalized: the child ends
    with ``os._exit``); the next query opens the child's own connection."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _inherited.append(conn.connection)
            conn.connection = None


def use_copy() -> bool:
    return connection.vendor == "postgresql"


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.column]


def _copy(
    table: str,
    columns: Sequence[str],
    rows: Any,
    types: Sequence[str] | None = None,
) -> None:
    """COPY `rows` (sequences of values in `columns`' order) into `table`.

    Given the columns' `types` (PostgreSQL type names), the rows go in
    COPY's binary format, each column through the one dumper of its type
    chosen once (``copy.set_types``): psycopg otherwise looks up a dumper
    for each value by its Python class and writes text, which cost the
    import's writer about twice the Python time (measured: the three
    tables' rows of 20,000 residents, 0.27 against 0.13 CPU-s). The stored
    values are the same: PostgreSQL receives each value's binary form
    instead of its text. A value must then be of its column's Python type
    (`uuid.UUID` for uuid, `datetime.date` for date, an aware
    `datetime.datetime` for timestamptz, `int`, `bool`, `str`, a `Jsonb`
    for jsonb, or None): another one is refused with an error and the
    transaction fails, nothing is written."""
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    binary = " (FORMAT BINARY)" if types is not None else ""
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN{binary}"
        ) as copy,
    ):
        if types is not None:
            copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)


# The columns' types whose Python values psycopg dumps in binary as the
# fold makes them (see `_copy`); a column of another type keeps text.
_BINARY_TYPES = frozenset(
    {
        "boolean",
        "smallint",
        "integer",
        "bigint",
        "varchar",
        "text",
        "uuid",
        "date",
        "timestamp with time zone",
        "jsonb",
    }
)


def _binary_types(fields: Sequence[models.Field]) -> list[str] | None:
    """The PostgreSQL type name of each field's column for a binary COPY,
    or None when one of them is not a type `_copy` writes in binary."""
    names = []
    for field in fields:
        name = (field.db_type(connection) or "").split("(")[0]
        if name not in _BINARY_TYPES:
            return None
        names.append(name)
    return names


def insert(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]],
    *,
    routes: Sequence[tuple[str, str]],
) -> int:
    """Insert `rows` (every concrete field, by attname; an iterator is
    consumed while the rows stream in) and log their changes. `routes` holds
    an (office code, region code) pair per row, complete once `rows` is."""
    return write_rows(model, rows, routes=routes).log()


@dataclass
class Unlogged:
    """Rows written whose change records are not yet: `log` writes them.

    Writing the rows takes no lock beyond the rows themselves; the change
    records take the change log's (`_reserve`, held to commit). A batch can
    so write its rows while an earlier batch commits, and take its place in
    the change log after it (see `take_turn`)."""

    model: type[models.Model]
    fields: list[models.Field]
    pks: list[Any]
    routes: Sequence[tuple[str, str]]
    # SQLite: the payloads made with the rows (None each when by reference).
    payloads: list[str | None] | None = None

    def log(self) -> int:
        if self.pks:
            if self.payloads is None:
                _changes_from_rows(self.model, self.pks, self.fields, self.routes)
            else:
                _log_rows(self.model, self.pks, self.payloads, self.routes)
        return len(self.pks)


def write_rows(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]],
    *,
    routes: Sequence[tuple[str, str]],
) -> Unlogged:
    """Insert `rows` as `insert` does, leaving their change records to the
    returned `Unlogged.log`."""
    fields = _columns(model)
    if not use_copy():
        pks, payloads = _insert_rows(model, fields, rows)
        return Unlogged(model, fields, pks, routes, payloads)
    from psycopg.types.json import Jsonb

    get = operator.itemgetter(*[f.attname for f in fields])
    types = _binary_types(fields)
    json_at = [
        (i, _json_dumps(f, binary=types is not None))
        for i, f in enumerate(fields)
        if isinstance(f, models.JSONField)
    ]
    pk_name = model._meta.pk.attname
    pks: list[Any] = []

    def values(row: dict[str, Any]) -> Any:
        pks.append(row[pk_name])
        out = get(row)
        if not json_at:
            return out
        out = list(out)
        for i, dumps in json_at:
            # As the field stores it: the value's JSON text (None too: JSON
            # null, not SQL NULL); in binary, jsonb's form of that text.
            out[i] = dumps(out[i]) if types is None else Jsonb(out[i], dumps)
        return out

    _plan_key_lookups()
    _copy(model._meta.db_table, [f.column for f in fields], map(values, rows), types)
    return Unlogged(model, fields, pks, routes)


def _json_dumps(
    field: models.JSONField, *, binary: bool = False
) -> Callable[[Any], str | bytes]:
    """The JSON text of a value as the field writes it (its encoder).

    For a binary COPY into jsonb without an encoder of its own, pydantic's
    serializer (compact UTF-8, compiled; ``json.dumps`` of each event's data
    was among the largest shares of the import's writer in a stack sample):
    jsonb keeps the parsed value, not the text, so the stored value is the
    same (``tests/test_bulk.py`` compares them)."""
    if field.encoder is None:
        return to_json if binary else json.dumps
    return functools.partial(json.dumps, cls=field.encoder)


def _plan_key_lookups() -> None:
    """Have this transaction's statements, and the foreign-key checks of the
    rows it copies, find rows by index rather than by reading a whole table
    (``SET LOCAL enable_seqscan = off``, until the transaction ends).

    Each copied row's foreign keys are checked at commit (the constraints
    are deferred), one lookup per key of each row, by a statement
    PostgreSQL plans once per session and keeps. For a table of a few pages
    its planner prefers reading the whole table to the primary key's index:
    the villages (``regions_region``, 258 rows on 3 pages; every resident
    and KK refers to one) were so read row by row for each check, ~9.5 us a
    check against ~3.4 us by the index (measured: 100,000 checks; the
    import's commit 2.9 -> 2.1 CPU-s per 100,000 residents). Everything
    else the bulk path runs in its transaction is found by key (the
    "already registered?" lookups, the change log's numbers, the audit
    chain's head, the job row) or reads no table (the change records
    from ``unnest``); a table without a usable index is still read whole
    (the setting only makes that the last choice). Outside a transaction
    ``SET LOCAL`` would do nothing, and the bulk path always runs in one."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


# Writers that share the change log in a set order (the import's parallel
# writers): before a batch takes the change log's lock, it waits for its turn.
_turn: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "balai_bulk_turn", default=None
)


@contextlib.contextmanager
def in_turn(wait: Callable[[], None]) -> Iterator[None]:
    """Within this block `take_turn` calls `wait` (which returns once it is
    this batch's turn; it may be called more than once)."""
    token = _turn.set(wait)
    try:
        yield
    finally:
        _turn.reset(token)


def take_turn() -> None:
    """Wait, if this batch is one of writers taking turns, until it is its
    turn: called before the first lock that the batch would hold to commit
    while an earlier batch needs it (the change log's, the audit chain's,
    the number counters')."""
    wait = _turn.get()
    if wait is not None:
        wait()


def in_turns() -> bool:
    return _turn.get() is not None


def _changes_from_rows(
    model: type[models.Model],
    pks: Sequence[Any],
    fields: list[models.Field],
    routes: Sequence[tuple[str, str]],
) -> None:
    """Write, from the rows just copied, the change records `log_changes`
    would write for them (at the regency by reference: no payload)."""
    if len(routes) != len(pks):
        raise RuntimeError("one route per row")
    epoch, first = _reserve(len(pks))
    pk = model._meta.pk
    qn = connection.ops.quote_name
    change = ChangeRecord._meta.db_table
    pk_type = "uuid" if isinstance(pk, models.UUIDField) else "bigint"
    keys = [
        # Hex digits or an integer's: never quoted, nothing to check.
        "{" + ",".join(map(_key_text, pks)) + "}",
        _array_text(route[0] for route in routes),
        _array_text(route[1] for route in routes),
    ]
    # Each key is cast to the primary key's type and back (o.id::text): the
    # same text the ORM path stores (str(obj.pk)).
    if by_reference():
        payload, joined = "NULL", ""
    else:
        # Every concrete field under its attname, as model_payload has it.
        selected = ", ".join(f"t.{qn(f.column)} AS {qn(f.attname)}" for f in fields)
        payload = "x.payload"
        joined = f"""
            CROSS JOIN LATERAL (
                SELECT to_jsonb(s) AS payload FROM (
                    SELECT {selected} FROM {qn(model._meta.db_table)} t
                    WHERE t.{qn(pk.column)} = o.id
                ) s
            ) x"""  # noqa: S608 - names from the model
    sql = f"""
        INSERT INTO {qn(change)}
            (node, epoch, seq, model, object_id, op, payload,
             office_code, region_code, created_at)
        SELECT %s, %s, %s + o.n - 1, %s, o.id::text, %s, {payload},
               o.office, o.region, now()
        FROM unnest(%s::{pk_type}[], %s::text[], %s::text[])
             WITH ORDINALITY AS o(id, office, region, n){joined}
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
                *keys,
            ],
        )
        if cursor.rowcount != len(pks):
            raise RuntimeError("change records do not match the rows written")


def _key_text(pk: Any) -> str:
    """A primary key's text for the change records' key array: a UUID as its
    32 hex digits, which PostgreSQL reads as the same uuid (``o.id::text``
    gives the usual form back), cheaper than ``str``'s hyphenated form."""
    return pk.hex if pk.__class__ is uuid.UUID else str(pk)


_BARE_ELEMENT = re.compile(r"[A-Za-z0-9._:/+-]+")


def _array_text(values: Iterable[str]) -> str:
    """The text of a PostgreSQL array of these strings (cast in the query:
    ``%s::text[]``). Psycopg's own array adaptation costs the writer ~1 s per
    100,000 rows here (each element through its dumper and quoted as a
    literal). Keys, NIKs and codes need no quotes: elements are joined as
    they are when every distinct one is plain (letters, digits, ``._:/+-``,
    not NULL), else each is quoted."""
    items = list(values)
    if all(_BARE_ELEMENT.fullmatch(v) and v.upper() != "NULL" for v in set(items)):
        return "{" + ",".join(items) + "}"
    return (
        "{"
        + ",".join(
            '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in items
        )
        + "}"
    )


def matching(
    model: type[models.Model],
    field: str,
    values: Sequence[Any],
    *,
    also: Sequence[str] = (),
    chunk: int = 5000,
) -> list[tuple]:
    """Return (value, *also) of the rows of `model` whose `field` is one of
    `values` (the bulk paths' "already in the register?" checks), in plain
    SQL: through the ORM each of thousands of values went through its lookup
    machinery, costing more than the query. On PostgreSQL one array
    parameter per query (``= ANY(%s)``); elsewhere ``IN`` lists of `chunk`.
    The `also` values come back as the ORM gives them (`to_python`)."""
    if not values:
        return []
    meta = model._meta
    qn = connection.ops.quote_name
    key = meta.get_field(field)
    extra = [meta.get_field(n) for n in also]
    columns = ", ".join(qn(f.column) for f in [key, *extra])
    head = f"SELECT {columns} FROM {qn(meta.db_table)} WHERE {qn(key.column)}"  # noqa: S608
    if use_copy() and all(v.__class__ is str for v in values):
        queries = [(f"{head} = ANY(%s::text[])", [_array_text(values)])]
    elif use_copy():
        queries = [(f"{head} = ANY(%s)", [list(values)])]
    else:
        queries = [
            (f"{head} IN ({', '.join(['%s'] * len(part))})", list(part))
            for part in (
                values[start : start + chunk] for start in range(0, len(values), chunk)
            )
        ]
    out: list[tuple] = []
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                out.append(
                    (
                        row[0],
                        *(f.to_python(v) for f, v in zip(extra, row[1:], strict=True)),
                    )
                )
    return out


# --- SQLite (any database without COPY): tuples and executemany -----------------

_BATCH = 2000


def _target(field: models.Field) -> models.Field:
    """The field whose type a column stores (a foreign key's target field)."""
    return field.target_field if field.is_relation else field


def _db_adapters(fields: Sequence[models.Field]) -> list[Callable[[Any], Any]]:
    """Per field, a function turning a row value into what the field's
    ``get_db_prep_save`` gives for it on this connection. The common types
    are done directly; a value of another type, and any other field, goes
    through the field itself."""
    return [_db_adapter(field) for field in fields]


def _db_adapter(field: models.Field) -> Callable[[Any], Any]:
    ops = connection.ops
    target = _target(field)

    def slow(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    if isinstance(target, models.UUIDField):
        if connection.features.has_native_uuid_field:
            return slow

        def as_uuid(v: Any) -> Any:
            if v is None:
                return None
            return v.hex if v.__class__ is uuid.UUID else slow(v)

        return as_uuid
    if isinstance(target, models.DateTimeField):
        # A batch's rows share one timestamp: the last one is remembered.
        last: list[Any] = [None, None]

        def as_datetime(v: Any) -> Any:
            if v is None:
                return None
            if v is last[0]:
                return last[1]
            if v.__class__ is datetime.datetime:
                last[:] = [v, ops.adapt_datetimefield_value(v)]
                return last[1]
            return slow(v)

        return as_datetime
    if isinstance(target, models.DateField):

        def as_date(v: Any) -> Any:
            if v is None or v.__class__ is datetime.date:
                return ops.adapt_datefield_value(v)
            return slow(v)

        return as_date
    if isinstance(target, models.JSONField) and not field.is_relation:
        encoder = field.encoder

        def as_json(v: Any) -> Any:
            return ops.adapt_json_value(v, encoder)

        return as_json
    for kind, types in (
        (models.BooleanField, bool),
        (models.IntegerField, int),
        (models.CharField | models.TextField, str),
    ):
        if isinstance(target, kind):

            def same(v: Any, types: type = types) -> Any:
                return v if v is None or v.__class__ is types else slow(v)

            return same
    return slow


def _payload_makers(fields: Sequence[models.Field]) -> list[Callable[[Any], Any]]:
    """Per field, `json_value` (what `model_payload` applies), done directly
    for the common types."""
    out: list[Callable[[Any], Any]] = []
    for field in fields:
        target = _target(field)
        if isinstance(target, models.UUIDField):
            out.append(lambda v: str(v) if v.__class__ is uuid.UUID else json_value(v))
        elif isinstance(target, models.DateField):  # and DateTimeField
            out.append(
                lambda v: (
                    v.isoformat()
                    if v.__class__ in (datetime.date, datetime.datetime)
                    else json_value(v)
                )
            )
        elif isinstance(target, models.CharField | models.TextField):
            out.append(lambda v: v if v.__class__ is str else json_value(v))
        else:
            out.append(json_value)
    return out


def _tuple_getter(names: Sequence[str]) -> Callable[[dict], tuple]:
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return operator.itemgetter(*names)


_PLAIN = (
    (models.BooleanField, bool),
    (models.IntegerField, int),
    (models.CharField | models.TextField, str),
)


def _insert_rows(
    model: type[models.Model],
    fields: list[models.Field],
    rows: Iterable[dict[str, Any]],
) -> tuple[list[Any], list[str | None]]:
    """Insert `rows` with ``executemany``; return their keys and the payloads
    of the change records `log_changes` would write for the same objects
    (`_log_rows` writes them); at the regency None each (by reference: no
    payload is made).

    Most columns are plain (text, integers, booleans): their value is stored
    and put in the payload as it is. Those are checked per row by class in
    one pass per kind (a value of another class goes through the field and
    `json_value` like the rest); the others (UUIDs, dates, JSON) are adapted
    one by one."""
    names = [f.attname for f in fields]
    get = operator.itemgetter(*names)
    adapters = _db_adapters(fields)
    makers = _payload_makers(fields)
    plain: dict[type, list[int]] = {}
    special: list[tuple[int, Callable, Callable]] = []
    for i, field in enumerate(fields):
        target = _target(field)
        cls = next((c for kind, c in _PLAIN if isinstance(target, kind)), None)
        if cls is None or isinstance(target, models.JSONField):
            special.append((i, adapters[i], makers[i]))
        else:
            plain.setdefault(cls, []).append(i)
    checks = [
        (_tuple_getter([names[i] for i in where]), {cls, type(None)}, where)
        for cls, where in plain.items()
    ]
    write = _row_writer(model, fields)
    pk_name = model._meta.pk.attname
    pks: list[Any] = []
    payloads: list[str | None] = []
    dumps = json.JSONEncoder().encode
    keep = not by_reference()
    with connection.cursor() as cursor:
        chunk: list[tuple] = []
        for row in rows:
            raw = get(row)
            db = list(raw)
            out = list(raw) if keep else []
            for i, adapt, make in special:
                value = raw[i]
                db[i] = adapt(value)
                if keep:
                    out[i] = make(value)
            for getter, allowed, where in checks:
                if not set(map(type, getter(row))) <= allowed:
                    for i in where:
                        db[i] = adapters[i](raw[i])
                        if keep:
                            out[i] = makers[i](raw[i])
            chunk.append(tuple(db))
            pks.append(row[pk_name])
            if keep:
                payloads.append(dumps(dict(zip(names, out, strict=True))))
            if len(chunk) >= _BATCH:
                write(cursor, chunk)
                chunk = []
        if chunk:
            write(cursor, chunk)
    if not keep:
        payloads = [None] * len(pks)
    return pks, payloads


# Rows per multi-row INSERT (below the statement's parameter limit).
_ROWS_PER_STATEMENT = 500


def _row_writer(
    model: type[models.Model], fields: list[models.Field]
) -> Callable[[Any, list[tuple]], None]:
    """How `_insert_rows` sends its tuples: ``executemany`` of a one-row
    INSERT, or, into a table with a trigger on SQLite, multi-row INSERTs.

    The resident table's insert trigger feeds the FTS5 name index
    (`balai.registry.search`), and an FTS5 insert costs far more one row per
    statement (``executemany``) than many rows in one statement: measured,
    the trigger took ~200 of the ~450 us a row of the SQLite import at
    100,000 residents (growing with the index), against a few us in
    statements of 500 rows. The same rows fire the same trigger for each
    row, in the same order; a table without a trigger keeps
    ``executemany`` (there multi-row statements were slightly slower)."""
    qn = connection.ops.quote_name
    table = model._meta.db_table
    head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608 - model names
        qn(table), ", ".join(qn(f.column) for f in fields)
    )
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    single = head + one
    per = _rows_per_statement(table, len(fields))
    if per <= 1:
        return lambda cursor, rows: cursor.executemany(single, rows)
    full = head + ", ".join([one] * per)

    def write(cursor: Any, rows: list[tuple]) -> None:
        for start in range(0, len(rows), per):
            part = rows[start : start + per]
            sql = full if len(part) == per else head + ", ".join([one] * len(part))
            cursor.execute(sql, [value for row in part for value in row])

    return write


def _rows_per_statement(table: str, columns: int) -> int:
    """1 unless `table` has a trigger on SQLite (see `_row_writer`); then as
    many rows as the connection's parameter limit allows, up to
    `_ROWS_PER_STATEMENT`."""
    if connection.vendor != "sqlite":
        return 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [table],
        )
        if cursor.fetchone() is None:
            return 1
    limit = connection.features.max_query_params
    getlimit = getattr(connection.connection, "getlimit", None)  # Python 3.11+
    if getlimit is not None:
        import sqlite3

        limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(_ROWS_PER_STATEMENT, limit // columns))


def _log_rows(
    model: type[models.Model],
    pks: Sequence[Any],
    payloads: Sequence[str | None],
    routes: Sequence[tuple[str, str]],
) -> None:
    """Write the change records `log_changes` writes for these rows (upserts;
    each payload already JSON text, or None: by reference, stored as SQL
    NULL)."""
    if len(routes) != len(pks):
        raise RuntimeError("one route per row")
    epoch, first = _reserve(len(pks))
    at_regency = settings.BALAI_NODE == REGENCY_NODE
    fields = [f for f in _columns(ChangeRecord) if not f.primary_key]
    adapt = dict(zip([f.attname for f in fields], _db_adapters(fields), strict=True))
    node = adapt["node"](settings.BALAI_NODE)
    label = model._meta.label_lower
    op = ChangeOp.UPSERT.value
    created = adapt["created_at"](timezone.now())
    qn = connection.ops.quote_name
    order = CHANGE_COLUMNS
    if sorted(order) != sorted(f.attname for f in fields):
        raise RuntimeError("ChangeRecord has other columns than this writer knows")
    columns = ", ".join(qn(ChangeRecord._meta.get_field(n).column) for n in order)
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - model names
        qn(ChangeRecord._meta.db_table), columns, ", ".join(["%s"] * len(order))
    )
    records = [
        (
            node,
            epoch,
            first + i,
            label,
            str(pk),
            op,
            payload,
            route[0],
            route[1],
            created,
            first + i if at_regency else None,
        )
        for i, (pk, payload, route) in enumerate(
            zip(pks, payloads, routes, strict=True)
        )
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(records), _BATCH):
            cursor.executemany(sql, records[start : start + _BATCH])


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
