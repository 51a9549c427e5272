"""Layouts: told apart by their header, each row mapped to one normalized
dict, every bad cell named with its column and reason."""

import datetime

import pytest

from balai.core.errors import BalaiError
from balai.registry.imports import layouts
from balai.registry.imports.layouts import CellProblem, number16, parse_date
from balai.registry.imports.pipeline import build_context
from balai.registry.imports.samples import BALAI_TEMPLATE_HEADER as BALAI_HEADER
from balai.registry.imports.samples import OPENSID_HEADER, SIAK_HEADER
from balai.registry.reference import (
    BloodType,
    Disability,
    Education,
    MaritalStatus,
    Occupation,
    Religion,
    Shdk,
)

pytestmark = pytest.mark.django_db

SIAK_ROW = {
    "Nomor KK": "6402060101200001",
    "NIK": "6402061203850001",
    "Nama Penduduk": "AHMAD RUSDI",
    "Status": "Hidup",
    "Tempat Lahir": "TENGGARONG",
    "Tanggal Lahir": "12-03-1985",
    "Kelamin": "Laki-Laki",
    "NIK Ayah": "",
    "Ayah": "HAMDANI",
    "NIK Ibu": "0",
    "Ibu": "SITI AMINAH",
    "Status Kawin": "Kawin",
    "SHDK": "Kepala Keluarga",
    "Agama": "Islam",
    "Kecamatan": "TENGGARONG",
    "Desa/Kel": "JAHAB",
    "Alamat": "JL. PESUT",
    "RW": 2,
    "RT": 1,
    "Pendidikan": "SLTA/Sederajat",
    "Pekerjaan": "Wiraswasta",
    "Gol. Darah": "Tdk Th",
    "Cacat": "-",
    "Cetak KTP": "Sudah",
    "Nomor Akta Lahir": "-",
    "Tanggal Kwn": "01-02-2010",
}


def siak_cells(**changes):
    values = {**SIAK_ROW, **changes}
    return [values.get(h, "") for h in SIAK_HEADER]


def mapper_for(header, village=""):
    detected = layouts.detect_header(iter([(1, list(header))]))
    return layouts.Mapper(detected, build_context(village))


def test_each_layout_is_told_by_its_header():
    assert layouts.detect_header([(1, list(SIAK_HEADER))]).layout.key == "siak"
    assert layouts.detect_header([(1, list(OPENSID_HEADER))]).layout.key == "opensid"
    assert layouts.detect_header([(1, list(BALAI_HEADER))]).layout.key == "balai"


def test_title_rows_before_the_header_are_skipped():
    rows = [
        (1, ["DATA PENDUDUK KABUPATEN KUTAI KARTANEGARA"]),
        (2, []),
        (3, ["Dicetak 01-12-2024"]),
        (4, [h.upper() for h in SIAK_HEADER]),
    ]
    header = layouts.detect_header(iter(rows))
    assert header.layout.key == "siak"
    assert header.line == 4


def test_unknown_header_is_refused():
    with pytest.raises(BalaiError) as caught:
        layouts.detect_header([(1, ["a", "b", "c"]), (2, ["1", "2", "3"])])
    assert caught.value.code == "layout_unknown"


def test_wrong_layout_chosen_names_missing_columns():
    with pytest.raises(BalaiError) as caught:
        layouts.detect_header([(1, list(SIAK_HEADER))], "opensid")
    assert caught.value.code == "layout_mismatch"
    assert "sex" in caught.value.message


def test_siak_row_maps_words_to_codes():
    row = mapper_for(SIAK_HEADER).map(2, siak_cells())
    assert not row.issues
    values = row.values
    assert values["village"] == "64.02.06.1001"
    assert values["sex"] == "L"
    assert values["birth_date"] == datetime.date(1985, 3, 12)
    assert values["religion"] == Religion.ISLAM
    assert values["marital_status"] == MaritalStatus.KAWIN
    assert values["shdk"] == Shdk.KEPALA_KELUARGA
    assert values["education"] == Education.SLTA
    assert values["occupation"] == Occupation.WIRASWASTA
    assert values["blood_type"] == BloodType.TIDAK_TAHU
    assert values["disability"] == Disability.TIDAK_CACAT
    assert values["ektp_recorded"] is True
    assert values["rt"] == "001"
    assert values["rw"] == "002"
    assert values["mother_nik"] == ""
    assert values["birth_cert_number"] == ""
    assert values["marriage_date"] == datetime.date(2010, 2, 1)


def test_place_names_in_capitals_and_same_desa_names_in_two_kecamatan():
    mapper = mapper_for(SIAK_HEADER)
    # "Kampung Baru" is a kelurahan of Tenggarong and a desa elsewhere.
    row = mapper.map(2, siak_cells(**{"Desa/Kel": "KEL. KAMPUNG BARU"}))
    assert row.values["village"] == "64.02.06.1008"
    row = mapper.map(2, siak_cells(**{"Desa/Kel": "ATLANTIS"}))
    assert row.rejected
    assert row.issues[0].column == "Desa/Kel"
    assert row.issues[0].code == "village_unknown"


@pytest.mark.parametrize(
    ("changes", "column", "code"),
    [
        ({"Kelamin": "X"}, "Kelamin", "sex_unknown"),
        ({"Nama Penduduk": ""}, "Nama Penduduk", "name_missing"),
        ({"Tanggal Lahir": "31-02-1990"}, "Tanggal Lahir", "date_impossible"),
        ({"Tanggal Lahir": "kemarin"}, "Tanggal Lahir", "date_format"),
        ({"Agama": "Jedi"}, "Agama", "choice_unknown"),
        ({"SHDK": ""}, "SHDK", "choice_missing"),
        ({"Nomor KK": ""}, "Nomor KK", "kk_missing"),
        ({"NIK": 6.40206e15}, "NIK", "number_float"),
        ({"Status": "Mati"}, "Status", "not_alive"),
    ],
)
def test_rows_that_cannot_be_placed_are_rejected_with_column(changes, column, code):
    row = mapper_for(SIAK_HEADER).map(7, siak_cells(**changes))
    assert row.rejected
    issue = next(i for i in row.issues if i.severity == layouts.REJECT)
    assert (issue.column, issue.code) == (column, code)
    assert issue.message


def test_unknown_occupation_is_a_note_not_a_rejection():
    row = mapper_for(SIAK_HEADER).map(2, siak_cells(Pekerjaan="Astronot"))
    assert not row.rejected
    assert row.values["occupation"] == Occupation.LAINNYA
    assert row.issues[0].severity == layouts.NOTE
    assert row.issues[0].column == "Pekerjaan"


def test_dates_as_text_serials_and_cells():
    assert parse_date("31-01-1990", label="x") == datetime.date(1990, 1, 31)
    assert parse_date("1990-01-31", label="x") == datetime.date(1990, 1, 31)
    assert parse_date("31/01/1990", label="x") == datetime.date(1990, 1, 31)
    assert parse_date("1990-01-31 00:00:00", label="x") == datetime.date(1990, 1, 31)
    assert parse_date(32874, label="x") == datetime.date(1990, 1, 1)
    assert parse_date("32874", label="x") == datetime.date(1990, 1, 1)
    assert parse_date(32874.0, label="x") == datetime.date(1990, 1, 1)
    assert parse_date(datetime.datetime(1990, 1, 1, 8), label="x") == datetime.date(
        1990, 1, 1
    )
    assert parse_date("", label="x") is None
    for bad in ("31-02-1990", "29-02-2023", "00-01-1990", "1990-13-01", 12, -5.0):
        with pytest.raises(CellProblem):
            parse_date(bad, label="x")


def test_sixteen_digit_numbers_stored_as_floats():
    exact = 6402061203850001
    assert number16(exact, label="NIK") == "6402061203850001"
    assert number16(str(exact), label="NIK") == "6402061203850001"
    assert number16("'6402061203850001", label="NIK") == "6402061203850001"
    # A float whose last digit is not 0 still holds every digit.
    assert number16(float(exact), label="NIK") == "6402061203850001"
    assert number16("6402061203850001.0", label="NIK") == "6402061203850001"
    # Excel kept 15 digits: the 16th is lost, refuse.
    for lost in (6.40206e15, 6402061203850000.0, "6.40206E+15", "6,40206E+15"):
        with pytest.raises(CellProblem) as caught:
            number16(lost, label="NIK")
        assert caught.value.code == "number_float"
        assert "15 digit" in caught.value.message
    assert number16("", label="NIK") == ""
    assert number16("0", label="NIK") == ""


def test_a_leading_sign_nik_is_just_text():
    assert number16("+6402061203850001", label="NIK") == "+6402061203850001"
    assert number16("=6402061203850001", label="NIK") == "=6402061203850001"
    row = mapper_for(SIAK_HEADER).map(
        2, siak_cells(**{"Nama Penduduk": "=HYPERLINK()"})
    )
    assert row.values["name"] == "=HYPERLINK()"


def test_control_characters_never_reach_the_database():
    row = mapper_for(SIAK_HEADER).map(
        2, siak_cells(**{"Nama Penduduk": "AHMAD\x00 RUSDI\t"})
    )
    assert row.values["name"] == "AHMAD RUSDI"


def test_opensid_codes_and_the_given_village():
    mapper = mapper_for(OPENSID_HEADER, village="64.02.06.1004")
    cells = dict.fromkeys(OPENSID_HEADER, "")
    cells.update(
        nama="Siti Aminah",
        no_kk="6402060101200001",
        nik="6402065507880002",
        sex="2",
        tanggallahir="1988-07-15",
        agama_id="1",
        pendidikan_kk_id="5",
        pekerjaan_id="88",
        status_kawin="2",
        kk_level="3",
        warganegara_id="1",
        golongan_darah_id="4",
        cacat_id="7",
        status_rekam="4",
        status_dasar="1",
        rt="3",
    )
    row = mapper.map(2, [cells[h] for h in OPENSID_HEADER])
    assert not row.issues
    v = row.values
    assert (v["sex"], v["religion"], v["shdk"], v["village"]) == (
        "P",
        Religion.ISLAM,
        Shdk.ISTRI,
        "64.02.06.1004",
    )
    assert v["education"] == Education.SLTA
    assert v["occupation"] == Occupation.WIRASWASTA
    assert v["blood_type"] == BloodType.O
    assert v["ektp_recorded"] is True
    assert v["rt"] == "003"


def test_opensid_needs_a_village():
    header = layouts.detect_header([(1, list(OPENSID_HEADER))])
    with pytest.raises(BalaiError) as caught:
        layouts.Mapper(header, build_context(""))
    assert caught.value.code == "village_required"
    with pytest.raises(BalaiError) as caught:
        layouts.Mapper(header, build_context("99.99.99.9999"))
    assert caught.value.code == "village_unknown"


def test_balai_template_takes_codes_or_words():
    mapper = mapper_for(BALAI_HEADER)
    values = dict.fromkeys(BALAI_HEADER, "")
    values.update(
        nomor_kk="6402060101200001",
        nama="Budi",
        jenis_kelamin="Laki-laki",
        tanggal_lahir="01-02-2000",
        agama="Kristen",
        shdk="4",
        kode_desa="64.02.12.2001",
        rekam_ktp_el="ya",
    )
    row = mapper.map(2, [values[h] for h in BALAI_HEADER])
    assert not row.issues
    assert row.values["religion"] == Religion.KRISTEN
    assert row.values["shdk"] == Shdk.ANAK
    assert row.values["village"] == "64.02.12.2001"
    assert row.values["nik"] == ""


def test_blank_rows_are_blank():
    row = mapper_for(SIAK_HEADER).map(9, ["", None, "  "])
    assert row.blank


def test_a_mapper_remembers_code_list_texts_but_never_a_refused_cell():
    """Few-valued columns (code lists, RT/RW, places) are converted once per
    text by a mapper; the same text maps the same every time, and a cell
    that was refused (or noted) is refused (noted) again."""
    mapper = mapper_for(SIAK_HEADER)
    marked = [
        column.field
        for column, _index in mapper.columns
        if getattr(column.convert, "few_values", False)
    ]
    assert {"religion", "shdk", "sex", "rt", "village_name"} <= set(marked)
    assert not {"name", "nik", "birth_date", "street"} & set(marked)
    first = mapper.map(2, siak_cells())
    again = mapper.map(3, siak_cells())
    assert again.values == first.values
    assert mapper._places[("TENGGARONG", "JAHAB")] == first.values["village"]
    # Another mapper (another file) starts with nothing remembered.
    assert mapper_for(SIAK_HEADER)._places == {}
    for line in (4, 5):
        row = mapper.map(line, siak_cells(Agama="Jedi", Pekerjaan="Astronot"))
        assert row.rejected
        codes = {(i.column, i.code, i.severity) for i in row.issues}
        assert ("Agama", "choice_unknown", layouts.REJECT) in codes
        assert ("Pekerjaan", "choice_unknown", layouts.NOTE) in codes
        assert row.values["occupation"] == Occupation.LAINNYA
    # Same text, same value as a fresh mapper gives (kelurahan by name).
    row = mapper.map(6, siak_cells(**{"Desa/Kel": "KEL. KAMPUNG BARU"}))
    assert row.values["village"] == "64.02.06.1008"
    row = mapper.map(7, siak_cells(**{"Desa/Kel": "KEL. KAMPUNG BARU"}))
    assert row.values["village"] == "64.02.06.1008"
    assert mapper.map(8, siak_cells(**{"Desa/Kel": "ATLANTIS"})).rejected
    assert mapper.map(9, siak_cells(**{"Desa/Kel": "ATLANTIS"})).rejected
