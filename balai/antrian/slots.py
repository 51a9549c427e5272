"""Appointment slots of an MPP: computed, never stored.

A day has slots when it is a working day of the office (the WITA working-day
calendar of `balai.services`: weekends, national and local holidays, cuti
bersama unless the office works on it) within the booking window (today to
`days_ahead`). Slots follow the office's hours (`Office.hours`, the Friday
prayer break included): from each opening, one every `slot_minutes`, the last
one ending by the closing.

The calendar is read through a lazy import: `services` already reaches into
`antrian` (linking a ticket to an application), so importing it at module
load would make a cycle; the calendar itself is pure functions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from balai.antrian.models import AppointmentSettings, QueueLane
from balai.core.dates import WEEKDAYS, long_date
from balai.regions.models import Office

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Check-in at arrival: from half an hour before the slot to a quarter after.
CHECKIN_EARLY = datetime.timedelta(minutes=30)
CHECKIN_LATE = datetime.timedelta(minutes=15)


def missed_after(
    starts_at: datetime.datetime, ends_at: datetime.datetime
) -> datetime.datetime:
    """When a booking not checked in becomes missed: its slot has ended and
    check-in has closed (a slot shorter than the late check-in waits for it)."""
    return max(ends_at, starts_at + CHECKIN_LATE)


# Limits of what a service admin may set (also checked by the database).
SLOT_MINUTES_RANGE = (5, 240)
CAPACITY_RANGE = (1, 100)
DAYS_AHEAD_RANGE = (1, 90)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int
    taken: int = 0

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def key(self) -> str:
        """The slot's start as sent by forms and the API (local ISO time)."""
        return timezone.localtime(self.starts_at).isoformat(timespec="minutes")


def settings_for(office: Office) -> AppointmentSettings:
    """The office's appointment settings, or the defaults (unsaved) if none."""
    found = AppointmentSettings.objects.filter(office=office).first()
    return found if found is not None else AppointmentSettings(office=office)


def working_calendar():
    """The regency's working-day calendar (national + local holidays)."""
    from balai.services.sla import regency_calendar

    return regency_calendar()


def is_working_day(office: Office, day: datetime.date, calendar=None) -> bool:
    from balai.services.calendar import is_working_day as working

    return working(
        day,
        calendar=calendar if calendar is not None else working_calendar(),
        works_on_cuti_bersama=office.works_on_cuti_bersama,
    )


def _hm(text: str) -> datetime.time:
    hour, minute = str(text).split(":")
    return datetime.time(int(hour), int(minute))


def slot_times(
    office: Office, day: datetime.date, slot_minutes: int
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Every slot of a day by the office's hours (no calendar check)."""
    spans = (office.hours or {}).get(WEEKDAY_KEYS[day.weekday()]) or []
    step = datetime.timedelta(minutes=slot_minutes)
    tz = timezone.get_current_timezone()
    result = []
    for span in spans:
        start = datetime.datetime.combine(day, _hm(span[0]), tzinfo=tz)
        end = datetime.datetime.combine(day, _hm(span[1]), tzinfo=tz)
        while start + step <= end:
            result.append((start, start + step))
            start += step
    return result


def booking_window(
    conf: AppointmentSettings, now: datetime.datetime | None = None
) -> tuple[datetime.date, datetime.date]:
    first = timezone.localdate(now or timezone.now())
    return first, first + datetime.timedelta(days=conf.days_ahead)


def bookable_days(
    office: Office,
    conf: AppointmentSettings | None = None,
    now: datetime.datetime | None = None,
) -> list[datetime.date]:
    """Working days in the booking window that still have a slot to come."""
    conf = conf or settings_for(office)
    if not conf.is_enabled:
        return []
    now = now or timezone.now()
    first, last = booking_window(conf, now)
    calendar = working_calendar()
    days = []
    day = first
    while day <= last:
        if is_working_day(office, day, calendar) and any(
            start > now for start, _end in slot_times(office, day, conf.slot_minutes)
        ):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def bookable_lanes(office: Office):
    """The lanes a citizen may book: active service groups (not the priority
    lane, which serves whoever needs it on the day)."""
    return QueueLane.objects.filter(
        office=office, is_active=True, is_priority=False
    ).order_by("sort_order", "prefix")


def parse_start(raw: str) -> datetime.datetime | None:
    """A slot start from a form or the API: ISO date and time, local if naive."""
    try:
        value = datetime.datetime.fromisoformat(str(raw).strip())
    except ValueError:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def fmt_time(moment: datetime.datetime) -> str:
    """`10.30` (the Indonesian way of writing a time)."""
    return timezone.localtime(moment).strftime("%H.%M")


def fmt_when(moment: datetime.datetime) -> str:
    """`Senin, 2 Maret 2026 pukul 10.30` for messages."""
    local = timezone.localtime(moment)
    return f"{WEEKDAYS[local.weekday()]}, {long_date(local.date())} pukul {local:%H.%M}"
