"""The import parsers never crash: any input yields rows or a clear
`BalaiError` (fuzzed with hypothesis)."""

import contextlib
import csv
import datetime
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balai.core.errors import BalaiError
from balai.registry.imports import layouts, pipeline, readers
from balai.registry.imports.layouts import CellProblem, number16, parse_date
from balai.registry.imports.samples import BALAI_TEMPLATE_HEADER as BALAI_HEADER
from balai.registry.imports.samples import OPENSID_HEADER, SIAK_HEADER
from balai.registry.tests.test_imports_readers import runs_fast, runs_read_rows

pytestmark = pytest.mark.django_db

cells = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.sampled_from(["=1+1", "+62", "-", "@SUM(A1)", "31-02-1990", "6.40206e+15"]),
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(cells)
def test_cell_converters_raise_only_cell_problems(cell):
    for convert in (
        lambda c: number16(c, label="NIK"),
        lambda c: parse_date(c, label="tanggal"),
        layouts.clean_text,
    ):
        problem = _caught(CellProblem, convert, cell)
        if problem is not None:
            assert problem.message


def _caught(kind, fn, *args):
    """Run fn; return the `kind` error it raised (any other error fails)."""
    try:
        fn(*args)
    except kind as error:
        return error
    return None


@pytest.fixture(scope="module")
def context(django_db_blocker):
    with django_db_blocker.unblock():
        return pipeline.build_context("64.02.06.1001")


@FUZZ
@given(
    st.sampled_from([SIAK_HEADER, OPENSID_HEADER, BALAI_HEADER]),
    st.lists(st.lists(cells, max_size=45), min_size=1, max_size=5),
)
def test_any_row_maps_to_values_or_named_problems(context, header, rows):
    mapper = layouts.Mapper(layouts.detect_header([(1, list(header))]), context)
    for line, cells_ in enumerate(rows, start=2):
        row = mapper.map(line, cells_)
        for issue in row.issues:
            assert issue.message
            assert issue.severity in (layouts.REJECT, layouts.NOTE)
        if not row.blank and not row.rejected:
            assert row.values["name"]
            assert row.values["village"]


def _read_all(path: Path) -> None:
    error = _caught(BalaiError, _read, path)
    if error is not None:
        assert error.message
        assert error.code


def _read(path: Path) -> None:
    readers.check_size(path, 10_000_000)
    kind = readers.detect_kind(path)
    info = readers.SourceInfo(kind=kind, size=path.stat().st_size)
    rows = readers.read_rows(path, kind, info)
    header = layouts.detect_header(rows)
    mapper = layouts.Mapper(header, pipeline.build_context("64.02.06.1001"))
    for line, cells_ in rows:
        mapper.map(line, cells_)


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes_read_or_refused(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "x.csv"
    path.write_bytes(data)
    _read_all(path)


@FUZZ
@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(codec="utf-8"), max_size=12), max_size=8
        ),
        max_size=6,
    ),
    st.sampled_from([",", ";", "\t"]),
)
def test_csv_text_with_a_real_header_then_noise(rows, delimiter):
    lines = [delimiter.join(SIAK_HEADER)] + [delimiter.join(r) for r in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.csv"
        path.write_text("\n".join(lines), encoding="utf-8")
        _read_all(path)


@FUZZ
@given(st.binary(min_size=1, max_size=400), st.sampled_from(["xlsx", "xls"]))
def test_broken_spreadsheets_refused(data, kind):
    magic = b"PK\x03\x04" if kind == "xlsx" else bytes.fromhex("D0CF11E0A1B11AE1")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"a.{kind}"
        path.write_bytes(magic + data)
        _read_all(path)


def test_a_real_date_survives_every_format():
    day = datetime.date(2001, 9, 30)
    for text in ("30-09-2001", "2001-09-30", "30/09/2001", "30.09.2001", 37164):
        assert parse_date(text, label="x") == day


# --- The scan's fast csv pass reads what read_rows reads -------------------------

csv_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list('0123 ab\t,;|"\n\r\u00e9\u00a0\u2013\x85\u2028\x00')),
        st.characters(codec="utf-8"),
    ),
    max_size=8,
)


def _csv_lines(rows, delimiter, end, quoted):
    if not quoted:
        return [delimiter.join(row) for row in rows]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().split("\n")[:-1]


def _file_bytes(lines, end, cp1252):
    """The lines joined by `end`, those numbered in `cp1252` (when they can
    be) written as Windows-1252."""
    data = b""
    for number, text in enumerate(lines, start=1):
        encoding = "utf-8"
        if number in cp1252:
            with contextlib.suppress(UnicodeEncodeError):
                text.encode("cp1252")
                encoding = "cp1252"
        data += text.encode(encoding) + (end.encode() if number < len(lines) else b"")
    return data


def _runs_or_error(read):
    try:
        return read()
    except readers.Uncertain:
        return "uncertain"
    except BalaiError as error:
        return error.code


@FUZZ
@given(
    st.lists(st.lists(csv_text, max_size=5), max_size=10),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.integers(min_value=0, max_value=4),
    st.sets(st.integers(min_value=2, max_value=11), max_size=3),
    st.booleans(),
)
def test_csv_runs_read_what_read_rows_reads(
    rows, delimiter, end, quoted, column, cp1252, last_end
):
    lines = [delimiter.join("abcde"), *_csv_lines(rows, delimiter, end, quoted)]
    data = _file_bytes(lines, end, cp1252) + (end.encode() if last_end else b"")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.csv"
        path.write_bytes(data)

        expected = _runs_or_error(lambda: runs_read_rows(path, column))
        got = _runs_or_error(lambda: runs_fast(path, column))
    if got != "uncertain":
        assert got == expected
    # Cells of no quote, line end or NUL leave the fast pass sure (the csv
    # writer's quotes are on one line).
    if not any(set(c) & set('"\r\n\x00') for row in rows for c in row):
        assert got != "uncertain"


@FUZZ
@given(
    st.text(alphabet=st.sampled_from(list('ab ,;"')), max_size=20),
    st.sampled_from([",", ";"]),
)
def test_a_record_ends_on_its_line_as_the_csv_module_says(text, delimiter):
    reader = csv.reader([text + "\n", "next line\n"], delimiter=delimiter)
    next(reader)
    expected = reader.line_num == 1
    for line in (text, text.encode()):
        quote = '"' if line.__class__ is str else b'"'
        at = line.find(quote)
        split_at = delimiter if line.__class__ is str else delimiter.encode()
        assert readers._ends_on_line(line, at, quote, split_at) == expected


kk_cells = st.one_of(
    st.sampled_from(
        [
            "6402060101200001",
            " 6402060101200001",
            "'6402060101200002",
            "",
            " ",
            "6.40206E+15",
            "6402060101200003.0",
            "-",
            "0",
            "64020601 0120 0004",
        ]
    ),
    csv_text,
)


@FUZZ
@given(
    st.lists(
        st.tuples(kk_cells, st.lists(csv_text, max_size=3)), min_size=1, max_size=12
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_the_fast_scan_finds_what_every_row_read_finds(context, rows, end, quoted):
    table = [list(SIAK_HEADER), *([kk, *rest] for kk, rest in rows)]
    data = _file_bytes(_csv_lines(table, ",", end, quoted), end, set())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.csv"
        path.write_bytes(data)

        def scanned(fast):
            def scan():
                return pipeline.scan(path, context=context, max_bytes=None, fast=fast)[
                    0
                ]

            return _runs_or_error(scan)

        assert scanned(fast=True) == scanned(fast=False)
