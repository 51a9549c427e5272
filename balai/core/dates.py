"""Dates written the Indonesian way, the same in letters, pages and messages
whatever language the reader picked (a letter is an Indonesian document)."""

import datetime

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
WEEKDAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def long_date(day: datetime.date) -> str:
    """Return `2 Maret 2026`."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
