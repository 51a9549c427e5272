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
import threading
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
# csv_runs reads blocks shorter than the field limit: only a long line is measured.
_BLOCK = 1 << 19
# Digest reads large chunks: its thread takes the GIL back after each read and
# each update, which costs the thread holding it (with 1 MiB chunks the
# read_rows loop beside it ran slower).
_DIGEST_CHUNK = 1 << 25

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


class Digest:
    """The SHA-256 of a file, computed in a thread while the caller does
    something else (hashlib lets go of the GIL on large updates); `result()`
    equals `sha256_of(path)`."""

    def __init__(self, path: str | os.PathLike) -> None:
        self._stop = threading.Event()
        self._hex: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(path,), name="balai-sha256", daemon=True
        )
        self._thread.start()

    def _run(self, path: str | os.PathLike) -> None:
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                while chunk := fh.read(_DIGEST_CHUNK):
                    if self._stop.is_set():
                        return
                    digest.update(chunk)
            self._hex = digest.hexdigest()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._hex is None:
            raise RuntimeError("the digest was cancelled")
        return self._hex

    def cancel(self) -> None:
        """Stop the thread (if it still runs) and wait for it."""
        self._stop.set()
        self._thread.join()


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


def _decoded(raw: bytes, number: int, info: SourceInfo) -> str:
    """One line as `_decoded_lines` decodes it (the BOM aside)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        if len(info.fallback_lines) < 1000:
            info.fallback_lines.append(number)
        return text


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
        yield _decoded(raw, number, info)


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


class Uncertain(Exception):
    """`csv_runs` cannot be sure to read the file as `read_rows` does."""


# (last line, field text or None, number of records) of a run of records.
Run = tuple[int, str | None, int]


def csv_runs(
    path: str | os.PathLike, info: SourceInfo, *, after_line: int, column: int
) -> Iterator[Run]:
    """The non-blank records of a UTF-8/Windows-1252 csv file after line
    `after_line` (where the header read by `read_rows` with `info` ends), as
    runs of consecutive records with the same text in field `column`: for
    each run its last line, that text (None for records too short to have
    the field) and its number of records. The lines and texts are exactly
    what `read_rows` gives, at a fraction of its cost.

    The file is read in blocks of whole lines. A block of UTF-8 is read as
    bytes, any other is decoded line by line as `read_rows` decodes it (the
    lines decoded as Windows-1252 are added to `info.fallback_lines`). Each
    line is split at the delimiter: the fields before the line's first
    quote are what the csv module reads. A line with a quote must end its
    record (no quoted field open at its end), and if the quote comes before
    the field's end, the line is parsed alone by the csv module, which then
    reads it as in the whole file. Whatever could read differently (a record
    going on to the next line, a carriage return but before a line feed, a
    NUL, a field over the csv module's limit, a UTF-16 file) raises
    `Uncertain`, possibly after some runs: the caller then reads the file
    with `read_rows` instead."""
    delimiter = info.delimiter
    if len(delimiter) != 1 or delimiter in '"\r\n\x00':
        raise Uncertain(delimiter)
    csv.field_size_limit(_FIELD_LIMIT)
    run: list[Any] = [0, None, 0]  # the open run: last line, field, records
    number = 0  # the lines read so far
    for block in _line_blocks(path):
        first = number + 1
        lines = _block_lines(block, first, after_line, info)
        number += len(lines)
        if number <= after_line:
            continue
        skip = max(0, after_line - first + 1)
        if skip and _has_quote(lines[skip - 1]):
            # The header record must end on its line: the data start after it.
            _one_record(lines[skip - 1], delimiter)
        # The open run's field as the block holds its lines: bytes or str.
        run[1] = _same_kind(run[1], lines[0])
        runs: list[Run] = []
        _add_runs(lines, skip, first, delimiter, column, runs, run)
        yield from runs
    if run[2]:
        yield _decoded_run(run)


def _line_blocks(path: str | os.PathLike) -> Iterator[bytes]:
    """The file in blocks of whole lines (the last may lack its line feed),
    without a UTF-8 BOM."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith(_UTF16_BOMS):
            raise Uncertain("utf-16")
        fh.seek(len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0)
        rest = b""
        while block := fh.read(_BLOCK):
            block = rest + block
            end = block.rfind(b"\n") + 1
            if not end and len(block) > 4 * _FIELD_LIMIT:
                raise Uncertain("a line too long")
            block, rest = block[:end], block[end:]
            if block:
                yield block
        if rest:
            yield rest


def _block_lines(
    block: bytes, first: int, after_line: int, info: SourceInfo
) -> list[bytes] | list[str]:
    """The lines of a block of whole lines (the first numbered `first`)
    without their line ends: bytes if the block is UTF-8, else decoded as
    `read_rows` decodes them (the lines after `after_line` that are not
    UTF-8 are noted in `info.fallback_lines`)."""
    if b"\x00" in block:
        raise Uncertain("NUL")
    if b"\r" not in block:
        lines = block.split(b"\n")
        if block.endswith(b"\n"):
            lines.pop()
    else:
        # bytes.splitlines splits at \n, \r\n and a lone \r: as many lines as
        # line feeds (the last line may have none) means no lone \r, which
        # the csv module refuses outside quotes and keeps inside.
        lines = block.splitlines()
        if len(lines) != block.count(b"\n") + (not block.endswith(b"\n")):
            raise Uncertain("a carriage return inside a line")
    if len(block) >= _FIELD_LIMIT and max(map(len, lines)) >= _FIELD_LIMIT:
        raise Uncertain("a field over the csv limit")
    if block.isascii() or _is_utf8(block):
        return lines
    return [
        _decoded(raw, number, info) if number > after_line else raw.decode("latin-1")
        for number, raw in enumerate(lines, start=first)
    ]


def _is_utf8(block: bytes) -> bool:
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _has_quote(text: bytes | str) -> bool:
    return (b'"' if text.__class__ is bytes else '"') in text


def _one_record(text: bytes | str, delimiter: str) -> list[str]:
    """The cells of a line with a quote, parsed alone by the csv module;
    `Uncertain` unless the record ends on the line."""
    if text.__class__ is bytes:
        text = text.decode("utf-8")
    reader = csv.reader((text + "\n", ""), delimiter=delimiter)
    try:
        cells = next(reader)
    except (csv.Error, StopIteration) as exc:
        raise Uncertain(str(exc)) from exc
    if reader.line_num != 1:
        raise Uncertain("a record over more than one line")
    return cells


def _add_runs(
    lines: list[bytes] | list[str],
    skip: int,
    number: int,
    delimiter: str,
    column: int,
    runs: list[Run],
    run: list[Any],
) -> None:
    """Add to `runs` the runs of `lines` (numbered from `number`, the first
    `skip` passed over); `run` is the open run, continued and left open."""
    if lines[0].__class__ is bytes:
        split_at, quote, low, high = delimiter.encode(), b'"', b"!", b"\x7f"
    else:
        split_at, quote, low, high = delimiter, '"', "!", "\x7f"
    cut = column + 1
    closed: list[Any] = []
    last, field_, records = run
    for line in range(number + skip, number + len(lines)):
        text = lines[line - number]
        parts = text.split(split_at, cut)
        cell = parts[column] if len(parts) > column else None
        # A field starting with a printable ASCII character: not a blank record.
        filled = cell is not None and low <= cell < high
        at = text.find(quote)
        if at >= 0:
            if not _ends_on_line(text, at, quote, split_at):
                raise Uncertain("a record over more than one line")
            if not filled or len(parts) == cut or at < len(text) - len(parts[cut]):
                # A quote before the field's end, or maybe blank: as the csv
                # module reads it (the fields before a quote are as split).
                cells = _one_record(text, delimiter)
                if not any(c.strip() for c in cells):
                    continue
                cell = _same_kind(cells[column], text) if len(cells) > column else None
                filled = True
        if not filled and _blank_line(text, split_at):
            continue
        if cell == field_:
            records += 1
        else:
            if records:
                closed.append((last, field_, records))
            field_, records = cell, 1
        last = line
    run[:] = last, field_, records
    runs.extend([_decoded_run(r) for r in closed])


def _ends_on_line(
    text: bytes | str, at: int, quote: bytes | str, delimiter: bytes | str
) -> bool:
    """Whether the record starting the line ends on it, as the csv module
    reads it: unless a quoted field is still open at the line's end. `at`
    is the line's first quote."""
    while at >= 0:
        if at == 0 or text[at - 1 : at] == delimiter:
            # A quote opening a field (no quote before it since the last
            # field's end): the field ends at a quote not doubled.
            end = at + 1
            while True:
                end = text.find(quote, end)
                if end < 0:
                    return False
                if text[end + 1 : end + 2] != quote:
                    break
                end += 2
            at = text.find(quote, end + 1)
        else:
            # A quote inside a field that does not start with one is a
            # character like any other.
            at = text.find(quote, at + 1)
    return True


def _blank_line(text: bytes | str, delimiter: bytes | str) -> bool:
    """A line without a quote whose fields are white space (`read_rows`
    gives no cell that `str.strip` leaves)."""
    if text.__class__ is bytes:
        text, delimiter = text.decode("utf-8"), delimiter.decode("utf-8")
    return not text.replace(delimiter, "").strip()


def _same_kind(text: Any, like: bytes | str) -> Any:
    """`text` (str, bytes or None) as bytes if `like` is, else as str."""
    if text is None or text.__class__ is like.__class__:
        return text
    return text.encode("utf-8") if like.__class__ is bytes else text.decode("utf-8")


def _decoded_run(run: Any) -> Run:
    last, cell, records = run
    if cell.__class__ is bytes:
        cell = cell.decode("utf-8")
    return last, cell, records


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
