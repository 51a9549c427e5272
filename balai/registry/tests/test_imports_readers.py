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


# --- csv_runs: the KK column read fast, exactly as read_rows reads it ------------


def runs_read_rows(path, column):
    """The runs `csv_runs` must give, made from every row `read_rows` reads
    (the header on line 1)."""
    info = readers.SourceInfo(readers.CSV, path.stat().st_size)
    rows = readers.read_rows(path, readers.CSV, info)
    next(rows)
    runs = []
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        cell = cells[column] if len(cells) > column else None
        if runs and runs[-1][1] == cell:
            runs[-1] = (line, cell, runs[-1][2] + 1)
        else:
            runs.append((line, cell, 1))
    return runs, info


def runs_fast(path, column):
    info = readers.SourceInfo(readers.CSV, path.stat().st_size)
    next(readers.read_rows(path, readers.CSV, info))  # the header, as the scan does
    return list(readers.csv_runs(path, info, after_line=1, column=column)), info


PLAIN = "nomor_kk,nik,nama\n1,11,A\n1,12,B\n2,21,C\n1,13,D\n"


@pytest.mark.parametrize(
    ("content", "column"),
    [
        (PLAIN.encode(), 0),
        (PLAIN.encode(), 2),
        (PLAIN.replace("\n", "\r\n").encode(), 2),
        (PLAIN.rstrip("\n").encode(), 0),
        (PLAIN.rstrip("\n").encode() + b"\r", 0),
        (codecs.BOM_UTF8 + PLAIN.encode(), 0),
        (PLAIN.replace(",", ";").encode(), 1),
        (PLAIN.replace(",", "\t").encode() + b"\t\t\n \t \n", 1),
        # Quotes: the delimiter inside, a doubled quote, a stray one mid-field.
        (b'a,b,c\n"1,5",x,y\n"1,5","x ""y""",z\n7,ab"c,d"\n', 0),
        (b'a,b,c\n1,"x,y"\r\n2,"p"q,r\r\n', 1),
        # Blank lines, lines of delimiters and white space: no record.
        (b"a,b,c\n\n1,2\n,,\n , \t,\n\r\n\xc2\xa0,\n2,3\n", 0),
        # White space in the read column of a record that is not blank.
        (b"a,b,c\n ,x\n\t,y\n,z\n", 0),
        # Records too short for the column, and one cut at it.
        (b"a,b,c\n1\n2,x\n3,y,z\n4,y\n", 2),
        (b"a,b,c\n1,x,\n2,x\r\n3,y,z\r\n", 2),
        # UTF-8 and Windows-1252 lines in one file.
        ("a,b\n1,Andr\u00e9\n".encode() + "2,Jos\u00e9\n3,x\n".encode("cp1252"), 1),
        ("a,b\n".encode("cp1252") + "\u00c9,1\n\u00c9,2\n".encode("cp1252"), 0),
        (b"a,b\n\x81,x\n\x81,y\n", 0),  # not even Windows-1252: Latin-1
        ("\u00c9tat,b\n\u00c9,1\n".encode("cp1252") + "\u00c9,2\n".encode(), 0),
    ],
)
def test_csv_runs_read_what_read_rows_reads(tmp_path, content, column):
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    expected, slow_info = runs_read_rows(path, column)
    got, info = runs_fast(path, column)
    assert got == expected
    assert info == slow_info


def test_csv_runs_of_a_large_file_across_blocks(tmp_path):
    lines = ["nomor_kk,nik,nama,alamat"]
    for n in range(60_000):
        kk = f"64020601012{n // 3:05d}"
        address = '"Jl. Pesut, No. 1"' if n % 997 == 0 else "Jl. Pesut"
        name = "Jos\u00e9" if n % 1500 == 0 else "Budi"
        lines.append(f"{kk},{n},{name},{address}")
        if n % 5000 == 0:
            lines.append(",,,")
    data = "\r\n".join(lines).encode()
    # One Windows-1252 line in the middle of a block of UTF-8 lines.
    data = data.replace(",3000,Jos\u00e9".encode(), ",3000,Jos\u00e9".encode("cp1252"))
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    assert path.stat().st_size > 2 * (1 << 20)  # three blocks
    expected, slow_info = runs_read_rows(path, 0)
    got, info = runs_fast(path, 0)
    assert got == expected
    assert len(got) == 20_000
    assert info == slow_info
    assert info.fallback_lines == [3003]  # after the header and one blank line


@pytest.mark.parametrize(
    "content",
    [
        b'a,b\n1,"Jl. Pesut\nNo. 1"\n2,x\n',  # a record over two lines
        b'a,b\n1,x\n2,"not closed\n',
        b'a,b\n1,"x""\n2"\n',  # a doubled quote does not close the field
        b'a,b\n1,x"y,"z\n"\n',  # a quote opening a field, not one inside
        b'a,"b\nc"\n1,2\n',  # the header over two lines
        b"a,b\n1,x\ry\n",  # csv refuses it outside quotes
        b'a,b\n1,"x\ry"\n',  # and keeps it inside
        b"a,b\n1,x\r\r\n",
        b"a,b\n1,x\x00y\n",
        b"a,b\n1," + b"x" * 1_000_001 + b"\n",  # over the csv field limit
        "a,b\n1,x\n".encode("utf-16"),
    ],
)
def test_csv_runs_give_up_where_unsure(tmp_path, content):
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    info = readers.SourceInfo(readers.CSV, len(content), delimiter=",")
    with pytest.raises(readers.Uncertain):
        list(readers.csv_runs(path, info, after_line=1, column=0))


def test_digest_is_the_files_sha256(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"nama\n" * 700_000)
    assert readers.Digest(path).result() == readers.sha256_of(path)
    cancelled = readers.Digest(path)
    cancelled.cancel()
    missing = readers.Digest(tmp_path / "hilang.csv")
    with pytest.raises(FileNotFoundError):
        missing.result()
