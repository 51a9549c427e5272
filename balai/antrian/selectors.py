"""Reads of the counter queue: the public display and kiosk, a ticket's place in
line, the officer's console, and the daily statistics.

Display, kiosk and ticket status are public (no personal data: a number and a
lane). The console and the statistics are scoped to the actor's office.
"""

from __future__ import annotations

import datetime
import math
import re
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from balai.antrian import slots as slot_rules
from balai.antrian.actions import active_ticket, require_office, today
from balai.antrian.models import (
    ACTIVE_APPOINTMENT,
    Appointment,
    AppointmentSettings,
    Counter,
    QueueLane,
    Ticket,
    TicketEvent,
)
from balai.antrian.workflow import AppointmentStatus as A
from balai.antrian.workflow import TicketEventKind as E
from balai.antrian.workflow import TicketStatus as S
from balai.core.actors import Actor
from balai.core.errors import BalaiError, NotFound, PermissionDenied
from balai.regions.models import Office, OfficeKind

STATS_ROLES = (
    "counter_officer",
    "registry_officer",
    "leader",
    "service_admin",
    "auditor",
    "sysadmin",
)


def public_office(code: str) -> Office:
    """An active MPP by its code, for the public kiosk and display."""
    office = (
        Office.objects.select_related("region")
        .filter(code=code, kind=OfficeKind.MPP, is_active=True)
        .first()
    )
    if office is None:
        raise NotFound("Mal Pelayanan Publik dengan kode ini tidak ditemukan.")
    return office


def queue_offices() -> QuerySet[Office]:
    """MPPs that have at least one active lane (for the public index)."""
    return (
        Office.objects.filter(
            kind=OfficeKind.MPP, is_active=True, queue_lanes__is_active=True
        )
        .distinct()
        .order_by("code")
    )


def lanes(office: Office) -> QuerySet[QueueLane]:
    return QueueLane.objects.filter(office=office, is_active=True).order_by(
        "sort_order", "prefix"
    )


def counters(office: Office) -> QuerySet[Counter]:
    return (
        Counter.objects.filter(office=office, is_active=True)
        .prefetch_related("lanes")
        .order_by("number")
    )


# --- Service segments (shared by estimates and statistics) ------------------------


@dataclass
class Segment:
    """One stretch of service at one counter: started → finished/transferred."""

    ticket_id: uuid.UUID
    lane_id: uuid.UUID
    counter_id: uuid.UUID | None
    minutes: float


def _service_segments(events: Iterable[TicketEvent]) -> list[Segment]:
    segments = []
    open_at: dict[uuid.UUID, TicketEvent] = {}
    for ev in events:
        if ev.kind == E.STARTED:
            open_at[ev.ticket_id] = ev
        elif ev.kind in (E.FINISHED, E.TRANSFERRED) and ev.ticket_id in open_at:
            start = open_at.pop(ev.ticket_id)
            if start.to_status != S.SERVING:
                continue
            segments.append(
                Segment(
                    ticket_id=ev.ticket_id,
                    lane_id=start.lane_id or start.ticket.lane_id,
                    counter_id=start.counter_id,
                    minutes=(ev.at - start.at).total_seconds() / 60,
                )
            )
    return segments


def _day_events(office: Office, day: datetime.date) -> list[TicketEvent]:
    return list(
        TicketEvent.objects.filter(ticket__office=office, ticket__day=day)
        .select_related("ticket")
        .order_by("at", "seq")
    )


# --- Estimates --------------------------------------------------------------------


@dataclass
class LaneLoad:
    lane: QueueLane
    waiting: int
    counters: int
    mean_service_minutes: float
    from_today: bool
    estimate_minutes: int | None = None


def estimate_minutes(*, ahead: int, mean_service: float, counters: int) -> int:
    """Waiting time for someone with `ahead` people before him: today's mean
    service time × people ahead, shared among the counters calling the lane."""
    if ahead <= 0:
        return 0
    return math.ceil(mean_service * ahead / max(counters, 1))


def lane_loads(office: Office, *, day: datetime.date | None = None) -> list[LaneLoad]:
    """Per lane: people waiting, counters calling it, today's mean service time
    (the lane's usual time until the first service of the day), and the wait."""
    day = day or today()
    segments = _service_segments(_day_events(office, day))
    by_lane: dict[uuid.UUID, list[float]] = defaultdict(list)
    for seg in segments:
        by_lane[seg.lane_id].append(seg.minutes)
    waiting = dict(
        Ticket.objects.filter(
            office=office, day=day, status__in=(S.WAITING, S.TRANSFERRED)
        )
        .values_list("lane_id")
        .annotate(n=Count("pk"))
    )
    staffed = dict(
        Counter.objects.filter(office=office, is_active=True, lanes__isnull=False)
        .values_list("lanes")
        .annotate(n=Count("pk"))
    )
    loads = []
    for lane in lanes(office):
        times = by_lane.get(lane.pk, [])
        mean = statistics.fmean(times) if times else float(lane.typical_service_minutes)
        load = LaneLoad(
            lane=lane,
            waiting=waiting.get(lane.pk, 0),
            counters=staffed.get(lane.pk, 0),
            mean_service_minutes=round(mean, 1),
            from_today=bool(times),
        )
        load.estimate_minutes = estimate_minutes(
            ahead=load.waiting, mean_service=mean, counters=load.counters
        )
        loads.append(load)
    return loads


@dataclass
class TicketPlace:
    ticket: Ticket
    ahead: int
    estimate_minutes: int | None
    counter_name: str = ""


def ticket_place(ticket_id: uuid.UUID | str) -> TicketPlace:
    """Where a ticket stands: people ahead in its lane and the estimated wait."""
    try:
        pk = uuid.UUID(str(ticket_id))
    except ValueError as exc:
        raise NotFound("Nomor antrean tidak ditemukan.") from exc
    ticket = (
        Ticket.objects.select_related("office", "lane", "counter").filter(pk=pk).first()
    )
    if ticket is None:
        raise NotFound("Nomor antrean tidak ditemukan.")
    ahead, estimate = 0, None
    if ticket.status in (S.WAITING, S.TRANSFERRED) and ticket.day == today():
        # Called before him: the same kind issued earlier, and any priority ticket.
        same_kind = Q(is_priority=ticket.is_priority)
        ahead_of = same_kind & (
            Q(issued_at__lt=ticket.issued_at)
            | Q(issued_at=ticket.issued_at, pk__lt=ticket.pk)
        )
        if not ticket.is_priority:
            ahead_of |= Q(is_priority=True)
        ahead = (
            Ticket.objects.filter(
                lane=ticket.lane,
                day=ticket.day,
                status__in=(S.WAITING, S.TRANSFERRED),
            )
            .filter(ahead_of)
            .count()
        )
        load = next(
            (
                x
                for x in lane_loads(ticket.office, day=ticket.day)
                if x.lane == ticket.lane
            ),
            None,
        )
        if load is not None:
            estimate = estimate_minutes(
                ahead=ahead,
                mean_service=load.mean_service_minutes,
                counters=load.counters,
            )
    return TicketPlace(
        ticket=ticket,
        ahead=ahead,
        estimate_minutes=estimate,
        counter_name=ticket.counter.name if ticket.counter else "",
    )


# --- Public display -----------------------------------------------------------------


@dataclass
class Display:
    office: Office
    now: datetime.datetime
    calls: list[Ticket]
    loads: list[LaneLoad]


def display(office: Office, *, latest: int = 8) -> Display:
    """What the hall screen shows: the latest calls and each lane's wait."""
    now = timezone.now()
    day = today(now)
    calls = list(
        Ticket.objects.filter(office=office, day=day, status__in=(S.CALLED, S.SERVING))
        .select_related("counter", "lane")
        .order_by("-last_called_at")[:latest]
    )
    return Display(
        office=office, now=now, calls=calls, loads=lane_loads(office, day=day)
    )


# --- Officer console ----------------------------------------------------------------


@dataclass
class Console:
    office: Office
    counters: list[Counter]
    counter: Counter | None
    current: Ticket | None
    waiting: list[Ticket]
    loads: list[LaneLoad]
    lanes: list[QueueLane] = field(default_factory=list)


def console(*, actor: Actor, office: Office, counter_id: str | None) -> Console:
    """The officer's view of his office's queue, at the counter he chose."""
    require_office(actor, office)
    all_counters = list(counters(office))
    chosen = next((c for c in all_counters if str(c.pk) == str(counter_id)), None)
    day = today()
    current = active_ticket(chosen, day) if chosen else None
    waiting_qs = Ticket.objects.filter(
        office=office, day=day, status__in=(S.WAITING, S.TRANSFERRED)
    ).select_related("lane", "counter")
    if chosen is not None:
        lane_ids = [lane.pk for lane in chosen.lanes.all()]
        waiting_qs = waiting_qs.filter(
            Q(lane_id__in=lane_ids, counter__isnull=True) | Q(counter=chosen)
        )
    waiting = list(waiting_qs.order_by("-is_priority", "issued_at", "pk")[:30])
    return Console(
        office=office,
        counters=all_counters,
        counter=chosen,
        current=current,
        waiting=waiting,
        loads=lane_loads(office, day=day),
        lanes=list(lanes(office)),
    )


_TICKET_NUMBER = re.compile(r"^([A-Z]{1,2})-?0*(\d{1,4})$")


def normalize_ticket_number(raw: str) -> str:
    """`a3`, `A 003`, `A-003` -> `A-003` (the printed form); else the text as typed."""
    text = (raw or "").strip().upper().replace(" ", "")
    match = _TICKET_NUMBER.match(text)
    if match is None:
        return text
    return f"{match.group(1)}-{int(match.group(2)):03d}"


def ticket_today(actor: Actor, number: str) -> Ticket:
    """A ticket of today (WITA) at the actor's own office, by its number."""
    text = normalize_ticket_number(number)
    office = Office.objects.filter(code=actor.office_code).first()
    found = (
        Ticket.objects.filter(office=office, day=today(), number=text)
        .select_related("office", "lane", "counter")
        .first()
        if office is not None and _TICKET_NUMBER.match(text)
        else None
    )
    if found is None:
        raise NotFound(
            f"Nomor antrean {text or '-'} tidak ada hari ini di kantor Anda.",
            code="ticket_not_found",
        )
    require_office(actor, found.office)
    return found


def office_for_actor(actor: Actor) -> Office:
    """The MPP an officer works at (his acting office)."""
    office = Office.objects.filter(code=actor.office_code).first()
    if office is None or office.kind != OfficeKind.MPP:
        raise NotFound(
            "Anda tidak ditugaskan di Mal Pelayanan Publik; antrean tidak tersedia.",
            code="no_queue_office",
        )
    return office


# --- Daily statistics ----------------------------------------------------------------


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


@dataclass
class Figures:
    """Mean and 90th percentile of a set of durations, in minutes."""

    count: int
    mean: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Figures:
        return cls(
            count=len(values),
            mean=round(statistics.fmean(values), 1) if values else None,
            p90=round(p90(values), 1) if values else None,
        )


@dataclass
class LaneStats:
    lane: QueueLane
    issued: int
    done: int
    skipped: int
    waiting_now: int
    wait: Figures


@dataclass
class CounterStats:
    counter: Counter
    served: int
    wait: Figures
    service: Figures


@dataclass
class AppointmentFigures:
    """A day's bookings at one office by where they ended up: still booked,
    checked in, missed (slot over, nobody came), cancelled (by the citizen or,
    `cancelled_by_office` of them, by an officer)."""

    total: int = 0
    booked: int = 0
    checked_in: int = 0
    missed: int = 0
    cancelled: int = 0
    cancelled_by_office: int = 0


@dataclass
class OfficeStats:
    office: Office
    day: datetime.date
    issued: int
    done: int
    skipped: int
    wait: Figures
    service: Figures
    lanes: list[LaneStats]
    counters: list[CounterStats]
    appointments: AppointmentFigures = field(default_factory=AppointmentFigures)


def stats_offices(actor: Actor) -> QuerySet[Office]:
    """The MPPs whose statistics the actor may read."""
    actor.require_role(*STATS_ROLES)
    qs = Office.objects.filter(kind=OfficeKind.MPP, is_active=True).order_by("code")
    return qs.filter(actor.scope_q("region__code"))


def appointment_figures(office: Office, day: datetime.date) -> AppointmentFigures:
    """Count an office's bookings of one day by status (one grouped query)."""
    rows = (
        Appointment.objects.filter(office=office, day=day)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), by_office=Count("pk", filter=~Q(cancel_reason="")))
    )
    figures = AppointmentFigures()
    for row in rows:
        figures.total += row["n"]
        if row["status"] in (A.BOOKED, A.CHECKED_IN, A.MISSED, A.CANCELLED):
            setattr(figures, row["status"], row["n"])
        if row["status"] == A.CANCELLED:
            figures.cancelled_by_office = row["by_office"]
    return figures


def daily_stats(*, actor: Actor, office: Office, day: datetime.date) -> OfficeStats:
    """Waiting times (taken → first call) and service times (start → finish, per
    stretch at a counter) for one office on one day, per office, lane and
    counter: mean and 90th percentile, in minutes; tickets per lane; the day's
    bookings by status (booked, checked in, missed, cancelled)."""
    actor.require_role(*STATS_ROLES)
    actor.require_covers(office.region_id)
    tickets = list(Ticket.objects.filter(office=office, day=day))
    events = _day_events(office, day)
    first_call: dict[uuid.UUID, TicketEvent] = {}
    for ev in events:
        if ev.kind == E.CALLED and ev.ticket_id not in first_call:
            first_call[ev.ticket_id] = ev
    waits: dict[uuid.UUID, float] = {}
    for t in tickets:
        call = first_call.get(t.pk)
        if call is not None:
            waits[t.pk] = (call.at - t.issued_at).total_seconds() / 60
    segments = _service_segments(events)

    lane_rows = []
    for lane in QueueLane.objects.filter(office=office).order_by(
        "sort_order", "prefix"
    ):
        mine = [t for t in tickets if t.issued_lane_id == lane.pk]
        lane_rows.append(
            LaneStats(
                lane=lane,
                issued=len(mine),
                done=sum(t.status == S.DONE for t in mine),
                skipped=sum(t.status == S.SKIPPED for t in mine),
                waiting_now=sum(t.status in (S.WAITING, S.TRANSFERRED) for t in mine),
                wait=Figures.of([waits[t.pk] for t in mine if t.pk in waits]),
            )
        )
    counter_rows = []
    for counter in Counter.objects.filter(office=office).order_by("number"):
        served = [s.minutes for s in segments if s.counter_id == counter.pk]
        called_here = [
            waits[tid] for tid, ev in first_call.items() if ev.counter_id == counter.pk
        ]
        counter_rows.append(
            CounterStats(
                counter=counter,
                served=len(served),
                wait=Figures.of(called_here),
                service=Figures.of(served),
            )
        )
    return OfficeStats(
        office=office,
        day=day,
        issued=len(tickets),
        done=sum(t.status == S.DONE for t in tickets),
        skipped=sum(t.status == S.SKIPPED for t in tickets),
        wait=Figures.of(list(waits.values())),
        service=Figures.of([s.minutes for s in segments]),
        lanes=lane_rows,
        counters=counter_rows,
        appointments=appointment_figures(office, day),
    )


# --- Appointments (janji temu) -----------------------------------------------------

SETUP_ROLES = ("service_admin", "sysadmin")


def appointment_offices() -> list[Office]:
    """MPPs taking appointments: a bookable lane, and not switched off."""
    off = AppointmentSettings.objects.filter(is_enabled=False).values("office_id")
    return list(
        Office.objects.filter(
            kind=OfficeKind.MPP,
            is_active=True,
            queue_lanes__is_active=True,
            queue_lanes__is_priority=False,
        )
        .exclude(pk__in=off)
        .distinct()
        .order_by("name")
    )


@dataclass
class DaySlots:
    office: Office
    lane: QueueLane
    day: datetime.date
    working_day: bool
    in_window: bool
    slots: list[slot_rules.Slot]


def free_slots(
    office: Office,
    lane: QueueLane,
    day: datetime.date,
    *,
    now: datetime.datetime | None = None,
) -> DaySlots:
    """A lane's slots of one day still to come, with places left (full ones
    included, at 0). None on a day off or outside the booking window."""
    now = now or timezone.now()
    conf = slot_rules.settings_for(office)
    first, last = slot_rules.booking_window(conf, now)
    in_window = conf.is_enabled and first <= day <= last
    working = slot_rules.is_working_day(office, day)
    result = DaySlots(office, lane, day, working, in_window, [])
    if not (in_window and working):
        return result
    times = [
        (start, end)
        for start, end in slot_rules.slot_times(office, day, conf.slot_minutes)
        if start > now
    ]
    taken = dict(
        Appointment.objects.filter(lane=lane, day=day)
        .filter(ACTIVE_APPOINTMENT)
        .order_by()
        .values("starts_at")
        .annotate(n=Count("pk"))
        .values_list("starts_at", "n")
    )
    result.slots = [
        slot_rules.Slot(start, end, conf.capacity, taken.get(start, 0))
        for start, end in times
    ]
    return result


def bookable_lane(office: Office, ref: str) -> QueueLane:
    """A bookable lane of an office by id or letter."""
    qs = slot_rules.bookable_lanes(office)
    text = (ref or "").strip()
    try:
        lane = qs.filter(pk=uuid.UUID(text)).first()
    except ValueError:
        lane = qs.filter(prefix=text.upper()).first() if text else None
    if lane is None:
        raise NotFound(
            "Jenis layanan (jalur) ini tidak tersedia untuk janji temu.",
            code="lane_not_found",
        )
    return lane


def parse_day(raw: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat((raw or "").strip())
    except ValueError:
        raise BalaiError(
            "Tanggal tidak valid; tulis sebagai TTTT-BB-HH, misalnya 2026-03-02.",
            code="date_invalid",
        ) from None


def my_appointments(*, actor: Actor) -> QuerySet[Appointment]:
    """The citizen's bookings, the coming ones first."""
    if not actor.is_citizen:
        raise PermissionDenied("Halaman ini untuk akun warga.")
    return (
        Appointment.objects.filter(citizen_id=actor.user_id)
        .select_related("office", "lane", "ticket")
        .order_by("-starts_at")
    )


def citizen_applications(*, actor: Actor) -> list:
    """The citizen's applications still open, to book a visit for one (services
    is read lazily: it imports this app)."""
    from balai.services import workflow as service_workflow
    from balai.services.selectors import my_applications as applications

    return list(applications(actor=actor).filter(status__in=service_workflow.OPEN)[:50])


def office_appointments(
    *, actor: Actor, office: Office, day: datetime.date | None = None
) -> QuerySet[Appointment]:
    """An office's bookings of a day, for the officers of that office."""
    require_office(actor, office)
    return (
        Appointment.objects.filter(office=office, day=day or today())
        .select_related("lane", "ticket")
        .order_by("starts_at", "place")
    )


def settings_offices(actor: Actor) -> QuerySet[Office]:
    """MPPs whose appointment settings the actor may change."""
    actor.require_role(*SETUP_ROLES)
    return Office.objects.filter(
        actor.scope_q("region_id"), kind=OfficeKind.MPP, is_active=True
    ).order_by("name")
