"""Document numbers: a format with named fields, filled from a locked serial.

The format is a Python format string restricted to these fields:

    {code}         classification code of the series (e.g. 470, 400.9)
    {serial}       the serial within office, kind and year; `{serial:04d}` pads
    {office}       the office's short name (DS-BKG), or its code when it has none
    {office_code}  the office code (DESA-64.02.12.2001)
    {month_roman}  month of the signing date in Roman numerals (XI)
    {month}        month as a number; `{month:02d}` pads
    {year}         year of the signing date
    {kind}         the document kind (sktm, domisili, ...)

e.g. "{code}/{serial:04d}/{office}/{month_roman}/{year}" -> 470/0001/DS-BKG/XI/2026.
"""

from __future__ import annotations

import datetime as dt
import string

from balai.core.errors import BalaiError

FIELDS = {"code", "serial", "office", "office_code", "month_roman", "month", "year"}
FIELDS |= {"kind"}
INT_FIELDS = {"serial", "month", "year"}
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
MAX_NUMBER = 40


def roman_month(month: int) -> str:
    return ROMAN[month - 1]


def check_format(fmt: str) -> str:
    """Refuse a format with unknown fields, attribute access or a bad spec."""
    if not fmt or len(fmt) > 120:
        raise BalaiError(
            "Format nomor wajib diisi (maksimal 120 karakter).",
            code="number_format_invalid",
        )
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise BalaiError(
            "Format nomor tidak sah (kurung kurawal tidak seimbang).",
            code="number_format_invalid",
        ) from exc
    seen = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FIELDS or conversion:
            raise BalaiError(
                f"Kolom '{name}' tidak dikenal dalam format nomor. Gunakan: "
                + ", ".join(sorted(FIELDS)),
                code="number_format_invalid",
            )
        if spec and (name not in INT_FIELDS or not _simple_int_spec(spec)):
            raise BalaiError(
                f"Spesifikasi '{spec}' untuk '{name}' tidak sah.",
                code="number_format_invalid",
            )
        seen.add(name)
    if "serial" not in seen:
        raise BalaiError(
            "Format nomor harus memuat {serial}.", code="number_format_invalid"
        )
    return fmt


def _simple_int_spec(spec: str) -> bool:
    # 04d, 4d, d: zero-padding and width only.
    body = spec.removesuffix("d")
    return spec.endswith("d") and (body == "" or (body.isdigit() and len(body) <= 2))


def format_number(
    fmt: str,
    *,
    code: str,
    serial: int,
    office_short: str,
    office_code: str,
    on: dt.date,
    kind: str,
) -> str:
    check_format(fmt)
    number = fmt.format(
        code=code,
        serial=serial,
        office=office_short or office_code,
        office_code=office_code,
        month_roman=roman_month(on.month),
        month=on.month,
        year=on.year,
        kind=kind,
    )
    if len(number) > MAX_NUMBER or not number.isascii():
        raise BalaiError(
            f"Nomor dokumen '{number}' terlalu panjang (maksimal {MAX_NUMBER}) "
            "atau memuat huruf di luar ASCII.",
            code="number_too_long",
        )
    return number
