"""How the register syncs (balai.sync): residents, KKs and life events a
kecamatan node recorded are applied at the regency through the same fold the
actions use (`balai.registry.events.apply_event`).

- A life event is folded onto the regency's current state of its subject.
  One the state does not allow (a move after a death recorded elsewhere, a
  marriage of someone the regency already knows as married) becomes a
  conflict with the projection's own reason; so does an event made on a
  version the regency has moved past.
- A resident or KK row must be exactly the projection of its events (name
  key, owning office and all); a row ahead of its events waits for them.
- A KK's derived head and activity must follow from its members as the
  regency holds them; at most one living head per KK.
- A NIK or KK number already held by someone else is a conflict (unique).
- At a node, pulled NIK/KK numbers move the local number counters on, so a
  locally made number (BALAI_NUMBERS=local) never repeats one.
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from balai.registry.events import (
    ALIVE,
    BrokenHistory,
    EventNotAllowed,
    apply_event,
    derive_family,
    family_state_of,
    resident_state_of,
)
from balai.registry.projection import Offices, family_row, resident_row
from balai.registry.reference import Shdk
from balai.sync.framework import OWNED, ModelSpec

RESIDENT = "registry.resident"
FAMILY = "registry.family"
EVENT = "registry.lifeevent"
CORRECTION = "registry.correctionrequest"


def _owner(values: dict[str, Any], unit: Any) -> str | None:
    return unit.offices.region_of_id(values.get("owner_office_id"))


def _subject_owner(unit: Any, label: str, pk: Any) -> str | None:
    row = unit.current(label, pk) or unit.incoming(label, pk)
    if row is None:
        return None
    return unit.offices.region_of_id(row.get("owner_office_id"))


def _event_owner(values: dict[str, Any], unit: Any) -> str | None:
    if values.get("resident_id"):
        owner = _subject_owner(unit, RESIDENT, values["resident_id"])
    elif values.get("family_id"):
        owner = _subject_owner(unit, FAMILY, values["family_id"])
    else:
        owner = None
    return owner or unit.offices.region_of_id(values.get("office_id"))


def _correction_owner(values: dict[str, Any], unit: Any) -> str | None:
    return _owner(values, unit) or _subject_owner(unit, RESIDENT, values["resident_id"])


def _event_keys(values: dict[str, Any]) -> list:
    keys: list = []
    if values.get("resident_id"):
        keys.append(("res", str(values["resident_id"])))
    elif values.get("family_id"):
        keys.append(("fam", str(values["family_id"])))
    if values.get("group_id"):
        keys.append(("grp", str(values["group_id"])))
    return keys


def _duplicate(field: str, value: Any) -> str:
    if field == "nik":
        return f"NIK {value} sudah dipakai penduduk lain di register kabupaten."
    if field == "kk_number":
        return f"Nomor KK {value} sudah dipakai KK lain di register kabupaten."
    return f"Nilai {field}={value} sudah dipakai data lain."


SPECS = [
    ModelSpec(
        FAMILY,
        kind=OWNED,
        movable=True,
        projection=True,
        owner=_owner,
        group_keys=lambda v: [("fam", str(v["id"]))],
        duplicate_message=_duplicate,
    ),
    ModelSpec(
        RESIDENT,
        kind=OWNED,
        movable=True,
        projection=True,
        owner=_owner,
        group_keys=lambda v: [("res", str(v["id"]))],
        duplicate_message=_duplicate,
    ),
    ModelSpec(
        EVENT,
        kind=OWNED,
        projection=True,
        owner=_event_owner,
        group_keys=_event_keys,
    ),
    ModelSpec(
        CORRECTION,
        kind=OWNED,
        movable=True,
        owner=_correction_owner,
        group_keys=lambda v: [("res", str(v["resident_id"]))],
    ),
]


# --- validation at the regency --------------------------------------------------------


def validate(unit: Any) -> None:
    from balai.sync.models import ConflictKind

    events = unit.of_model(EVENT)
    rows = unit.of_model(RESIDENT) + unit.of_model(FAMILY)
    if not events and not rows:
        return
    offices = Offices()
    projected = _fold_events(unit, events, ConflictKind)
    finals: dict[tuple[str, str], Any] = {}
    for item in rows:
        if item.op != "upsert":
            unit.refuse(
                item,
                ConflictKind.INVALID,
                "Data penduduk dan KK tidak dihapus; catat peristiwanya.",
            )
            continue
        finals[item.key] = item
    for key, last in finals.items():
        if not last.alive:
            continue
        _check_row(unit, key, last, projected, offices, ConflictKind)
    _check_families(unit, ConflictKind)
    # Events whose subject row is not in this unit wait for it.
    for key, state in projected.items():
        if state is None or key in finals:
            continue
        for ev in events:
            if ev.alive and _subject_key(ev.values) == key:
                unit.park(ev, "menunggu data penduduk/KK dari node")


def _subject_key(values: dict[str, Any]) -> tuple[str, str] | None:
    if values.get("resident_id"):
        return (RESIDENT, str(values["resident_id"]))
    if values.get("family_id"):
        return (FAMILY, str(values["family_id"]))
    return None


def _state_of(label: str, row: dict[str, Any] | None):
    if row is None:
        return None
    return resident_state_of(row) if label == RESIDENT else family_state_of(row)


def _fold_events(unit: Any, events: list, kinds: Any) -> dict[tuple[str, str], Any]:
    subjects: dict[tuple[str, str], list] = defaultdict(list)
    for ev in events:
        if ev.op != "upsert":
            unit.refuse(ev, kinds.INVALID, "Peristiwa kependudukan tidak dihapus.")
            continue
        existing = unit.current(EVENT, ev.object_id)
        if existing is not None:
            if {k: existing[k] for k in ev.values} == ev.values:
                unit.skip(ev)  # the same event, already here
            else:
                unit.refuse(
                    ev, kinds.INVALID, "Peristiwa kependudukan tidak boleh diubah."
                )
            continue
        key = _subject_key(ev.values)
        if key is None:
            unit.refuse(ev, kinds.INVALID, "Peristiwa tanpa penduduk atau KK.")
            continue
        subjects[key].append(ev)
    projected: dict[tuple[str, str], Any] = {}
    for key, evs in subjects.items():
        evs.sort(key=lambda e: e.values["seq"])
        state = _state_of(key[0], unit.current(*key))
        broken = False
        for ev in evs:
            if broken or not ev.alive:
                broken = True
                unit.refuse(
                    ev,
                    kinds.EVENT_REFUSED,
                    "Peristiwa sebelumnya atas data yang sama ditolak.",
                )
                continue
            v = ev.values
            shown = SimpleNamespace(
                kind=v["kind"],
                seq=v["seq"],
                occurred_on=v["occurred_on"],
                data=v["data"],
                resident_id=v["resident_id"],
            )
            expected = (state.version if state is not None else 0) + 1
            try:
                state = apply_event(state, shown)
            except EventNotAllowed as exc:
                unit.refuse(ev, kinds.EVENT_REFUSED, exc.message)
                broken = True
            except BrokenHistory as exc:
                if v["seq"] != expected:
                    unit.refuse(
                        ev,
                        kinds.CHANGED_ELSEWHERE,
                        "Data ini sudah berubah di register kabupaten (versi "
                        f"{expected - 1}); peristiwa dari node dibuat atas versi "
                        "lama.",
                    )
                else:
                    unit.refuse(ev, kinds.INVALID, f"Peristiwa tidak sah: {exc}")
                broken = True
        projected[key] = None if broken else state
    return projected


def _check_row(
    unit: Any,
    key: tuple[str, str],
    last: Any,
    projected: dict,
    offices: Offices,
    kinds: Any,
) -> None:
    label = key[0]
    if key in projected and projected[key] is None:
        unit.refuse(
            last, kinds.EVENT_REFUSED, "Peristiwa yang mengubah data ini ditolak."
        )
        return
    state = projected.get(key) or _state_of(label, unit.current(*key))
    values = last.values
    if state is None:
        unit.park(last, "menunggu peristiwa yang membuat data ini")
        return
    try:
        expected = (
            resident_row(state, offices)
            if label == RESIDENT
            else family_row(state, offices)
        )
    except Exception as exc:
        unit.refuse(last, kinds.INVALID, f"Proyeksi gagal: {exc}")
        return
    differing = sorted(
        name for name, value in expected.items() if values.get(name) != value
    )
    if not differing:
        return
    if values.get("version", 0) > state.version:
        unit.park(last, "menunggu peristiwa yang belum diterima")
        return
    unit.refuse(
        last,
        kinds.CHANGED_ELSEWHERE
        if values.get("version", 0) < state.version
        else kinds.INVALID,
        "Data ini tidak sesuai riwayat peristiwanya di register kabupaten (kolom: "
        + ", ".join(differing[:8])
        + ").",
    )


def _check_families(unit: Any, kinds: Any) -> None:
    """A KK's head and activity follow from its members; one living head."""
    from balai.registry.models import Resident

    family_items = {
        i.object_id: i for i in unit.of_model(FAMILY) if i.alive and i.op == "upsert"
    }
    resident_finals: dict[str, Any] = {}
    for item in unit.items:
        if item.model == RESIDENT and item.alive and item.values is not None:
            resident_finals[item.object_id] = item
    touched = set(family_items)
    touched |= {
        str(i.values["family_id"])
        for i in resident_finals.values()
        if i.values.get("family_id")
    }
    if not touched:
        return
    members: dict[str, dict[str, tuple]] = defaultdict(dict)
    family_of: dict[str, str] = {}
    touched_list = sorted(touched)
    for start in range(0, len(touched_list), 2000):
        for rid, fid, shdk, status in Resident.objects.filter(
            family_id__in=touched_list[start : start + 2000]
        ).values_list("id", "family_id", "shdk", "status"):
            members[str(fid)][str(rid)] = (shdk, status)
            family_of[str(rid)] = str(fid)
    for rid, item in resident_finals.items():
        previous = family_of.get(rid)
        if previous is not None:
            members[previous].pop(rid, None)
        fid = item.values.get("family_id")
        if fid:
            members[str(fid)][rid] = (
                item.values.get("shdk"),
                item.values.get("status"),
            )
    for fid in touched:
        people = members.get(fid, {})
        heads = [
            rid
            for rid, (shdk, status) in people.items()
            if shdk == Shdk.KEPALA_KELUARGA and status == ALIVE
        ]
        if len(heads) > 1:
            for rid in heads:
                item = resident_finals.get(rid)
                if item is not None:
                    unit.refuse(
                        item,
                        kinds.EVENT_REFUSED,
                        "KK ini sudah memiliki kepala keluarga di register kabupaten.",
                    )
        item = family_items.get(fid)
        if item is None or not item.alive:
            continue
        derived = derive_family(
            (rid, shdk, status) for rid, (shdk, status) in people.items()
        )
        head = str(derived.head_id) if derived.head_id else None
        given = str(item.values["head_id"]) if item.values.get("head_id") else None
        if (head, derived.is_active) != (given, item.values.get("is_active")):
            waiting = any(
                i.status == "parked"
                for i in unit.items
                if i.model == RESIDENT
                and i.values is not None
                and str(i.values.get("family_id")) == fid
            )
            if waiting:
                unit.park(item, "menunggu anggota KK")
            else:
                unit.refuse(
                    item,
                    kinds.CHANGED_ELSEWHERE,
                    "Kepala keluarga atau status KK dari node tidak sesuai anggota "
                    "KK di register kabupaten.",
                )


# --- number counters ----------------------------------------------------------------


def _bump_numbers(rows_by_model: dict[str, list[dict[str, Any]]]) -> None:
    from balai.registry.models import NumberSequence

    wanted: dict[str, int] = {}
    for label, field, letter in ((RESIDENT, "nik", "N"), (FAMILY, "kk_number", "K")):
        for row in rows_by_model.get(label, ()):
            number = row.get(field)
            if number and len(number) == 16 and number.isdigit():
                prefix = letter + number[:12]
                wanted[prefix] = max(wanted.get(prefix, 0), int(number[12:]))
    if not wanted:
        return
    prefixes = sorted(wanted)
    have: dict[str, int] = {}
    for start in range(0, len(prefixes), 2000):
        have.update(
            NumberSequence.objects.filter(
                prefix__in=prefixes[start : start + 2000]
            ).values_list("prefix", "last_serial")
        )
    moved = [
        NumberSequence(prefix=prefix, last_serial=serial)
        for prefix, serial in wanted.items()
        if have.get(prefix, -1) < serial
    ]
    # Inside the applying transaction, which holds the locks it takes here.
    NumberSequence.objects.bulk_create(
        moved,
        update_conflicts=True,
        unique_fields=["prefix"],
        update_fields=["last_serial"],
        batch_size=1000,
    )


def after_write(unit: Any) -> None:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in unit.items:
        if item.alive and item.model in (RESIDENT, FAMILY) and item.values:
            rows[item.model].append(item.values)
    _bump_numbers(rows)


def node_after_apply(rows_by_model: dict[str, list[dict[str, Any]]]) -> None:
    _bump_numbers(rows_by_model)
