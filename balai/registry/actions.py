"""Every write to the population register.

Each action checks the actor's role and scope, validates its input (every
problem reported in Indonesian, nothing written), records the life events
and projects them onto the resident and family rows through
`balai.registry.events.apply_event` (the fold the rebuild uses too), and
audits every row it writes.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from balai.audit.actions import record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict, NotFound, PermissionDenied
from balai.core.ids import new_id
from balai.regions.models import Region, RegionLevel
from balai.registry import numbers
from balai.registry.events import (
    PERSON_FIELDS,
    RESIDENT_DEFAULTS,
    RESIDENT_FIELDS,
    EventNotAllowed,
    apply_event,
    derive_family,
    encode,
    family_state_of,
    refusal,
    resident_state_of,
)
from balai.registry.models import (
    CorrectionRequest,
    CorrectionStatus,
    EventKind,
    Family,
    Flag,
    LifeEvent,
    Resident,
    ResidentStatus,
)
from balai.registry.nik import impossible, to_check, validate_kk, validate_nik
from balai.registry.projection import Offices, family_row, resident_row
from balai.registry.reference import (
    BloodType,
    Citizenship,
    Disability,
    Education,
    MaritalStatus,
    Occupation,
    Religion,
    Sex,
    Shdk,
)

K = EventKind
# Who records life events at an office, who records numbers SIAK issued, and
# who approves corrections (a regency registrar, never the one who proposed).
OFFICER_ROLES = ("registry_officer", "counter_officer", "registrar")
ISSUED_NUMBER_ROLES = ("registry_officer", "registrar")
BULK_ROLES = ("registry_officer", "registrar")
APPROVER_ROLES = ("registrar",)

EARLIEST_BIRTH = datetime.date(1880, 1, 1)
MARRIAGE_AGE = 19  # UU 16/2019: 19 years for both, younger only by dispensation

CHOICES: dict[str, Any] = {
    "sex": Sex,
    "religion": Religion,
    "marital_status": MaritalStatus,
    "education": Education,
    "occupation": Occupation,
    "blood_type": BloodType,
    "citizenship": Citizenship,
    "disability": Disability,
    "shdk": Shdk,
}
# The valid codes of each list, computed once (the bulk path checks millions).
CHOICE_VALUES: dict[str, frozenset] = {
    name: frozenset(choices.values) for name, choices in CHOICES.items()
}
TEXT_LIMITS = {
    "name": 150,
    "birth_place": 100,
    "father_name": 150,
    "mother_name": 150,
    "passport_number": 20,
    "birth_cert_number": 40,
    "marriage_cert_number": 40,
    "divorce_cert_number": 40,
    "phone": 20,
    "dusun": 64,
    "street": 255,
}
LABELS = {
    "nik": "NIK",
    "name": "nama lengkap",
    "sex": "jenis kelamin",
    "birth_place": "tempat lahir",
    "birth_date": "tanggal lahir",
    "religion": "agama",
    "marital_status": "status perkawinan",
    "education": "pendidikan",
    "occupation": "pekerjaan",
    "blood_type": "golongan darah",
    "citizenship": "kewarganegaraan",
    "disability": "disabilitas",
    "father_name": "nama ayah",
    "father_nik": "NIK ayah",
    "mother_name": "nama ibu",
    "mother_nik": "NIK ibu",
    "passport_number": "nomor paspor",
    "birth_cert_number": "nomor akta lahir",
    "marriage_cert_number": "nomor akta perkawinan",
    "marriage_date": "tanggal perkawinan",
    "divorce_cert_number": "nomor akta perceraian",
    "divorce_date": "tanggal perceraian",
    "ektp_recorded": "rekam KTP-el",
    "phone": "telepon",
    "shdk": "hubungan dalam keluarga",
    "status": "status",
    "village": "desa/kelurahan",
    "dusun": "dusun",
    "rt": "RT",
    "rw": "RW",
    "street": "alamat",
}
CORRECTABLE = frozenset(PERSON_FIELDS) | {"shdk", "status"}


# --- Input shapes ------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """Where a KK lives: a desa/kelurahan code and the rest of the address."""

    village: str
    dusun: str = ""
    rt: str = ""
    rw: str = ""
    street: str = ""


@dataclass(frozen=True)
class Person:
    """What is known about a person when he enters the register."""

    name: str
    sex: str
    birth_date: datetime.date | str
    religion: int
    birth_place: str = ""
    nik: str | None = None
    marital_status: int = MaritalStatus.BELUM_KAWIN
    education: int = Education.TIDAK_BELUM_SEKOLAH
    occupation: int = Occupation.BELUM_TIDAK_BEKERJA
    blood_type: int = BloodType.TIDAK_TAHU
    citizenship: int = Citizenship.WNI
    disability: int = Disability.TIDAK_CACAT
    father_name: str = ""
    father_nik: str = ""
    mother_name: str = ""
    mother_nik: str = ""
    passport_number: str = ""
    birth_cert_number: str = ""
    marriage_cert_number: str = ""
    marriage_date: datetime.date | str | None = None
    divorce_cert_number: str = ""
    divorce_date: datetime.date | str | None = None
    ektp_recorded: bool = False
    phone: str = ""


PERSON_NAMES = tuple(f.name for f in fields(Person))


@dataclass(frozen=True)
class CheckedPerson:
    """A person already checked by `clean_person` on day `checked_on` with no
    problem: its values and flags exactly as `clean_person` returned them.

    The import checks every row once while reading the file (another process,
    before the batch is written); handing the result to
    `register_residents_bulk` as a `CheckedPerson` spares the bulk action the
    same check a second time. Checked on another day, the bulk action checks
    the values again (dates are checked against today). Make one only from
    what `clean_person` returned without a problem."""

    values: Mapping[str, Any]
    flags: tuple[str, ...]
    checked_on: datetime.date


@dataclass(frozen=True)
class Member:
    """One person of a KK in a bulk registration."""

    person: Person | CheckedPerson
    shdk: int
    # REGISTRATION (data entry of someone already living here) or ARRIVAL.
    kind: str = K.REGISTRATION
    occurred_on: datetime.date | None = None
    origin: str = ""


@dataclass(frozen=True)
class FamilyInput:
    """One KK with its members, for `register_residents_bulk`."""

    address: Address
    members: Sequence[Member]
    kk_number: str | None = None
    occurred_on: datetime.date | None = None


@dataclass
class BulkResult:
    families: int = 0
    residents: int = 0
    events: int = 0
    flagged: int = 0
    group_id: uuid.UUID | None = None
    family_ids: list[uuid.UUID] = field(default_factory=list)
    resident_ids: list[uuid.UUID] = field(default_factory=list)


# --- Small helpers -------------------------------------------------------------------


def today() -> datetime.date:
    return timezone.localdate()


class Problems:
    """Collects every problem of an input, then refuses with all of them."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, message: str, *, field: str = "", where: str = "") -> None:
        self.items.append({"field": field, "where": where, "message": str(message)})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, code: str = "invalid") -> None:
        if not self.items:
            return
        lines = [
            f"{p['where']}: {p['message']}" if p["where"] else p["message"]
            for p in self.items
        ]
        error = EventNotAllowed if code == "event_not_allowed" else BalaiError
        raise error(
            " ".join(lines[:20]) + (" …" if len(lines) > 20 else ""),
            code=code,
            extra={"errors": self.items},
        )


def as_date(value: Any, *, label: str, problems: Problems, where: str = ""):
    """Return `value` as a date, or note why it is not one."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        problems.add(
            _("%(label)s '%(value)s' bukan tanggal yang ada.")
            % {"label": label.capitalize(), "value": value},
            field=label,
            where=where,
        )
        return None


def _check_date(
    day: datetime.date | None,
    *,
    label: str,
    problems: Problems,
    where: str = "",
    not_before: datetime.date | None = None,
    not_before_label: Any = "",
    today_: datetime.date | None = None,
) -> None:
    """Note a date in the future, or one before `not_before` (whose label may
    be a callable, translated only when needed)."""
    if day is None:
        return
    if day > (today_ or today()):
        problems.add(
            _("%(label)s %(day)s belum terjadi (di masa depan).")
            % {"label": label.capitalize(), "day": day.strftime("%d-%m-%Y")},
            field=label,
            where=where,
        )
    if not_before is not None and day < not_before:
        problems.add(
            _("%(label)s %(day)s lebih awal dari %(other)s.")
            % {
                "label": label.capitalize(),
                "day": day.strftime("%d-%m-%Y"),
                "other": not_before_label()
                if callable(not_before_label)
                else not_before_label,
            },
            field=label,
            where=where,
        )


@contextlib.contextmanager
def _unique_guard() -> Iterator[None]:
    """Turn a clash with a concurrent writer into a clear refusal."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        text = str(exc).lower()
        if "nik" in text:
            message = _("NIK ini baru saja didaftarkan oleh petugas lain.")
        elif "kk_number" in text:
            message = _("Nomor KK ini baru saja didaftarkan oleh petugas lain.")
        elif "one_head" in text or "shdk" in text:
            message = _("KK ini sudah memiliki kepala keluarga.")
        else:
            message = _("Data ini baru saja diubah oleh petugas lain; coba lagi.")
        raise Conflict(message) from exc


def _require_officer(actor: Actor, roles: Sequence[str] = OFFICER_ROLES) -> None:
    actor.require_role(*roles)


def _village(code: str, *, problems: Problems | None = None, where: str = ""):
    """Return the desa/kelurahan of `code`, or refuse."""
    region = Region.objects.filter(
        code=code, level__in=[RegionLevel.DESA, RegionLevel.KELURAHAN]
    ).first()
    if region is None:
        message = _("Desa/kelurahan %(code)s tidak dikenal.") % {"code": code}
        if problems is None:
            raise BalaiError(message, code="village_unknown")
        problems.add(message, field="village", where=where)
    return region


def _lock_resident(actor: Actor, resident: Resident | uuid.UUID | str) -> Resident:
    """Return the resident, locked for this transaction, if the actor covers it."""
    pk = resident.pk if isinstance(resident, Resident) else resident
    obj = (
        Resident.objects.select_for_update(of=("self",))
        .select_related("owner_office")
        .filter(pk=pk)
        .first()
    )
    if obj is None:
        raise NotFound()
    actor.require_covers(obj.village_id)
    return obj


def _lock_family(actor: Actor, family: Family | uuid.UUID | str) -> Family:
    pk = family.pk if isinstance(family, Family) else family
    obj = (
        Family.objects.select_for_update(of=("self",))
        .select_related("owner_office")
        .filter(pk=pk)
        .first()
    )
    if obj is None:
        raise NotFound()
    actor.require_covers(obj.village_id)
    return obj


def _clean_address(address: Address, problems: Problems, where: str = "") -> Address:
    for name in ("rt", "rw"):
        value = getattr(address, name).strip()
        if value and not (value.isdigit() and len(value) <= 3):
            problems.add(
                _("%(label)s harus angka, paling banyak 3 digit.")
                % {"label": LABELS[name]},
                field=name,
                where=where,
            )
    for name in ("dusun", "street"):
        if len(getattr(address, name)) > TEXT_LIMITS[name]:
            problems.add(
                _("%(label)s terlalu panjang.") % {"label": LABELS[name].capitalize()},
                field=name,
                where=where,
            )
    return Address(
        village=address.village.strip(),
        dusun=address.dusun.strip(),
        rt=address.rt.strip().zfill(3) if address.rt.strip().isdigit() else "",
        rw=address.rw.strip().zfill(3) if address.rw.strip().isdigit() else "",
        street=address.street.strip(),
    )


def _address_values(address: Address) -> dict[str, str]:
    return {
        "village_id": address.village,
        "dusun": address.dusun,
        "rt": address.rt,
        "rw": address.rw,
        "street": address.street,
    }


def _address_of(obj: Resident | Family) -> Address:
    return Address(
        village=obj.village_id,
        dusun=obj.dusun,
        rt=obj.rt,
        rw=obj.rw,
        street=obj.street,
    )


def _check_choice(name: str, value: Any, problems: Problems, where: str = "") -> Any:
    if value not in CHOICE_VALUES[name]:
        problems.add(
            _("%(label)s '%(value)s' tidak ada dalam daftar SIAK.")
            % {"label": LABELS[name].capitalize(), "value": value},
            field=name,
            where=where,
        )
    return value


def _birth_date_label() -> str:
    return _("tanggal lahir")


def clean_person(
    person: Person,
    problems: Problems,
    *,
    where: str = "",
    today_: datetime.date | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Validate a person; return his values and the flags his NIK earns."""
    return clean_person_values(
        {name: getattr(person, name) for name in PERSON_NAMES},
        problems,
        where=where,
        today_=today_,
    )


def clean_person_values(
    given: Mapping[str, Any],
    problems: Problems,
    *,
    where: str = "",
    today_: datetime.date | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """`clean_person` for a person given as a mapping of every `Person`
    field: the import checks a million rows, and making a frozen `Person`
    of each was a visible share of its reader's time."""
    today_ = today_ or today()
    values: dict[str, Any] = {}
    for name in PERSON_NAMES:
        value = given[name]
        if value.__class__ is str:
            value = value.strip()
        values[name] = value
    if not values["name"]:
        problems.add(_("Nama lengkap wajib diisi."), field="name", where=where)
    for name, limit in TEXT_LIMITS.items():
        if name in values and len(values[name] or "") > limit:
            problems.add(
                _("%(label)s terlalu panjang (paling banyak %(n)d karakter).")
                % {"label": LABELS[name].capitalize(), "n": limit},
                field=name,
                where=where,
            )
    for name in CHOICES:
        if name in values:
            _check_choice(name, values[name], problems, where)
    birth = as_date(
        values["birth_date"], label=LABELS["birth_date"], problems=problems, where=where
    )
    values["birth_date"] = birth
    if birth is None and not any(
        p["field"] == LABELS["birth_date"] and p["where"] == where
        for p in problems.items
    ):
        problems.add(_("Tanggal lahir wajib diisi."), field="birth_date", where=where)
    if birth is not None:
        _check_date(
            birth,
            label=LABELS["birth_date"],
            problems=problems,
            where=where,
            today_=today_,
        )
        if birth < EARLIEST_BIRTH:
            problems.add(
                _("Tanggal lahir %(day)s tidak mungkin.")
                % {"day": birth.strftime("%d-%m-%Y")},
                field="birth_date",
                where=where,
            )
    for name in ("marriage_date", "divorce_date"):
        values[name] = as_date(
            values[name], label=LABELS[name], problems=problems, where=where
        )
        _check_date(
            values[name],
            label=LABELS[name],
            problems=problems,
            where=where,
            not_before=birth,
            not_before_label=_birth_date_label,
            today_=today_,
        )
    if values["phone"] and not values["phone"].lstrip("+").isdigit():
        problems.add(
            _("Nomor telepon hanya boleh berisi angka."), field="phone", where=where
        )
    values["ektp_recorded"] = bool(values["ektp_recorded"])
    for name in ("father_nik", "mother_nik"):
        if values[name]:
            for finding in impossible(validate_nik(values[name])):
                problems.add(
                    f"{LABELS[name]}: {finding.message}", field=name, where=where
                )
    flags: list[str] = []
    nik = values["nik"] or None
    values["nik"] = nik
    if nik is not None:
        findings = validate_nik(
            nik,
            birth_date=birth,
            sex=values["sex"] if values["sex"] in CHOICE_VALUES["sex"] else None,
        )
        for finding in impossible(findings):
            problems.add(finding.message, field="nik", where=where)
        if to_check(findings):
            flags.append(Flag.NIK_TO_CHECK)
    return values, flags


def _nik_taken(nik: str) -> Resident | None:
    return Resident.objects.filter(nik=nik).first()


# --- Writing events and their projection ------------------------------------------


class Writer:
    """Records events for one action and projects them onto the rows."""

    def __init__(self, actor: Actor, *, group: bool = False) -> None:
        self.actor = actor
        self.offices = Offices()
        self.group_id = new_id() if group else None
        self.events: list[LifeEvent] = []
        self.touched: dict[uuid.UUID, Resident | Family] = {}
        self.details: dict[uuid.UUID, dict[str, Any]] = {}
        self.families_to_refresh: set[uuid.UUID] = set()

    def _event(self, kind: str, *, occurred_on: datetime.date, data: dict, **kw):
        return LifeEvent(
            id=new_id(),
            kind=kind,
            group_id=self.group_id,
            occurred_on=occurred_on,
            data=data,
            office_id=self.actor.office_id,
            entered_by=kw.pop("entered_by", None) or self.actor.username,
            approved_by=kw.pop("approved_by", ""),
            **kw,
        )

    def resident_event(
        self,
        resident: Resident | None,
        kind: str,
        *,
        occurred_on: datetime.date,
        set_values: Mapping[str, Any] | None = None,
        flags_add: Sequence[str] = (),
        flags_remove: Sequence[str] = (),
        info: Mapping[str, Any] | None = None,
        entered_by: str = "",
        approved_by: str = "",
    ) -> Resident:
        """Record `kind` for `resident` (None: a new person) and project it."""
        state = resident_state_of(resident) if resident is not None else None
        if resident is None:
            resident = Resident(id=new_id())
        if state is not None and resident.family_id:
            self.families_to_refresh.add(resident.family_id)
        data: dict[str, Any] = {"set": encode(RESIDENT_FIELDS, dict(set_values or {}))}
        if flags_add:
            data["flags_add"] = sorted(set(flags_add))
        if flags_remove:
            data["flags_remove"] = sorted(set(flags_remove))
        data.update(info or {})
        event = self._event(
            kind,
            occurred_on=occurred_on,
            data=data,
            resident=resident,
            seq=(state.version if state else 0) + 1,
            entered_by=entered_by,
            approved_by=approved_by,
        )
        new_state = apply_event(state, event)  # refuses what the state forbids
        for name, value in resident_row(new_state, self.offices).items():
            setattr(resident, name, value)
        resident.owner_office = self.offices.mpp(new_state.kecamatan_code)
        with _unique_guard():
            resident.save(force_insert=state is None)
            event.save()
        if resident.family_id:
            self.families_to_refresh.add(resident.family_id)
        self.events.append(event)
        self.touched[resident.pk] = resident
        self.details.setdefault(resident.pk, {})[kind] = data.get("set", {})
        return resident

    def family_event(
        self,
        family: Family | None,
        kind: str,
        *,
        occurred_on: datetime.date,
        set_values: Mapping[str, Any] | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> Family:
        state = family_state_of(family) if family is not None else None
        if family is None:
            family = Family(id=new_id())
        data: dict[str, Any] = {"set": dict(set_values or {})}
        data.update(info or {})
        event = self._event(
            kind,
            occurred_on=occurred_on,
            data=data,
            family=family,
            seq=(state.version if state else 0) + 1,
        )
        new_state = apply_event(state, event)
        for name, value in family_row(new_state, self.offices).items():
            setattr(family, name, value)
        family.owner_office = self.offices.mpp(new_state.kecamatan_code)
        with _unique_guard():
            family.save(force_insert=state is None)
            event.save()
        self.events.append(event)
        self.touched[family.pk] = family
        self.details.setdefault(family.pk, {})[kind] = data["set"]
        self.families_to_refresh.add(family.pk)
        return family

    def finish(self) -> None:
        """Refresh the derived head and activity of every KK touched, then
        audit every row written (and so log it for sync)."""
        for family_id in sorted(self.families_to_refresh, key=str):
            family = self.touched.get(family_id)
            if not isinstance(family, Family):
                family = Family.objects.select_related("owner_office").get(pk=family_id)
            derived = derive_family(
                Resident.objects.filter(family_id=family_id).values_list(
                    "id", "shdk", "status"
                )
            )
            if (family.head_id, family.is_active) != (
                derived.head_id,
                derived.is_active,
            ):
                family.head_id = derived.head_id
                family.is_active = derived.is_active
                family.save(update_fields=["head", "is_active", "updated_at"])
                self.details.setdefault(family.pk, {})["derived"] = {
                    "head_id": str(derived.head_id) if derived.head_id else None,
                    "is_active": derived.is_active,
                }
                self.touched[family.pk] = family
        targets: list[Any] = [*self.touched.values(), *self.events]
        details = [self.details.get(t.pk, {}) for t in self.touched.values()] + [
            {"kind": e.kind, "seq": e.seq, "group": str(e.group_id or "")}
            for e in self.events
        ]
        record_many(actor=self.actor, targets=targets, details=details)


def _one_head_problem(
    family: Family, *, incoming_heads: int, leaving: set[uuid.UUID]
) -> str | None:
    """Say why `family` cannot take `incoming_heads` more heads."""
    if incoming_heads > 1:
        return _("Satu KK hanya boleh memiliki satu kepala keluarga.")
    if incoming_heads == 1:
        existing = (
            Resident.objects.filter(
                family=family, shdk=Shdk.KEPALA_KELUARGA, status=ResidentStatus.ALIVE
            )
            .exclude(pk__in=leaving)
            .exists()
        )
        if existing:
            return _(
                "KK %(kk)s sudah memiliki kepala keluarga; satu KK hanya boleh "
                "memiliki satu kepala keluarga."
            ) % {"kk": family.kk_number or _("(menunggu nomor)")}
    return None


def _new_person_nik(
    values: dict[str, Any], flags: list[str], village_code: str
) -> tuple[dict[str, Any], list[str]]:
    """Fill in a NIK for a person who has none: SIAK issues it later (flag
    menunggu_nik) or, in local mode, Balai allocates it now."""
    if values.get("nik"):
        return values, flags
    if numbers.local_numbers():
        values = {
            **values,
            "nik": numbers.allocate_nik(
                village_code=village_code,
                birth_date=values["birth_date"],
                sex=values["sex"],
            ),
        }
        return values, flags
    return values, [*flags, Flag.AWAITING_NIK]


def _person_set(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the person values that differ from the model defaults."""
    return {
        name: value
        for name, value in values.items()
        if name in PERSON_FIELDS and value != RESIDENT_DEFAULTS.get(name)
    }


def _check_not_refused(resident: Resident, kind: str) -> None:
    reason = refusal(resident_state_of(resident), kind)
    if reason is not None:
        raise EventNotAllowed(f"{resident.name}: {reason}")


def _event_date(
    value: Any, *, label: str, resident: Resident | None = None, default=None
) -> datetime.date:
    problems = Problems()
    day = as_date(value, label=label, problems=problems) if value else default
    if day is None and not problems:
        problems.add(
            _("%(label)s wajib diisi.") % {"label": label.capitalize()}, field=label
        )
    if day is not None:
        _check_date(
            day,
            label=label,
            problems=problems,
            not_before=resident.birth_date if resident is not None else None,
            not_before_label=_("tanggal lahir %(name)s")
            % {"name": resident.name if resident else ""},
        )
    problems.raise_if_any("date_invalid")
    return day


def _kk_number_for(
    kk_number: str | None, *, village_code: str, issued_on: datetime.date
) -> str | None:
    """Validate a given KK number, or allocate one in local mode."""
    if kk_number:
        findings = impossible(validate_kk(kk_number))
        if findings:
            raise BalaiError(
                " ".join(f.message for f in findings),
                code="kk_invalid",
                extra={"findings": [f.code for f in findings]},
            )
        if Family.objects.filter(kk_number=kk_number).exists():
            raise Conflict(_("Nomor KK %(kk)s sudah terdaftar.") % {"kk": kk_number})
        return kk_number
    if numbers.local_numbers():
        return numbers.allocate_kk(village_code=village_code, issued_on=issued_on)
    return None


# --- Birth, death --------------------------------------------------------------------


@action("registry.birth.register")
def register_birth(
    *,
    actor: Actor,
    family: Family,
    person: Person,
    shdk: int = Shdk.ANAK,
    mother: Resident | None = None,
    father: Resident | None = None,
) -> Resident:
    """Register a newborn in a KK (he takes the KK's address)."""
    _require_officer(actor)
    family = _lock_family(actor, family)
    problems = Problems()
    if not family.is_active:
        problems.add(_("KK ini tidak aktif lagi."), field="family")
    if shdk not in (Shdk.ANAK, Shdk.CUCU, Shdk.FAMILI_LAIN, Shdk.LAINNYA):
        problems.add(
            _("Bayi hanya dapat dicatat sebagai anak, cucu, famili lain atau lainnya."),
            field="shdk",
        )
    if person.marital_status != MaritalStatus.BELUM_KAWIN:
        problems.add(_("Bayi berstatus belum kawin."), field="marital_status")
    values, flags = clean_person(person, problems)
    parents = {}
    for role, parent, sex in (
        ("mother", mother, Sex.FEMALE),
        ("father", father, Sex.MALE),
    ):
        if parent is None:
            continue
        parent = Resident.objects.filter(pk=parent.pk).first()
        if parent is None or not actor.covers(parent.village_id):
            raise NotFound()
        label = _("Ibu") if role == "mother" else _("Ayah")
        if parent.sex != sex:
            problems.add(
                _("%(who)s harus %(sex)s.") % {"who": label, "sex": Sex(sex).label},
                field=role,
            )
        if parent.status != ResidentStatus.ALIVE and role == "mother":
            problems.add(
                _("Ibu tercatat %(status)s.")
                % {"status": ResidentStatus(parent.status).label},
                field=role,
            )
        birth = values.get("birth_date")
        if birth and birth < parent.birth_date + datetime.timedelta(days=365 * 10):
            problems.add(
                _("Tanggal lahir bayi %(day)s tidak mungkin: %(who)s lahir %(parent)s.")
                % {
                    "day": birth.strftime("%d-%m-%Y"),
                    "who": label.lower(),
                    "parent": parent.birth_date.strftime("%d-%m-%Y"),
                },
                field="birth_date",
            )
        parents[role] = parent
    problems.raise_if_any()
    if "mother" in parents:
        values["mother_name"] = parents["mother"].name
        values["mother_nik"] = parents["mother"].nik or ""
    if "father" in parents:
        values["father_name"] = parents["father"].name
        values["father_nik"] = parents["father"].nik or ""
    if values["nik"] and _nik_taken(values["nik"]):
        raise Conflict(_("NIK %(nik)s sudah terdaftar.") % {"nik": values["nik"]})
    values, flags = _new_person_nik(values, flags, family.village_id)
    writer = Writer(actor)
    baby = writer.resident_event(
        None,
        K.BIRTH,
        occurred_on=values["birth_date"],
        set_values={
            **_person_set(values),
            "family_id": family.pk,
            "shdk": shdk,
            **_address_values(_address_of(family)),
        },
        flags_add=flags,
        info={
            "mother_id": str(parents["mother"].pk) if "mother" in parents else None,
            "father_id": str(parents["father"].pk) if "father" in parents else None,
        },
    )
    writer.finish()
    return baby


@action("registry.death.register")
def register_death(
    *,
    actor: Actor,
    resident: Resident,
    occurred_on: datetime.date | str,
    place: str = "",
    cause: str = "",
    death_cert_number: str = "",
    spouse: Resident | None = None,
) -> Resident:
    """Record a death; the widowed spouse, if named, becomes cerai mati."""
    _require_officer(actor)
    resident = _lock_resident(actor, resident)
    _check_not_refused(resident, K.DEATH)
    day = _event_date(occurred_on, label=_("tanggal kematian"), resident=resident)
    writer = Writer(actor, group=spouse is not None)
    if spouse is not None:
        spouse = _lock_resident(actor, spouse)
        if spouse.pk == resident.pk:
            raise BalaiError(_("Pasangan tidak boleh orang yang sama."))
        if resident.marital_status != MaritalStatus.KAWIN:
            raise EventNotAllowed(
                _("%(name)s tidak berstatus kawin; tidak ada pasangan yang ditinggal.")
                % {"name": resident.name}
            )
        _check_not_refused(spouse, K.DIVORCE)
    dead = writer.resident_event(
        resident,
        K.DEATH,
        occurred_on=day,
        info={
            "place": place.strip(),
            "cause": cause.strip(),
            "death_cert_number": death_cert_number.strip(),
        },
    )
    if spouse is not None:
        writer.resident_event(
            spouse,
            K.DIVORCE,
            occurred_on=day,
            set_values={"marital_status": MaritalStatus.CERAI_MATI},
            info={"cause": "kematian", "spouse_id": str(resident.pk)},
        )
    writer.finish()
    return dead


# --- Moves ---------------------------------------------------------------------------

MOVE_JOIN, MOVE_SPLIT, MOVE_FAMILY = "join", "split", "family"


@action("registry.move.within")
def move_within(
    *,
    actor: Actor,
    mode: str,
    occurred_on: datetime.date | str,
    residents: Sequence[Resident] = (),
    relations: Mapping[Any, int] | None = None,
    to_family: Family | None = None,
    family: Family | None = None,
    address: Address | None = None,
    kk_number: str | None = None,
    reason: str = "",
) -> Family:
    """Move people within the regency (another desa or kecamatan, or another
    address in the same one):

    - ``join``: `residents` join the existing KK `to_family`, each with the
      relation `relations[resident.pk]`;
    - ``split``: `residents` leave their KK for a new KK at `address`, with
      exactly one of them as its head (`relations`);
    - ``family``: the whole KK `family` moves to `address`.

    Returns the KK they live in afterwards.
    """
    _require_officer(actor)
    if mode not in (MOVE_JOIN, MOVE_SPLIT, MOVE_FAMILY):
        raise BalaiError(
            _("Jenis pindah harus join, split atau family."), code="move_mode"
        )
    day = _event_date(occurred_on, label=_("tanggal pindah"))
    problems = Problems()
    writer = Writer(actor, group=True)
    info = {"mode": mode, "reason": reason.strip()}
    if mode == MOVE_FAMILY:
        if family is None or address is None:
            raise BalaiError(
                _("Pindah satu keluarga memerlukan KK dan alamat tujuan."),
                code="move_incomplete",
            )
        family = _lock_family(actor, family)
        address = _clean_address(address, problems)
        _village(address.village, problems=problems)
        problems.raise_if_any()
        actor.require_covers(address.village)
        if address == _address_of(family):
            raise BalaiError(_("Alamat tujuan sama dengan alamat sekarang."))
        members = [
            _lock_resident(actor, m)
            for m in Resident.objects.filter(
                family=family, status=ResidentStatus.ALIVE
            ).order_by("shdk", "birth_date", "id")
        ]
        if not members:
            raise EventNotAllowed(
                _("KK ini tidak memiliki anggota yang masih tinggal.")
            )
        for member in members:
            _check_not_refused(member, K.MOVE_WITHIN)
            if day < member.birth_date:
                raise BalaiError(
                    _("Tanggal pindah lebih awal dari tanggal lahir %(name)s.")
                    % {"name": member.name},
                    code="date_invalid",
                )
        before = _address_of(family)
        writer.family_event(
            family,
            K.MOVE_WITHIN,
            occurred_on=day,
            set_values=_address_values(address),
            info={**info, "from": _address_values(before)},
        )
        for member in members:
            writer.resident_event(
                member,
                K.MOVE_WITHIN,
                occurred_on=day,
                set_values=_address_values(address),
                info={**info, "from": _address_values(_address_of(member))},
            )
        writer.finish()
        family.refresh_from_db()
        return family

    if not residents:
        raise BalaiError(_("Pilih penduduk yang pindah."), code="move_incomplete")
    movers = [_lock_resident(actor, r) for r in residents]
    if len({m.pk for m in movers}) != len(movers):
        raise BalaiError(_("Ada penduduk yang dipilih dua kali."))
    relation_of = {
        str(k.pk if isinstance(k, Resident) else k): v
        for k, v in (relations or {}).items()
    }
    for mover in movers:
        _check_not_refused(mover, K.MOVE_WITHIN)
        if day < mover.birth_date:
            problems.add(
                _("Tanggal pindah lebih awal dari tanggal lahir %(name)s.")
                % {"name": mover.name},
                field="occurred_on",
            )
        shdk = relation_of.get(str(mover.pk))
        if shdk is None:
            problems.add(
                _("Hubungan dalam keluarga untuk %(name)s wajib diisi.")
                % {"name": mover.name},
                field="shdk",
            )
        else:
            _check_choice("shdk", shdk, problems)
    heads = sum(1 for m in movers if relation_of.get(str(m.pk)) == Shdk.KEPALA_KELUARGA)
    if mode == MOVE_JOIN:
        if to_family is None:
            raise BalaiError(_("Pilih KK tujuan."), code="move_incomplete")
        target = _lock_family(actor, to_family)
        if not target.is_active:
            problems.add(_("KK tujuan tidak aktif lagi."), field="to_family")
        if any(m.family_id == target.pk for m in movers):
            problems.add(
                _("Penduduk sudah menjadi anggota KK tujuan."), field="to_family"
            )
        problem = _one_head_problem(
            target, incoming_heads=heads, leaving={m.pk for m in movers}
        )
        if problem:
            problems.add(problem, field="shdk")
        problems.raise_if_any()
        place = _address_of(target)
    else:
        if address is None:
            raise BalaiError(_("Alamat KK baru wajib diisi."), code="move_incomplete")
        address = _clean_address(address, problems)
        _village(address.village, problems=problems)
        if heads != 1:
            problems.add(
                _("KK baru harus memiliki tepat satu kepala keluarga."), field="shdk"
            )
        problems.raise_if_any()
        actor.require_covers(address.village)
        kk = _kk_number_for(kk_number, village_code=address.village, issued_on=day)
        target = writer.family_event(
            None,
            K.NEW_KK,
            occurred_on=day,
            set_values={"kk_number": kk, **_address_values(address)},
            info=info,
        )
        place = address
    for mover in movers:
        writer.resident_event(
            mover,
            K.MOVE_WITHIN,
            occurred_on=day,
            set_values={
                "family_id": target.pk,
                "shdk": relation_of[str(mover.pk)],
                **_address_values(place),
            },
            info={
                **info,
                "from": {
                    "family_id": str(mover.family_id) if mover.family_id else None,
                    "shdk": mover.shdk,
                    **_address_values(_address_of(mover)),
                },
            },
        )
    writer.finish()
    target.refresh_from_db()
    return target


@action("registry.move.out")
def move_out(
    *,
    actor: Actor,
    residents: Sequence[Resident],
    occurred_on: datetime.date | str,
    destination: str,
    reason: str = "",
) -> LifeEvent:
    """Record that people moved out of the regency; returns the first event
    (the others share its group)."""
    _require_officer(actor)
    if not residents:
        raise BalaiError(_("Pilih penduduk yang pindah."), code="move_incomplete")
    if not destination.strip():
        raise BalaiError(_("Tujuan pindah wajib diisi."), code="destination_required")
    day = _event_date(occurred_on, label=_("tanggal pindah"))
    movers = [_lock_resident(actor, r) for r in residents]
    for mover in movers:
        _check_not_refused(mover, K.MOVE_OUT)
        if day < mover.birth_date:
            raise BalaiError(
                _("Tanggal pindah lebih awal dari tanggal lahir %(name)s.")
                % {"name": mover.name},
                code="date_invalid",
            )
    writer = Writer(actor, group=True)
    for mover in movers:
        writer.resident_event(
            mover,
            K.MOVE_OUT,
            occurred_on=day,
            info={"destination": destination.strip(), "reason": reason.strip()},
        )
    writer.finish()
    return writer.events[0]


@action("registry.arrival.register")
def register_arrival(
    *,
    actor: Actor,
    person: Person,
    occurred_on: datetime.date | str,
    origin: str,
    to_family: Family | None = None,
    shdk: int | None = None,
    address: Address | None = None,
    kk_number: str | None = None,
) -> Resident:
    """Register someone who came from outside the regency: he joins the KK
    `to_family` as `shdk`, or heads a new KK at `address`. Someone who had
    moved out and comes back (same NIK) is taken up again."""
    _require_officer(actor)
    if not origin.strip():
        raise BalaiError(_("Asal kedatangan wajib diisi."), code="origin_required")
    problems = Problems()
    values, flags = clean_person(person, problems)
    day = as_date(occurred_on, label=_("tanggal datang"), problems=problems)
    if day is None and not problems:
        problems.add(_("Tanggal datang wajib diisi."), field="occurred_on")
    _check_date(
        day,
        label=_("tanggal datang"),
        problems=problems,
        not_before=values.get("birth_date"),
        not_before_label=_("tanggal lahir"),
    )
    if to_family is None and address is None:
        problems.add(
            _("Pilih KK yang dituju atau isi alamat KK baru."), field="to_family"
        )
    if to_family is not None:
        if shdk is None:
            problems.add(_("Hubungan dalam keluarga wajib diisi."), field="shdk")
        else:
            _check_choice("shdk", shdk, problems)
    if address is not None and to_family is None:
        address = _clean_address(address, problems)
        _village(address.village, problems=problems)
    problems.raise_if_any()
    returning = _nik_taken(values["nik"]) if values["nik"] else None
    if returning is not None and returning.status != ResidentStatus.MOVED_OUT:
        raise Conflict(
            _("NIK %(nik)s sudah terdaftar atas penduduk berstatus %(status)s.")
            % {
                "nik": values["nik"],
                "status": ResidentStatus(returning.status).label,
            }
        )
    writer = Writer(actor, group=to_family is None)
    if to_family is not None:
        target = _lock_family(actor, to_family)
        if not target.is_active:
            raise EventNotAllowed(_("KK tujuan tidak aktif lagi."))
        problem = _one_head_problem(
            target,
            incoming_heads=int(shdk == Shdk.KEPALA_KELUARGA),
            leaving={returning.pk} if returning else set(),
        )
        if problem:
            raise BalaiError(problem, code="two_heads")
        place = _address_of(target)
    else:
        actor.require_covers(address.village)
        kk = _kk_number_for(kk_number, village_code=address.village, issued_on=day)
        target = writer.family_event(
            None,
            K.NEW_KK,
            occurred_on=day,
            set_values={"kk_number": kk, **_address_values(address)},
            info={"origin": origin.strip()},
        )
        shdk = Shdk.KEPALA_KELUARGA
        place = address
    placement = {"family_id": target.pk, "shdk": shdk, **_address_values(place)}
    if returning is not None:
        returning = _lock_resident_for_return(actor, returning, place.village)
        resident = writer.resident_event(
            returning,
            K.ARRIVAL,
            occurred_on=day,
            set_values=placement,
            info={"origin": origin.strip(), "return": True},
        )
    else:
        values, flags = _new_person_nik(values, flags, place.village)
        resident = writer.resident_event(
            None,
            K.ARRIVAL,
            occurred_on=day,
            set_values={**_person_set(values), **placement},
            flags_add=flags,
            info={"origin": origin.strip()},
        )
    writer.finish()
    return resident


def _lock_resident_for_return(
    actor: Actor, resident: Resident, village_code: str
) -> Resident:
    """Lock a resident who moved out and now comes back to `village_code`: the
    office receiving him need not cover where he lived before."""
    actor.require_covers(village_code)
    return Resident.objects.select_for_update().get(pk=resident.pk)


# --- Marriage, divorce, new KK -------------------------------------------------------


def _age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@action("registry.marriage.register")
def register_marriage(
    *,
    actor: Actor,
    husband: Resident,
    wife: Resident,
    occurred_on: datetime.date | str,
    marriage_cert_number: str = "",
    dispensation: str = "",
) -> LifeEvent:
    """Record a marriage (both become kawin); where they live is a move or a
    new KK, recorded separately."""
    _require_officer(actor)
    husband = _lock_resident(actor, husband)
    wife = _lock_resident(actor, wife)
    if husband.pk == wife.pk:
        raise BalaiError(_("Suami dan istri tidak boleh orang yang sama."))
    problems = Problems()
    if husband.sex != Sex.MALE:
        problems.add(_("Suami harus laki-laki."), field="husband")
    if wife.sex != Sex.FEMALE:
        problems.add(_("Istri harus perempuan."), field="wife")
    for person in (husband, wife):
        reason = refusal(resident_state_of(person), K.MARRIAGE)
        if reason:
            problems.add(f"{person.name}: {reason}", field="status")
    problems.raise_if_any("event_not_allowed")
    day = _event_date(occurred_on, label=_("tanggal perkawinan"))
    for person in (husband, wife):
        if day < person.birth_date:
            problems.add(
                _("Tanggal perkawinan lebih awal dari tanggal lahir %(name)s.")
                % {"name": person.name},
                field="occurred_on",
            )
        elif _age_on(person.birth_date, day) < MARRIAGE_AGE and not dispensation:
            problems.add(
                _(
                    "%(name)s belum berumur %(age)d tahun pada tanggal perkawinan; "
                    "perlu nomor dispensasi pengadilan."
                )
                % {"name": person.name, "age": MARRIAGE_AGE},
                field="dispensation",
            )
    problems.raise_if_any("date_invalid")
    writer = Writer(actor, group=True)
    cert = marriage_cert_number.strip()
    for person, other in ((husband, wife), (wife, husband)):
        writer.resident_event(
            person,
            K.MARRIAGE,
            occurred_on=day,
            set_values={
                "marital_status": MaritalStatus.KAWIN,
                "marriage_date": day,
                "marriage_cert_number": cert,
            },
            info={"spouse_id": str(other.pk), "dispensation": dispensation.strip()},
        )
    writer.finish()
    return writer.events[0]


@action("registry.divorce.register")
def register_divorce(
    *,
    actor: Actor,
    first: Resident,
    second: Resident,
    occurred_on: datetime.date | str,
    divorce_cert_number: str = "",
) -> LifeEvent:
    """Record a divorce (both become cerai hidup)."""
    _require_officer(actor)
    first = _lock_resident(actor, first)
    second = _lock_resident(actor, second)
    if first.pk == second.pk:
        raise BalaiError(_("Pihak yang bercerai tidak boleh orang yang sama."))
    problems = Problems()
    if first.sex == second.sex:
        problems.add(_("Pihak yang bercerai harus suami dan istri."), field="second")
    for person in (first, second):
        reason = refusal(resident_state_of(person), K.DIVORCE)
        if reason:
            problems.add(f"{person.name}: {reason}", field="status")
    problems.raise_if_any("event_not_allowed")
    day = _event_date(occurred_on, label=_("tanggal perceraian"))
    for person in (first, second):
        if person.marriage_date and day < person.marriage_date:
            problems.add(
                _("Tanggal perceraian lebih awal dari tanggal perkawinan %(name)s.")
                % {"name": person.name},
                field="occurred_on",
            )
    problems.raise_if_any("date_invalid")
    writer = Writer(actor, group=True)
    cert = divorce_cert_number.strip()
    for person, other in ((first, second), (second, first)):
        writer.resident_event(
            person,
            K.DIVORCE,
            occurred_on=day,
            set_values={
                "marital_status": MaritalStatus.CERAI_HIDUP,
                "divorce_date": day,
                "divorce_cert_number": cert,
            },
            info={"spouse_id": str(other.pk)},
        )
    writer.finish()
    return writer.events[0]


@action("registry.family.create")
def create_family(
    *,
    actor: Actor,
    members: Mapping[Any, int] | Sequence[tuple[Resident, int]],
    occurred_on: datetime.date | str | None = None,
    address: Address | None = None,
    kk_number: str | None = None,
    reason: str = "",
) -> Family:
    """Make a new KK for people already in the register (a new couple, the
    rest of a family whose head died, a KK split at the same address): each
    member with his relation to the new head; exactly one head."""
    _require_officer(actor)
    pairs = list(members.items()) if isinstance(members, Mapping) else list(members)
    if not pairs:
        raise BalaiError(_("KK baru memerlukan anggota."), code="family_empty")
    people = [(_lock_resident(actor, r), shdk) for r, shdk in pairs]
    if len({p.pk for p, _s in people}) != len(people):
        raise BalaiError(_("Ada penduduk yang dipilih dua kali."))
    problems = Problems()
    for person, shdk in people:
        _check_not_refused(person, K.NEW_KK)
        _check_choice("shdk", shdk, problems)
    heads = [p for p, shdk in people if shdk == Shdk.KEPALA_KELUARGA]
    if len(heads) != 1:
        problems.add(
            _("KK baru harus memiliki tepat satu kepala keluarga."), field="members"
        )
    problems.raise_if_any()
    day = _event_date(occurred_on, label=_("tanggal KK baru"), default=today())
    if address is None:
        address = _address_of(heads[0])
    address = _clean_address(address, problems)
    _village(address.village, problems=problems)
    problems.raise_if_any()
    actor.require_covers(address.village)
    kk = _kk_number_for(kk_number, village_code=address.village, issued_on=day)
    writer = Writer(actor, group=True)
    family = writer.family_event(
        None,
        K.NEW_KK,
        occurred_on=day,
        set_values={"kk_number": kk, **_address_values(address)},
        info={"reason": reason.strip()},
    )
    for person, shdk in people:
        writer.resident_event(
            person,
            K.NEW_KK,
            occurred_on=day,
            set_values={
                "family_id": family.pk,
                "shdk": shdk,
                **_address_values(address),
            },
            info={
                "from_family_id": str(person.family_id) if person.family_id else None
            },
        )
    writer.finish()
    family.refresh_from_db()
    return family


new_kk = create_family


# --- Corrections ---------------------------------------------------------------------


def _parse_correction(
    resident: Resident, field_name: str, value: Any, problems: Problems
) -> Any:
    """Return a correction's new value in its stored form, or note the problem."""
    kind = {**PERSON_FIELDS, "shdk": "opt_int", "status": "str"}[field_name]
    label = LABELS[field_name]
    if kind == "date":
        day = as_date(value, label=label, problems=problems)
        if day is None:
            if not problems:
                problems.add(_("Nilai baru wajib diisi."), field=field_name)
            return None
        _check_date(day, label=label, problems=problems)
        if field_name == "birth_date" and day < EARLIEST_BIRTH:
            problems.add(_("Tanggal lahir tidak mungkin."), field=field_name)
        if field_name != "birth_date" and day < resident.birth_date:
            problems.add(
                _("%(label)s lebih awal dari tanggal lahir.")
                % {"label": label.capitalize()},
                field=field_name,
            )
        return day
    if field_name in CHOICES:
        try:
            value = value if field_name == "sex" else int(value)
        except (TypeError, ValueError):
            problems.add(
                _("%(label)s tidak valid.") % {"label": label.capitalize()},
                field=field_name,
            )
            return None
        _check_choice(field_name, value, problems)
        if field_name == "shdk" and Shdk.KEPALA_KELUARGA in (value, resident.shdk):
            problems.add(
                _(
                    "Kepala keluarga diganti dengan KK baru, bukan dengan koreksi "
                    "hubungan dalam keluarga."
                ),
                field=field_name,
            )
        return value
    if field_name == "status":
        if value != ResidentStatus.INVALID:
            problems.add(
                _(
                    "Status hanya dapat dikoreksi menjadi 'tidak valid'; kematian "
                    "dan pindah dicatat sebagai peristiwa."
                ),
                field=field_name,
            )
        return value
    if kind == "bool":
        return bool(value)
    text = str(value or "").strip()
    if field_name == "name" and not text:
        problems.add(_("Nama lengkap wajib diisi."), field=field_name)
    if len(text) > TEXT_LIMITS.get(field_name, 16):
        problems.add(
            _("%(label)s terlalu panjang.") % {"label": label.capitalize()},
            field=field_name,
        )
    if field_name in ("nik", "father_nik", "mother_nik") and (
        text or field_name == "nik"
    ):
        if field_name == "nik" and not resident.nik:
            problems.add(
                _(
                    "Penduduk ini masih menunggu NIK dari SIAK: catat NIK yang "
                    "terbit, bukan koreksi."
                ),
                field=field_name,
            )
        for finding in impossible(validate_nik(text)):
            problems.add(finding.message, field=field_name)
    if field_name == "phone" and text and not text.lstrip("+").isdigit():
        problems.add(_("Nomor telepon hanya boleh berisi angka."), field=field_name)
    return text or (None if field_name == "nik" else "")


def _stored(field_name: str, value: Any) -> Any:
    kinds = {**PERSON_FIELDS, "shdk": "opt_int", "status": "str"}
    return encode(kinds, {field_name: value})[field_name]


def _nik_flag_change(state_values: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Return (flags to add, flags to remove) for the nik_periksa flag after a
    change of NIK, birth date or sex: a corrected birth date keeps the old NIK."""
    nik = state_values.get("nik")
    if not nik:
        return [], []
    findings = validate_nik(
        nik, birth_date=state_values["birth_date"], sex=state_values["sex"]
    )
    if to_check(findings):
        return [Flag.NIK_TO_CHECK], []
    return [], [Flag.NIK_TO_CHECK]


@action("registry.correction.propose")
def propose_correction(
    *,
    actor: Actor,
    resident: Resident,
    field: str,
    new_value: Any,
    reason: str,
    evidence: str,
) -> CorrectionRequest:
    """Propose a correction of one field; another person must approve it."""
    _require_officer(actor)
    resident = _lock_resident(actor, resident)
    if field not in CORRECTABLE:
        raise BalaiError(
            _("Kolom '%(field)s' tidak dapat dikoreksi.") % {"field": field},
            code="field_not_correctable",
        )
    _check_not_refused(resident, K.CORRECTION)
    problems = Problems()
    if not reason.strip():
        problems.add(_("Alasan koreksi wajib diisi."), field="reason")
    if not evidence.strip():
        problems.add(_("Bukti koreksi wajib diisi."), field="evidence")
    value = _parse_correction(resident, field, new_value, problems)
    problems.raise_if_any()
    old = getattr(resident, field)
    if _stored(field, value) == _stored(field, old):
        raise BalaiError(_("Nilai baru sama dengan nilai sekarang."), code="no_change")
    if field == "nik" and _nik_taken(value):
        raise Conflict(_("NIK %(nik)s sudah terdaftar.") % {"nik": value})
    if CorrectionRequest.objects.filter(
        resident=resident, field=field, status=CorrectionStatus.PENDING
    ).exists():
        raise Conflict(
            _("Sudah ada usulan koreksi %(label)s yang menunggu persetujuan.")
            % {"label": LABELS[field]}
        )
    correction = CorrectionRequest.objects.create(
        resident=resident,
        field=field,
        old_value=_stored(field, old),
        new_value=_stored(field, value),
        reason=reason.strip(),
        evidence=evidence.strip(),
        entered_by_id=str(actor.user_id or f"system:{actor.username}"),
        entered_by=actor.username,
        owner_office=Offices().mpp(resident.kecamatan_code),
    )
    record_many(
        actor=actor,
        targets=[correction],
        details=[{"field": field, "resident": str(resident.pk)}],
    )
    return correction


def _decidable(actor: Actor, correction: CorrectionRequest) -> CorrectionRequest:
    actor.require_role(*APPROVER_ROLES)
    correction = (
        CorrectionRequest.objects.select_for_update(of=("self",))
        .select_related("resident", "owner_office")
        .filter(pk=correction.pk)
        .first()
    )
    if correction is None:
        raise NotFound()
    actor.require_covers(correction.resident.village_id)
    if correction.status != CorrectionStatus.PENDING:
        raise Conflict(
            _("Usulan koreksi ini sudah %(status)s.")
            % {"status": CorrectionStatus(correction.status).label.lower()}
        )
    if actor.user_id is None:
        raise PermissionDenied(
            _("Koreksi diputuskan oleh petugas pencatat sipil, bukan oleh sistem.")
        )
    if correction.entered_by_id == str(actor.user_id):
        raise PermissionDenied(
            _(
                "Petugas yang mengusulkan koreksi tidak boleh memutuskannya sendiri; "
                "minta petugas lain."
            ),
            code="same_person",
        )
    return correction


@action("registry.correction.approve")
def approve_correction(
    *, actor: Actor, correction: CorrectionRequest, note: str = ""
) -> CorrectionRequest:
    """Approve a proposed correction: record the CORRECTION event (entered by
    the proposer, approved by this registrar) and project it."""
    correction = _decidable(actor, correction)
    resident = _lock_resident(actor, correction.resident)
    _check_not_refused(resident, K.CORRECTION)
    name = correction.field
    if _stored(name, getattr(resident, name)) != correction.old_value:
        raise Conflict(
            _("%(label)s sudah berubah sejak koreksi diusulkan; usulkan koreksi baru.")
            % {"label": LABELS[name].capitalize()}
        )
    kinds = {**PERSON_FIELDS, "shdk": "opt_int", "status": "str"}
    from balai.registry.events import decode

    new_value = decode(kinds, {name: correction.new_value})[name]
    if name == "nik" and _nik_taken(new_value):
        raise Conflict(_("NIK %(nik)s sudah terdaftar.") % {"nik": new_value})
    if name == "shdk" and resident.family_id is None:
        raise EventNotAllowed(_("Penduduk ini tidak tercatat dalam KK."))
    after = {f: getattr(resident, f) for f in ("nik", "birth_date", "sex")}
    flags_add: list[str] = []
    flags_remove: list[str] = []
    if name in after:
        after[name] = new_value
        flags_add, flags_remove = _nik_flag_change(after)
    writer = Writer(actor)
    writer.resident_event(
        resident,
        K.CORRECTION,
        occurred_on=today(),
        set_values={name: new_value},
        flags_add=flags_add,
        flags_remove=flags_remove,
        info={
            "field": name,
            "old": correction.old_value,
            "new": correction.new_value,
            "reason": correction.reason,
            "evidence": correction.evidence,
            "correction_id": str(correction.pk),
        },
        entered_by=correction.entered_by,
        approved_by=actor.username,
    )
    event = writer.events[-1]
    correction.status = CorrectionStatus.APPROVED
    correction.decided_by = actor.username
    correction.decided_at = timezone.now()
    correction.decision_note = note.strip()
    correction.event = event
    correction.save()
    writer.touched[correction.pk] = correction
    writer.details[correction.pk] = {"status": correction.status}
    writer.finish()
    return correction


@action("registry.correction.reject")
def reject_correction(
    *, actor: Actor, correction: CorrectionRequest, note: str
) -> CorrectionRequest:
    """Reject a proposed correction, with the reason; the register is unchanged."""
    correction = _decidable(actor, correction)
    if not note.strip():
        raise BalaiError(_("Alasan penolakan wajib diisi."), code="note_required")
    correction.status = CorrectionStatus.REJECTED
    correction.decided_by = actor.username
    correction.decided_at = timezone.now()
    correction.decision_note = note.strip()
    correction.save()
    record_many(
        actor=actor, targets=[correction], details=[{"status": correction.status}]
    )
    return correction


# --- Numbers issued by SIAK ----------------------------------------------------------


@action("registry.nik.record_issued")
def record_issued_nik(*, actor: Actor, resident: Resident, nik: str) -> Resident:
    """Record the NIK SIAK issued to a resident awaiting one."""
    _require_officer(actor, ISSUED_NUMBER_ROLES)
    resident = _lock_resident(actor, resident)
    _check_not_refused(resident, K.NIK_ISSUED)
    nik = (nik or "").strip()
    findings = validate_nik(nik, birth_date=resident.birth_date, sex=resident.sex)
    bad = impossible(findings)
    if bad:
        raise BalaiError(
            " ".join(f.message for f in bad),
            code="nik_invalid",
            extra={"findings": [f.code for f in bad]},
        )
    if _nik_taken(nik):
        raise Conflict(_("NIK %(nik)s sudah terdaftar.") % {"nik": nik})
    writer = Writer(actor)
    resident = writer.resident_event(
        resident,
        K.NIK_ISSUED,
        occurred_on=today(),
        set_values={"nik": nik},
        flags_add=[Flag.NIK_TO_CHECK] if to_check(findings) else [],
        flags_remove=[Flag.AWAITING_NIK]
        + ([] if to_check(findings) else [Flag.NIK_TO_CHECK]),
    )
    writer.finish()
    return resident


@action("registry.kk.record_issued")
def record_issued_kk(*, actor: Actor, family: Family, kk_number: str) -> Family:
    """Record the KK number SIAK issued to a KK awaiting one."""
    _require_officer(actor, ISSUED_NUMBER_ROLES)
    family = _lock_family(actor, family)
    if family.kk_number:
        raise EventNotAllowed(_("KK ini sudah memiliki nomor."))
    if not (kk_number or "").strip():
        raise BalaiError(_("Nomor KK wajib diisi."), code="kk_required")
    kk = _kk_number_for(
        kk_number.strip(), village_code=family.village_id, issued_on=today()
    )
    writer = Writer(actor)
    family = writer.family_event(
        family, K.KK_ISSUED, occurred_on=today(), set_values={"kk_number": kk}
    )
    writer.finish()
    return family


# --- Bulk registration (seeding, imports) -----------------------------------------


@action("registry.residents.register_bulk")
def register_residents_bulk(
    *,
    actor: Actor,
    families: Sequence[FamilyInput],
    occurred_on: datetime.date | None = None,
    label: str = "",
) -> BulkResult:
    """Register whole KKs at once (data entry of a village, an import, the
    synthetic population): the same checks and the same rows as the single
    actions (REGISTRATION or ARRIVAL events, projection, change log), written
    in one transaction. Any bad row refuses the whole batch, every problem
    listed with where it is.

    Audit: one entry for the batch (not one per row), binding the batch's
    group id and a digest of every row written; see
    docs/decisions/0003-register-projection.md.
    """
    from balai.registry.bulk import full_row, matching, take_turn, write_rows

    _require_officer(actor, BULK_ROLES)
    entered_on = occurred_on or today()
    problems = Problems()
    villages = set(
        Region.objects.filter(
            level__in=[RegionLevel.DESA, RegionLevel.KELURAHAN]
        ).values_list("code", flat=True)
    )
    offices = Offices()
    niks: dict[str, str] = {}
    kks: dict[str, str] = {}
    cleaned: list[tuple[Address, list[tuple[dict, list[str], Member]]]] = []
    family_where = _("KK ke-%(i)d")
    member_where = _("KK ke-%(i)d anggota ke-%(j)d")
    day = today()
    arrival_label = _("tanggal datang")
    for i, fam in enumerate(families, start=1):
        where = family_where % {"i": i}
        address = _clean_address(fam.address, problems, where)
        if address.village not in villages:
            problems.add(
                _("Desa/kelurahan %(code)s tidak dikenal.") % {"code": address.village},
                field="village",
                where=where,
            )
        elif not actor.covers(address.village):
            problems.add(
                _("Desa/kelurahan %(code)s di luar wilayah kerja Anda.")
                % {"code": address.village},
                field="village",
                where=where,
            )
        if fam.kk_number:
            for finding in impossible(validate_kk(fam.kk_number)):
                problems.add(finding.message, field="kk_number", where=where)
            if fam.kk_number in kks:
                problems.add(
                    _("Nomor KK %(kk)s juga dipakai %(other)s.")
                    % {"kk": fam.kk_number, "other": kks[fam.kk_number]},
                    field="kk_number",
                    where=where,
                )
            kks[fam.kk_number] = where
        heads = sum(1 for m in fam.members if m.shdk == Shdk.KEPALA_KELUARGA)
        if not fam.members:
            problems.add(_("KK tanpa anggota."), field="members", where=where)
        elif heads != 1:
            problems.add(
                _("KK harus memiliki tepat satu kepala keluarga; ada %(n)d.")
                % {"n": heads},
                field="shdk",
                where=where,
            )
        people = []
        for j, member in enumerate(fam.members, start=1):
            at = member_where % {"i": i, "j": j}
            person = member.person
            if person.__class__ is CheckedPerson and person.checked_on == day:
                values, flags = dict(person.values), list(person.flags)
            else:
                if person.__class__ is CheckedPerson:
                    person = Person(**person.values)
                values, flags = clean_person(person, problems, where=at, today_=day)
            if member.shdk not in CHOICE_VALUES["shdk"]:
                _check_choice("shdk", member.shdk, problems, at)
            if member.kind not in (K.REGISTRATION, K.ARRIVAL):
                problems.add(
                    _("Jenis pendataan harus pendataan atau kedatangan."),
                    field="kind",
                    where=at,
                )
            if member.occurred_on and values.get("birth_date"):
                _check_date(
                    member.occurred_on,
                    label=arrival_label,
                    problems=problems,
                    where=at,
                    not_before=values["birth_date"],
                    not_before_label=_birth_date_label,
                    today_=day,
                )
            nik = values.get("nik")
            if nik:
                if nik in niks:
                    problems.add(
                        _("NIK %(nik)s juga dipakai %(other)s.")
                        % {"nik": nik, "other": niks[nik]},
                        field="nik",
                        where=at,
                    )
                niks[nik] = at
            people.append((values, flags, member))
        cleaned.append((address, people))
    for (nik,) in matching(Resident, "nik", list(niks)):
        problems.add(
            _("NIK %(nik)s sudah terdaftar.") % {"nik": nik},
            field="nik",
            where=niks[nik],
        )
    for (kk,) in matching(Family, "kk_number", list(kks)):
        problems.add(
            _("Nomor KK %(kk)s sudah terdaftar.") % {"kk": kk},
            field="kk_number",
            where=kks[kk],
        )
    problems.raise_if_any("bulk_invalid")

    result = BulkResult(group_id=new_id())
    # Whole seconds: see balai.registry.bulk (change payloads built in SQL).
    now = timezone.now().replace(microsecond=0)
    family_template = full_row(Family, {})
    resident_template = full_row(Resident, {})
    event_template = full_row(LifeEvent, {})
    family_rows: list[dict] = []
    resident_ids: list[uuid.UUID] = []
    event_rows: list[dict] = []
    family_routes: list[tuple[str, str]] = []
    resident_routes: list[tuple[str, str]] = []
    event_routes: list[tuple[str, str]] = []
    office_code = actor.office_code
    # Numbers first (in local mode they need the database, which is busy
    # taking rows during the COPY below). Their counters are locked to
    # commit: a batch of writers taking turns waits for its turn first.
    if numbers.local_numbers():
        take_turn()
    prepared = []
    for fam, (address, people) in zip(families, cleaned, strict=True):
        kk = fam.kk_number or None
        if kk is None and numbers.local_numbers():
            kk = numbers.allocate_kk(
                village_code=address.village, issued_on=fam.occurred_on or entered_on
            )
        people = [
            (*_new_person_nik(values, flags, address.village), member)
            for values, flags, member in people
        ]
        prepared.append((fam, address, kk, people))

    def residents() -> Iterator[dict]:
        """Fold each person's first event into his row; collect the KK rows
        and the event rows on the way. Runs while the rows stream to the
        database, so the fold overlaps with PostgreSQL's work."""
        for fam, address, kk, people in prepared:
            family_id = new_id()
            place = _address_values(address)
            fam_event = _BulkEvent(
                id=new_id(),
                kind=K.REGISTRATION,
                resident_id=None,
                family_id=family_id,
                seq=1,
                occurred_on=fam.occurred_on or entered_on,
                data={"set": {"kk_number": kk, **place}},
            )
            fam_state = apply_event(None, fam_event)
            route = (offices.mpp(fam_state.kecamatan_code).code, address.village)
            members: list[tuple] = []
            for values, flags, member in people:
                resident_id = new_id()
                data: dict[str, Any] = {
                    "set": encode(
                        RESIDENT_FIELDS,
                        {
                            **_person_set(values),
                            "family_id": family_id,
                            "shdk": member.shdk,
                            **place,
                        },
                    )
                }
                if flags:
                    data["flags_add"] = sorted(set(flags))
                    result.flagged += 1
                if member.kind == K.ARRIVAL:
                    data["origin"] = member.origin
                event = _BulkEvent(
                    id=new_id(),
                    kind=member.kind,
                    resident_id=resident_id,
                    family_id=None,
                    seq=1,
                    occurred_on=member.occurred_on or entered_on,
                    data=data,
                )
                state = apply_event(None, event)
                resident_routes.append(route)
                members.append((resident_id, state.shdk, state.status))
                event_rows.append(
                    event.row(event_template, actor, result.group_id, now)
                )
                event_routes.append((office_code, address.village))
                resident_ids.append(resident_id)
                yield {
                    **resident_template,
                    **resident_row(state, offices),
                    "id": resident_id,
                    "created_at": now,
                    "updated_at": now,
                }
            derived = derive_family(members)
            family_rows.append(
                {
                    **family_template,
                    **family_row(fam_state, offices),
                    "id": family_id,
                    "head_id": derived.head_id,
                    "is_active": derived.is_active,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            family_routes.append(route)
            event_rows.append(
                fam_event.row(event_template, actor, result.group_id, now)
            )
            event_routes.append((office_code, address.village))
            result.family_ids.append(family_id)

    with _unique_guard():
        # Foreign keys are checked at commit, so residents may go first.
        written = [
            write_rows(Resident, residents(), routes=resident_routes),
            write_rows(Family, family_rows, routes=family_routes),
            write_rows(LifeEvent, event_rows, routes=event_routes),
        ]
    # The rows are in; their change records and the audit entry take the
    # change log's and the audit chain's locks (to commit), so parallel
    # writers take turns from here (`balai.registry.bulk.take_turn`).
    take_turn()
    for rows in written:
        rows.log()
    result.resident_ids = resident_ids
    result.families = len(family_rows)
    result.residents = len(resident_ids)
    result.events = len(event_rows)
    record_many(
        actor=actor,
        targets=[],
        summary={
            "label": label,
            "group_id": str(result.group_id),
            "families": result.families,
            "residents": result.residents,
            "events": result.events,
            "flagged": result.flagged,
            "rows_sha256": bulk_digest(
                [r["id"] for r in family_rows],
                resident_ids,
                [r["id"] for r in event_rows],
            ),
        },
    )
    return result


def bulk_digest(*id_lists: Sequence[uuid.UUID]) -> str:
    """Return the SHA-256 binding a batch's rows: families, residents, events,
    each list sorted. Recomputable from the events of the batch's group."""
    import hashlib

    digest = hashlib.sha256()
    for ids in id_lists:
        # One update per list, not two per id (millions of ids in an import).
        values = sorted(map(str, ids))
        if values:
            digest.update(("\n".join(values) + "\n").encode())
        digest.update(b"--\n")
    return digest.hexdigest()


@dataclass
class _BulkEvent:
    """An event of the bulk path before it is a row (the fold reads it)."""

    id: uuid.UUID
    kind: str
    resident_id: uuid.UUID | None
    family_id: uuid.UUID | None
    seq: int
    occurred_on: datetime.date
    data: dict

    def row(
        self, template: dict, actor: Actor, group_id: uuid.UUID, now: datetime.datetime
    ) -> dict:
        return {
            **template,
            "id": self.id,
            "kind": self.kind,
            "resident_id": self.resident_id,
            "family_id": self.family_id,
            "group_id": group_id,
            "occurred_on": self.occurred_on,
            "recorded_at": now,
            "data": self.data,
            "office_id": actor.office_id,
            "entered_by": actor.username,
            "approved_by": "",
            "seq": self.seq,
        }


# --- Repairing the projection ------------------------------------------------------


@action("registry.projection.repair")
def repair_projection(*, actor: Actor) -> list:
    """Rewrite every resident and KK row that is not the projection of its
    events; return the differences found (those whose events cannot be folded
    are left as they are, for an officer to look at)."""
    from balai.registry.rebuild import check

    actor.require_role("sysadmin", "registrar")
    differences = check()
    repaired: list[Any] = []
    details: list[dict[str, Any]] = []
    for difference in sorted(differences, key=lambda d: d.model != "resident"):
        if difference.problem:
            continue
        model = Resident if difference.model == "resident" else Family
        obj = model.objects.select_for_update().get(pk=difference.object_id)
        for name, (_stored_value, projected) in difference.fields.items():
            setattr(obj, name, projected)
        obj.save(update_fields=[*difference.fields, "updated_at"])
        repaired.append(obj)
        details.append({"repaired": sorted(difference.fields)})
    if repaired:
        for obj in repaired:
            if obj.owner_office_id:
                obj.owner_office  # noqa: B018 - load for the sync route
        record_many(actor=actor, targets=repaired, details=details)
    return differences
