"""The SLA clock of an application: the calendar's pure rules fed with the
application's events, its office's hours and the regency's local holidays."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from balai.services import calendar as cal
from balai.services.models import Application, ApplicationEvent, LocalHoliday
from balai.services.workflow import COMPLETED, PAUSED


def regency_calendar() -> cal.Calendar:
    """Return the national calendar with the regency's active local holidays."""
    local = LocalHoliday.objects.filter(is_active=True).values_list("date", flat=True)
    return cal.national_calendar().with_local(local)


def pauses_of(events: Iterable[ApplicationEvent]) -> list[cal.Pause]:
    """Turn the events into the periods the clock stood still."""
    pauses: list[cal.Pause] = []
    open_at: datetime.datetime | None = None
    for event in sorted(events, key=lambda e: e.seq):
        if event.to_status in PAUSED and open_at is None:
            open_at = event.at
        elif event.to_status not in PAUSED and open_at is not None:
            pauses.append(cal.Pause(start=open_at, end=event.at))
            open_at = None
    if open_at is not None:
        pauses.append(cal.Pause(start=open_at, end=None))
    return pauses


def deadline_of(
    application: Application,
    events: Iterable[ApplicationEvent] | None = None,
    calendar: cal.Calendar | None = None,
) -> cal.Deadline | None:
    """Compute the application's deadline (None while its clock has not started)."""
    if application.clock_started_at is None:
        return None
    office = application.filed_office
    if events is None:
        events = list(application.events.all())
    return cal.compute_deadline(
        started_at=application.clock_started_at,
        limit_days=application.time_limit_days,
        pauses=pauses_of(events),
        hours=office.hours or {},
        calendar=calendar or regency_calendar(),
        works_on_cuti_bersama=office.works_on_cuti_bersama,
    )


def refresh(
    application: Application,
    events: list[ApplicationEvent] | None = None,
    calendar: cal.Calendar | None = None,
) -> list[str]:
    """Recompute the denormalised clock fields; return the fields changed.

    `calendar` saves the holidays query when many are refreshed at once."""
    deadline = deadline_of(application, events, calendar)
    wanted: dict = {}
    if deadline is None:
        wanted = {"due_date": None, "deadline_flagged": False, "deadline_note": ""}
    else:
        years = ", ".join(str(y) for y in deadline.uncovered_years)
        wanted = {
            # While paused the last running deadline is kept out of the way.
            "due_date": deadline.due,
            "deadline_flagged": deadline.flagged,
            "deadline_note": (
                f"Tanpa data libur nasional tahun {years}: batas waktu dihitung "
                "tanpa hari libur tahun itu dan perlu diperiksa."
                if deadline.flagged
                else ""
            ),
        }
    if application.status in COMPLETED and application.completed_at is None:
        wanted["completed_at"] = _last_completion(application, events)
    if application.completed_at or wanted.get("completed_at"):
        done = wanted.get("completed_at") or application.completed_at
        due = wanted["due_date"]
        wanted["on_time"] = None if due is None else cal.to_wita(done).date() <= due
    changed = []
    for field, value in wanted.items():
        if getattr(application, field) != value:
            setattr(application, field, value)
            changed.append(field)
    return changed


def _last_completion(application, events) -> datetime.datetime:
    for event in sorted(events or application.events.all(), key=lambda e: -e.seq):
        if event.to_status in COMPLETED:
            return event.at
    return application.updated_at


def working_days_left(
    application: Application, *, today: datetime.date, calendar: cal.Calendar
) -> int | None:
    """Working days from today to the due date (negative: days overdue)."""
    if application.due_date is None:
        return None
    office = application.filed_office
    options = {
        "calendar": calendar,
        "works_on_cuti_bersama": office.works_on_cuti_bersama,
    }
    if application.due_date >= today:
        return cal.working_days_after(today, application.due_date, **options)
    return -cal.working_days_after(application.due_date, today, **options)
