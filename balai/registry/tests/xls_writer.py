"""A tiny writer of Excel 97-2003 (.xls, BIFF8) files for the import tests.

No xls writer is installed (xlwt is not a dependency, LibreOffice is not on
the test machines), so the tests make their .xls files with this: one sheet
of text, number, boolean and date cells in an OLE2 compound file, the
records xlrd (and Excel) need and nothing more. Test use only.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Sequence
from typing import Any

SECTOR = 512
ENDOFCHAIN, FATSECT, FREESECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF
XF_GENERAL, XF_DATE = 0, 1
_EPOCH = datetime.date(1899, 12, 30)


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))


def _xf(format_key: int) -> bytes:
    # font 0, format, cell style flags 0 (a cell XF, parent 0), the rest zero.
    return _record(
        0x00E0, struct.pack("<HHHBBBBIIH", 0, format_key, 0, 0x20, 0, 0, 0, 0, 0, 0)
    )


def _label(row: int, col: int, text: str) -> bytes:
    encoded = text.encode("utf-16-le")
    return _record(
        0x0204, struct.pack("<HHHHB", row, col, XF_GENERAL, len(text), 1) + encoded
    )


def _number(row: int, col: int, value: float, xf: int = XF_GENERAL) -> bytes:
    return _record(0x0203, struct.pack("<HHHd", row, col, xf, float(value)))


def _boolean(row: int, col: int, value: bool) -> bytes:
    return _record(0x0205, struct.pack("<HHHBB", row, col, XF_GENERAL, int(value), 0))


def _cell(row: int, col: int, value: Any) -> bytes:
    if value is None or value == "":
        return b""
    if isinstance(value, bool):
        return _boolean(row, col, value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return _number(row, col, (value - _EPOCH).days, XF_DATE)
    if isinstance(value, int | float):
        return _number(row, col, value)
    return _label(row, col, str(value))


def workbook_stream(rows: Sequence[Sequence[Any]], sheet: str = "Sheet1") -> bytes:
    """The BIFF8 Workbook stream: globals, then one worksheet."""
    name = sheet.encode("utf-16-le")
    head = (
        _bof(0x0005)
        + _record(0x0042, struct.pack("<H", 1200))  # CODEPAGE: UTF-16
        + _record(0x0022, struct.pack("<H", 0))  # DATEMODE: 1900
        + _xf(0)  # General
        + _xf(14)  # a built-in date format
    )
    boundsheet_len = 4 + 6 + 2 + len(name)
    eof = _record(0x000A, b"")
    sheet_at = len(head) + boundsheet_len + len(eof)
    boundsheet = _record(
        0x0085, struct.pack("<IBBBB", sheet_at, 0, 0, len(sheet), 1) + name
    )
    width = max((len(r) for r in rows), default=0)
    body = _bof(0x0010) + _record(
        0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0)
    )
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            body += _cell(r, c, value)
    stream = head + boundsheet + eof + body + eof
    # Streams under 4096 bytes would live in the mini stream: pad past it.
    return stream + b"\x00" * max(0, 4096 - len(stream))


def xls_bytes(rows: Sequence[Sequence[Any]], sheet: str = "Sheet1") -> bytes:
    """A whole .xls file (OLE2 compound file holding the Workbook stream)."""
    stream = workbook_stream(rows, sheet)
    stream += b"\x00" * (-len(stream) % SECTOR)
    data_sectors = len(stream) // SECTOR
    # Sector layout: FAT sectors, then the stream, then one directory sector.
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < fat_sectors + data_sectors + 1:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("too large for this writer")
    first_data = fat_sectors
    directory = first_data + data_sectors
    fat = [FATSECT] * fat_sectors
    fat += [first_data + i + 1 for i in range(data_sectors - 1)] + [ENDOFCHAIN]
    fat += [ENDOFCHAIN]  # the directory
    fat += [FREESECT] * (fat_sectors * (SECTOR // 4) - len(fat))
    difat = list(range(fat_sectors)) + [FREESECT] * (109 - fat_sectors)
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack(
            "<IIIIIIIII",
            0,  # directory sectors (0 in version 3)
            fat_sectors,
            directory,
            0,  # transaction signature
            4096,  # mini stream cutoff
            ENDOFCHAIN,  # first mini FAT sector
            0,
            ENDOFCHAIN,  # first DIFAT sector
            0,
        )
        + struct.pack("<109I", *difat)
    )

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le") if name else b""
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", NOSTREAM, NOSTREAM, child)
            + b"\x00" * 16  # CLSID
            + b"\x00" * 4  # state bits
            + b"\x00" * 16  # times
            + struct.pack("<IIi", start, size, 0)
        )

    entries = (
        entry("Root Entry", 5, 1, ENDOFCHAIN, 0)
        + entry("Workbook", 2, NOSTREAM, first_data, len(workbook_stream(rows, sheet)))
        + entry("", 0, NOSTREAM, 0, 0) * 2
    )
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    return header + fat_bytes + stream + entries
