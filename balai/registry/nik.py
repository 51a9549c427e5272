"""NIK and KK numbers: what their 16 digits say, and every way they can be wrong.

A NIK is 6 digits of the Kemendagri code of the kecamatan where the person was
first registered (province, regency, kecamatan), the birth date as DDMMYY with
40 added to the day for women, and a 4-digit serial from 0001. A NIK is for
life: a Kukar resident may hold one from any kecamatan of Indonesia, including
codes that have since been split or renamed. A KK number has the same shape
with the issue date (no 40 added) in place of the birth date.

`validate_nik` is pure: it reads only the bundled list of kecamatan codes and
returns every finding, each with a code, an Indonesian message and a severity:
``impossible`` (the number cannot be a NIK: refuse it) or ``check`` (keep it,
flag the resident "nik_periksa" for an officer to look at).
"""

from __future__ import annotations

import calendar
import csv
import datetime
import functools
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

KECAMATAN_CSV = Path(__file__).resolve().parent / "data" / "kecamatan_indonesia.csv"

IMPOSSIBLE = "impossible"
CHECK = "check"

MALE = "L"
FEMALE = "P"


@dataclass(frozen=True)
class NikFinding:
    """One thing wrong with a number: a stable code, a message, a severity."""

    code: str
    message: str
    severity: str  # IMPOSSIBLE or CHECK

    @property
    def is_impossible(self) -> bool:
        return self.severity == IMPOSSIBLE


@functools.cache
def known_kecamatan_codes() -> frozenset[str]:
    """Return every kecamatan code the bundled list knows, as 6 digits."""
    with KECAMATAN_CSV.open(encoding="utf-8", newline="") as fh:
        return frozenset(row["kode"].replace(".", "") for row in csv.DictReader(fh))


@functools.cache
def province_codes() -> frozenset[str]:
    """Return the Indonesian province codes (the first 2 digits of the list)."""
    return frozenset(code[:2] for code in known_kecamatan_codes())


def _leap_in_either_century(yy: int) -> bool:
    return calendar.isleap(1900 + yy) or calendar.isleap(2000 + yy)


# Days of each month in a common year (what calendar.monthrange(2001, m)
# gives, without its weekday arithmetic: this runs for every NIK imported).
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def date_part_is_real(dd: int, mm: int, yy: int) -> bool:
    """Tell whether DD MM YY (day without the 40) is a calendar date in 19xx
    or 20xx: the two-digit year does not say the century, so accept either."""
    if not 1 <= mm <= 12 or dd < 1:
        return False
    if mm == 2 and dd == 29:
        return _leap_in_either_century(yy)
    return dd <= _MONTH_DAYS[mm - 1]


def split_date_part(part: str) -> tuple[int, int, int, str | None]:
    """Return (day, month, yy, sex) of a DDMMYY part; sex None if the day is in
    neither 01-31 (men) nor 41-71 (women)."""
    dd, mm, yy = int(part[0:2]), int(part[2:4]), int(part[4:6])
    if 1 <= dd <= 31:
        return dd, mm, yy, MALE
    if 41 <= dd <= 71:
        return dd - 40, mm, yy, FEMALE
    return dd, mm, yy, None


def format_kecamatan(code6: str) -> str:
    return f"{code6[0:2]}.{code6[2:4]}.{code6[4:6]}"


def date_part(birth_date: datetime.date, sex: str) -> str:
    """Return the DDMMYY part of a NIK for a birth date and sex."""
    day = birth_date.day + (40 if sex == FEMALE else 0)
    return f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"


def validate_nik(
    nik: str,
    *,
    birth_date: datetime.date | None = None,
    sex: str | None = None,
) -> list[NikFinding]:
    """Return every finding about `nik` (empty: nothing to say).

    With `birth_date` and `sex` (the record's), also say where the NIK
    disagrees with them: a corrected birth date keeps the old NIK, so a
    disagreement is something to check, not a refusal.
    """
    findings: list[NikFinding] = []
    nik = nik if isinstance(nik, str) else str(nik)
    if len(nik) != 16:
        findings.append(
            NikFinding(
                "nik_length",
                _("NIK harus 16 angka; yang diisi %(n)d karakter.") % {"n": len(nik)},
                IMPOSSIBLE,
            )
        )
    if not (nik.isascii() and nik.isdigit()):
        findings.append(
            NikFinding(
                "nik_not_digits",
                _("NIK hanya boleh berisi angka 0-9."),
                IMPOSSIBLE,
            )
        )
    if len(nik) != 16:
        # Without 16 characters the parts cannot be located: say no more.
        return findings
    region, dates, serial = nik[0:6], nik[6:12], nik[12:16]
    province = region[0:2]
    if _digits(province) and province not in province_codes():
        findings.append(
            NikFinding(
                "nik_province",
                _("Kode provinsi %(code)s pada NIK bukan kode provinsi Indonesia.")
                % {"code": province},
                IMPOSSIBLE,
            )
        )
    elif _digits(region) and region not in known_kecamatan_codes():
        findings.append(
            NikFinding(
                "nik_kecamatan_unknown",
                _(
                    "Kode kecamatan %(code)s pada NIK tidak ada dalam daftar "
                    "kecamatan yang dikenal (mungkin kode lama): periksa."
                )
                % {"code": format_kecamatan(region)},
                CHECK,
            )
        )
    if _digits(dates):
        dd, mm, yy, nik_sex = split_date_part(dates)
        if nik_sex is None or not date_part_is_real(dd, mm, yy):
            findings.append(
                NikFinding(
                    "nik_date",
                    _(
                        "Bagian tanggal lahir NIK (%(part)s) bukan tanggal yang ada: "
                        "tanggal 01-31 (laki-laki) atau 41-71 (perempuan), bulan "
                        "01-12, dan tanggal itu harus ada pada bulannya."
                    )
                    % {"part": dates},
                    IMPOSSIBLE,
                )
            )
        else:
            if birth_date is not None and (dd, mm, yy) != (
                birth_date.day,
                birth_date.month,
                birth_date.year % 100,
            ):
                findings.append(
                    NikFinding(
                        "nik_birth_date_mismatch",
                        _(
                            "Tanggal lahir pada NIK (%(nik)s) berbeda dengan tanggal "
                            "lahir pada data (%(data)s): periksa."
                        )
                        % {
                            "nik": f"{dd:02d}-{mm:02d}-{yy:02d}",
                            "data": birth_date.strftime("%d-%m-%Y"),
                        },
                        CHECK,
                    )
                )
            if sex in (MALE, FEMALE) and sex != nik_sex:
                findings.append(
                    NikFinding(
                        "nik_sex_mismatch",
                        _(
                            "NIK menunjukkan jenis kelamin %(nik)s, data menyebut "
                            "%(data)s: periksa."
                        )
                        % {"nik": _sex_word(nik_sex), "data": _sex_word(sex)},
                        CHECK,
                    )
                )
    if serial == "0000":
        findings.append(
            NikFinding(
                "nik_serial",
                _("Nomor urut NIK (4 angka terakhir) tidak boleh 0000."),
                IMPOSSIBLE,
            )
        )
    return findings


def validate_kk(kk_number: str) -> list[NikFinding]:
    """Return every finding about a KK number: kecamatan code, issue date
    DDMMYY (no 40 added), serial from 0001."""
    findings: list[NikFinding] = []
    kk = kk_number if isinstance(kk_number, str) else str(kk_number)
    if len(kk) != 16:
        findings.append(
            NikFinding(
                "kk_length",
                _("Nomor KK harus 16 angka; yang diisi %(n)d karakter.")
                % {"n": len(kk)},
                IMPOSSIBLE,
            )
        )
    if not (kk.isascii() and kk.isdigit()):
        findings.append(
            NikFinding(
                "kk_not_digits", _("Nomor KK hanya boleh berisi angka 0-9."), IMPOSSIBLE
            )
        )
    if len(kk) != 16:
        return findings
    region, dates, serial = kk[0:6], kk[6:12], kk[12:16]
    if _digits(region[0:2]) and region[0:2] not in province_codes():
        findings.append(
            NikFinding(
                "kk_province",
                _("Kode provinsi %(code)s pada nomor KK bukan kode provinsi Indonesia.")
                % {"code": region[0:2]},
                IMPOSSIBLE,
            )
        )
    elif _digits(region) and region not in known_kecamatan_codes():
        findings.append(
            NikFinding(
                "kk_kecamatan_unknown",
                _("Kode kecamatan %(code)s pada nomor KK tidak dikenal: periksa.")
                % {"code": format_kecamatan(region)},
                CHECK,
            )
        )
    if _digits(dates) and not date_part_is_real(
        int(dates[0:2]), int(dates[2:4]), int(dates[4:6])
    ):
        findings.append(
            NikFinding(
                "kk_date",
                _("Bagian tanggal terbit nomor KK (%(part)s) bukan tanggal yang ada.")
                % {"part": dates},
                IMPOSSIBLE,
            )
        )
    if serial == "0000":
        findings.append(
            NikFinding(
                "kk_serial",
                _("Nomor urut KK (4 angka terakhir) tidak boleh 0000."),
                IMPOSSIBLE,
            )
        )
    return findings


def impossible(findings: list[NikFinding]) -> list[NikFinding]:
    return [f for f in findings if f.severity == IMPOSSIBLE]


def to_check(findings: list[NikFinding]) -> list[NikFinding]:
    return [f for f in findings if f.severity == CHECK]


def _digits(part: str) -> bool:
    return part.isascii() and part.isdigit()


def _sex_word(sex: str) -> str:
    return _("laki-laki") if sex == MALE else _("perempuan")
