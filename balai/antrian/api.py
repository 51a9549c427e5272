"""API of the counter queue, under /api/v1/antrian/.

Public (per office code): take a number (kiosk clients, rate-limited per
address), a ticket's status, and the display data. Staff (counter officers of
the office): call next, recall, start, finish, skip, transfer, link an
application, and the day's statistics. Writes accept an `Idempotency-Key`.

Appointments: the free slots of an MPP's lane on a day (public); book, list
and cancel (the logged-in citizen); check a booking code in, list the
office's bookings of a day, and cancel one with a reason (queue officers of
the office).
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status

from balai.accounts.auth import (
    STAFF_AUTH,
    CitizenSession,
    StaffSession,
    StaffToken,
    api_actor,
)
from balai.antrian import actions, selectors
from balai.antrian import slots as slot_rules
from balai.antrian.models import Appointment, Counter, QueueLane, Ticket
from balai.antrian.ratelimit import check_kiosk_rate
from balai.core.errors import BalaiError, NotFound

router = Router(tags=["antrian"])


class StaffSessionIfAny(StaffSession):
    """The staff session, tried only when the request carries a session cookie.

    Ninja's cookie auth checks CSRF before it looks for the cookie, which would
    refuse every anonymous kiosk client (403) before `anonymous` is reached.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)


def anonymous(request: HttpRequest) -> str:
    """Let a caller without a staff login through, as the office's kiosk."""
    return "anonymous"


STAFF_OR_ANONYMOUS = [StaffToken(), StaffSessionIfAny(), anonymous]


def _key(request: HttpRequest) -> str | None:
    return request.headers.get("Idempotency-Key") or None


class ErrorOut(Schema):
    message: str
    code: str
    extra: dict


class TicketOut(Schema):
    id: uuid.UUID
    number: str
    office: str
    lane: str
    lane_name: str
    is_priority: bool
    status: str
    status_label: str
    day: datetime.date
    counter: str | None
    issued_at: datetime.datetime
    called_at: datetime.datetime | None
    application_id: uuid.UUID | None


def ticket_out(ticket: Ticket) -> dict:
    ticket = Ticket.objects.select_related("office", "lane", "counter").get(
        pk=ticket.pk
    )
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "office": ticket.office.code,
        "lane": ticket.lane.prefix,
        "lane_name": ticket.lane.name,
        "is_priority": ticket.is_priority,
        "status": ticket.status,
        "status_label": str(ticket.get_status_display()),
        "day": ticket.day,
        "counter": ticket.counter.name if ticket.counter else None,
        "issued_at": ticket.issued_at,
        "called_at": ticket.called_at,
        "application_id": ticket.application_id,
    }


class TicketStatusOut(TicketOut):
    ahead: int
    estimate_minutes: int | None


class TakeIn(Schema):
    lane: str  # the lane's letter ("A") or id


class CallOut(Schema):
    ticket: TicketOut | None


class TransferIn(Schema):
    to_counter: uuid.UUID | None = None
    to_lane: str | None = None  # letter or id
    note: str = ""


class LinkIn(Schema):
    application_id: uuid.UUID


class CallShown(Schema):
    number: str
    counter: str
    lane: str
    status: str
    called_at: datetime.datetime | None


class LaneShown(Schema):
    lane: str
    name: str
    is_priority: bool
    waiting: int
    counters: int
    mean_service_minutes: float
    estimate_minutes: int | None


class DisplayOut(Schema):
    office: str
    office_name: str
    now: datetime.datetime
    calls: list[CallShown]
    lanes: list[LaneShown]


class FiguresOut(Schema):
    count: int
    mean: float | None
    p90: float | None


class LaneStatsOut(Schema):
    lane: str
    issued: int
    done: int
    skipped: int
    waiting_now: int
    wait: FiguresOut


class CounterStatsOut(Schema):
    counter: str
    served: int
    wait: FiguresOut
    service: FiguresOut


class AppointmentFiguresOut(Schema):
    total: int
    booked: int
    checked_in: int
    missed: int
    cancelled: int
    cancelled_by_office: int


class StatsOut(Schema):
    office: str
    day: datetime.date
    issued: int
    done: int
    skipped: int
    wait: FiguresOut
    service: FiguresOut
    lanes: list[LaneStatsOut]
    counters: list[CounterStatsOut]
    appointments: AppointmentFiguresOut


def _lane(office, ref: str) -> QueueLane:
    qs = QueueLane.objects.filter(office=office)
    try:
        lane = qs.filter(pk=uuid.UUID(ref)).first()
    except ValueError:
        lane = qs.filter(prefix=ref.strip().upper()).first()
    if lane is None:
        raise NotFound("Jalur antrean tidak ditemukan.")
    return lane


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.post(
    "/offices/{office_code}/tickets",
    response={201: TicketOut, 429: ErrorOut, **ERRORS},
    auth=STAFF_OR_ANONYMOUS,
)
def take_ticket(request: HttpRequest, office_code: str, body: TakeIn):
    """Take a number in a lane (anonymous = the office's kiosk, rate-limited)."""
    office = selectors.public_office(office_code)
    if request.auth == "anonymous":
        check_kiosk_rate(request)
        actor = actions.kiosk_actor(office)
    else:
        actor = api_actor(request)
    ticket = actions.take_ticket(
        actor=actor, lane=_lane(office, body.lane), idempotency_key=_key(request)
    )
    return Status(201, ticket_out(ticket))


@router.get(
    "/tickets/{ticket_id}", response={200: TicketStatusOut, 404: ErrorOut}, auth=None
)
def ticket_status(request: HttpRequest, ticket_id: str):
    """Where a ticket stands: status, counter, people ahead, estimated wait."""
    place = selectors.ticket_place(ticket_id)
    return {
        **ticket_out(place.ticket),
        "ahead": place.ahead,
        "estimate_minutes": place.estimate_minutes,
    }


@router.get(
    "/offices/{office_code}/display",
    response={200: DisplayOut, 404: ErrorOut},
    auth=None,
)
def display(request: HttpRequest, office_code: str):
    """What the hall screen shows: the latest calls and each lane's wait."""
    screen = selectors.display(selectors.public_office(office_code))
    return {
        "office": screen.office.code,
        "office_name": screen.office.name,
        "now": screen.now,
        "calls": [
            {
                "number": t.number,
                "counter": t.counter.name if t.counter else "",
                "lane": t.lane.prefix,
                "status": t.status,
                "called_at": t.last_called_at,
            }
            for t in screen.calls
        ],
        "lanes": [
            {
                "lane": x.lane.prefix,
                "name": x.lane.name,
                "is_priority": x.lane.is_priority,
                "waiting": x.waiting,
                "counters": x.counters,
                "mean_service_minutes": x.mean_service_minutes,
                "estimate_minutes": x.estimate_minutes,
            }
            for x in screen.loads
        ],
    }


@router.post(
    "/counters/{counter_id}/call-next",
    response={200: CallOut, **ERRORS},
    auth=STAFF_AUTH,
)
def call_next(request: HttpRequest, counter_id: uuid.UUID):
    """Call the next ticket to a counter; `ticket` is null when nobody waits."""
    counter = Counter.objects.filter(pk=counter_id).first()
    if counter is None:
        raise NotFound("Loket tidak ditemukan.")
    ticket = actions.call_next(
        actor=api_actor(request), counter=counter, idempotency_key=_key(request)
    )
    return {"ticket": ticket_out(ticket) if ticket else None}


VERBS = {
    "recall": actions.recall,
    "start": actions.start_service,
    "finish": actions.finish,
    "skip": actions.skip,
}


@router.post(
    "/tickets/{ticket_id}/transfer",
    response={200: TicketOut, **ERRORS},
    auth=STAFF_AUTH,
)
def transfer(request: HttpRequest, ticket_id: uuid.UUID, body: TransferIn):
    """Send a ticket to another counter (`to_counter`) or lane (`to_lane`)."""
    actor = api_actor(request)
    ticket = actions.load_ticket_for(actor, ticket_id)
    to_counter = to_lane = None
    if body.to_counter:
        to_counter = Counter.objects.filter(pk=body.to_counter).first()
        if to_counter is None:
            raise NotFound("Loket tujuan tidak ditemukan.")
    if body.to_lane:
        to_lane = _lane(ticket.office, body.to_lane)
    result = actions.transfer(
        actor=actor,
        ticket=ticket,
        to_counter=to_counter,
        to_lane=to_lane,
        note=body.note,
        idempotency_key=_key(request),
    )
    return ticket_out(result)


@router.post(
    "/tickets/{ticket_id}/link", response={200: TicketOut, **ERRORS}, auth=STAFF_AUTH
)
def link(request: HttpRequest, ticket_id: uuid.UUID, body: LinkIn):
    """Record the application this visit opened or served."""
    result = actions.link_application(
        actor=api_actor(request),
        ticket=ticket_id,
        application_id=body.application_id,
        idempotency_key=_key(request),
    )
    return ticket_out(result)


@router.post(
    "/tickets/{ticket_id}/{verb}", response={200: TicketOut, **ERRORS}, auth=STAFF_AUTH
)
def act(request: HttpRequest, ticket_id: uuid.UUID, verb: str):
    """Move a ticket on: `recall`, `start`, `finish` or `skip`."""
    fn = VERBS.get(verb)
    if fn is None:
        raise BalaiError(
            "Aksi tidak dikenal. Gunakan: " + ", ".join(VERBS) + ".",
            code="verb_unknown",
            status_code=404,
        )
    result = fn(
        actor=api_actor(request), ticket=ticket_id, idempotency_key=_key(request)
    )
    return ticket_out(result)


@router.get(
    "/offices/{office_code}/stats", response={200: StatsOut, **ERRORS}, auth=STAFF_AUTH
)
def stats(request: HttpRequest, office_code: str, date: datetime.date | None = None):
    """Waiting and service times of a day (mean, p90, minutes), tickets per lane."""
    actor = api_actor(request)
    office = selectors.public_office(office_code)
    result = selectors.daily_stats(
        actor=actor, office=office, day=date or timezone.localdate()
    )

    def figures(f):
        return {"count": f.count, "mean": f.mean, "p90": f.p90}

    return {
        "office": office.code,
        "day": result.day,
        "issued": result.issued,
        "done": result.done,
        "skipped": result.skipped,
        "wait": figures(result.wait),
        "service": figures(result.service),
        "lanes": [
            {
                "lane": row.lane.prefix,
                "issued": row.issued,
                "done": row.done,
                "skipped": row.skipped,
                "waiting_now": row.waiting_now,
                "wait": figures(row.wait),
            }
            for row in result.lanes
        ],
        "counters": [
            {
                "counter": row.counter.name,
                "served": row.served,
                "wait": figures(row.wait),
                "service": figures(row.service),
            }
            for row in result.counters
        ],
        "appointments": vars(result.appointments),
    }


# --- Appointments (janji temu) -------------------------------------------------------

CITIZEN_AUTH = [CitizenSession()]


class SlotOut(Schema):
    start: datetime.datetime
    end: datetime.datetime
    capacity: int
    left: int


class SlotsOut(Schema):
    office: str
    lane: str
    lane_name: str
    date: datetime.date
    working_day: bool
    bookable: bool
    slots: list[SlotOut]


class BookIn(Schema):
    office: str  # the MPP's code
    lane: str  # the lane's letter or id
    start: str  # the slot's start, ISO 8601 (WITA when no offset is given)
    application_id: uuid.UUID | None = None


class AppointmentOut(Schema):
    id: uuid.UUID
    code: str
    office: str
    office_name: str
    lane: str
    lane_name: str
    start: datetime.datetime
    end: datetime.datetime
    status: str
    status_label: str
    application_id: uuid.UUID | None
    ticket: TicketOut | None
    cancelled_at: datetime.datetime | None
    cancel_reason: str  # the office's reason; empty when the citizen cancelled


class CheckInIn(Schema):
    code: str


class OfficeCancelIn(Schema):
    reason: str = ""


class OfficeCancelDayIn(Schema):
    date: datetime.date
    reason: str = ""


class OfficeCancelDayOut(Schema):
    date: datetime.date
    cancelled: list[str]
    messages: int


class OfficeAppointmentOut(Schema):
    id: uuid.UUID
    code: str
    lane: str
    lane_name: str
    start: datetime.datetime
    end: datetime.datetime
    status: str
    status_label: str
    citizen_name: str
    purpose: str
    ticket_number: str | None
    cancel_reason: str


def appointment_out(appointment: Appointment) -> dict:
    a = Appointment.objects.select_related("office", "lane", "ticket").get(
        pk=appointment.pk
    )
    return {
        "id": a.pk,
        "code": a.code,
        "office": a.office.code,
        "office_name": a.office.name,
        "lane": a.lane.prefix,
        "lane_name": a.lane.name,
        "start": a.starts_at,
        "end": a.ends_at,
        "status": a.status,
        "status_label": str(a.get_status_display()),
        "application_id": a.application_id,
        "ticket": ticket_out(a.ticket) if a.ticket_id else None,
        "cancelled_at": a.cancelled_at,
        "cancel_reason": a.cancel_reason,
    }


@router.get(
    "/offices/{office_code}/appointment-slots",
    response={200: SlotsOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
)
def appointment_slots(request: HttpRequest, office_code: str, lane: str, date: str):
    """The slots of a lane on a day still to come, with the places left (a
    full slot has `left` 0). No slots on a day off or outside the window."""
    office = selectors.public_office(office_code)
    found = selectors.bookable_lane(office, lane)
    result = selectors.free_slots(office, found, selectors.parse_day(date))
    return {
        "office": office.code,
        "lane": found.prefix,
        "lane_name": found.name,
        "date": result.day,
        "working_day": result.working_day,
        "bookable": result.working_day and result.in_window,
        "slots": [
            {
                "start": x.starts_at,
                "end": x.ends_at,
                "capacity": x.capacity,
                "left": x.left,
            }
            for x in result.slots
        ],
    }


@router.post(
    "/appointments", response={201: AppointmentOut, **ERRORS}, auth=CITIZEN_AUTH
)
def book_appointment(request: HttpRequest, body: BookIn):
    """Book a place in a slot (a verified citizen; one booking a day)."""
    office = selectors.public_office(body.office)
    lane = selectors.bookable_lane(office, body.lane)
    start = slot_rules.parse_start(body.start)
    if start is None:
        raise BalaiError(
            "Waktu janji temu tidak valid; tulis seperti 2026-03-02T10:00+08:00.",
            code="slot_invalid",
        )
    appointment = actions.book_appointment(
        actor=api_actor(request),
        office=office,
        lane=lane,
        starts_at=start,
        application_id=body.application_id,
        idempotency_key=_key(request),
    )
    return Status(201, appointment_out(appointment))


@router.get(
    "/appointments", response={200: list[AppointmentOut], **ERRORS}, auth=CITIZEN_AUTH
)
def my_appointments(request: HttpRequest):
    """The citizen's bookings, the latest first."""
    rows = selectors.my_appointments(actor=api_actor(request))[:100]
    return [appointment_out(a) for a in rows]


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **ERRORS},
    auth=CITIZEN_AUTH,
)
def cancel_appointment(request: HttpRequest, appointment_id: uuid.UUID):
    """Cancel one's booking before its slot starts."""
    appointment = actions.cancel_appointment(
        actor=api_actor(request),
        appointment=appointment_id,
        idempotency_key=_key(request),
    )
    return appointment_out(appointment)


@router.post(
    "/offices/{office_code}/appointment-check-in",
    response={200: AppointmentOut, **ERRORS},
    auth=STAFF_AUTH,
)
def check_in(request: HttpRequest, office_code: str, body: CheckInIn):
    """A booking code at arrival: the queue ticket of the booking (the same
    one when checked in again)."""
    office = selectors.public_office(office_code)
    appointment = actions.check_in_appointment(
        actor=api_actor(request),
        office=office,
        code=body.code,
        idempotency_key=_key(request),
    )
    return appointment_out(appointment)


@router.get(
    "/offices/{office_code}/appointments",
    response={200: list[OfficeAppointmentOut], **ERRORS},
    auth=STAFF_AUTH,
)
def office_appointments(
    request: HttpRequest, office_code: str, date: datetime.date | None = None
):
    """The office's bookings of a day (today by default), for its queue officers."""
    office = selectors.public_office(office_code)
    rows = selectors.office_appointments(
        actor=api_actor(request), office=office, day=date or timezone.localdate()
    )
    return [
        {
            "id": a.pk,
            "code": a.code,
            "lane": a.lane.prefix,
            "lane_name": a.lane.name,
            "start": a.starts_at,
            "end": a.ends_at,
            "status": a.status,
            "status_label": str(a.get_status_display()),
            "citizen_name": a.citizen_name,
            "purpose": a.purpose,
            "ticket_number": a.ticket.number if a.ticket_id else None,
            "cancel_reason": a.cancel_reason,
        }
        for a in rows
    ]


@router.post(
    "/offices/{office_code}/appointments/cancel-day",
    response={200: OfficeCancelDayOut, **ERRORS},
    auth=STAFF_AUTH,
)
def office_cancel_day(request: HttpRequest, office_code: str, body: OfficeCancelDayIn):
    """A queue officer of the MPP cancels every booking of `date` nobody has
    come for yet, with one `reason` sent to each citizen; `cancelled` lists
    their codes. Repeating the call cancels nothing more (`cancelled` is
    then empty). A past day is refused (400)."""
    office = selectors.public_office(office_code)
    done = actions.cancel_office_day(
        actor=api_actor(request),
        office=office,
        day=body.date,
        reason=body.reason,
    )
    return {"date": done.day, "cancelled": done.codes, "messages": done.messages}


@router.post(
    "/appointments/{appointment_id}/missed",
    response={200: AppointmentOut, **ERRORS},
    auth=STAFF_AUTH,
)
def office_mark_missed(request: HttpRequest, appointment_id: uuid.UUID):
    """A queue officer of the booking's MPP marks it missed: its slot is over
    and nobody checked in (before the periodic job does). A slot not over is
    refused (400), a checked-in or cancelled booking too (409)."""
    appointment = actions.mark_appointment_missed(
        actor=api_actor(request),
        appointment=appointment_id,
        idempotency_key=_key(request),
    )
    return appointment_out(appointment)


@router.post(
    "/appointments/{appointment_id}/office-cancel",
    response={200: AppointmentOut, **ERRORS},
    auth=STAFF_AUTH,
)
def office_cancel(
    request: HttpRequest, appointment_id: uuid.UUID, body: OfficeCancelIn
):
    """A queue officer of the booking's MPP cancels it with a `reason` (sent to
    the citizen). Checked-in and missed bookings are refused (409)."""
    appointment = actions.cancel_appointment_for_office(
        actor=api_actor(request),
        appointment=appointment_id,
        reason=body.reason,
        idempotency_key=_key(request),
    )
    return appointment_out(appointment)
