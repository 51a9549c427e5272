"""Reading import files: kinds told by their bytes, encodings, delimiters,
spreadsheets read without evaluating anything, and broken files refused."""

import codecs
import datetime

import pytest

from balai.core.errors import BalaiError
from balai.registry.imports import readers
from balai.registry.tests.digitisation_helpers import write_xls, write_xlsx


def rows_of(path):
    kind = readers.detect_kind(path)
    info = readers.SourceInfo(kind=kind, size=path.stat().st_size)
    return kind, info, list(readers.read_rows(path, kind, info))


def test_utf8_csv_with_bom_and_line_numbers(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"nama,nik\nSiti Aminah,1\n\nBudi,2\n")
    kind, info, rows = rows_of(path)
    assert kind == readers.CSV
    assert info.encoding == "utf-8-sig"
    assert rows[0] == (1, ["nama", "nik"])
    assert rows[1] == (2, ["Siti Aminah", "1"])
    assert rows[-1] == (4, ["Budi", "2"])


def test_cp1252_text_is_decoded_not_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(
        "nama;tempat\nRen\u00e9 \u2013 Fauzi;Tenggarong\n".encode("cp1252")
    )
    _kind, info, rows = rows_of(path)
    assert info.delimiter == ";"
    assert rows[1][1] == ["Ren\u00e9 \u2013 Fauzi", "Tenggarong"]
    assert info.fallback_lines == [2]
    assert "Windows-1252" in readers.describe(info)


def test_utf8_and_cp1252_lines_in_one_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(
        b"nama\n" + "Andr\u00e9\n".encode() + "Jos\u00e9\n".encode("cp1252")
    )
    _kind, _info, rows = rows_of(path)
    assert [r[1][0] for r in rows[1:]] == ["Andr\u00e9", "Jos\u00e9"]


def test_utf16_csv(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("nama\tnik\nAminah\t3\n".encode("utf-16"))
    _kind, info, rows = rows_of(path)
    assert info.encoding == "utf-16"
    assert rows[1][1] == ["Aminah", "3"]


def test_quoted_newline_keeps_the_start_line(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('nama,alamat\nA,"Jl. Pesut\nNo. 1"\nB,x\n', encoding="utf-8")
    _kind, _info, rows = rows_of(path)
    assert rows[1] == (2, ["A", "Jl. Pesut\nNo. 1"])
    assert rows[2] == (4, ["B", "x"])


def test_xlsx_formulas_are_read_as_text_never_evaluated(tmp_path):
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["nama", "nik", "lahir"],
            ["=1+1", 6402061203850001, datetime.date(1990, 1, 2)],
        ],
    )
    kind, _info, rows = rows_of(path)
    assert kind == readers.XLSX
    assert rows[1][1][0] == "=1+1"
    assert rows[1][1][1] == 6402061203850001
    assert rows[1][1][2].date() == datetime.date(1990, 1, 2)


def test_xls_cells(tmp_path):
    path = write_xls(
        tmp_path / "a.xls",
        [
            ["nama", "nik", "lahir"],
            ["Budi", 6402061203850001.0, datetime.date(1990, 1, 2)],
        ],
    )
    kind, _info, rows = rows_of(path)
    assert kind == readers.XLS
    assert rows[1][1][0] == "Budi"
    assert rows[1][1][1] == 6402061203850001.0
    assert rows[1][1][2].date() == datetime.date(1990, 1, 2)


def test_kind_by_bytes_not_by_name(tmp_path):
    path = write_xlsx(tmp_path / "menyamar.csv", [["nama"], ["Budi"]])
    assert readers.detect_kind(path) == readers.XLSX


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "file_empty"),
        (b"%PDF-1.4 ...", "file_kind"),
        (b"nama\x00\x00\x01binary", "file_kind"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(tmp_path, content, code):
    path = tmp_path / "x.csv"
    path.write_bytes(content)

    def read():
        readers.check_size(path, None)
        readers.detect_kind(path)

    with pytest.raises(BalaiError) as caught:
        read()
    assert caught.value.code == code
    assert caught.value.message


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("rusak.xlsx", b"PK\x03\x04" + b"\x00" * 200, "xlsx_invalid"),
        ("rusak.xls", bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 600, "xls_invalid"),
    ],
)
def test_corrupted_spreadsheets_are_refused(tmp_path, name, content, code):
    path = tmp_path / name
    path.write_bytes(content)
    kind = readers.detect_kind(path)
    info = readers.SourceInfo(kind=kind, size=len(content))
    with pytest.raises(BalaiError) as caught:
        list(readers.read_rows(path, kind, info))
    assert caught.value.code == code
    assert "rusak" in caught.value.message


def test_truncated_xlsx_is_refused(tmp_path):
    good = write_xlsx(tmp_path / "a.xlsx", [["nama"], *[["Budi"]] * 50])
    broken = tmp_path / "b.xlsx"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    kind = readers.detect_kind(broken)
    with pytest.raises(BalaiError):
        list(readers.read_rows(broken, kind, readers.SourceInfo(kind, 1)))


def test_size_limit(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x" * 2000)
    assert readers.check_size(path, 2000) == 2000
    with pytest.raises(BalaiError) as caught:
        readers.check_size(path, 1999)
    assert caught.value.code == "file_too_large"
    assert "terlalu besar" in caught.value.message
