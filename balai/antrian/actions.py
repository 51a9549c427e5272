"""Writes of the counter queue: set up lanes and counters, take a number, and
move a ticket along its workflow (call, recall, start, finish, skip, transfer).

Every transition appends a `TicketEvent` checked by `workflow.next_status` and
updates the ticket's projected columns with a compare-and-set on its status,
so two officers acting on one ticket at once cannot both succeed.

`call_next` is safe under concurrency: on PostgreSQL the candidate row is
locked with FOR UPDATE SKIP LOCKED (a second officer skips it and takes the
next); on SQLite the IMMEDIATE transaction serialises writers; on both the
compare-and-set claim is the last word, so a ticket is never called twice.
"""

from __future__ import annotations

import datetime
import logging
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Max, Q, Value, When
from django.utils import timezone

from balai.antrian import slots, workflow
from balai.antrian.models import (
    ACTIVE_APPOINTMENT,
    Appointment,
    AppointmentSettings,
    AppointmentStatus,
    Counter,
    QueueLane,
    Ticket,
    TicketEvent,
    TicketSource,
)
from balai.antrian.workflow import AppointmentStep
from balai.antrian.workflow import TicketEventKind as E
from balai.antrian.workflow import TicketStatus as S
from balai.audit.actions import record, record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict, NotFound, PermissionDenied
from balai.core.nodes import node_serves
from balai.regions.models import Office, OfficeKind

# Roles that work a counter.
QUEUE_ROLES = ("counter_officer", "registry_officer")
# Roles that set up lanes and counters.
SETUP_ROLES = ("service_admin", "sysadmin")
KIOSK_ROLE = "kiosk"

_PREFIX = re.compile(r"^[A-Z]{1,2}$")


def kiosk_actor(office: Office) -> Actor:
    """The actor of the public kiosk (and the anonymous API) of one office."""
    return Actor(
        user_id=None,
        username=f"kiosk:{office.code}",
        office_id=office.pk,
        office_code=office.code,
        roles=frozenset({KIOSK_ROLE}),
        scope=(office.region_id,),
    )


def today(now: datetime.datetime | None = None) -> datetime.date:
    """The queue day: the local (WITA) date."""
    return timezone.localdate(now or timezone.now())


def require_office(actor: Actor, office: Office, *roles: str) -> None:
    """Refuse unless the actor works at this office (with one of `roles`).

    Another office's queue is answered as if it did not exist.
    """
    if actor.is_system:
        return
    if actor.office_code != office.code:
        raise NotFound("Antrean kantor ini tidak ditemukan.")
    actor.require_role(*(roles or QUEUE_ROLES))


# --- Setup ------------------------------------------------------------------------


@dataclass(frozen=True)
class LaneSpec:
    code: str
    name: str
    prefix: str
    description: str = ""
    is_priority: bool = False
    typical_service_minutes: int = 10


@dataclass(frozen=True)
class CounterSpec:
    number: int
    name: str
    lanes: tuple[str, ...]  # lane codes


@dataclass(frozen=True)
class Layout:
    lanes: tuple[LaneSpec, ...]
    counters: tuple[CounterSpec, ...]


# The usual kecamatan MPP: two service groups, general enquiries, and the
# priority lane, which every counter calls from first.
DEFAULT_LAYOUT = Layout(
    lanes=(
        LaneSpec(
            "adminduk",
            "Administrasi Kependudukan",
            "A",
            "KTP-el, KK, akta, pindah datang",
            typical_service_minutes=12,
        ),
        LaneSpec(
            "perizinan",
            "Perizinan dan Non-perizinan",
            "B",
            "Surat keterangan, izin usaha, rekomendasi",
            typical_service_minutes=10,
        ),
        LaneSpec(
            "informasi",
            "Informasi dan Pengaduan",
            "C",
            "Informasi layanan, pengaduan, pengambilan dokumen",
            typical_service_minutes=6,
        ),
        LaneSpec(
            "prioritas",
            "Prioritas",
            "P",
            "Lansia, penyandang disabilitas, ibu hamil",
            is_priority=True,
            typical_service_minutes=12,
        ),
    ),
    counters=(
        CounterSpec(1, "Loket 1", ("adminduk", "prioritas")),
        CounterSpec(2, "Loket 2", ("adminduk", "prioritas")),
        CounterSpec(3, "Loket 3", ("perizinan", "prioritas")),
        CounterSpec(4, "Loket 4", ("informasi", "perizinan", "prioritas")),
    ),
)


@dataclass
class SetupResult:
    lanes: int = 0
    counters: int = 0
    offices: list[str] = field(default_factory=list)


def _check_layout(layout: Layout) -> None:
    codes = [lane.code for lane in layout.lanes]
    prefixes = [lane.prefix for lane in layout.lanes]
    if len(set(codes)) != len(codes) or len(set(prefixes)) != len(prefixes):
        raise BalaiError(
            "Kode dan huruf jalur antrean harus unik.", code="lane_duplicate"
        )
    for lane in layout.lanes:
        if not _PREFIX.match(lane.prefix):
            raise BalaiError(
                f"Huruf jalur '{lane.prefix}' harus 1–2 huruf kapital.",
                code="lane_prefix_invalid",
            )
    for counter in layout.counters:
        unknown = set(counter.lanes) - set(codes)
        if unknown:
            raise BalaiError(
                f"{counter.name} memakai jalur yang tidak ada: "
                + ", ".join(sorted(unknown)),
                code="counter_lane_unknown",
            )


@action("antrian.setup.ensure")
def ensure_queue_setup(
    *,
    actor: Actor,
    offices: Iterable[Office] | None = None,
    layout: Layout = DEFAULT_LAYOUT,
) -> SetupResult:
    """Give each MPP (or the offices given) the lanes and counters of `layout`
    that it lacks; what exists is left as it is. Safe to run again."""
    actor.require_role(*SETUP_ROLES)
    _check_layout(layout)
    targets = list(
        offices
        if offices is not None
        else Office.objects.filter(kind=OfficeKind.MPP, is_active=True).order_by("code")
    )
    result = SetupResult()
    created: list[Any] = []
    for office in targets:
        if not actor.covers(office.region_id):
            raise NotFound()
        lanes = {lane.code: lane for lane in QueueLane.objects.filter(office=office)}
        for order, spec in enumerate(layout.lanes):
            if spec.code in lanes:
                continue
            lane = QueueLane.objects.create(
                office=office,
                code=spec.code,
                name=spec.name,
                prefix=spec.prefix,
                description=spec.description,
                is_priority=spec.is_priority,
                typical_service_minutes=spec.typical_service_minutes,
                sort_order=order,
            )
            lanes[spec.code] = lane
            created.append(lane)
            result.lanes += 1
        numbers = set(
            Counter.objects.filter(office=office).values_list("number", flat=True)
        )
        for spec in layout.counters:
            if spec.number in numbers:
                continue
            counter = Counter.objects.create(
                office=office, number=spec.number, name=spec.name
            )
            counter.lanes.set([lanes[code] for code in spec.lanes])
            created.append(counter)
            result.counters += 1
        result.offices.append(office.code)
    if created:
        record_many(
            actor=actor,
            targets=created,
            details=[
                {"office": obj.office.code, "name": str(obj.name)} for obj in created
            ],
        )
    return result


# --- Taking a number --------------------------------------------------------------

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KIOSK_OPENS_EARLY = datetime.timedelta(minutes=30)


def _parse_time(text: str) -> datetime.time:
    hour, minute = text.split(":")
    return datetime.time(int(hour), int(minute))


def kiosk_open(office: Office, when: datetime.datetime | None = None) -> bool:
    """Tell whether the kiosk issues numbers now: from half an hour before the
    first opening to the last closing of the day (breaks included: people may
    queue during the Friday prayer break)."""
    local = timezone.localtime(when or timezone.now())
    spans = (office.hours or {}).get(DAY_KEYS[local.weekday()]) or []
    if not spans:
        return False
    first = datetime.datetime.combine(local.date(), _parse_time(spans[0][0]))
    last = datetime.datetime.combine(local.date(), _parse_time(spans[-1][1]))
    naive = local.replace(tzinfo=None)
    return first - KIOSK_OPENS_EARLY <= naive <= last


def _append(
    ticket: Ticket,
    kind: str,
    *,
    actor: Actor,
    frm: str | None,
    to: str,
    at: datetime.datetime,
    counter: Counter | None = None,
    lane: QueueLane | None = None,
    note: str = "",
) -> TicketEvent:
    last = ticket.events.aggregate(m=Max("seq"))["m"] or 0
    event = TicketEvent(
        ticket=ticket,
        seq=last + 1,
        kind=kind,
        from_status=frm or "",
        to_status=to,
        at=at,
        actor_id=str(actor.user_id or ""),
        actor_name=actor.username[:150],
        counter=counter,
        lane=lane,
        note=note[:255],
    )
    event.save()
    return event


@action("antrian.ticket.take")
def take_ticket(
    *,
    actor: Actor,
    lane: QueueLane,
    appointment_code: str = "",
    application_id: uuid.UUID | None = None,
) -> Ticket:
    """Take the next number of a lane today (WITA), at the kiosk or from an officer.

    `appointment_code` marks a ticket made by an appointment's check-in (source
    `booking`, the code in the issue event), `application_id` the application
    it serves."""
    lane = QueueLane.objects.select_related("office").get(pk=lane.pk)
    office = lane.office
    is_kiosk = KIOSK_ROLE in actor.roles
    if is_kiosk:
        if actor.office_code != office.code:
            raise NotFound("Antrean kantor ini tidak ditemukan.")
    else:
        require_office(actor, office)
    if not lane.is_active:
        raise BalaiError(
            f"Jalur {lane.name} sedang tidak melayani.", code="lane_inactive"
        )
    now = timezone.now()
    if (
        is_kiosk
        and getattr(settings, "BALAI_ANTRIAN_ENFORCE_HOURS", True)
        and not kiosk_open(office, now)
    ):
        raise BalaiError(
            "Layanan sedang tutup. Nomor antrean dapat diambil mulai 30 menit "
            "sebelum jam layanan.",
            code="office_closed",
        )
    # Lock the lane: numbers of one lane are handed out one at a time.
    QueueLane.objects.select_for_update().filter(pk=lane.pk).first()
    day = today(now)
    last = Ticket.objects.filter(issued_lane=lane, day=day).aggregate(m=Max("seq"))["m"]
    seq = (last or 0) + 1
    ticket = Ticket.objects.create(
        office=office,
        issued_lane=lane,
        lane=lane,
        day=day,
        seq=seq,
        number=f"{lane.prefix}-{seq:03d}",
        is_priority=lane.is_priority,
        status=workflow.next_status(E.ISSUED, None),
        source=(
            TicketSource.BOOKING
            if appointment_code
            else TicketSource.KIOSK
            if is_kiosk
            else TicketSource.OFFICER
        ),
        issued_at=now,
        application_id=application_id,
    )
    event = _append(
        ticket,
        E.ISSUED,
        actor=actor,
        frm=None,
        to=S.WAITING,
        at=now,
        lane=lane,
        note=f"janji temu {appointment_code}" if appointment_code else "",
    )
    record_many(
        actor=actor,
        targets=[ticket, event],
        details=[
            {"number": ticket.number, "lane": lane.code, "source": ticket.source},
            {"kind": E.ISSUED},
        ],
    )
    return ticket


# --- Transitions ------------------------------------------------------------------


def _transition(
    ticket: Ticket,
    kind: str,
    *,
    actor: Actor,
    at: datetime.datetime,
    counter: Counter | None = None,
    lane: QueueLane | None = None,
    note: str = "",
    updates: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> Ticket | None:
    """Apply one event if the ticket still has the status we read; None if not."""
    seen = ticket.status
    to = workflow.next_status(kind, seen, number=ticket.number)
    changed = Ticket.objects.filter(pk=ticket.pk, status=seen).update(
        status=to, updated_at=at, **(updates or {})
    )
    if changed != 1:
        return None
    ticket.refresh_from_db()
    event = _append(
        ticket,
        kind,
        actor=actor,
        frm=seen,
        to=to,
        at=at,
        counter=counter,
        lane=lane or ticket.lane,
        note=note,
    )
    record_many(
        actor=actor,
        targets=[ticket, event],
        details=[
            {"number": ticket.number, "from": seen, "to": to, **(details or {})},
            {"kind": kind},
        ],
    )
    return ticket


def _load(ticket: Ticket | uuid.UUID | str) -> Ticket:
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    found = (
        Ticket.objects.select_related("office", "lane", "counter").filter(pk=pk).first()
    )
    if found is None:
        raise NotFound("Nomor antrean tidak ditemukan.")
    return found


def load_ticket_for(actor: Actor, ticket: Ticket | uuid.UUID | str) -> Ticket:
    """Load a ticket the actor may act on (his own office's queue)."""
    current = _load(ticket)
    require_office(actor, current.office)
    return current


def _apply(actor: Actor, current: Ticket, kind: str, **kwargs: Any) -> Ticket:
    done = _transition(current, kind, actor=actor, at=timezone.now(), **kwargs)
    if done is None:
        raise Conflict(
            f"Nomor {current.number} baru saja diubah oleh petugas lain. "
            "Muat ulang halaman lalu coba lagi.",
            code="ticket_changed",
        )
    return done


def _candidates(counter: Counter, day: datetime.date) -> Any:
    """Tickets the counter may call, best first: priority, then transferred to
    it (they have waited once already), then the oldest."""
    lane_ids = list(counter.lanes.filter(is_active=True).values_list("pk", flat=True))
    return (
        Ticket.objects.filter(office_id=counter.office_id, day=day)
        .filter(
            Q(status=S.WAITING, lane_id__in=lane_ids)
            | Q(status=S.TRANSFERRED, counter=counter)
            | Q(status=S.TRANSFERRED, counter__isnull=True, lane_id__in=lane_ids)
        )
        .annotate(
            fresh=Case(
                When(status=S.TRANSFERRED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("-is_priority", "fresh", "issued_at", "pk")
    )


def next_candidate(counter: Counter, day: datetime.date) -> Ticket | None:
    """The next ticket for a counter, locked where the database can lock rows
    (skipping rows another officer holds)."""
    return (
        _candidates(counter, day)
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )


def _counter(counter: Counter | uuid.UUID | str) -> Counter:
    pk = counter.pk if isinstance(counter, Counter) else counter
    found = Counter.objects.select_related("office").filter(pk=pk).first()
    if found is None:
        raise NotFound("Loket tidak ditemukan.")
    return found


@action("antrian.ticket.call_next")
def call_next(*, actor: Actor, counter: Counter) -> Ticket | None:
    """Call the next ticket to a counter: the priority lane first, then the
    oldest waiting across the counter's lanes. None when nobody waits."""
    counter = _counter(counter)
    require_office(actor, counter.office)
    if not counter.is_active:
        raise BalaiError(f"{counter.name} sedang tidak aktif.", code="counter_inactive")
    now = timezone.now()
    day = today(now)
    busy = (
        Ticket.objects.filter(
            counter=counter, day=day, status__in=workflow.ACTIVE_STATUSES
        )
        .order_by("last_called_at")
        .first()
    )
    if busy is not None:
        raise Conflict(
            f"{counter.name} masih menangani nomor {busy.number}. Selesaikan, "
            "alihkan, atau lewati nomor itu dulu.",
            code="counter_busy",
            extra={"ticket": str(busy.pk), "number": busy.number},
        )
    for _attempt in range(10):
        candidate = next_candidate(counter, day)
        if candidate is None:
            return None
        ticket = _transition(
            candidate,
            E.CALLED,
            actor=actor,
            at=now,
            counter=counter,
            updates={
                "counter": counter,
                "called_by_id": actor.user_id,
                "called_by_name": actor.username[:150],
                "called_at": candidate.called_at or now,
                "last_called_at": now,
                "call_count": F("call_count") + 1,
            },
            details={"counter": counter.number},
        )
        if ticket is not None:
            return ticket
        # Someone else claimed it between our read and our write: take the next.
    raise Conflict(
        "Antrean sedang sangat sibuk. Coba panggil lagi.", code="queue_contended"
    )


@action("antrian.ticket.recall")
def recall(*, actor: Actor, ticket: Ticket) -> Ticket:
    """Call the same number again (the citizen did not come forward yet)."""
    current = load_ticket_for(actor, ticket)
    now = timezone.now()
    return _apply(
        actor,
        current,
        E.RECALLED,
        counter=current.counter,
        updates={"last_called_at": now, "call_count": F("call_count") + 1},
    )


@action("antrian.ticket.start")
def start_service(*, actor: Actor, ticket: Ticket) -> Ticket:
    """The citizen is at the counter: service starts."""
    current = load_ticket_for(actor, ticket)
    return _apply(
        actor,
        current,
        E.STARTED,
        counter=current.counter,
        updates={"served_at": timezone.now()},
    )


@action("antrian.ticket.finish")
def finish(*, actor: Actor, ticket: Ticket) -> Ticket:
    """Service is done."""
    current = load_ticket_for(actor, ticket)
    return _apply(
        actor,
        current,
        E.FINISHED,
        counter=current.counter,
        updates={"done_at": timezone.now()},
    )


@action("antrian.ticket.skip")
def skip(*, actor: Actor, ticket: Ticket, note: str = "") -> Ticket:
    """The citizen did not come forward: skip the number."""
    current = load_ticket_for(actor, ticket)
    return _apply(
        actor,
        current,
        E.SKIPPED,
        counter=current.counter,
        note=note,
        updates={"done_at": timezone.now()},
    )


@action("antrian.ticket.transfer")
def transfer(
    *,
    actor: Actor,
    ticket: Ticket,
    to_counter: Counter | None = None,
    to_lane: QueueLane | None = None,
    note: str = "",
) -> Ticket:
    """Send the citizen on to another counter or lane; he keeps his number and
    is called there ahead of those not yet served."""
    current = load_ticket_for(actor, ticket)
    if (to_counter is None) == (to_lane is None):
        raise BalaiError(
            "Pilih satu tujuan pengalihan: loket atau jalur.",
            code="transfer_target_required",
        )
    updates: dict[str, Any] = {}
    if to_counter is not None:
        to_counter = _counter(to_counter)
        if to_counter.office_id != current.office_id or not to_counter.is_active:
            raise BalaiError(
                "Loket tujuan tidak ada di kantor ini atau tidak aktif.",
                code="transfer_target_invalid",
            )
        if current.counter_id == to_counter.pk:
            raise BalaiError(
                "Loket tujuan sama dengan loket sekarang.", code="transfer_same_counter"
            )
        updates["counter"] = to_counter
        target = to_counter.name
    else:
        to_lane = QueueLane.objects.filter(pk=to_lane.pk).first()
        if (
            to_lane is None
            or to_lane.office_id != current.office_id
            or not to_lane.is_active
        ):
            raise BalaiError(
                "Jalur tujuan tidak ada di kantor ini atau tidak aktif.",
                code="transfer_target_invalid",
            )
        updates["lane"] = to_lane
        updates["counter"] = None
        target = to_lane.name
    return _apply(
        actor,
        current,
        E.TRANSFERRED,
        counter=to_counter,
        lane=to_lane,
        note=note,
        updates=updates,
        details={"to": target},
    )


@action("antrian.ticket.link_application")
def link_application(
    *, actor: Actor, ticket: Ticket, application_id: uuid.UUID | str
) -> Ticket:
    """Record which application this visit opened or served."""
    try:
        app_id = uuid.UUID(str(application_id))
    except ValueError as exc:
        raise BalaiError(
            "Nomor permohonan tidak valid.", code="application_id_invalid"
        ) from exc
    current = load_ticket_for(actor, ticket)
    return _apply(
        actor,
        current,
        E.LINKED,
        counter=current.counter,
        note=str(app_id),
        updates={"application_id": app_id},
        details={"application": str(app_id)},
    )


# --- Appointments (janji temu) -----------------------------------------------------

# Booking codes: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, so a code read aloud or typed
# at the kiosk is not mistaken.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
APPOINTMENT_TEMPLATE = "janji_temu_dibuat"
OFFICE_CANCEL_TEMPLATE = "janji_temu_dibatalkan"
MISSED_TEMPLATE = "janji_temu_terlewat"
CANCEL_REASON_MAX = 255

log = logging.getLogger("balai.antrian")


def _citizen(actor: Actor) -> Any:
    """The verified citizen account behind the actor."""
    from balai.accounts.models import AccountKind, User

    if not actor.is_citizen or actor.user_id is None:
        raise PermissionDenied("Janji temu dibuat dari akun warga.")
    user = User.objects.filter(
        pk=actor.user_id, kind=AccountKind.CITIZEN, is_active=True
    ).first()
    if user is None:
        raise PermissionDenied("Janji temu dibuat dari akun warga.")
    if not user.is_verified_citizen:
        raise PermissionDenied(
            "Akun Anda belum terverifikasi. Verifikasi identitas Anda terlebih "
            "dahulu (di loket MPP atau dengan kode yang dikirim ke ponsel Anda) "
            "sebelum membuat janji temu.",
            code="citizen_unverified",
        )
    return user


def _citizen_application(actor: Actor, application_id: Any) -> tuple[uuid.UUID, str]:
    """The citizen's own application (id, label); services is read lazily
    because it imports this app."""
    from balai.services.selectors import application_for

    try:
        app = application_for(actor, application_id)
    except NotFound:
        raise BalaiError(
            "Permohonan yang dipilih tidak ditemukan di akun Anda.",
            code="application_not_found",
        ) from None
    return app.pk, f"{app.service.name} ({app.number})"[:200]


def _appointment_office(office: Office) -> Office:
    found = Office.objects.filter(
        pk=office.pk, kind=OfficeKind.MPP, is_active=True
    ).first()
    if found is None:
        raise NotFound(
            "Mal Pelayanan Publik ini tidak ditemukan.", code="office_not_found"
        )
    return found


def _taken_places(lane: QueueLane, starts_at: datetime.datetime) -> set[int]:
    """Places of a slot held by active bookings."""
    return set(
        Appointment.objects.filter(lane=lane, starts_at=starts_at)
        .filter(ACTIVE_APPOINTMENT)
        .values_list("place", flat=True)
    )


def _new_code(office: Office) -> str:
    for _attempt in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Appointment.objects.filter(office=office, code=code).exists():
            return code
    raise Conflict(
        "Kode janji temu tidak dapat dibuat. Coba lagi.", code="code_exhausted"
    )


def _slot_full(starts_at: datetime.datetime) -> Conflict:
    return Conflict(
        f"Slot pukul {slots.fmt_time(starts_at)} sudah penuh. Pilih jam lain.",
        code="slot_full",
    )


def _one_per_day(existing: Appointment) -> Conflict:
    return Conflict(
        "Anda sudah memiliki janji temu pada tanggal ini "
        f"(kode {existing.code}, pukul {slots.fmt_time(existing.starts_at)}). "
        "Batalkan dulu bila ingin mengganti jadwal.",
        code="appointment_one_per_day",
        extra={"appointment": str(existing.pk)},
    )


def _active_of_day(citizen_id: Any, day: datetime.date) -> Appointment | None:
    return (
        Appointment.objects.filter(citizen_id=citizen_id, day=day)
        .filter(ACTIVE_APPOINTMENT)
        .first()
    )


@action("antrian.appointment.configure")
def configure_appointments(
    *,
    actor: Actor,
    office: Office,
    is_enabled: bool,
    slot_minutes: int,
    capacity: int,
    days_ahead: int,
) -> AppointmentSettings:
    """Set how an MPP offers appointments (service administrators)."""
    actor.require_role(*SETUP_ROLES)
    office = _appointment_office(office)
    actor.require_covers(office.region_id)
    for value, (low, high), what in (
        (slot_minutes, slots.SLOT_MINUTES_RANGE, "Lama satu slot (menit)"),
        (capacity, slots.CAPACITY_RANGE, "Kuota per slot"),
        (days_ahead, slots.DAYS_AHEAD_RANGE, "Batas hari pemesanan"),
    ):
        if not isinstance(value, int) or isinstance(value, bool):
            raise BalaiError(f"{what} harus bilangan bulat.", code="settings_invalid")
        if not low <= value <= high:
            raise BalaiError(
                f"{what} harus antara {low} dan {high}.", code="settings_out_of_range"
            )
    conf = slots.settings_for(office)
    conf.is_enabled = bool(is_enabled)
    conf.slot_minutes, conf.capacity, conf.days_ahead = (
        slot_minutes,
        capacity,
        days_ahead,
    )
    conf.save()
    record(
        actor=actor,
        target=conf,
        details={
            "office": office.code,
            "enabled": conf.is_enabled,
            "slot_minutes": slot_minutes,
            "capacity": capacity,
            "days_ahead": days_ahead,
        },
    )
    return conf


@action("antrian.appointment.book")
def book_appointment(
    *,
    actor: Actor,
    office: Office,
    lane: QueueLane,
    starts_at: datetime.datetime,
    application_id: uuid.UUID | str | None = None,
) -> Appointment:
    """Book a place in a slot for the logged-in, verified citizen.

    One active booking per citizen per day; a slot holds `capacity` places
    per lane. Places are counted under a lock on the lane row (PostgreSQL;
    SQLite's IMMEDIATE transaction serialises writers anyway) and each booking
    holds a numbered place that is unique per slot among active bookings, so
    two citizens racing for the last place cannot both get it."""
    user = _citizen(actor)
    office = _appointment_office(office)
    conf = slots.settings_for(office)
    if not conf.is_enabled:
        raise BalaiError(
            f"{office.name} belum menerima janji temu.", code="appointments_disabled"
        )
    lane = slots.bookable_lanes(office).filter(pk=getattr(lane, "pk", None)).first()
    if lane is None:
        raise BalaiError(
            "Jenis layanan (jalur) yang dipilih tidak tersedia untuk janji temu di "
            "kantor ini.",
            code="lane_not_bookable",
        )
    if not isinstance(starts_at, datetime.datetime) or timezone.is_naive(starts_at):
        raise BalaiError("Waktu janji temu tidak valid.", code="slot_invalid")
    now = timezone.now()
    day = timezone.localdate(starts_at)
    first, last = slots.booking_window(conf, now)
    if not first <= day <= last:
        raise BalaiError(
            f"Janji temu dapat dibuat untuk hari ini sampai {conf.days_ahead} hari "
            "ke depan.",
            code="day_out_of_window",
        )
    if not slots.is_working_day(office, day):
        raise BalaiError(
            "Tanggal yang dipilih bukan hari kerja (akhir pekan atau hari libur).",
            code="not_working_day",
        )
    times = dict(slots.slot_times(office, day, conf.slot_minutes))
    if starts_at not in times:
        raise BalaiError(
            "Jam yang dipilih bukan slot janji temu kantor ini.", code="slot_invalid"
        )
    if starts_at <= now:
        raise BalaiError("Slot ini sudah lewat. Pilih jam lain.", code="slot_past")
    app_id, purpose = (None, "")
    if application_id not in (None, ""):
        app_id, purpose = _citizen_application(actor, application_id)
    existing = _active_of_day(user.pk, day)
    if existing is not None:
        raise _one_per_day(existing)
    # One booking at a time per lane (PostgreSQL; SQLite writers are serial).
    QueueLane.objects.select_for_update().filter(pk=lane.pk).first()
    code = _new_code(office)
    appointment = None
    for _attempt in range(3):
        taken = _taken_places(lane, starts_at)
        free = [p for p in range(1, conf.capacity + 1) if p not in taken]
        if not free:
            raise _slot_full(starts_at)
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    office=office,
                    lane=lane,
                    day=day,
                    starts_at=starts_at,
                    ends_at=times[starts_at],
                    place=free[0],
                    code=code,
                    citizen_id=user.pk,
                    citizen_name=user.display_name[:150],
                    application_id=app_id,
                    purpose=purpose,
                )
            break
        except IntegrityError:
            # Someone took the place (or the citizen's day) between our read
            # and our write: the constraint refused it; look again.
            existing = _active_of_day(user.pk, day)
            if existing is not None:
                raise _one_per_day(existing) from None
    if appointment is None:
        raise _slot_full(starts_at)
    record(
        actor=actor,
        target=appointment,
        details={
            "code": appointment.code,
            "office": office.code,
            "lane": lane.code,
            "starts_at": appointment.starts_at.isoformat(),
            "place": appointment.place,
            "application": str(app_id) if app_id else "",
        },
    )
    _send_booking_message(actor, user, appointment)
    return appointment


def _send_booking_message(actor: Actor, user: Any, appointment: Appointment) -> None:
    """The booking code through the outbox (sent after commit), to the
    citizen's phone and e-mail as he has them; best effort: a missing
    template never refuses the booking (the code is shown on the page)."""
    _message_citizen(
        actor,
        user,
        APPOINTMENT_TEMPLATE,
        {
            "kode": appointment.code,
            "kantor": appointment.office.name,
            "layanan": appointment.purpose or appointment.lane.name,
            "waktu": slots.fmt_when(appointment.starts_at),
        },
    )


def _message_citizen(
    actor: Actor, user: Any, template: str, context: dict[str, str]
) -> int:
    """Queue `template` to the citizen's phone and e-mail, as he has them;
    return how many messages were queued. Best effort: the change it tells
    of stands without it (a missing template or address is logged)."""
    from django.apps import apps

    if not apps.is_installed("balai.notify"):
        log.warning("outbox absent; %s not sent", template)
        return 0
    from balai.notify.actions import queue_message

    queued = 0
    for address in (user.phone, user.email):
        if not address:
            continue
        try:
            queue_message(
                actor=actor, template=template, recipient=address, context=context
            )
        except BalaiError as exc:
            log.warning("%s not queued: %s", template, exc.message)
        else:
            queued += 1
    return queued


def _citizen_account(citizen_id: Any) -> Any:
    """The citizen's account, or None where it does not exist (citizen
    accounts live at the regency; they do not travel to kecamatan nodes)."""
    from balai.accounts.models import AccountKind, User

    return User.objects.filter(
        pk=citizen_id, kind=AccountKind.CITIZEN, is_active=True
    ).first()


def _citizen_accounts(appointments: Sequence[Appointment]) -> dict[Any, Any]:
    """`_citizen_account` of each booking's citizen, in one query (by id)."""
    from balai.accounts.models import AccountKind, User

    ids = {a.citizen_id for a in appointments}
    if not ids:
        return {}
    return {
        user.pk: user
        for user in User.objects.filter(
            pk__in=ids, kind=AccountKind.CITIZEN, is_active=True
        )
    }


def _appointment_pk(appointment: Appointment | uuid.UUID | str) -> uuid.UUID | None:
    """The booking's key, or None for text that is no key (answered as unknown)."""
    pk = appointment.pk if isinstance(appointment, Appointment) else appointment
    try:
        return uuid.UUID(str(pk))
    except ValueError:
        return None


def _own_appointment(actor: Actor, appointment: Appointment | uuid.UUID | str):
    if not actor.is_citizen:
        raise PermissionDenied("Janji temu dibatalkan dari akun warga pemiliknya.")
    pk = _appointment_pk(appointment)
    found = (
        Appointment.objects.select_for_update()
        .filter(pk=pk, citizen_id=actor.user_id)
        .first()
        if pk
        else None
    )
    if found is None:
        raise NotFound("Janji temu tidak ditemukan.", code="appointment_not_found")
    return found


@action("antrian.appointment.cancel")
def cancel_appointment(
    *, actor: Actor, appointment: Appointment | uuid.UUID | str
) -> Appointment:
    """The citizen cancels his booking before the slot starts; the place is
    free again. Cancelling a cancelled booking changes nothing."""
    current = _own_appointment(actor, appointment)
    if current.status == AppointmentStatus.CANCELLED:
        return current
    to = workflow.next_appointment_status(
        AppointmentStep.CANCEL, current.status, code=current.code
    )
    now = timezone.now()
    if now >= current.starts_at:
        raise BalaiError(
            "Janji temu yang waktunya sudah tiba tidak dapat dibatalkan.",
            code="appointment_started",
        )
    current.status = to
    current.cancelled_at = now
    current.save(update_fields=["status", "cancelled_at", "updated_at"])
    record(actor=actor, target=current, details={"code": current.code})
    return current


def normalize_code(raw: str) -> str:
    """` k7m-p3q ` -> `K7MP3Q`."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


@action("antrian.appointment.check_in")
def check_in_appointment(*, actor: Actor, office: Office, code: str) -> Appointment:
    """At arrival (kiosk or officer of the office): the booking code becomes a
    queue ticket in the booking's lane, marked as coming from the booking and
    linked to its application. From 30 minutes before the slot to 15 minutes
    after its start. A second check-in gives the same ticket."""
    if KIOSK_ROLE in actor.roles:
        if actor.office_code != office.code:
            raise NotFound("Antrean kantor ini tidak ditemukan.")
    else:
        require_office(actor, office)
    text = normalize_code(code)
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        raise BalaiError(
            f"Kode janji temu terdiri dari {CODE_LENGTH} huruf dan angka, seperti "
            "yang tertera di pesan janji temu (misalnya K7MP3Q).",
            code="appointment_code_invalid",
        )
    current = (
        Appointment.objects.select_for_update().filter(office=office, code=text).first()
    )
    if current is None:
        raise NotFound(
            f"Kode janji temu {text} tidak ditemukan di kantor ini.",
            code="appointment_not_found",
        )
    if current.status == AppointmentStatus.CHECKED_IN:
        return current
    to = workflow.next_appointment_status(
        AppointmentStep.CHECK_IN, current.status, code=current.code
    )
    now = timezone.now()
    opens = current.starts_at - slots.CHECKIN_EARLY
    closes = current.starts_at + slots.CHECKIN_LATE
    if now < opens:
        raise BalaiError(
            f"Terlalu awal: janji temu {text} dijadwalkan "
            f"{slots.fmt_when(current.starts_at)}. Kedatangan dapat dicatat mulai "
            f"pukul {slots.fmt_time(opens)} pada hari itu.",
            code="checkin_too_early",
        )
    if now > closes:
        raise BalaiError(
            f"Terlambat: batas kedatangan janji temu {text} adalah pukul "
            f"{slots.fmt_time(closes)} ({slots.fmt_when(current.starts_at)}). "
            "Silakan ambil nomor antrean biasa di anjungan.",
            code="checkin_too_late",
        )
    ticket = take_ticket(
        actor=actor,
        lane=current.lane,
        appointment_code=current.code,
        application_id=current.application_id,
    )
    current.status = to
    current.ticket = ticket
    current.checked_in_at = now
    current.checked_in_by = actor.username[:150]
    current.save(
        update_fields=[
            "status",
            "ticket",
            "checked_in_at",
            "checked_in_by",
            "updated_at",
        ]
    )
    record(
        actor=actor,
        target=current,
        details={"code": current.code, "ticket": ticket.number},
    )
    return current


def _office_appointment(
    actor: Actor, appointment: Appointment | uuid.UUID | str
) -> Appointment:
    """A booking of the officer's own MPP, locked for the change. Another
    office's booking is answered as if it did not exist."""
    pk = _appointment_pk(appointment)
    found = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("office", "lane")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if found is None or not (actor.is_system or actor.office_code == found.office.code):
        raise NotFound("Janji temu tidak ditemukan.", code="appointment_not_found")
    if not actor.is_system:
        actor.require_role(*QUEUE_ROLES)
    return found


def clean_cancel_reason(reason: Any) -> str:
    """The officer's reason, on one line; refused when empty or too long."""
    text = " ".join(str(reason or "").split())
    if not text:
        raise BalaiError(
            "Tulis alasan pembatalan (misalnya: kantor tutup karena banjir). "
            "Alasan ini dikirim kepada warga.",
            code="cancel_reason_required",
        )
    if len(text) > CANCEL_REASON_MAX:
        raise BalaiError(
            f"Alasan pembatalan paling panjang {CANCEL_REASON_MAX} karakter "
            f"(tertulis {len(text)}).",
            code="cancel_reason_too_long",
        )
    return text


@action("antrian.appointment.office_cancel")
def cancel_appointment_for_office(
    *, actor: Actor, appointment: Appointment | uuid.UUID | str, reason: str
) -> Appointment:
    """An officer of the MPP cancels a booking with a reason (the office closes
    unexpectedly, the service is down); the citizen is told by message, with
    the reason. The place is free again. A booking already cancelled is left
    as it is (its first reason stands); a checked-in or missed one is refused."""
    current = _office_appointment(actor, appointment)
    text = clean_cancel_reason(reason)
    if current.status == AppointmentStatus.CANCELLED:
        return current
    notified = _cancel_for_office(
        actor, current, text, _citizen_account(current.citizen_id)
    )
    record(
        actor=actor,
        target=current,
        details={"code": current.code, "reason": text, "messages": notified},
    )
    return current


def _cancel_for_office(
    actor: Actor, current: Appointment, reason: str, user: Any
) -> int:
    """Cancel one locked booking for the office (the table decides) and tell
    the citizen (`user`, his account or None); return the messages queued.
    Not audited: the caller is."""
    current.status = workflow.next_appointment_status(
        AppointmentStep.OFFICE_CANCEL, current.status, code=current.code
    )
    current.cancelled_at = timezone.now()
    current.cancelled_by = actor.username[:150]
    current.cancel_reason = reason
    current.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancelled_by",
            "cancel_reason",
            "updated_at",
        ]
    )
    if user is None:
        log.warning("appointment %s: citizen account not here", current.code)
        return 0
    return _message_citizen(
        actor,
        user,
        OFFICE_CANCEL_TEMPLATE,
        {
            "kode": current.code,
            "kantor": current.office.name,
            "waktu": slots.fmt_when(current.starts_at),
            "alasan": reason,
        },
    )


@dataclass
class DayCancelled:
    """What cancelling an office's day did."""

    day: datetime.date
    codes: list[str] = field(default_factory=list)
    messages: int = 0


@action("antrian.appointment.office_cancel_day")
def cancel_office_day(
    *, actor: Actor, office: Office, day: datetime.date, reason: str
) -> DayCancelled:
    """An officer of the MPP cancels every booking of `day` that nobody has
    come for yet (the office closes: a flood, a power cut), with one reason
    sent to each citizen; one audit entry per booking. Checked-in, missed
    and cancelled bookings stay as they are, so a second run finds nothing
    left. A day already past is refused (its bookings are kept, or become
    missed)."""
    require_office(actor, office, *QUEUE_ROLES)
    text = clean_cancel_reason(reason)
    if day < today():
        raise BalaiError(
            f"Tanggal {day.strftime('%d-%m-%Y')} sudah lewat: janji temu hari "
            "yang sudah lewat tidak dibatalkan.",
            code="cancel_day_past",
        )
    changed = list(
        Appointment.objects.select_for_update(of=("self",))
        .select_related("office")
        .filter(office=office, day=day, status=AppointmentStatus.BOOKED)
        .order_by("starts_at", "code")
    )
    accounts = _citizen_accounts(changed)
    sent = [
        _cancel_for_office(actor, a, text, accounts.get(a.citizen_id)) for a in changed
    ]
    result = DayCancelled(day=day, codes=[a.code for a in changed], messages=sum(sent))
    if changed:
        record_many(
            actor=actor,
            targets=changed,
            details=[
                {
                    "code": a.code,
                    "day": day.isoformat(),
                    "reason": text,
                    "messages": n,
                }
                for a, n in zip(changed, sent, strict=True)
            ],
        )
    return result


def _slot_over(current: Appointment, now: datetime.datetime) -> bool:
    return now > slots.missed_after(current.starts_at, current.ends_at)


def _miss(actor: Actor, current: Appointment, now: datetime.datetime, user: Any) -> int:
    """Move one locked booking to missed (the table decides) and tell the
    citizen (`user`, his account or None) that his place is released;
    return the messages queued. Not audited: the caller is."""
    current.status = workflow.next_appointment_status(
        AppointmentStep.MISS, current.status, code=current.code
    )
    current.missed_at = now
    current.save(update_fields=["status", "missed_at", "updated_at"])
    if user is None:
        return 0
    return _message_citizen(
        actor,
        user,
        MISSED_TEMPLATE,
        {
            "kode": current.code,
            "kantor": current.office.name,
            "waktu": slots.fmt_when(current.starts_at),
        },
    )


@action("antrian.appointment.miss")
def mark_appointment_missed(
    *, actor: Actor, appointment: Appointment | uuid.UUID | str
) -> Appointment:
    """Mark one booking missed: its slot is over and nobody checked in. A
    missed booking stays missed (nothing more is written); a checked-in or
    cancelled one is refused, as is one whose check-in is still open."""
    current = _office_appointment(actor, appointment)
    if current.status == AppointmentStatus.MISSED:
        return current
    now = timezone.now()
    if current.status == AppointmentStatus.BOOKED and not _slot_over(current, now):
        closes = slots.missed_after(current.starts_at, current.ends_at)
        raise BalaiError(
            f"Janji temu {current.code} belum lewat: slotnya berakhir pukul "
            f"{slots.fmt_time(closes)} ({slots.fmt_when(current.starts_at)}).",
            code="appointment_not_over",
        )
    notified = _miss(actor, current, now, _citizen_account(current.citizen_id))
    record(
        actor=actor,
        target=current,
        details={"code": current.code, "messages": notified},
    )
    return current


@dataclass
class MissedRun:
    """What one run of the missed-booking job did."""

    missed: int = 0
    offices: list[str] = field(default_factory=list)


@action("antrian.appointment.mark_missed")
def mark_missed_appointments(
    *, actor: Actor, now: datetime.datetime | None = None, limit: int = 2000
) -> MissedRun:
    """The periodic job: every booking of an MPP this node serves whose slot
    is over without a check-in becomes missed (one audit entry each). A second
    run finds nothing left to do; a booking checked in meanwhile is skipped.
    Up to `limit` bookings a run (the next run takes the rest)."""
    if not actor.is_system:
        actor.require_role(*SETUP_ROLES)
    now = now or timezone.now()
    # Over = ended and check-in closed (slots.missed_after, as a filter).
    due = (
        Appointment.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("office")
        .filter(
            actor.scope_q("office__region_id"),
            status=AppointmentStatus.BOOKED,
            ends_at__lt=now,
            starts_at__lt=now - slots.CHECKIN_LATE,
        )
        .order_by("ends_at", "pk")
    )
    result = MissedRun()
    changed: list[Appointment] = []
    served: dict[Any, bool] = {}
    for current in due[:limit]:
        if current.office_id not in served:
            served[current.office_id] = node_serves(current.office)
        if not served[current.office_id]:
            continue
        changed.append(current)
        if current.office.code not in result.offices:
            result.offices.append(current.office.code)
    accounts = _citizen_accounts(changed)
    sent = [_miss(actor, a, now, accounts.get(a.citizen_id)) for a in changed]
    if changed:
        record_many(
            actor=actor,
            targets=changed,
            details=[
                {
                    "code": a.code,
                    "office": a.office.code,
                    "day": a.day.isoformat(),
                    "messages": n,
                }
                for a, n in zip(changed, sent, strict=True)
            ],
        )
    result.missed = len(changed)
    return result


def active_ticket(counter: Counter, day: datetime.date | None = None) -> Ticket | None:
    """The ticket a counter is calling or serving now."""
    return (
        Ticket.objects.filter(
            counter=counter,
            day=day or today(),
            status__in=workflow.ACTIVE_STATUSES,
        )
        .select_related("lane")
        .first()
    )


def status_from_events(ticket: Ticket) -> str | None:
    """Recompute a ticket's status from its events (the projection check)."""
    return workflow.project(
        ticket.events.order_by("seq").values_list("kind", flat=True)
    )


__all__: Sequence[str] = (
    "DEFAULT_LAYOUT",
    "book_appointment",
    "call_next",
    "cancel_appointment",
    "cancel_appointment_for_office",
    "cancel_office_day",
    "check_in_appointment",
    "configure_appointments",
    "ensure_queue_setup",
    "finish",
    "kiosk_actor",
    "link_application",
    "mark_appointment_missed",
    "mark_missed_appointments",
    "recall",
    "skip",
    "start_service",
    "take_ticket",
    "transfer",
)
