"""The working-day calendar and the SLA clock: pure functions, no database."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balai.services import calendar as cal
from balai.services.calendar import WITA, Pause

CAL = cal.national_calendar()
HOURS = {
    "mon": [["08:00", "16:00"]],
    "tue": [["08:00", "16:00"]],
    "wed": [["08:00", "16:00"]],
    "thu": [["08:00", "16:00"]],
    "fri": [["08:00", "11:30"], ["13:30", "16:30"]],
    "sat": [],
    "sun": [],
}


def at(day: str, hhmm: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=WITA)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def deadline(start, limit, pauses=(), calendar=CAL, cuti=False):
    return cal.compute_deadline(
        started_at=start,
        limit_days=limit,
        pauses=pauses,
        hours=HOURS,
        calendar=calendar,
        works_on_cuti_bersama=cuti,
    )


# --- The shipped calendar -----------------------------------------------------


def test_shipped_calendar_covers_2024_to_2027_with_every_row():
    assert CAL.covered_years == frozenset({2024, 2025, 2026, 2027})
    assert len(CAL.national) == 108
    kinds = set(CAL.national.values())
    assert kinds == {cal.NATIONAL, cal.CUTI_BERSAMA}
    assert CAL.national[d("2025-08-18")] == cal.CUTI_BERSAMA  # the 2025 revision
    assert CAL.national[d("2026-03-21")] == cal.NATIONAL


def test_parse_refuses_bad_rows_and_names_the_line():
    rows = [
        "tanggal,jenis,keterangan,sumber",
        "2026-01-01,libur_nasional,Tahun Baru,x",
        "2026-13-01,libur_nasional,Salah,x",
        "2026-01-02,libur_lain,Salah,x",
        "2026-01-01,cuti_bersama,Ganda,x",
    ]
    with pytest.raises(cal.CalendarError) as exc:
        cal.parse_calendar(rows)
    message = str(exc.value)
    assert "baris 3" in message
    assert "baris 4" in message
    assert "baris 5" in message


# --- Working days -------------------------------------------------------------


def test_weekends_are_not_working_days():
    assert not cal.is_working_day(d("2026-03-07"), calendar=CAL)  # Saturday
    assert not cal.is_working_day(d("2026-03-08"), calendar=CAL)  # Sunday
    assert cal.is_working_day(d("2026-03-09"), calendar=CAL)  # Monday


def test_national_holiday_is_off_even_for_an_office_working_cuti_bersama():
    new_year = d("2026-01-01")  # a Thursday
    assert new_year.weekday() == 3
    assert not cal.is_working_day(new_year, calendar=CAL)
    assert not cal.is_working_day(new_year, calendar=CAL, works_on_cuti_bersama=True)


def test_cuti_bersama_depends_on_the_office_setting():
    cuti = d("2026-02-16")  # Monday, cuti bersama Imlek
    assert cuti.weekday() == 0
    assert not cal.is_working_day(cuti, calendar=CAL)
    assert cal.is_working_day(cuti, calendar=CAL, works_on_cuti_bersama=True)


def test_local_holiday_is_off():
    local = CAL.with_local([d("2026-09-29")])  # a Tuesday: e.g. HUT Tenggarong
    assert cal.is_working_day(d("2026-09-29"), calendar=CAL)
    assert not cal.is_working_day(d("2026-09-29"), calendar=local)
    assert not cal.is_working_day(
        d("2026-09-29"), calendar=local, works_on_cuti_bersama=True
    )


def test_add_working_days_across_idul_fitri_2026():
    # Tue 17 March; 18 cuti, 19 Nyepi, 20 cuti, 21-22 Idul Fitri (weekend),
    # 23 and 24 cuti: the next working days are 25, 26, 27.
    assert cal.add_working_days(d("2026-03-17"), 3, calendar=CAL) == d("2026-03-27")
    # An office open on cuti bersama works 18, 20 and 23.
    assert cal.add_working_days(
        d("2026-03-17"), 3, calendar=CAL, works_on_cuti_bersama=True
    ) == d("2026-03-23")
    assert cal.add_working_days(d("2026-03-17"), 0, calendar=CAL) == d("2026-03-17")


def test_working_days_after_counts_end_not_start():
    assert cal.working_days_after(d("2026-03-02"), d("2026-03-06"), calendar=CAL) == 4
    assert cal.working_days_after(d("2026-03-06"), d("2026-03-09"), calendar=CAL) == 1
    assert cal.working_days_after(d("2026-03-09"), d("2026-03-02"), calendar=CAL) == 0


# --- Office hours and day 0 ---------------------------------------------------


def test_within_hours_with_the_friday_break():
    assert cal.within_hours(at("2026-03-06", "11:29"), HOURS)
    assert not cal.within_hours(at("2026-03-06", "11:30"), HOURS)
    assert not cal.within_hours(at("2026-03-06", "13:29"), HOURS)
    assert cal.within_hours(at("2026-03-06", "13:30"), HOURS)
    assert cal.within_hours(at("2026-03-06", "16:29"), HOURS)
    assert not cal.within_hours(at("2026-03-06", "16:30"), HOURS)
    assert not cal.within_hours(at("2026-03-02", "16:00"), HOURS)  # Monday close


@pytest.mark.parametrize(
    ("moment", "day_zero"),
    [
        (at("2026-03-02", "09:00"), "2026-03-02"),  # Monday in hours: that day
        (at("2026-03-02", "17:30"), "2026-03-03"),  # after hours: next day
        (at("2026-03-02", "07:00"), "2026-03-03"),  # before opening: next day
        (at("2026-03-06", "12:00"), "2026-03-09"),  # Friday prayer break: Monday
        (at("2026-03-06", "14:00"), "2026-03-06"),  # Friday afternoon in hours
        (at("2026-03-07", "10:00"), "2026-03-09"),  # Saturday: Monday
        (at("2026-05-14", "10:00"), "2026-05-18"),  # holiday, then cuti, weekend
    ],
)
def test_clock_start(moment, day_zero):
    assert cal.clock_start(moment, hours=HOURS, calendar=CAL) == d(day_zero)


def test_clock_start_on_a_holiday_for_an_office_working_cuti_bersama():
    start = cal.clock_start(
        at("2026-05-14", "10:00"),
        hours=HOURS,
        calendar=CAL,
        works_on_cuti_bersama=True,
    )
    assert start == d("2026-05-15")


def test_clock_start_reads_any_time_zone_as_wita():
    # 00:30 UTC is 08:30 WITA: within hours on Monday.
    utc = dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)
    assert cal.clock_start(utc, hours=HOURS, calendar=CAL) == d("2026-03-02")
    # 23:30 UTC on Sunday is 07:30 WITA on Monday: before opening.
    sunday = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    assert cal.clock_start(sunday, hours=HOURS, calendar=CAL) == d("2026-03-03")


def test_naive_times_are_refused():
    with pytest.raises(cal.CalendarError):
        cal.clock_start(dt.datetime(2026, 3, 2, 9), hours=HOURS, calendar=CAL)


# --- Deadlines ----------------------------------------------------------------


def test_deadline_without_pause():
    result = deadline(at("2026-03-02"), 5)
    assert result.day_zero == d("2026-03-02")
    assert result.due == d("2026-03-09")
    assert not result.paused
    assert not result.flagged


def test_late_submission_moves_the_whole_deadline():
    assert deadline(at("2026-03-02", "16:05"), 5).due == d("2026-03-10")
    assert deadline(at("2026-03-06", "12:15"), 1).due == d("2026-03-10")


def test_deadline_across_holidays_and_cuti_bersama():
    # Filed Tue 17 March 2026 in hours, 3 days: 25, 26, 27 March.
    assert deadline(at("2026-03-17"), 3).due == d("2026-03-27")
    assert deadline(at("2026-03-17"), 3, cuti=True).due == d("2026-03-23")


def test_pause_stops_the_clock():
    # Mon 2 March, 5 days. Revision asked Wed 4 (Tue and Wed used: 3 left),
    # resubmitted Fri 6 in hours (a new day 0): due Wed 11 instead of Mon 9.
    pause = Pause(start=at("2026-03-04", "10:00"), end=at("2026-03-06", "10:00"))
    result = deadline(at("2026-03-02"), 5, [pause])
    assert result.due == d("2026-03-11")
    assert result.remaining_days == 3


def test_resubmission_after_hours_restarts_next_working_day():
    pause = Pause(start=at("2026-03-04", "10:00"), end=at("2026-03-06", "17:00"))
    assert deadline(at("2026-03-02"), 5, [pause]).due == d("2026-03-12")


def test_pause_and_resume_the_same_day_costs_nothing():
    pause = Pause(start=at("2026-03-04", "10:00"), end=at("2026-03-04", "11:00"))
    assert deadline(at("2026-03-02"), 5, [pause]).due == d("2026-03-09")


def test_open_pause_has_no_due_date():
    result = deadline(at("2026-03-02"), 5, [Pause(start=at("2026-03-04"))])
    assert result.paused
    assert result.due is None
    assert result.remaining_days == 3


def test_two_pauses_add_up():
    pauses = [
        Pause(start=at("2026-03-03"), end=at("2026-03-05")),  # Tue used: 4 left
        Pause(start=at("2026-03-09"), end=at("2026-03-11")),  # Fri, Mon: 2 left
    ]
    # Restarted Wed 11 (day 0): Thu 12, Fri 13.
    assert deadline(at("2026-03-02"), 5, pauses).due == d("2026-03-13")


def test_a_pause_after_the_deadline_does_not_rescue_it():
    # 1 day from Mon 2 March: due Tue 3. Revision asked Thu 5: too late.
    pause = Pause(start=at("2026-03-05"), end=at("2026-03-10"))
    result = deadline(at("2026-03-02"), 1, [pause])
    assert result.due == d("2026-03-03")


def test_deadline_into_an_uncovered_year_is_flagged_not_silent():
    # Tue 28 Dec 2027, 5 days: 29, 30, 31 Dec, then 3 and 4 Jan 2028, a year
    # the national calendar does not cover.
    result = deadline(at("2027-12-28"), 5)
    assert result.due == d("2028-01-04")
    assert result.flagged
    assert result.uncovered_years == (2028,)


def test_uncovered_year_counts_weekends_and_local_days_only():
    local = CAL.with_local([d("2028-03-01")])  # a Wednesday
    result = deadline(at("2028-02-28"), 3, calendar=local)  # Monday
    assert result.due == d("2028-03-03")  # 29 Feb, (1 March local), 2, 3 March
    assert result.uncovered_years == (2028,)


def test_covered_years_are_not_flagged():
    assert not deadline(at("2027-12-20"), 3).flagged


def test_a_paused_clock_in_an_uncovered_year_is_flagged():
    result = deadline(at("2027-12-28"), 10, [Pause(start=at("2028-01-04"))])
    assert result.paused
    assert result.uncovered_years == (2028,)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 11, 30)
    ),
    limit=st.integers(min_value=0, max_value=30),
    cuti=st.booleans(),
)
def test_due_date_is_exactly_limit_working_days_after_day_zero(start, limit, cuti):
    result = deadline(start.replace(tzinfo=WITA), limit, cuti=cuti)
    options = {"calendar": CAL, "works_on_cuti_bersama": cuti}
    assert cal.is_working_day(result.day_zero, **options)
    assert cal.working_days_after(result.day_zero, result.due, **options) == limit
    if limit:
        assert cal.is_working_day(result.due, **options)
