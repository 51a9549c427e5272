"""Streaming readers for the files the register imports: csv, xlsx and xls.

Each reader yields ``(line, cells)``: the line (the row number a person sees
in Excel, or the physical line where a csv record starts) and the raw cell
values (str, int, float, date/datetime, bool or None). Nothing is evaluated:
a formula cell of an xlsx file is read as its text (``=A1+1``).

The kind of file is told by its first bytes, not by its name. A csv file is
read line by line and each line decoded as UTF-8, or else as Windows-1252
(what Excel on Windows writes when it saves "CSV"), so a file of either
encoding, or a file mixing both, reads correctly without loading it whole.
Every failure is a `BalaiError` with an Indonesian message.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from balai.core.errors import BalaiError

CSV, XLSX, XLS = "csv", "xlsx", "xls"
KINDS = (CSV, XLSX, XLS)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_DELIMITERS = (",", ";", "\t", "|")
# A csv field may be long (an address), never this long.
_FIELD_LIMIT = 1_000_000
_CHUNK = 1 << 20

Cell = Any
Row = tuple[int, list[Cell]]


@dataclass
class SourceInfo:
    """What the reader found out about a file while reading it."""

    kind: str
    size: int
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    # Lines decoded as Windows-1252 because they were not UTF-8.
    fallback_lines: list[int] = field(default_factory=list)


def file_error(message: str, code: str = "file_invalid") -> BalaiError:
    return BalaiError(message, code=code)


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_size(path: str | os.PathLike, limit: int | None) -> int:
    """Return the size of the file, refusing an empty one or one over `limit`."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise file_error(
            _("Berkas tidak dapat dibuka: %(error)s") % {"error": exc.strerror},
            "file_missing",
        ) from exc
    if size == 0:
        raise file_error(_("Berkas kosong (0 bita)."), "file_empty")
    if limit is not None and size > limit:
        raise file_error(
            _(
                "Berkas terlalu besar: %(size)s MB, batasnya %(limit)s MB. Pecah "
                "berkas menjadi beberapa bagian, atau impor lewat perintah "
                "balai import_residents."
            )
            % {"size": f"{size / 1e6:.1f}", "limit": f"{limit / 1e6:.0f}"},
            "file_too_large",
        )
    return size


def detect_kind(path: str | os.PathLike) -> str:
    """Tell the kind of a file by its first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise file_error(_("Berkas kosong (0 bita)."), "file_empty")
    if head.startswith(_ZIP_MAGIC):
        return XLSX
    if head.startswith(_OLE_MAGIC):
        return XLS
    if head.startswith(_UTF16_BOMS):
        return CSV
    if head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")):
        raise file_error(
            _("Berkas ini bukan csv, xlsx atau xls (mungkin PDF, gambar atau arsip)."),
            "file_kind",
        )
    if b"\x00" in head:
        raise file_error(
            _(
                "Berkas ini bukan teks csv, xlsx atau xls yang dapat dibaca "
                "(berisi data biner)."
            ),
            "file_kind",
        )
    return CSV


def read_rows(path: str | os.PathLike, kind: str, info: SourceInfo) -> Iterator[Row]:
    """Yield every row of the file's first sheet as (line, cells)."""
    if kind == CSV:
        return _csv_rows(path, info)
    if kind == XLSX:
        return _xlsx_rows(path, info)
    if kind == XLS:
        return _xls_rows(path, info)
    raise ValueError(kind)


# --- csv -------------------------------------------------------------------------


def _decoded_lines(raw_lines: Iterable[bytes], info: SourceInfo) -> Iterator[str]:
    """Decode each line as UTF-8, else as Windows-1252 (else Latin-1, which
    decodes every byte), so a line never fails to decode."""
    first = True
    for number, raw in enumerate(raw_lines, start=1):
        if first:
            first = False
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
                info.encoding = "utf-8-sig"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            if len(info.fallback_lines) < 1000:
                info.fallback_lines.append(number)
        yield text


def _pick_delimiter(line: str) -> str:
    """Return the delimiter of a header line: the one used most outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(path: str | os.PathLike, info: SourceInfo) -> Iterator[Row]:
    csv.field_size_limit(_FIELD_LIMIT)
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if head.startswith(_UTF16_BOMS):
            info.encoding = "utf-16"
            lines: Iterator[str] = iter(
                io.TextIOWrapper(fh, encoding="utf-16", errors="replace", newline="")
            )
        else:
            info.encoding = info.encoding or "utf-8"
            lines = _decoded_lines(fh, info)
        # The header decides the delimiter; blank lines before it are skipped.
        buffered: list[str] = []
        for text in lines:
            buffered.append(text)
            if text.strip():
                break
        if not any(t.strip() for t in buffered):
            raise file_error(_("Berkas tidak berisi baris apa pun."), "file_empty")
        info.delimiter = _pick_delimiter(buffered[-1])
        source = _chain(buffered, lines)
        reader = csv.reader(source, delimiter=info.delimiter)
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            raise file_error(
                _("Berkas csv rusak di baris %(line)d: %(error)s")
                % {"line": reader.line_num, "error": exc},
                "csv_invalid",
            ) from exc
        except UnicodeError as exc:
            raise file_error(
                _("Berkas tidak dapat dibaca sebagai teks: %(error)s") % {"error": exc},
                "encoding",
            ) from exc


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


# --- xlsx ------------------------------------------------------------------------


def _xlsx_rows(path: str | os.PathLike, info: SourceInfo) -> Iterator[Row]:
    import zipfile

    from openpyxl import load_workbook

    try:
        # read_only streams the sheet; data_only=False gives a formula's text,
        # never a value some spreadsheet computed from it.
        book = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _xlsx_broken(exc) from exc
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise _xlsx_broken(exc) from exc
    try:
        if not book.worksheets:
            raise file_error(_("Berkas xlsx tidak berisi lembar kerja."), "file_empty")
        sheet = book.worksheets[0]
        info.sheet = sheet.title
        line = 0
        try:
            for values in sheet.iter_rows(values_only=True):
                line += 1
                yield line, [_xlsx_value(v) for v in values]
        except BalaiError:
            raise
        except Exception as exc:
            raise _xlsx_broken(exc, line + 1) from exc
    finally:
        book.close()


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(
        value, str | int | float | bool | datetime.date | datetime.time
    ):
        return value
    # ArrayFormula, DataTableFormula, rich text, errors: their text.
    text = getattr(value, "text", None)
    return str(text if text is not None else value)


def _xlsx_broken(exc: BaseException, line: int | None = None) -> BalaiError:
    where = _(" (baris %(line)d)") % {"line": line} if line else ""
    return file_error(
        _("Berkas xlsx rusak atau bukan berkas Excel yang sah%(where)s.")
        % {"where": where},
        "xlsx_invalid",
    )


# --- xls -------------------------------------------------------------------------


def _xls_rows(path: str | os.PathLike, info: SourceInfo) -> Iterator[Row]:
    import xlrd

    try:
        book = xlrd.open_workbook(
            str(path), on_demand=True, formatting_info=False, logfile=io.StringIO()
        )
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct.error...
        raise file_error(
            _("Berkas xls rusak atau bukan berkas Excel 97-2003 yang sah."),
            "xls_invalid",
        ) from exc
    try:
        if book.nsheets < 1:
            raise file_error(_("Berkas xls tidak berisi lembar kerja."), "file_empty")
        try:
            sheet = book.sheet_by_index(0)
        except Exception as exc:
            raise file_error(
                _("Lembar kerja pertama berkas xls rusak."), "xls_invalid"
            ) from exc
        info.sheet = sheet.name
        for index in range(sheet.nrows):
            try:
                row = sheet.row(index)
                cells = [_xls_value(c, book.datemode) for c in row]
            except Exception as exc:
                raise file_error(
                    _("Berkas xls rusak di baris %(line)d.") % {"line": index + 1},
                    "xls_invalid",
                ) from exc
            yield index + 1, cells
    finally:
        book.release_resources()


def _xls_value(cell: Any, datemode: int) -> Any:
    import xlrd

    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return cell.value
    if kind == xlrd.XL_CELL_NUMBER:
        return float(cell.value)
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except Exception:
            return float(cell.value)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    # An error cell (#N/A, #REF!): its text, which no rule accepts.
    return xlrd.error_text_from_code.get(cell.value, "#ERROR")


def describe(info: SourceInfo) -> str:
    """A short description of the file for the report and the page."""
    if info.kind == CSV:
        text = f"csv, {info.encoding or 'utf-8'}, pemisah '{info.delimiter}'"
        if info.fallback_lines:
            text += f", {len(info.fallback_lines)}+ baris Windows-1252"
        return text
    return f"{info.kind}, lembar '{info.sheet}'"


def suffix_for(kind: str) -> str:
    return {CSV: ".csv", XLSX: ".xlsx", XLS: ".xls"}[kind]


def path_name(path: str | os.PathLike) -> str:
    return Path(path).name
