"""NIK and KK number validation: examples and properties."""

import calendar
import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from balai.registry.nik import (
    CHECK,
    IMPOSSIBLE,
    date_part,
    known_kecamatan_codes,
    province_codes,
    validate_kk,
    validate_nik,
)

TENGGARONG = "640206"


def codes(findings):
    return sorted(f.code for f in findings)


def test_a_good_nik_has_nothing_to_say():
    assert validate_nik("6402061501900003") == []
    assert (
        validate_nik("6402065501900003", birth_date=datetime.date(1990, 1, 15), sex="P")
        == []
    )


def test_every_finding_is_returned_at_once():
    # Province 99 does not exist, 32nd of month 13 does not either, serial 0000.
    findings = validate_nik("9902063213900000")
    assert codes(findings) == ["nik_date", "nik_province", "nik_serial"]
    assert all(f.severity == IMPOSSIBLE for f in findings)
    assert all(f.message for f in findings)


def test_length_and_characters():
    assert codes(validate_nik("640206150190003")) == ["nik_length"]
    assert codes(validate_nik("64020615019000A3")) == ["nik_not_digits"]
    assert codes(validate_nik("64020615019000A")) == ["nik_length", "nik_not_digits"]
    assert codes(validate_nik("")) == ["nik_length", "nik_not_digits"]
    # Non-ASCII digits are not digits of a NIK.
    assert "nik_not_digits" in codes(validate_nik("640206150190000٣"))


def test_date_part_rules():
    # Day 00, 32-40 and 72+ are no days; women are 41-71.
    for day in ("00", "32", "40", "72", "99"):
        assert "nik_date" in codes(validate_nik(f"640206{day}01900003")), day
    assert validate_nik("6402064101900003") == []
    assert validate_nik("6402067101900003") == []
    assert "nik_date" in codes(validate_nik("6402063104900003"))  # 31 April
    assert "nik_date" in codes(validate_nik("6402061513900003"))  # month 13
    assert "nik_date" in codes(validate_nik("6402061500900003"))  # month 00


def test_29_february_only_in_a_leap_year_of_either_century():
    assert validate_nik("6402062902000003") == []  # 2000 (and not 1900)
    assert validate_nik("6402062902960003") == []  # 1996
    assert validate_nik("6402066902960003") == []  # a woman, 1996
    assert "nik_date" in codes(validate_nik("6402062902010003"))  # 1901, 2001
    assert "nik_date" in codes(validate_nik("6402063002960003"))  # 30 Feb


def test_unknown_kecamatan_is_kept_to_check():
    # 64.02.99 is no kecamatan of the list (perhaps an old code): check it.
    findings = validate_nik("6402991501900003")
    assert codes(findings) == ["nik_kecamatan_unknown"]
    assert findings[0].severity == CHECK
    assert "64.02.99" in findings[0].message


def test_historic_kecamatan_codes_are_known():
    # The list holds codes valid before 2025 too (berlaku 2022, 2023).
    assert len(known_kecamatan_codes()) > 7000
    assert {"11", "31", "64", "65", "91", "96"} <= province_codes()


def test_disagreement_with_the_record_is_to_check():
    nik = "6402061501900003"  # a man born 15-01-1990
    findings = validate_nik(nik, birth_date=datetime.date(1990, 1, 16), sex="P")
    assert codes(findings) == ["nik_birth_date_mismatch", "nik_sex_mismatch"]
    assert {f.severity for f in findings} == {CHECK}
    # Same day and month, other century: the two digits agree.
    assert validate_nik(nik, birth_date=datetime.date(1890, 1, 15)) == []


def test_kk_number():
    assert validate_kk("6402061203150001") == []
    assert codes(validate_kk("6402064203150001")) == ["kk_date"]  # no +40 on KK
    assert codes(validate_kk("64020612031500")) == ["kk_length"]
    assert codes(validate_kk("0002061203150000")) == ["kk_province", "kk_serial"]


# --- Properties -------------------------------------------------------------

kecamatan = st.sampled_from(sorted(known_kecamatan_codes()))
birth_dates = st.dates(datetime.date(1900, 1, 1), datetime.date(2099, 12, 31))
sexes = st.sampled_from(["L", "P"])
serials = st.integers(1, 9999)


def make(code, birth, sex, serial):
    return f"{code}{date_part(birth, sex)}{serial:04d}"


@settings(max_examples=200, deadline=None)
@given(kecamatan, birth_dates, sexes, serials)
def test_any_valid_nik_passes(code, birth, sex, serial):
    nik = make(code, birth, sex, serial)
    assert validate_nik(nik) == []
    assert validate_nik(nik, birth_date=birth, sex=sex) == []


@settings(max_examples=200, deadline=None)
@given(kecamatan, birth_dates, sexes, serials, st.integers(6, 11), st.integers(0, 9))
def test_a_corrupted_date_digit_is_refused_exactly_when_no_date(
    code, birth, sex, serial, position, digit
):
    nik = make(code, birth, sex, serial)
    corrupted = nik[:position] + str(digit) + nik[position + 1 :]
    part = corrupted[6:12]
    dd, mm, yy = int(part[:2]), int(part[2:4]), int(part[4:])
    day = dd - 40 if dd > 40 else dd
    real = (1 <= dd <= 31 or 41 <= dd <= 71) and any(
        1 <= mm <= 12 and 1 <= day <= calendar.monthrange(century + yy, mm)[1]
        for century in (1900, 2000)
    )
    refused = "nik_date" in codes(validate_nik(corrupted))
    assert refused == (not real)
    if not real:
        # Refused as impossible, not merely to check.
        assert any(f.severity == IMPOSSIBLE for f in validate_nik(corrupted))


@settings(max_examples=100, deadline=None)
@given(kecamatan, birth_dates, sexes, serials)
def test_the_other_sex_is_always_flagged(code, birth, sex, serial):
    nik = make(code, birth, sex, serial)
    other = "P" if sex == "L" else "L"
    assert codes(validate_nik(nik, sex=other)) == ["nik_sex_mismatch"]


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20))
def test_any_text_gets_findings_not_an_exception(text):
    findings = validate_nik(text)
    assert all(f.severity in (IMPOSSIBLE, CHECK) for f in findings)
    if len(text) != 16:
        assert "nik_length" in codes(findings)


@settings(max_examples=100, deadline=None)
@given(kecamatan, birth_dates, sexes)
def test_serial_0000_is_refused(code, birth, sex):
    assert codes(validate_nik(make(code, birth, sex, 0))) == ["nik_serial"]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 99).filter(lambda p: f"{p:02d}" not in province_codes()))
def test_a_province_that_is_none_is_refused(province):
    nik = f"{province:02d}0206" + "1501900003"
    assert "nik_province" in codes(validate_nik(nik))
