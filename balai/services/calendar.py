"""Working days on the WITA calendar: pure functions, no database.

A day is a working day unless it is a Saturday or Sunday, a national holiday,
a local holiday of the regency, or a *cuti bersama* day (unless the office
works on cuti bersama). The national calendar comes from
`data/libur_nasional.csv` (SKB of three ministers, 2024 to 2027); a year the
calendar does not cover is *unknown*, not free of holidays: a deadline that
reaches into it is computed with weekends (and local days) only and flagged.

Deadline rules (docs/decisions/0005-services-workflow.md):
- Day 0 is the day of submission when it is made on a working day within the
  office's hours (the Friday prayer break is outside them); otherwise day 0 is
  the next working day.
- The deadline is the N-th working day after day 0, for a limit of N days.
- The clock stops while the application waits on the applicant: the day a
  revision is requested counts as used, and the clock restarts the way it
  starts (the day of the resubmission is a new day 0 if it is made within
  hours). A deadline already passed when the clock stopped stays passed.
"""

from __future__ import annotations

import csv
import datetime
import functools
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

WITA = zoneinfo.ZoneInfo("Asia/Makassar")
CALENDAR_CSV = Path(__file__).resolve().parent / "data" / "libur_nasional.csv"

NATIONAL = "libur_nasional"
CUTI_BERSAMA = "cuti_bersama"
LOCAL = "lokal"
KINDS = frozenset({NATIONAL, CUTI_BERSAMA})

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A deadline is never searched further than this (a guard, not a rule).
MAX_SPAN_DAYS = 3660


class CalendarError(ValueError):
    """The holiday file or an office's hours are not usable."""


@dataclass(frozen=True)
class Calendar:
    """Holidays by date, the years the national calendar covers, local days."""

    national: Mapping[datetime.date, str] = field(default_factory=dict)
    names: Mapping[datetime.date, str] = field(default_factory=dict)
    covered_years: frozenset[int] = frozenset()
    local: frozenset[datetime.date] = frozenset()

    def with_local(self, days: Iterable[datetime.date]) -> Calendar:
        """Return this calendar with the regency's local holidays added."""
        return Calendar(
            national=self.national,
            names=self.names,
            covered_years=self.covered_years,
            local=frozenset(days),
        )

    def covers(self, year: int) -> bool:
        return year in self.covered_years

    def kind_of(self, day: datetime.date) -> str | None:
        """Return why `day` is off (national, cuti bersama, local) or None."""
        if day in self.national:
            return self.national[day]
        if day in self.local:
            return LOCAL
        return None


def parse_calendar(lines: Iterable[str]) -> Calendar:
    """Read the holiday CSV (`tanggal,jenis,keterangan,sumber`); refuse bad rows."""
    national: dict[datetime.date, str] = {}
    names: dict[datetime.date, str] = {}
    errors = []
    for line_no, row in enumerate(csv.DictReader(lines), start=2):
        try:
            day = datetime.date.fromisoformat((row.get("tanggal") or "").strip())
        except ValueError:
            errors.append(f"baris {line_no}: tanggal {row.get('tanggal')!r} salah")
            continue
        kind = (row.get("jenis") or "").strip()
        if kind not in KINDS:
            errors.append(f"baris {line_no}: jenis {kind!r} tidak dikenal")
            continue
        if day in national:
            errors.append(f"baris {line_no}: tanggal {day} ganda")
            continue
        national[day] = kind
        names[day] = (row.get("keterangan") or "").strip()
    if errors:
        raise CalendarError("; ".join(errors))
    return Calendar(
        national=national,
        names=names,
        covered_years=frozenset(d.year for d in national),
    )


@functools.cache
def national_calendar(path: Path = CALENDAR_CSV) -> Calendar:
    """Return the national calendar shipped with Balai (read once)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return parse_calendar(fh)


def is_working_day(
    day: datetime.date, *, calendar: Calendar, works_on_cuti_bersama: bool = False
) -> bool:
    """Tell whether `day` is a working day for an office."""
    if day.weekday() >= 5:
        return False
    kind = calendar.kind_of(day)
    if kind is None:
        return True
    return kind == CUTI_BERSAMA and works_on_cuti_bersama


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    try:
        value = int(hours) * 60 + int(minutes)
    except ValueError as exc:
        raise CalendarError(f"jam {text!r} tidak valid") from exc
    if not 0 <= value <= 24 * 60:
        raise CalendarError(f"jam {text!r} tidak valid")
    return value


def within_hours(moment: datetime.datetime, hours: Mapping[str, Sequence]) -> bool:
    """Tell whether a WITA moment falls inside the office's hours that day."""
    local = to_wita(moment)
    spans = hours.get(WEEKDAY_KEYS[local.weekday()]) or []
    now = local.hour * 60 + local.minute
    for span in spans:
        start, end = _minutes(span[0]), _minutes(span[1])
        if start <= now < end:
            return True
    return False


def to_wita(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:
        raise CalendarError("waktu tanpa zona waktu tidak dapat dihitung")
    return moment.astimezone(WITA)


def next_working_day(
    day: datetime.date, *, calendar: Calendar, works_on_cuti_bersama: bool = False
) -> datetime.date:
    """Return the first working day strictly after `day`."""
    current = day
    for _ in range(MAX_SPAN_DAYS):
        current += datetime.timedelta(days=1)
        if is_working_day(
            current, calendar=calendar, works_on_cuti_bersama=works_on_cuti_bersama
        ):
            return current
    raise CalendarError("tidak ada hari kerja dalam sepuluh tahun")


def clock_start(
    moment: datetime.datetime,
    *,
    hours: Mapping[str, Sequence],
    calendar: Calendar,
    works_on_cuti_bersama: bool = False,
) -> datetime.date:
    """Return day 0 for something received at `moment`."""
    local = to_wita(moment)
    day = local.date()
    if is_working_day(
        day, calendar=calendar, works_on_cuti_bersama=works_on_cuti_bersama
    ) and within_hours(local, hours):
        return day
    return next_working_day(
        day, calendar=calendar, works_on_cuti_bersama=works_on_cuti_bersama
    )


def add_working_days(
    start: datetime.date,
    days: int,
    *,
    calendar: Calendar,
    works_on_cuti_bersama: bool = False,
) -> datetime.date:
    """Return the `days`-th working day after `start` (`start` itself if 0)."""
    if days < 0:
        raise CalendarError("jumlah hari kerja tidak boleh negatif")
    current = start
    for _ in range(days):
        current = next_working_day(
            current, calendar=calendar, works_on_cuti_bersama=works_on_cuti_bersama
        )
    return current


def working_days_after(
    start: datetime.date,
    end: datetime.date,
    *,
    calendar: Calendar,
    works_on_cuti_bersama: bool = False,
) -> int:
    """Count working days d with start < d <= end (0 when end <= start)."""
    count = 0
    current = start
    if (end - start).days > MAX_SPAN_DAYS:
        raise CalendarError("rentang tanggal terlalu panjang")
    while current < end:
        current += datetime.timedelta(days=1)
        if is_working_day(
            current, calendar=calendar, works_on_cuti_bersama=works_on_cuti_bersama
        ):
            count += 1
    return count


def uncovered_years(
    start: datetime.date, end: datetime.date, *, calendar: Calendar
) -> tuple[int, ...]:
    """Return the years between two dates that the national calendar lacks."""
    low, high = min(start, end), max(start, end)
    return tuple(y for y in range(low.year, high.year + 1) if not calendar.covers(y))


@dataclass(frozen=True)
class Pause:
    """A stop of the clock: from a moment to a moment (None: still stopped)."""

    start: datetime.datetime
    end: datetime.datetime | None = None


@dataclass(frozen=True)
class Deadline:
    """The result of the clock: the due date, or None while paused."""

    day_zero: datetime.date
    due: datetime.date | None
    paused: bool
    # Working days left on the clock (at the pause, for a paused clock).
    remaining_days: int
    uncovered_years: tuple[int, ...] = ()

    @property
    def flagged(self) -> bool:
        """True when the deadline was computed without a year's holidays."""
        return bool(self.uncovered_years)


def compute_deadline(
    *,
    started_at: datetime.datetime,
    limit_days: int,
    pauses: Sequence[Pause] = (),
    hours: Mapping[str, Sequence],
    calendar: Calendar,
    works_on_cuti_bersama: bool = False,
) -> Deadline:
    """Compute the due date of work received at `started_at` (see module doc)."""
    if limit_days < 0:
        raise CalendarError("batas waktu tidak boleh negatif")
    options = {"calendar": calendar, "works_on_cuti_bersama": works_on_cuti_bersama}
    day_zero = clock_start(started_at, hours=hours, **options)
    current = day_zero
    remaining = limit_days
    last_seen = day_zero
    for pause in sorted(pauses, key=lambda p: p.start):
        stop_day = to_wita(pause.start).date()
        used = working_days_after(current, stop_day, **options)
        if used > remaining:
            # The deadline had passed before the clock stopped: it stays passed.
            break
        remaining -= used
        last_seen = max(last_seen, stop_day)
        if pause.end is None:
            return Deadline(
                day_zero=day_zero,
                due=None,
                paused=True,
                remaining_days=remaining,
                uncovered_years=uncovered_years(day_zero, last_seen, **_cal(options)),
            )
        current = max(current, clock_start(pause.end, hours=hours, **options))
    due = add_working_days(current, remaining, **options)
    return Deadline(
        day_zero=day_zero,
        due=due,
        paused=False,
        remaining_days=remaining,
        uncovered_years=uncovered_years(day_zero, due, **_cal(options)),
    )


def _cal(options: dict) -> dict:
    return {"calendar": options["calendar"]}
