"""Life events and the projection fold: the one place that says what an event
does to a resident or a family, and which events the current state allows.

The register is append-only. A resident's or a family's current state is the
fold of its events in order (``seq`` 1, 2, 3, ...)::

    state = None
    for event in events:
        state = apply_event(state, event)

The actions (`balai.registry.actions`) build an event, apply it with
`apply_event` to the state read from the row, and write the result back; the
rebuild (`balai registry_rebuild`) folds the stored events from nothing and
compares. Both go through this module, so they cannot disagree.

An event's ``data`` says what changed, explicitly:
``{"set": {field: new value, ...}, "flags_add": [...], "flags_remove": [...]}``
plus what the event records for people to read (place of death, origin,
the correction's reason, ...). Which fields an event kind may set is fixed
here; so is the status an event leads to.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from balai.core.errors import BalaiError
from balai.registry.models import EventKind, ResidentStatus
from balai.registry.reference import MaritalStatus, Shdk

K = EventKind
ALIVE, DEAD, MOVED_OUT, INVALID = (
    ResidentStatus.ALIVE.value,
    ResidentStatus.DEAD.value,
    ResidentStatus.MOVED_OUT.value,
    ResidentStatus.INVALID.value,
)

# --- The fields a resident's events project ------------------------------------

# Kinds of value, for turning them into JSON and back.
_DATE, _UUID, _INT, _OPT_INT, _STR, _OPT_STR, _BOOL = (
    "date",
    "uuid",
    "int",
    "opt_int",
    "str",
    "opt_str",
    "bool",
)

PERSON_FIELDS: dict[str, str] = {
    "nik": _OPT_STR,
    "name": _STR,
    "sex": _STR,
    "birth_place": _STR,
    "birth_date": _DATE,
    "religion": _INT,
    "marital_status": _INT,
    "education": _INT,
    "occupation": _INT,
    "blood_type": _INT,
    "citizenship": _INT,
    "disability": _INT,
    "father_name": _STR,
    "father_nik": _STR,
    "mother_name": _STR,
    "mother_nik": _STR,
    "passport_number": _STR,
    "birth_cert_number": _STR,
    "marriage_cert_number": _STR,
    "marriage_date": _DATE,
    "divorce_cert_number": _STR,
    "divorce_date": _DATE,
    "ektp_recorded": _BOOL,
    "phone": _STR,
}
ADDRESS_FIELDS: dict[str, str] = {
    "village_id": _STR,
    "dusun": _STR,
    "rt": _STR,
    "rw": _STR,
    "street": _STR,
}
PLACE_FIELDS: dict[str, str] = {
    "family_id": _UUID,
    "shdk": _OPT_INT,
    **ADDRESS_FIELDS,
}
STATUS_FIELDS: dict[str, str] = {"status": _STR, "status_date": _DATE}
RESIDENT_FIELDS: dict[str, str] = {**PERSON_FIELDS, **PLACE_FIELDS, **STATUS_FIELDS}
FAMILY_FIELDS: dict[str, str] = {"kk_number": _OPT_STR, **ADDRESS_FIELDS}

# Model defaults: a creation event sets only what differs from these.
RESIDENT_DEFAULTS: dict[str, Any] = {
    "nik": None,
    "name": "",
    "sex": "",
    "birth_place": "",
    "birth_date": None,
    "religion": None,
    "marital_status": MaritalStatus.BELUM_KAWIN.value,
    "education": 1,
    "occupation": 1,
    "blood_type": 13,
    "citizenship": 1,
    "disability": 7,
    "father_name": "",
    "father_nik": "",
    "mother_name": "",
    "mother_nik": "",
    "passport_number": "",
    "birth_cert_number": "",
    "marriage_cert_number": "",
    "marriage_date": None,
    "divorce_cert_number": "",
    "divorce_date": None,
    "ektp_recorded": False,
    "phone": "",
    "family_id": None,
    "shdk": None,
    "village_id": "",
    "dusun": "",
    "rt": "",
    "rw": "",
    "street": "",
    "status": ALIVE,
    "status_date": None,
}
FAMILY_DEFAULTS: dict[str, Any] = {
    "kk_number": None,
    "village_id": "",
    "dusun": "",
    "rt": "",
    "rw": "",
    "street": "",
}
REQUIRED_ON_CREATE = ("name", "sex", "birth_date", "religion", "village_id")


@dataclass(frozen=True)
class ResidentState:
    """What the register says about a person now (the projection)."""

    nik: str | None
    name: str
    sex: str
    birth_place: str
    birth_date: datetime.date
    religion: int
    marital_status: int
    education: int
    occupation: int
    blood_type: int
    citizenship: int
    disability: int
    father_name: str
    father_nik: str
    mother_name: str
    mother_nik: str
    passport_number: str
    birth_cert_number: str
    marriage_cert_number: str
    marriage_date: datetime.date | None
    divorce_cert_number: str
    divorce_date: datetime.date | None
    ektp_recorded: bool
    phone: str
    family_id: uuid.UUID | None
    shdk: int | None
    village_id: str
    dusun: str
    rt: str
    rw: str
    street: str
    status: str
    status_date: datetime.date | None
    flags: tuple[str, ...]
    version: int

    @property
    def kecamatan_code(self) -> str:
        return kecamatan_of(self.village_id)


@dataclass(frozen=True)
class FamilyState:
    """What the register says about a KK now (its own fields; head and
    activity are derived from its members, see `derive_family`)."""

    kk_number: str | None
    village_id: str
    dusun: str
    rt: str
    rw: str
    street: str
    version: int

    @property
    def kecamatan_code(self) -> str:
        return kecamatan_of(self.village_id)


# The fields of each state, for `_state`.
_STATE_FIELDS: dict[type, frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls))
    for cls in (ResidentState, FamilyState)
}


def _state(cls: type, values: dict[str, Any]) -> Any:
    """`cls(**values)` for a state class, made faster: the generated
    ``__init__`` of a frozen dataclass sets each of a resident's ~40 fields
    through ``object.__setattr__`` (6.4 us of a fold step's ~14, measured),
    while such an object (no ``__post_init__``, no slots) is exactly its
    ``__dict__``, filled here at once. Values that are not exactly the
    class's fields go through ``__init__`` (and its error)."""
    if values.keys() != _STATE_FIELDS[cls]:
        return cls(**values)
    state = object.__new__(cls)
    state.__dict__.update(values)
    return state


@functools.lru_cache(maxsize=4096)
def kecamatan_of(region_code: str) -> str:
    # Pure and asked several times for each resident of a bulk write (its
    # state, its office, its KK's): a regency has a few hundred villages.
    return ".".join(region_code.split(".")[:3])


# --- Which events each state allows --------------------------------------------

CREATION_KINDS = frozenset({K.REGISTRATION, K.BIRTH, K.ARRIVAL})

# status (None: no record yet) -> event kinds allowed on a resident
ALLOWED: dict[str | None, frozenset[str]] = {
    None: CREATION_KINDS,
    ALIVE: frozenset(
        {
            K.DEATH,
            K.MOVE_WITHIN,
            K.MOVE_OUT,
            K.MARRIAGE,
            K.DIVORCE,
            K.NEW_KK,
            K.CORRECTION,
            K.NIK_ISSUED,
        }
    ),
    # Nothing happens to a person after his death.
    DEAD: frozenset(),
    # Someone who moved out of the regency can only come back.
    MOVED_OUT: frozenset({K.ARRIVAL}),
    INVALID: frozenset(),
}
FAMILY_ALLOWED: dict[bool, frozenset[str]] = {
    False: frozenset({K.REGISTRATION, K.NEW_KK}),  # no KK yet
    True: frozenset({K.MOVE_WITHIN, K.KK_ISSUED}),
}

# event kind -> the resident fields its "set" may carry
SETTABLE: dict[str, frozenset[str]] = {
    K.REGISTRATION: frozenset(PERSON_FIELDS) | frozenset(PLACE_FIELDS),
    K.BIRTH: frozenset(PERSON_FIELDS) | frozenset(PLACE_FIELDS),
    K.ARRIVAL: frozenset(PERSON_FIELDS) | frozenset(PLACE_FIELDS),
    K.DEATH: frozenset(),
    K.MOVE_WITHIN: frozenset(PLACE_FIELDS),
    K.MOVE_OUT: frozenset(),
    K.MARRIAGE: frozenset({"marital_status", "marriage_date", "marriage_cert_number"}),
    K.DIVORCE: frozenset({"marital_status", "divorce_date", "divorce_cert_number"}),
    K.NEW_KK: frozenset(PLACE_FIELDS),
    # A correction sets exactly the field it names (checked below).
    K.CORRECTION: frozenset(PERSON_FIELDS) | {"shdk", "status"},
    K.NIK_ISSUED: frozenset({"nik"}),
}
FAMILY_SETTABLE: dict[str, frozenset[str]] = {
    K.REGISTRATION: frozenset(FAMILY_FIELDS),
    K.NEW_KK: frozenset(FAMILY_FIELDS),
    K.MOVE_WITHIN: frozenset(ADDRESS_FIELDS),
    K.KK_ISSUED: frozenset({"kk_number"}),
}
# event kind -> the status it leads to (others keep the status)
LEADS_TO: dict[str, str] = {
    K.REGISTRATION: ALIVE,
    K.BIRTH: ALIVE,
    K.ARRIVAL: ALIVE,
    K.DEATH: DEAD,
    K.MOVE_OUT: MOVED_OUT,
}


class EventNotAllowed(BalaiError):
    """The current state of the record does not allow this event."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "event_not_allowed")
        super().__init__(message, **kwargs)


class BrokenHistory(Exception):
    """The stored events cannot be folded (a gap in seq, a malformed event)."""


def status_label(status: str | None) -> str:
    if status is None:
        return _("belum terdaftar")
    return str(ResidentStatus(status).label)


def kind_label(kind: str) -> str:
    return str(EventKind(kind).label)


def refusal(state: ResidentState | None, kind: str) -> str | None:
    """Return why the current state does not allow `kind`, or None if it does."""
    status = state.status if state is not None else None
    if kind in ALLOWED[status]:
        if kind == K.MARRIAGE and state.marital_status == MaritalStatus.KAWIN:
            return _(
                "Penduduk ini masih berstatus kawin; perkawinan tidak dapat dicatat."
            )
        if kind == K.DIVORCE and state.marital_status != MaritalStatus.KAWIN:
            return _(
                "Penduduk ini tidak berstatus kawin; perceraian tidak dapat dicatat."
            )
        if kind == K.NIK_ISSUED and state.nik:
            return _("Penduduk ini sudah memiliki NIK.")
        return None
    if status is None:
        return _("Penduduk belum terdaftar; %(kind)s tidak dapat dicatat.") % {
            "kind": kind_label(kind)
        }
    if status == DEAD:
        return _(
            "Penduduk ini sudah meninggal; tidak ada peristiwa (%(kind)s) yang "
            "dapat dicatat sesudah kematian."
        ) % {"kind": kind_label(kind)}
    if status == MOVED_OUT:
        return _(
            "Penduduk ini sudah pindah keluar kabupaten; %(kind)s tidak dapat "
            "dicatat (hanya kedatangan kembali)."
        ) % {"kind": kind_label(kind)}
    if kind in CREATION_KINDS:
        return _("Penduduk ini sudah terdaftar (status %(status)s).") % {
            "status": status_label(status)
        }
    return _("Status penduduk ini %(status)s; %(kind)s tidak dapat dicatat.") % {
        "status": status_label(status),
        "kind": kind_label(kind),
    }


def family_refusal(state: FamilyState | None, kind: str) -> str | None:
    """Return why a KK's state does not allow `kind`, or None if it does."""
    if kind not in FAMILY_ALLOWED[state is not None]:
        if state is None:
            return _("KK belum terdaftar; %(kind)s tidak dapat dicatat.") % {
                "kind": kind_label(kind)
            }
        return _("KK sudah terdaftar; %(kind)s tidak dapat dicatat.") % {
            "kind": kind_label(kind)
        }
    if kind == K.KK_ISSUED and state.kk_number:
        return _("KK ini sudah memiliki nomor.")
    return None


# --- Values in event data -------------------------------------------------------


def encode(field_kinds: Mapping[str, str], values: Mapping[str, Any]) -> dict:
    """Return `values` as JSON values for an event's "set"."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = field_kinds[name]
        if value is None:
            out[name] = None
        elif kind == _DATE:
            out[name] = value.isoformat()
        elif kind == _UUID:
            out[name] = str(value)
        else:
            out[name] = value
    return out


def _as_date(raw: Any) -> datetime.date:
    return datetime.date.fromisoformat(raw) if raw.__class__ is str else raw


def _as_uuid(raw: Any) -> uuid.UUID:
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))


_DECODERS: dict[str, Callable[[Any], Any]] = {
    _DATE: _as_date,
    _UUID: _as_uuid,
    _INT: int,
    _OPT_INT: int,
    _BOOL: bool,
    _STR: str,
    _OPT_STR: str,
}


def decode(field_kinds: Mapping[str, str], raw: Mapping[str, Any]) -> dict:
    """Return an event's "set" values as Python values."""
    out = {}
    try:
        for name, value in raw.items():
            out[name] = None if value is None else _DECODERS[field_kinds[name]](value)
    except (KeyError, ValueError, TypeError) as exc:
        raise BrokenHistory(f"nilai tidak terbaca: {exc}") from exc
    return out


# --- The fold -------------------------------------------------------------------


def apply_event(state, event):
    """Return the state after `event` (a `LifeEvent` or anything with kind,
    seq, occurred_on, data and resident_id). Pure: `state` is not changed.

    Raises `EventNotAllowed` (a `BalaiError`) when the state does not allow
    the event, `BrokenHistory` when the event is not the next one or malformed.
    """
    if getattr(event, "resident_id", None) is None:
        return _apply_family(state, event)
    return _apply_resident(state, event)


def _check_seq(state, event) -> None:
    expected = (state.version if state is not None else 0) + 1
    if event.seq != expected:
        raise BrokenHistory(
            f"peristiwa nomor {event.seq} datang sesudah versi {expected - 1}"
        )


def _settable(event, allowed: frozenset[str], kinds: Mapping[str, str]) -> dict:
    raw = (event.data or {}).get("set", {})
    extra = set(raw) - allowed
    if extra:
        raise BrokenHistory(
            f"peristiwa {event.kind} tidak boleh mengubah {', '.join(sorted(extra))}"
        )
    return decode(kinds, raw)


def _apply_resident(state: ResidentState | None, event) -> ResidentState:
    reason = refusal(state, event.kind)
    if reason is not None:
        raise EventNotAllowed(reason)
    _check_seq(state, event)
    values = _settable(event, SETTABLE[event.kind], RESIDENT_FIELDS)
    data = event.data or {}
    if event.kind == K.CORRECTION:
        field = data.get("field")
        if set(values) != {field}:
            raise BrokenHistory("koreksi harus mengubah tepat satu kolom")
        if field == "status" and values["status"] != INVALID:
            raise BrokenHistory("koreksi status hanya menjadi tidak valid")
    if state is None:
        current = dict(RESIDENT_DEFAULTS)
        flags: set[str] = set()
    else:
        current = {name: getattr(state, name) for name in RESIDENT_FIELDS}
        flags = set(state.flags)
    current.update(values)
    new_status = LEADS_TO.get(event.kind)
    if event.kind == K.CORRECTION and "status" in values:
        new_status = values["status"]
    if new_status is not None:
        changed = state is not None and new_status != state.status
        current["status"] = new_status
        current["status_date"] = event.occurred_on if changed else None
    flags |= set(data.get("flags_add", ()))
    flags -= set(data.get("flags_remove", ()))
    if state is None:
        missing = [f for f in REQUIRED_ON_CREATE if current.get(f) in (None, "")]
        if missing:
            raise BrokenHistory(f"data awal tanpa {', '.join(missing)}")
    # `current` holds fields of RESIDENT_FIELDS only (defaults and the set).
    current["flags"] = tuple(sorted(flags))
    current["version"] = event.seq
    return _state(ResidentState, current)


def _apply_family(state: FamilyState | None, event) -> FamilyState:
    reason = family_refusal(state, event.kind)
    if reason is not None:
        raise EventNotAllowed(reason)
    _check_seq(state, event)
    values = _settable(event, FAMILY_SETTABLE[event.kind], FAMILY_FIELDS)
    if state is None:
        current = dict(FAMILY_DEFAULTS)
    else:
        current = {name: getattr(state, name) for name in FAMILY_FIELDS}
    current.update(values)
    if not current["village_id"]:
        raise BrokenHistory("KK tanpa desa/kelurahan")
    current["version"] = event.seq  # `current`: FAMILY_FIELDS only
    return _state(FamilyState, current)


def fold(events: Iterable, state=None):
    """Fold events (in seq order) from `state` (None: from nothing)."""
    for event in events:
        state = apply_event(state, event)
    return state


# --- Derived values: the same for actions and rebuild ----------------------------


@dataclass(frozen=True)
class FamilyDerived:
    head_id: uuid.UUID | None
    is_active: bool


def derive_family(
    members: Iterable[tuple[uuid.UUID, int | None, str]],
) -> FamilyDerived:
    """Return a KK's head and activity from its members' (id, shdk, status).

    The head is the living member whose relation is Kepala Keluarga; a KK is
    active while someone in it is alive and has not moved out.
    """
    head = None
    active = False
    for member_id, shdk, status in members:
        if status != ALIVE:
            continue
        active = True
        if shdk == Shdk.KEPALA_KELUARGA:
            head = member_id
    return FamilyDerived(head_id=head, is_active=active)


def resident_values(state: ResidentState) -> dict[str, Any]:
    """Return the row values (attnames) a resident's state stands for, apart
    from the ones derived outside the fold (name_key, owner office)."""
    values = {name: getattr(state, name) for name in RESIDENT_FIELDS}
    values["flags"] = list(state.flags)
    values["kecamatan_code"] = state.kecamatan_code
    values["version"] = state.version
    return values


def family_values(state: FamilyState) -> dict[str, Any]:
    values = {name: getattr(state, name) for name in FAMILY_FIELDS}
    values["kecamatan_code"] = state.kecamatan_code
    values["version"] = state.version
    return values


def resident_state_of(row: Any) -> ResidentState:
    """Read a resident's state from a `Resident` (or a dict of its values)."""
    get: Callable[[str], Any] = (
        row.__getitem__ if isinstance(row, Mapping) else lambda n: getattr(row, n)
    )
    values = {name: get(name) for name in RESIDENT_FIELDS}
    return ResidentState(
        **values, flags=tuple(sorted(get("flags") or ())), version=get("version")
    )


def family_state_of(row: Any) -> FamilyState:
    get: Callable[[str], Any] = (
        row.__getitem__ if isinstance(row, Mapping) else lambda n: getattr(row, n)
    )
    return FamilyState(
        **{name: get(name) for name in FAMILY_FIELDS}, version=get("version")
    )


def changed_fields(before: ResidentState, after: ResidentState) -> dict[str, Any]:
    """Return the fields that differ between two states (for audit details)."""
    return {
        f.name: getattr(after, f.name)
        for f in dataclasses.fields(after)
        if getattr(before, f.name) != getattr(after, f.name)
    }
