"""What a domain's `appliers.py` builds on: how one model syncs (`ModelSpec`),
how a payload is checked like any API input (`parse_payload`), and the
registry `balai.sync` reads (`specs()`).

A domain app declares its models in `<app>/appliers.py`:

    SPECS = [ModelSpec("registry.resident", kind=OWNED, ...), ...]

and may define `validate(unit)` (batch validation of everything of that app
in one apply unit, through the domain's own rules) and
`node_after_apply(rows_by_model)` (node side, after pulled rows are written:
counters and the like). The engine (`balai.sync.engine`) calls them; it never
knows a domain rule itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import uuid
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models

# How a model syncs.
OWNED = "owned"  # written by the node serving its owning office
REFERENCE = "reference"  # catalogue and reference data: the regency writes
LOCAL = "local"  # stays where it was made (sessions, drafts, outbox, ...)
USER = "user"  # staff accounts: follow their postings

# Apps whose appliers.py the engine loads, in the order rows are written
# (references before the rows that point at them).
APP_ORDER = (
    "regions",
    "accounts",
    "registry",
    "services",
    "antrian",
    "documents",
    "notify",
    "audit",
)


class Invalid(Exception):
    """A payload that fails validation (message in Indonesian)."""


@dataclass
class ModelSpec:
    label: str
    kind: str = OWNED
    # Records that can move out of a node's routing (ownership or region
    # change): a node that ever held one keeps receiving its changes.
    movable: bool = False
    # The domain's validate() checks versions itself (no generic check of
    # "changed elsewhere").
    projection: bool = False
    # Region code of the office that owns the record (None: nobody owns it,
    # e.g. a content-addressed blob). `values` are parsed attnames.
    owner: Callable[[dict[str, Any], Any], str | None] | None = None
    # For a new record: the region codes of offices allowed to create it.
    creators: Callable[[dict[str, Any], Any], Iterable[str]] | None = None
    # Keys binding records that stand or fall together in one unit.
    group_keys: Callable[[dict[str, Any]], Iterable[Hashable]] | None = None
    # A unique value already taken: give the incoming record another one
    # (return the new values) or None to refuse it.
    renumber: Callable[[Any, Any, str], dict[str, Any] | None] | None = None
    # Content-addressed files a row refers to: [(kind, sha256), ...].
    blob_refs: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    # Many-to-many fields carried in snapshots as "_m2m": {name: [ids]}.
    m2m: tuple[str, ...] = ()
    # The refusal for a unique value taken, in words: (attname, value) -> text.
    duplicate_message: Callable[[str, Any], str] | None = None
    # Shapes a payload on its way to a node (e.g. leaves out a secret).
    outgoing: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    order: int = 0
    model: type[models.Model] = field(init=False, repr=False)
    parsers: dict[str, Callable[[Any], Any]] = field(init=False, repr=False)
    fk_fields: list[tuple[str, str]] = field(init=False, repr=False)

    def bind(self) -> None:
        self.model = apps.get_model(self.label)
        self.parsers = {f.attname: _parser(f) for f in self.model._meta.concrete_fields}
        self.fk_fields = [
            (f.attname, f.related_model._meta.label_lower)
            for f in self.model._meta.concrete_fields
            if f.is_relation and f.related_model is not None
        ]

    @property
    def pk_attname(self) -> str:
        return self.model._meta.pk.attname


# --- parsing payloads --------------------------------------------------------------


def _text(field_: models.Field) -> Callable[[Any], Any]:
    limit = getattr(field_, "max_length", None)
    choices = (
        frozenset(str(c[0]) for c in field_.flatchoices) if field_.choices else None
    )
    blank_ok = field_.blank

    def parse(value: Any) -> Any:
        if not isinstance(value, str):
            raise Invalid(f"{field_.name}: harus teks")
        if limit is not None and len(value) > limit:
            raise Invalid(f"{field_.name}: lebih dari {limit} karakter")
        if "\x00" in value:
            raise Invalid(f"{field_.name}: memuat karakter NUL")
        if (
            choices is not None
            and value not in choices
            and not (blank_ok and not value)
        ):
            raise Invalid(f"{field_.name}: nilai {value!r} tidak dikenal")
        return value

    return parse


def _integer(field_: models.Field) -> Callable[[Any], Any]:
    positive = isinstance(
        field_,
        models.PositiveIntegerField
        | models.PositiveSmallIntegerField
        | models.PositiveBigIntegerField,
    )
    choices = frozenset(c[0] for c in field_.flatchoices) if field_.choices else None
    limit = 2**63 - 1

    def parse(value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid(f"{field_.name}: harus bilangan bulat")
        if positive and value < 0:
            raise Invalid(f"{field_.name}: tidak boleh negatif")
        if abs(value) > limit:
            raise Invalid(f"{field_.name}: terlalu besar")
        if choices is not None and value not in choices:
            raise Invalid(f"{field_.name}: nilai {value!r} tidak dikenal")
        return value

    return parse


def _uuid(field_: models.Field) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return value
        if not isinstance(value, str) or len(value) > 40:
            raise Invalid(f"{field_.name}: harus UUID")
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise Invalid(f"{field_.name}: harus UUID") from exc

    return parse


def _datetime(field_: models.Field) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if not isinstance(value, str) or len(value) > 40:
            raise Invalid(f"{field_.name}: harus waktu ISO 8601")
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise Invalid(f"{field_.name}: harus waktu ISO 8601") from exc
        if moment.tzinfo is None:
            raise Invalid(f"{field_.name}: waktu tanpa zona waktu")
        return moment

    return parse


def _date(field_: models.Field) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if not isinstance(value, str) or len(value) != 10:
            raise Invalid(f"{field_.name}: harus tanggal YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise Invalid(f"{field_.name}: harus tanggal YYYY-MM-DD") from exc

    return parse


def _time(field_: models.Field) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        try:
            return dt.time.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise Invalid(f"{field_.name}: harus jam HH:MM") from exc

    return parse


def _boolean(field_: models.Field) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if not isinstance(value, bool):
            raise Invalid(f"{field_.name}: harus true/false")
        return value

    return parse


def _decimal(field_: models.DecimalField) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Invalid(f"{field_.name}: harus angka desimal")
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation as exc:
            raise Invalid(f"{field_.name}: harus angka desimal") from exc
        if not number.is_finite():
            raise Invalid(f"{field_.name}: harus angka desimal")
        digits = len(number.as_tuple().digits)
        if digits > (field_.max_digits or 64) + (field_.decimal_places or 0):
            raise Invalid(f"{field_.name}: terlalu banyak digit")
        return number

    return parse


def _json(field_: models.Field) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        _check_json_depth(value, field_.name)
        return value

    return parse


def _check_json_depth(value: Any, name: str, depth: int = 0) -> None:
    if depth > 32:
        raise Invalid(f"{name}: JSON terlalu dalam")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise Invalid(f"{name}: kunci JSON harus teks")
            _check_json_depth(v, name, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_json_depth(v, name, depth + 1)
    elif isinstance(value, str) and "\x00" in value:
        raise Invalid(f"{name}: memuat karakter NUL")


def _target_parser(field_: models.Field) -> Callable[[Any], Any]:
    target = field_.target_field if field_.is_relation else field_
    return _parser(target, name=field_.name)


def _parser(field_: models.Field, *, name: str | None = None) -> Callable[[Any], Any]:
    if field_.is_relation:
        inner = _target_parser(field_)
    elif isinstance(field_, models.UUIDField):
        inner = _uuid(field_)
    elif isinstance(field_, models.BooleanField):
        inner = _boolean(field_)
    elif isinstance(field_, models.DateTimeField):
        inner = _datetime(field_)
    elif isinstance(field_, models.DateField):
        inner = _date(field_)
    elif isinstance(field_, models.TimeField):
        inner = _time(field_)
    elif isinstance(field_, models.DecimalField):
        inner = _decimal(field_)
    elif isinstance(field_, models.JSONField):
        inner = _json(field_)
    elif isinstance(field_, models.IntegerField | models.AutoField):
        inner = _integer(field_)
    elif isinstance(field_, models.CharField | models.TextField):
        inner = _text(field_)
    elif isinstance(field_, models.FloatField):

        def inner(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise Invalid(f"{field_.name}: harus angka")
            return float(value)

    else:  # pragma: no cover - a field type no model uses yet
        raise TypeError(f"sync cannot parse {type(field_).__name__}")
    nullable = field_.null

    def parse(value: Any) -> Any:
        if value is None:
            if not nullable:
                raise Invalid(f"{name or field_.name}: tidak boleh kosong")
            return None
        return inner(value)

    return parse


def parse_payload(spec: ModelSpec, payload: Any) -> dict[str, Any]:
    """Check a payload (every concrete field by attname, nothing else) and
    return its Python values; raise Invalid with the first problem."""
    if not isinstance(payload, dict):
        raise Invalid("isi data harus objek JSON")
    parsers = spec.parsers
    if payload.keys() != parsers.keys():
        unknown = sorted(set(payload) - set(parsers))
        missing = sorted(set(parsers) - set(payload))
        if unknown:
            raise Invalid(f"kolom tidak dikenal: {', '.join(unknown[:5])}")
        raise Invalid(f"kolom tidak lengkap: {', '.join(missing[:5])}")
    return {name: parsers[name](value) for name, value in payload.items()}


# --- the registry ------------------------------------------------------------------

_specs: dict[str, ModelSpec] = {}
_validators: list[Callable[[Any], None]] = []
_node_hooks: list[Callable[[dict[str, list[dict[str, Any]]]], None]] = []
_after_writes: list[Callable[[Any], None]] = []
_loaded = False


def load() -> None:
    """Import every domain's appliers.py once and bind its specs."""
    global _loaded
    if _loaded:
        return
    order = 0
    for app_label in APP_ORDER:
        try:
            config = apps.get_app_config(app_label)
        except LookupError:
            continue
        try:
            module = importlib.import_module(f"{config.name}.appliers")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.appliers":
                raise
            continue
        for spec in getattr(module, "SPECS", ()):
            spec.bind()
            spec.order = order
            order += 1
            _specs[spec.label] = spec
        if hasattr(module, "validate"):
            _validators.append(module.validate)
        if hasattr(module, "node_after_apply"):
            _node_hooks.append(module.node_after_apply)
        if hasattr(module, "after_write"):
            _after_writes.append(module.after_write)
    _loaded = True


def specs() -> dict[str, ModelSpec]:
    load()
    return _specs


def spec_for(label: str) -> ModelSpec | None:
    load()
    return _specs.get(label)


def validators() -> list[Callable[[Any], None]]:
    load()
    return list(_validators)


def node_hooks() -> list[Callable[[dict[str, list[dict[str, Any]]]], None]]:
    load()
    return list(_node_hooks)


def after_writes() -> list[Callable[[Any], None]]:
    load()
    return list(_after_writes)


def labels_of(kind: str) -> list[str]:
    return [label for label, s in specs().items() if s.kind == kind]


def synced_labels() -> list[str]:
    """Models that travel (everything but LOCAL), in write order."""
    return [
        s.label
        for s in sorted(specs().values(), key=lambda s: s.order)
        if s.kind != LOCAL
    ]


# --- helpers the domains' specs use ---------------------------------------------------


def office_region(unit: Any, office_id: Any) -> str | None:
    """Region code of an office by id (None if unknown or no office)."""
    if office_id is None:
        return None
    return unit.offices.region_of_id(office_id)
