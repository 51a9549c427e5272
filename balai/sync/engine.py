"""Applying changes: a node's batch at the regency (validated, one transaction)
and pulled changes at a node (trusted, written without making outbox records).

At the regency one *unit* is applied at a time: the node's changes still
waiting for a record they refer to (`PendingChange`) plus the batch just
received, in (epoch, seq) order. Each change is parsed like any API input,
checked against the one-writer rule (`node_serves`), against what changed at
the regency since the node last saw the record, by the domain's own rules
(each app's `appliers.validate`, e.g. the register's projection of life
events) and for unique values. A refused change becomes a `Conflict` (with
the node's version kept and the regency's version sent back); a change whose
referenced record has not arrived yet is kept pending; everything else is
written and stored in the change log with a global sequence.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from balai.core.changelog import CHANGE_COLUMNS, _reserve
from balai.core.models import ChangeOp, ChangeRecord
from balai.core.nodes import node_serves
from balai.core.serialize import json_value, model_payload
from balai.sync import framework
from balai.sync.framework import LOCAL, OWNED, REFERENCE, USER, Invalid, ModelSpec
from balai.sync.models import (
    Conflict,
    ConflictKind,
    ConflictStatus,
    NodeEpoch,
    PendingChange,
)

log = logging.getLogger("balai.sync")

OK, REFUSED, PARKED, SKIPPED = "ok", "refused", "parked", "skipped"

ADVICE = {
    ConflictKind.EVENT_REFUSED: (
        "Periksa data penduduk ini (versi kabupaten sudah dipakai di node). Bila "
        "peristiwa ini tetap perlu dicatat, catat ulang sesuai keadaan terbaru "
        "atau ajukan koreksi kepada pencatat sipil kabupaten."
    ),
    ConflictKind.DUPLICATE: (
        "Periksa dokumen aslinya. Bila nilai di node keliru, catat ulang dengan "
        "nilai yang benar; bila keduanya orang atau dokumen yang sama, minta "
        "pencatat sipil kabupaten menggabungkan atau mengoreksi datanya."
    ),
    ConflictKind.OWNERSHIP_MOVED: (
        "Data ini kini dikelola kantor lain. Bila perubahan masih diperlukan, "
        "hubungi kantor tersebut; node memakai versi kabupaten."
    ),
    ConflictKind.CHANGED_ELSEWHERE: (
        "Versi kabupaten sudah dipakai di node. Periksa data terbarunya, lalu "
        "ulangi perubahan bila masih diperlukan (versi node tersimpan di sini)."
    ),
    ConflictKind.REFERENCE_DATA: (
        "Katalog dan data referensi hanya diubah di kabupaten; versi kabupaten "
        "dipakai. Ajukan perubahan kepada administrator kabupaten."
    ),
    ConflictKind.NOT_SERVED: (
        "Node ini tidak melayani kantor pemilik data ini. Laporkan kepada "
        "administrator sistem: mungkin konfigurasi node salah."
    ),
    ConflictKind.INVALID: (
        "Data dari node tidak lolos pemeriksaan. Laporkan kepada administrator "
        "sistem; versi node tersimpan di sini."
    ),
    ConflictKind.MISSING_REFERENCE: (
        "Data ini merujuk data lain yang ditolak atau tidak ada di kabupaten. "
        "Selesaikan konflik data yang dirujuk terlebih dahulu, lalu catat ulang."
    ),
    ConflictKind.RENUMBERED: (
        "Nomor lama sudah dipakai data lain; nomor baru berlaku. Beri tahu "
        "pemohon nomor barunya bila ia menyimpan tanda terima lama."
    ),
}


# --- offices and routes -------------------------------------------------------------


class OfficeMap:
    """Offices by id and code, read once per unit."""

    def __init__(self) -> None:
        from balai.regions.models import Office

        rows = list(Office.objects.values_list("id", "code", "region_id"))
        self.by_id = {str(i): (c, r) for i, c, r in rows}
        self.by_code = {c: r for _i, c, r in rows}

    def region_of_id(self, office_id: Any) -> str | None:
        found = self.by_id.get(str(office_id))
        return found[1] if found else None

    def code_of_id(self, office_id: Any) -> str | None:
        found = self.by_id.get(str(office_id))
        return found[0] if found else None

    def region_of_code(self, code: str) -> str | None:
        return self.by_code.get(code)


def within(region_code: str, prefix: str) -> bool:
    return region_code == prefix or region_code.startswith(prefix + ".")


# --- one incoming change ------------------------------------------------------------


@dataclass
class Item:
    epoch: int
    seq: int
    model: str
    object_id: str
    op: str
    payload: Any
    office_code: str = ""
    region_code: str = ""
    created_at: str = ""
    base: int = 0
    spec: ModelSpec | None = None
    values: dict[str, Any] | None = None
    status: str = OK
    reason: str = ""
    kind: str = ""
    message: str = ""
    renumbered: list[tuple[str, Any, Any]] = field(default_factory=list)
    pending_id: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.model, self.object_id)

    @property
    def alive(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class Latest:
    global_seq: int
    node: str
    epoch: int
    seq: int


class Unit:
    """Everything one apply at the regency needs to know, loaded in bulk."""

    def __init__(self, node: str, items: list[Item]) -> None:
        self.node = node
        self.items = items
        self.offices = OfficeMap()
        self._current: dict[str, dict[str, dict[str, Any] | None]] = defaultdict(dict)
        self._latest: dict[tuple[str, str], Latest | None] = {}
        self._lost: list[tuple[int, int, int]] = []
        # Records with a refused change of this node: the newest conflict's rev.
        self._refused_rev: dict[tuple[str, str], int] = {}
        self._by_model: dict[str, list[Item]] | None = None
        self._first: dict[tuple[str, str], Item] = {}
        self.info_conflicts: list[Item] = []

    # where things are
    def served(self, region_code: str | None) -> bool:
        return bool(region_code) and node_serves(region_code, node=self.node)

    def _index(self) -> None:
        if self._by_model is None:
            self._by_model = defaultdict(list)
            self._first = {}
            for item in self.items:
                self._by_model[item.model].append(item)
                self._first.setdefault(item.key, item)

    def of_model(self, label: str, *, alive: bool = True) -> list[Item]:
        self._index()
        return [
            i
            for i in self._by_model.get(label, ())
            if (i.alive or not alive) and i.spec is not None
        ]

    def incoming(self, label: str, pk: Any) -> dict[str, Any] | None:
        """The values of the first change of a record in this unit, if any."""
        self._index()
        item = self._first.get((label, str(pk)))
        return item.values if item is not None else None

    def load_current(self, label: str, pks: Iterable[str]) -> None:
        spec = framework.spec_for(label)
        if spec is None:
            return
        cache = self._current[label]
        wanted = [pk for pk in set(pks) if pk not in cache]
        for chunk in _chunks(wanted, 2000):
            for pk in chunk:
                cache[pk] = None
            for row in among(
                spec.model._default_manager.all(), spec.pk_attname, chunk
            ).values():
                cache[str(row[spec.pk_attname])] = row

    def current(self, label: str, pk: Any) -> dict[str, Any] | None:
        """The regency's row before this unit (loaded on first ask)."""
        pk = str(pk)
        if pk not in self._current[label]:
            self.load_current(label, [pk])
        return self._current[label].get(pk)

    def final(self, label: str, pk: Any) -> dict[str, Any] | None:
        """The row as it will be after this unit (alive changes applied)."""
        pk = str(pk)
        for item in reversed(self.items):
            if item.model == label and item.object_id == pk and item.alive:
                return item.values if item.op == ChangeOp.UPSERT else None
        return self.current(label, pk)

    def latest(self, label: str, pk: str) -> Latest | None:
        return self._latest.get((label, pk))

    def is_lost(self, latest: Latest) -> bool:
        """Was this change of the node's lost at the node (restore)?"""
        if latest.node != self.node:
            return False
        return any(
            latest.epoch < epoch and (latest.epoch, latest.seq) > (pe, ps)
            for epoch, pe, ps in self._lost
        )

    # decisions
    def refuse(self, item: Item, kind: str, message: str) -> bool:
        if item.status in (REFUSED, SKIPPED):
            return False
        item.status, item.kind, item.message = REFUSED, kind, message
        return True

    def park(self, item: Item, reason: str) -> bool:
        if item.status != OK:
            return False
        item.status, item.reason = PARKED, reason
        return True

    def skip(self, item: Item) -> None:
        item.status = SKIPPED


def among(qs: Any, attname: str, values: list) -> Any:
    """`qs` limited to rows whose `attname` is one of `values`: on PostgreSQL
    as `= ANY(array)` (one parameter; a long IN list costs more to bind)."""
    if connection.vendor != "postgresql":
        return qs.filter(**{f"{attname}__in": values})
    field = next(f for f in qs.model._meta.concrete_fields if f.attname == attname)
    db_type = field.db_type(connection).split("(")[0]
    qn = connection.ops.quote_name
    return qs.extra(  # noqa: S610 - names from the model, values as a parameter
        where=[
            f"{qn(qs.model._meta.db_table)}.{qn(field.column)} = ANY(%s::{db_type}[])"
        ],
        params=[[str(v) for v in values]],
    )


def _chunks(values: list, size: int) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- the steps --------------------------------------------------------------------


def _parse(unit: Unit) -> None:
    for item in unit.items:
        spec = framework.spec_for(item.model)
        if spec is None:
            unit.refuse(
                item, ConflictKind.INVALID, f"Jenis data {item.model} tidak dikenal."
            )
            continue
        item.spec = spec
        if spec.kind == LOCAL:
            unit.skip(item)
            continue
        if item.op not in (ChangeOp.UPSERT, ChangeOp.DELETE):
            unit.refuse(item, ConflictKind.INVALID, f"Operasi {item.op} tidak dikenal.")
            continue
        if item.op == ChangeOp.DELETE:
            item.values = None
            try:
                spec.parsers[spec.pk_attname](item.object_id)
            except Invalid as exc:
                unit.refuse(item, ConflictKind.INVALID, f"Data tidak valid: {exc}")
            continue
        try:
            item.values = framework.parse_payload(spec, item.payload)
        except Invalid as exc:
            unit.refuse(item, ConflictKind.INVALID, f"Data tidak valid: {exc}")
            continue
        if str(item.values[spec.pk_attname]) != item.object_id:
            unit.refuse(
                item, ConflictKind.INVALID, "Kunci data tidak sama dengan isinya."
            )
            continue
        problem = _route_problem(unit, item)
        if problem:
            unit.refuse(item, ConflictKind.INVALID, problem)


def _route_problem(unit: Unit, item: Item) -> str:
    node = unit.node
    if item.office_code and unit.offices.region_of_code(item.office_code) is None:
        return f"Rute kantor {item.office_code} tidak dikenal."
    region = item.region_code
    if region and not (within(region, node) or within(node, region)):
        office_region = unit.offices.region_of_code(item.office_code or "")
        if region != office_region:
            return f"Rute wilayah {region} di luar wilayah node {node}."
    return ""


def _load(unit: Unit) -> None:
    by_model: dict[str, set[str]] = defaultdict(set)
    for item in unit.items:
        if item.spec is not None and item.alive:
            by_model[item.model].add(item.object_id)
    for label, pks in by_model.items():
        unit.load_current(label, pks)
        pk_list = sorted(pks)
        for chunk in _chunks(pk_list, 2000):
            for row in _latest_changes(label, chunk):
                unit._latest[(label, row[0])] = Latest(*row[1:])
    for label, pks in by_model.items():
        pk_list = sorted(pks)
        for chunk in _chunks(pk_list, 1000):
            for oid, rev in (
                Conflict.objects.filter(
                    node=unit.node, model=label, object_id__in=chunk
                )
                .exclude(kind__in=[ConflictKind.RENUMBERED, ConflictKind.AUDIT_FORK])
                .values_list("object_id", "rev")
            ):
                key = (label, oid)
                unit._refused_rev[key] = max(unit._refused_rev.get(key, 0), rev)
    unit._lost = list(
        NodeEpoch.objects.filter(node=unit.node).values_list(
            "epoch", "prev_epoch", "prev_seq"
        )
    )


def _latest_changes(label: str, ids: list[str]) -> list[tuple]:
    """(object_id, global_seq, node, epoch, seq) of each record's newest change."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(ChangeRecord._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT ON (object_id) object_id, global_seq, node, "  # noqa: S608
                f"epoch, seq FROM {table} WHERE model = %s AND object_id = ANY(%s) "
                "AND global_seq IS NOT NULL ORDER BY object_id, global_seq DESC",
                [label, ids],
            )
            return cursor.fetchall()
    rows = (
        ChangeRecord.objects.filter(
            model=label, object_id__in=ids, global_seq__isnull=False
        )
        .values("object_id")
        .annotate(top=Max("global_seq"))
    )
    tops = [r["top"] for r in rows]
    return list(
        ChangeRecord.objects.filter(global_seq__in=tops).values_list(
            "object_id", "global_seq", "node", "epoch", "seq"
        )
    )


def _dedup_restored(unit: Unit) -> None:
    """A change the node renumbered into a new epoch that the regency already
    holds from an older epoch (same record, same content) is not applied twice."""
    renumbered = dict(
        NodeEpoch.objects.filter(node=unit.node, renumbered__gt=0).values_list(
            "epoch", "renumbered"
        )
    )
    if not renumbered:
        return
    candidates = [
        i
        for i in unit.items
        if i.status == OK and i.epoch in renumbered and i.seq <= renumbered[i.epoch]
    ]
    if not candidates:
        return
    by_model: dict[str, list[Item]] = defaultdict(list)
    for item in candidates:
        by_model[item.model].append(item)
    for label, items in by_model.items():
        ids = sorted({i.object_id for i in items})
        seen: set[tuple[str, str]] = set()
        for chunk in _chunks(ids, 1000):
            for oid, epoch, seq, op, payload in ChangeRecord.objects.filter(
                node=unit.node, model=label, object_id__in=chunk
            ).values_list("object_id", "epoch", "seq", "op", "payload"):
                latest = Latest(0, unit.node, epoch, seq)
                if unit.is_lost(latest):
                    seen.add((oid, _canon(op, payload)))
        for item in items:
            if (item.object_id, _canon(item.op, item.payload)) in seen:
                unit.skip(item)


def _canon(op: str, payload: Any) -> str:
    return op + json.dumps(payload, sort_keys=True, separators=(",", ":"))


def _by_object(unit: Unit) -> dict[tuple[str, str], list[Item]]:
    grouped: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in unit.items:
        if item.spec is not None:
            grouped[item.key].append(item)
    return grouped


def _ownership(unit: Unit) -> None:
    """Refuse changes to records this node may not write: reference data, and
    records owned by offices it does not serve. A record it held before (its
    owner moved to another office while the node was offline, e.g. a family
    moved to another kecamatan or an application handed to Disdukcapil) is
    OWNERSHIP_MOVED, and so is a new record that stands or falls with it (a
    life event of that family, a step of that application); anything else
    is NOT_SERVED (a node set up wrongly)."""
    unserved: dict[tuple[str, str], tuple[list[Item], dict[str, Any]]] = {}
    new: list[tuple[list[Item], Item]] = []
    for (label, pk), items in _by_object(unit).items():
        first = next((i for i in items if i.alive), None)
        if first is None:
            continue
        spec = first.spec
        assert spec is not None
        if spec.kind == REFERENCE:
            for item in items:
                unit.refuse(
                    item,
                    ConflictKind.REFERENCE_DATA,
                    "Data referensi (wilayah, kantor, katalog layanan, kunci) hanya "
                    "diubah di kabupaten; perubahan dari node tidak dipakai.",
                )
            continue
        if spec.kind != OWNED or spec.owner is None:
            continue
        current = unit.current(label, pk)
        if current is not None:
            region = spec.owner(current, unit)
            if region is not None and not unit.served(region):
                unserved[(label, pk)] = (items, current)
            continue
        if first.values is not None:
            new.append((items, first))
    held = _held_before(unit, list(unserved))
    moved_groups: dict[Hashable, str] = {}
    for key, (items, current) in unserved.items():
        latest = unit.latest(*key)
        if key in held or (latest is not None and latest.node == unit.node):
            owner_code = _office_code_for_region(unit, current)
            message = (
                "Data ini sudah berpindah ke kantor lain"
                + (f" ({owner_code})" if owner_code else "")
                + " ketika node tidak tersambung; perubahan dari node ditolak."
            )
            for item in items:
                unit.refuse(item, ConflictKind.OWNERSHIP_MOVED, message)
                for group in _group_keys(item)[1:]:
                    moved_groups.setdefault(group, message)
        else:
            for item in items:
                unit.refuse(
                    item,
                    ConflictKind.NOT_SERVED,
                    f"Node {unit.node} tidak melayani kantor pemilik data ini.",
                )
    for items, first in new:
        spec = first.spec
        assert spec is not None
        assert spec.owner is not None
        assert first.values is not None
        regions = list(spec.creators(first.values, unit)) if spec.creators else []
        if not regions:
            owner = spec.owner(first.values, unit)
            regions = [owner] if owner is not None else []
        if not regions or any(unit.served(r) for r in regions):
            continue
        moved = next(
            (
                moved_groups[g]
                for item in items
                for g in _group_keys(item)[1:]
                if g in moved_groups
            ),
            None,
        )
        for item in items:
            if moved is not None:
                unit.refuse(item, ConflictKind.OWNERSHIP_MOVED, moved)
            else:
                unit.refuse(
                    item,
                    ConflictKind.NOT_SERVED,
                    f"Node {unit.node} tidak melayani kantor pemilik data baru ini.",
                )


def _held_before(unit: Unit, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The records among `keys` this node held before: one of their changes
    was the node's own or was routed to it."""
    if not keys:
        return set()
    from balai.sync.routing import NodeRoute

    routed = NodeRoute(unit.node).own_q() | models.Q(node=unit.node)
    by_model: dict[str, list[str]] = defaultdict(list)
    for label, pk in keys:
        by_model[label].append(pk)
    found: set[tuple[str, str]] = set()
    for label, pks in by_model.items():
        for chunk in _chunks(sorted(pks), 1000):
            found.update(
                (label, oid)
                for oid in ChangeRecord.objects.filter(model=label, object_id__in=chunk)
                .filter(routed)
                .values_list("object_id", flat=True)
                .distinct()
            )
    return found


def _office_code_for_region(unit: Unit, row: dict[str, Any]) -> str:
    for name in ("owner_office_id", "office_id"):
        if row.get(name):
            return unit.offices.code_of_id(row[name]) or ""
    return ""


def _changed_elsewhere(unit: Unit) -> None:
    for (label, pk), items in _by_object(unit).items():
        first = next((i for i in items if i.alive), None)
        if first is None or first.spec is None:
            continue
        refused_rev = unit._refused_rev.get((label, pk), 0)
        if refused_rev > first.base:
            for item in items:
                unit.refuse(
                    item,
                    ConflictKind.CHANGED_ELSEWHERE,
                    "Perubahan ini dibuat di node sebelum node menerima jawaban "
                    "kabupaten atas konflik sebelumnya pada data yang sama; "
                    "tidak ditimpakan.",
                )
            continue
        if first.spec.projection:
            continue
        if first.spec.kind not in (OWNED, USER):
            continue
        latest = unit.latest(label, pk)
        if latest is None or latest.global_seq <= first.base:
            continue
        if latest.node == unit.node and not unit.is_lost(latest):
            continue
        where = (
            "di kabupaten"
            if latest.node == "regency"
            else (
                "oleh node ini sebelum dipulihkan dari cadangan"
                if latest.node == unit.node
                else f"di node {latest.node}"
            )
        )
        for item in items:
            unit.refuse(
                item,
                ConflictKind.CHANGED_ELSEWHERE,
                f"Data ini sudah diubah {where} setelah node terakhir menerimanya; "
                "perubahan dari node tidak ditimpakan.",
            )


def _references(unit: Unit) -> bool:
    """Refuse or park changes whose referenced records are missing; return
    whether anything changed."""
    changed = False
    refused_keys = {i.key for i in unit.items if i.status == REFUSED}
    final_rows: dict[tuple[str, str], dict[str, Any] | None] = {}
    for item in unit.items:
        if item.alive:
            final_rows[item.key] = item.values if item.op == ChangeOp.UPSERT else None
    wanted: dict[str, set[str]] = defaultdict(set)
    for key, values in final_rows.items():
        if values is None:
            continue
        spec = framework.spec_for(key[0])
        assert spec is not None
        for attname, target in spec.fk_fields:
            value = values.get(attname)
            if value is not None:
                wanted[target].add(str(value))
    present: dict[str, set[str]] = {}
    for target, ids in wanted.items():
        in_unit = {pk for (m, pk), v in final_rows.items() if m == target and v}
        outside = sorted(ids - in_unit)
        found = set(in_unit)
        model = _model_of(target)
        for chunk in _chunks(outside, 2000):
            found.update(
                str(v)
                for v in among(
                    model._default_manager.all(), model._meta.pk.attname, chunk
                ).values_list("pk", flat=True)
            )
        deleted = {pk for (m, pk), v in final_rows.items() if m == target and v is None}
        present[target] = found - deleted
    refused_before = _refused_objects(unit.node, wanted, present)
    for item in unit.items:
        if not item.alive or item.values is None:
            continue
        values = final_rows.get(item.key)
        if values is None:
            continue
        spec = item.spec
        assert spec is not None
        for attname, target in spec.fk_fields:
            value = values.get(attname)
            if value is None or str(value) in present.get(target, ()):
                continue
            ref = (target, str(value))
            if ref in refused_keys or ref in refused_before:
                changed |= unit.refuse(
                    item,
                    ConflictKind.MISSING_REFERENCE,
                    f"Data ini merujuk {target} {value} yang ditolak kabupaten.",
                )
            else:
                changed |= unit.park(item, f"menunggu {target} {value}")
            break
    return changed


def _model_of(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)


def _refused_objects(
    node: str, wanted: dict[str, set[str]], present: dict[str, set[str]]
) -> set[tuple[str, str]]:
    missing = [
        (target, pk)
        for target, ids in wanted.items()
        for pk in ids
        if pk not in present.get(target, ())
    ]
    if not missing:
        return set()
    found = set()
    by_model: dict[str, list[str]] = defaultdict(list)
    for target, pk in missing:
        by_model[target].append(pk)
    for target, pks in by_model.items():
        for chunk in _chunks(pks, 1000):
            found.update(
                (target, oid)
                for oid in Conflict.objects.filter(
                    node=node, model=target, object_id__in=chunk
                )
                .exclude(kind=ConflictKind.RENUMBERED)
                .values_list("object_id", flat=True)
            )
    return found


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}

    def find(self, key: Hashable) -> Hashable:
        self.parent.setdefault(key, key)
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: Hashable, b: Hashable) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def _group_keys(item: Item) -> list[Hashable]:
    keys: list[Hashable] = [("obj", item.model, item.object_id)]
    spec = item.spec
    if spec is not None and spec.group_keys is not None and item.values is not None:
        keys.extend(spec.group_keys(item.values))
    return keys


def _spread(unit: Unit) -> bool:
    """What stands or falls together: refuse or park a whole group."""
    groups = _Groups()
    for item in unit.items:
        if item.spec is None or item.status == SKIPPED:
            continue
        keys = _group_keys(item)
        for key in keys[1:]:
            groups.union(keys[0], key)
        groups.find(keys[0])
    worst: dict[Hashable, Item] = {}
    for item in unit.items:
        if item.status in (REFUSED, PARKED) and item.spec is not None:
            root = groups.find(_group_keys(item)[0])
            current = worst.get(root)
            if current is None or (current.status == PARKED and item.status == REFUSED):
                worst[root] = item
    changed = False
    for item in unit.items:
        if not item.alive or item.spec is None:
            continue
        cause = worst.get(groups.find(_group_keys(item)[0]))
        if cause is None:
            continue
        changed = True
        if cause.status == REFUSED:
            prefix = "Ditolak bersama perubahan lain dalam satu tindakan: "
            unit.refuse(
                item,
                cause.kind,
                cause.message
                if cause.message.startswith(prefix)
                else prefix + cause.message,
            )
        else:
            unit.park(item, cause.reason)
    return changed


def _unique_sets(spec: ModelSpec) -> list[tuple[str, ...]]:
    meta = spec.model._meta
    sets: list[tuple[str, ...]] = [
        (f.attname,) for f in meta.concrete_fields if f.unique and not f.primary_key
    ]
    for constraint in meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.condition is None
            and constraint.fields
            and not constraint.expressions
        ):
            sets.append(tuple(meta.get_field(f).attname for f in constraint.fields))
    return sets


def _uniques(unit: Unit) -> bool:
    changed = False
    by_model: dict[str, dict[str, Item]] = defaultdict(dict)
    for item in unit.items:
        if item.alive and item.op == ChangeOp.UPSERT and item.values is not None:
            by_model[item.model][item.object_id] = item  # the last one counts
    for label, finals in by_model.items():
        spec = framework.spec_for(label)
        assert spec is not None
        for fields in _unique_sets(spec):
            changed |= _check_unique(unit, spec, fields, finals)
    return changed


def _check_unique(
    unit: Unit, spec: ModelSpec, fields: tuple[str, ...], finals: dict[str, Item]
) -> bool:
    changed = False
    taken: dict[tuple, str] = {}
    for pk, item in finals.items():
        assert item.values is not None
        value = tuple(item.values[f] for f in fields)
        if any(v is None for v in value):
            continue
        taken.setdefault(value, pk)
    if not taken:
        return False
    first_field = fields[0]
    model = spec.model
    pk_name = spec.pk_attname
    in_db: dict[tuple, str] = {}
    firsts = sorted({v[0] for v in taken}, key=str)
    for chunk in _chunks(firsts, 1000):
        for row in among(model._default_manager.all(), first_field, chunk).values(
            pk_name, *fields
        ):
            value = tuple(row[f] for f in fields)
            in_db[value] = str(row[pk_name])
    for pk, item in list(finals.items()):
        if not item.alive:
            continue
        assert item.values is not None
        value = tuple(item.values[f] for f in fields)
        if any(v is None for v in value):
            continue
        holder = None
        db_pk = in_db.get(value)
        if db_pk is not None and db_pk != pk:
            other = finals.get(db_pk)
            moving_away = (
                other is not None
                and other.alive
                and (
                    other.values is not None
                    and tuple(other.values[f] for f in fields) != value
                )
            )
            if not moving_away:
                holder = db_pk
        if holder is None and taken.get(value) not in (None, pk):
            holder = taken[value]
        if holder is None:
            continue
        changed = True
        new_values = spec.renumber(unit, item, first_field) if spec.renumber else None
        if new_values is not None:
            _renumber_object(unit, item, new_values)
            continue
        if spec.duplicate_message is not None and len(fields) == 1:
            message = spec.duplicate_message(fields[0], value[0])
        else:
            shown = ", ".join(
                f"{f.removesuffix('_id')}={v}"
                for f, v in zip(fields, value, strict=True)
            )
            message = f"Nilai {shown} sudah dipakai data lain di kabupaten."
        for other_item in unit.items:
            if other_item.key == item.key:
                unit.refuse(other_item, ConflictKind.DUPLICATE, message)
    return changed


def _renumber_object(unit: Unit, last: Item, new_values: dict[str, Any]) -> None:
    """Give every change of one object the new unique values."""
    assert last.values is not None
    changes = {
        name: (last.values[name], value)
        for name, value in new_values.items()
        if last.values.get(name) != value
    }
    for item in unit.items:
        if item.key != last.key or item.values is None:
            continue
        for name, (old, new) in changes.items():
            if item.values.get(name) == old:
                item.values[name] = new
                item.payload = dict(item.payload)
                item.payload[name] = json_value(new)
        if item is last:
            item.renumbered = [(n, o, v) for n, (o, v) in changes.items()]


# --- writing ------------------------------------------------------------------------


def _write(unit: Unit) -> list[str]:
    """Upsert the final row of every accepted object, delete what the node
    deleted; return the tables written."""
    finals: dict[tuple[str, str], Item] = {}
    for item in unit.items:
        if item.alive:
            finals[item.key] = item
    by_model: dict[str, list[Item]] = defaultdict(list)
    for item in finals.values():
        by_model[item.model].append(item)
    tables = []
    for spec in sorted(framework.specs().values(), key=lambda s: s.order):
        items = by_model.get(spec.label)
        if not items:
            continue
        tables.append(spec.model._meta.db_table)
        upserts = [i for i in items if i.op == ChangeOp.UPSERT]
        deletes = [i.object_id for i in items if i.op == ChangeOp.DELETE]
        if upserts:
            upsert_rows(spec, [i.values for i in upserts])
        if deletes:
            spec.model._default_manager.filter(pk__in=deletes).delete()
    return tables


@contextlib.contextmanager
def _as_given(model: type[models.Model]) -> Iterator[None]:
    """Write timestamps as they came: no auto_now while sync writes rows."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add


def upsert_rows(spec: ModelSpec, rows: list[dict[str, Any]]) -> None:
    """Insert or update rows by primary key (every concrete field, as given)."""
    if connection.vendor == "postgresql" and len(rows) > 20:
        _pg_upsert(spec, rows)
        return
    model = spec.model
    pk = model._meta.pk
    update = [f.name for f in model._meta.concrete_fields if not f.primary_key]
    objs = [model(**row) for row in rows]
    with _as_given(model):
        for chunk in _chunks(objs, 1000):
            if update:
                model._default_manager.bulk_create(
                    chunk,
                    update_conflicts=True,
                    unique_fields=[pk.name],
                    update_fields=update,
                )
            else:
                model._default_manager.bulk_create(chunk, ignore_conflicts=True)


def _pg_upsert(spec: ModelSpec, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then one
    INSERT ... ON CONFLICT (pk) DO UPDATE (the same rows, a few times faster
    than a multi-row INSERT built by the ORM)."""
    model = spec.model
    qn = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    table = qn(model._meta.db_table)
    temp = qn(f"sync_in_{model._meta.db_table}")
    columns = ", ".join(qn(f.column) for f in fields)
    pk = qn(model._meta.pk.column)
    updates = ", ".join(
        f"{qn(f.column)} = EXCLUDED.{qn(f.column)}" for f in fields if not f.primary_key
    )
    json_at = {i for i, f in enumerate(fields) if isinstance(f, models.JSONField)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {temp} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {temp}")
        with cursor.copy(f"COPY {temp} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = [row[f.attname] for f in fields]
                for i in json_at:
                    values[i] = json.dumps(values[i], ensure_ascii=False)
                copy.write_row(values)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {temp} "  # noqa: S608
            f"ON CONFLICT ({pk}) {action}"
        )


def _store_changes(unit: Unit, accepted: list[Item]) -> None:
    if not accepted:
        return
    _epoch, first = _reserve(len(accepted))
    now = timezone.now()
    records = [
        ChangeRecord(
            node=unit.node,
            epoch=item.epoch,
            seq=item.seq,
            model=item.model,
            object_id=item.object_id,
            op=item.op,
            payload=item.payload if item.op == ChangeOp.UPSERT else {},
            office_code=item.office_code,
            region_code=item.region_code,
            created_at=_when(item.created_at, now),
            global_seq=first + n,
        )
        for n, item in enumerate(accepted)
    ]
    if connection.vendor == "postgresql":
        _copy_changes(records)
    else:
        ChangeRecord.objects.bulk_create(records, batch_size=2000)


def _copy_changes(records: list[ChangeRecord]) -> None:
    columns = CHANGE_COLUMNS
    table = connection.ops.quote_name(ChangeRecord._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for r in records:
            copy.write_row(
                (
                    r.node,
                    r.epoch,
                    r.seq,
                    r.model,
                    r.object_id,
                    r.op,
                    json.dumps(r.payload, ensure_ascii=False),
                    r.office_code,
                    r.region_code,
                    r.created_at,
                    r.global_seq,
                )
            )


def _when(text: str, default: dt.datetime) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return default
    return moment if moment.tzinfo else default


# --- the unit ----------------------------------------------------------------------


@dataclass
class UnitResult:
    accepted: int = 0
    skipped: int = 0
    parked: int = 0
    conflicts: list[Conflict] = field(default_factory=list)


def apply_unit(node: str, items: list[Item]) -> UnitResult:
    """Validate and write one unit at the regency (inside the caller's
    transaction); store accepted changes, pending ones and conflicts."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_unit runs inside the push transaction")
    unit = Unit(node, items)
    _parse(unit)
    _load(unit)
    _dedup_restored(unit)
    _ownership(unit)
    for validate in framework.validators():
        validate(unit)
    _changed_elsewhere(unit)
    for _round in range(8):
        changed = _references(unit)
        changed |= _spread(unit)
        changed |= _uniques(unit)
        changed |= _spread(unit)
        if not changed:
            break
    tables = _write_guarded(unit)
    for hook in framework.after_writes():
        hook(unit)
    if tables:
        connection.check_constraints(table_names=tables)
    accepted = [i for i in unit.items if i.status == OK]
    _store_changes(unit, accepted)
    result = UnitResult(accepted=len(accepted))
    result.skipped = sum(1 for i in unit.items if i.status == SKIPPED)
    _store_pending(unit)
    result.parked = sum(1 for i in unit.items if i.status == PARKED)
    result.conflicts = _store_conflicts(unit)
    return result


def _write_guarded(unit: Unit) -> list[str]:
    """Write; if the database still refuses something the checks missed (a
    conditional unique rule), find the objects at fault and refuse them."""
    try:
        with transaction.atomic():
            return _write(unit)
    except IntegrityError as exc:
        log.warning(
            "sync.apply.integrity", extra={"node": unit.node, "error": str(exc)}
        )
    finals = {}
    for item in unit.items:
        if item.alive:
            finals[item.key] = item
    groups = _Groups()
    for item in unit.items:
        if item.spec is None or item.status == SKIPPED:
            continue
        keys = _group_keys(item)
        for key in keys[1:]:
            groups.union(keys[0], key)
    by_root: dict[Hashable, list[Item]] = defaultdict(list)
    for item in finals.values():
        by_root[groups.find(_group_keys(item)[0])].append(item)
    for members in by_root.values():
        try:
            with transaction.atomic():
                for item in sorted(members, key=lambda i: i.spec.order):
                    spec = item.spec
                    if item.op == ChangeOp.UPSERT:
                        upsert_rows(spec, [item.values])
                    else:
                        spec.model._default_manager.filter(pk=item.object_id).delete()
        except IntegrityError as exc:
            keys = {m.key for m in members}
            for item in unit.items:
                if item.key in keys:
                    unit.refuse(
                        item,
                        ConflictKind.INVALID,
                        f"Basis data kabupaten menolak data ini: {_short(exc)}",
                    )
    return sorted({i.spec.model._meta.db_table for i in finals.values() if i.alive})


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def _store_pending(unit: Unit) -> None:
    from_pending = [i.pending_id for i in unit.items if i.pending_id is not None]
    for chunk in _chunks(from_pending, 1000):
        PendingChange.objects.filter(node=unit.node, id__in=chunk).delete()
    parked = [i for i in unit.items if i.status == PARKED]
    PendingChange.objects.bulk_create(
        [
            PendingChange(
                node=unit.node,
                epoch=i.epoch,
                seq=i.seq,
                model=i.model,
                object_id=i.object_id,
                op=i.op,
                payload=i.payload,
                office_code=i.office_code,
                region_code=i.region_code,
                created_at=_when(i.created_at, timezone.now()),
                base=i.base,
                reason=i.reason[:255],
            )
            for i in parked
        ],
        batch_size=1000,
    )


def _store_conflicts(unit: Unit) -> list[Conflict]:
    refused: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in unit.items:
        if item.status == REFUSED:
            refused[item.key].append(item)
    renumbered = [i for i in unit.items if i.alive and i.renumbered]
    if not refused and not renumbered:
        return []
    made: list[Conflict] = []
    for (label, pk), items in refused.items():
        first, last = items[0], items[-1]
        made.append(
            Conflict(
                node=unit.node,
                epoch=first.epoch,
                seq=first.seq,
                model=label,
                object_id=pk,
                op=last.op,
                kind=first.kind,
                message=first.message,
                advice=ADVICE.get(first.kind, ""),
                office_code=first.office_code,
                region_code=first.region_code,
                payload=last.payload if isinstance(last.payload, dict) else {},
                status=ConflictStatus.OPEN,
            )
        )
    for item in renumbered:
        changes = "; ".join(f"{n}: {o} → {v}" for n, o, v in item.renumbered)
        made.append(
            Conflict(
                node=unit.node,
                epoch=item.epoch,
                seq=item.seq,
                model=item.model,
                object_id=item.object_id,
                op=item.op,
                kind=ConflictKind.RENUMBERED,
                message=(
                    f"Nomor sudah dipakai data lain di kabupaten; diganti ({changes})."
                ),
                advice=ADVICE[ConflictKind.RENUMBERED],
                office_code=item.office_code,
                region_code=item.region_code,
                payload=item.payload,
                status=ConflictStatus.INFO,
            )
        )
    _epoch, first_rev = _reserve(len(made))
    for n, conflict in enumerate(made):
        conflict.rev = first_rev + n
    Conflict.objects.bulk_create(made, batch_size=500)
    return made


# --- what the regency holds now, for a node to take -----------------------------------


def regency_state(label: str, object_id: str) -> dict[str, Any]:
    """The regency's current row of a record (None when it has none) and the
    global sequence of its newest change."""
    spec = framework.spec_for(label)
    row = None
    if spec is not None:
        try:
            obj = spec.model._default_manager.filter(pk=object_id).first()
        except (ValidationError, ValueError, TypeError):
            obj = None  # a malformed id from a refused change
        if obj is not None:
            row = model_payload(obj)
    top = (
        ChangeRecord.objects.filter(model=label, object_id=object_id).aggregate(
            top=Max("global_seq")
        )["top"]
        or 0
    )
    return {"model": label, "object_id": object_id, "row": row, "version": top}


def conflict_message(conflict: Conflict, *, with_state: bool = True) -> dict[str, Any]:
    out = {
        "id": str(conflict.id),
        "epoch": conflict.epoch,
        "seq": conflict.seq,
        "model": conflict.model,
        "object_id": conflict.object_id,
        "op": conflict.op,
        "kind": conflict.kind,
        "message": conflict.message,
        "advice": conflict.advice,
        "office_code": conflict.office_code,
        "region_code": conflict.region_code,
        "payload": conflict.payload,
        "status": conflict.status,
        "created_at": conflict.created_at.isoformat(),
        "resolved_at": conflict.resolved_at.isoformat()
        if conflict.resolved_at
        else None,
        "resolved_by": conflict.resolved_by,
        "resolution_note": conflict.resolution_note,
        "rev": conflict.rev,
    }
    if with_state and conflict.kind != ConflictKind.AUDIT_FORK:
        out["state"] = regency_state(conflict.model, conflict.object_id)
    return out


# --- at a node: writing what was pulled -----------------------------------------------


@dataclass
class PulledRows:
    """What one pulled page wrote at the node, by model (parsed values)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    skipped_local: int = 0
    applied: int = 0


def remember_versions(versions: list[tuple[str, str, int]]) -> None:
    from balai.sync.models import SyncVersion

    _remember_versions(SyncVersion, versions)


def node_apply(changes: list[dict[str, Any]], *, keep_local: bool = True) -> PulledRows:
    """Write pulled changes (regency order) at a node, inside the caller's
    transaction, without writing change records (so nothing echoes back).

    A record this node changed and has not pushed yet is left alone: its push
    will be judged at the regency, which answers with a conflict if the two
    changes clash. Each record's newest regency version is remembered
    (`SyncVersion`), the base of the node's next change to it.
    """
    from balai.sync.models import SyncVersion
    from balai.sync.outbox import unpushed_keys

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("node_apply runs inside the pull transaction")
    finals: dict[tuple[str, str], dict[str, Any]] = {}
    for change in changes:
        label = change["model"]
        spec = framework.spec_for(label)
        if spec is None or spec.kind == LOCAL:
            continue
        finals[(label, str(change["object_id"]))] = change
    blocked = unpushed_keys(list(finals)) if keep_local else set()
    result = PulledRows()
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for key, change in finals.items():
        if key in blocked:
            result.skipped_local += 1
            continue
        by_model[key[0]].append(change)
    versions: list[tuple[str, str, int]] = []
    m2m_sets: list[tuple[ModelSpec, dict[str, Any], dict[str, list]]] = []
    for spec in sorted(framework.specs().values(), key=lambda s: s.order):
        items = by_model.get(spec.label)
        if not items:
            continue
        rows, deletes = [], []
        for change in items:
            if change.get("op", ChangeOp.UPSERT) == ChangeOp.DELETE:
                deletes.append(str(change["object_id"]))
            else:
                payload = dict(change["payload"])
                m2m = payload.pop("_m2m", None)
                try:
                    values = framework.parse_payload(spec, payload)
                except Invalid as exc:
                    raise SyncApplyError(
                        f"Data {spec.label} {change['object_id']} dari kabupaten "
                        f"tidak valid: {exc}"
                    ) from exc
                rows.append(values)
                if m2m:
                    m2m_sets.append((spec, values, m2m))
            if change.get("global_seq"):
                versions.append(
                    (spec.label, str(change["object_id"]), int(change["global_seq"]))
                )
        if rows:
            _node_upsert(spec, rows)
            result.rows[spec.label] = rows
        if deletes:
            delete_with_dependents(spec.label, deletes)
            result.deleted[spec.label] = deletes
        result.applied += len(rows) + len(deletes)
    for spec, values, m2m in m2m_sets:
        obj = spec.model(**values)
        for name, ids in m2m.items():
            if name in spec.m2m:
                getattr(obj, name).set(ids)
    if versions:
        _remember_versions(SyncVersion, versions)
    for hook in framework.node_hooks():
        hook(result.rows)
    return result


class SyncApplyError(Exception):
    """Pulled data that cannot be written here (message in Indonesian)."""


def _node_upsert(spec: ModelSpec, rows: list[dict[str, Any]]) -> None:
    """Upsert at the node. A unique value held by a stale local row (about to
    be changed by a later row of the same pull) is retried after the rest."""
    try:
        with transaction.atomic():
            upsert_rows(spec, rows)
        return
    except IntegrityError:
        pass
    waiting = list(rows)
    for _attempt in range(3):
        failed = []
        for row in waiting:
            try:
                with transaction.atomic():
                    upsert_rows(spec, [row])
            except IntegrityError as exc:
                failed.append((row, exc))
        if not failed:
            return
        if len(failed) == len(waiting):
            break
        waiting = [row for row, _exc in failed]
    row, exc = failed[0]
    raise SyncApplyError(
        f"Data {spec.label} {row.get(spec.pk_attname)} dari kabupaten bentrok dengan "
        f"data di node: {_short(exc)}"
    )


def _remember_versions(model: Any, versions: list[tuple[str, str, int]]) -> None:
    """Keep the newest regency version seen of each record (never go back)."""
    latest: dict[tuple[str, str], int] = {}
    for label, oid, g in versions:
        latest[(label, oid)] = max(g, latest.get((label, oid), 0))
    by_model: dict[str, list[str]] = defaultdict(list)
    for label, oid in latest:
        by_model[label].append(oid)
    for label, oids in by_model.items():
        for chunk in _chunks(oids, 900):
            for oid, g in model.objects.filter(
                model=label, object_id__in=chunk
            ).values_list("object_id", "global_seq"):
                if g > latest[(label, oid)]:
                    latest[(label, oid)] = g
    objs = [model(model=k[0], object_id=k[1], global_seq=g) for k, g in latest.items()]
    for chunk in _chunks(objs, 1000):
        model.objects.bulk_create(
            chunk,
            update_conflicts=True,
            unique_fields=["model", "object_id"],
            update_fields=["global_seq"],
        )


def delete_with_dependents(label: str, pks: list[str]) -> list[tuple[str, str]]:
    """Delete records at a node together with every local row that refers to
    them (the regency refused them; their own changes are kept in conflicts).
    Append-only rules of the domains do not apply: this is sync undoing what
    the regency did not accept."""
    model = _model_of(label)
    todo: list[tuple[type[models.Model], list[Any]]] = [(model, list(pks))]
    doomed: dict[type[models.Model], set[Any]] = defaultdict(set)
    while todo:
        current, ids = todo.pop()
        fresh = [i for i in ids if i not in doomed[current]]
        fresh = list(
            current._default_manager.filter(pk__in=fresh).values_list("pk", flat=True)
        )
        if not fresh:
            continue
        doomed[current].update(fresh)
        for rel in current._meta.related_objects:
            if rel.many_to_many:
                continue
            related = rel.related_model
            refs = list(
                related._default_manager.filter(
                    **{f"{rel.field.name}__in": fresh}
                ).values_list("pk", flat=True)
            )
            if refs:
                todo.append((related, refs))
        for f in current._meta.many_to_many:
            through = getattr(current, f.name).through
            through._default_manager.filter(
                **{f"{f.m2m_field_name()}__in": fresh}
            ).delete()
    removed = []
    for current, ids in doomed.items():
        for chunk in _chunks(sorted(ids, key=str), 500):
            current._default_manager.filter(pk__in=chunk)._raw_delete(connection.alias)
        removed.extend((current._meta.label_lower, str(i)) for i in ids)
    return removed
