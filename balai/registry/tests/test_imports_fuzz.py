"""The import parsers never crash: any input yields rows or a clear
`BalaiError` (fuzzed with hypothesis)."""

import datetime
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
