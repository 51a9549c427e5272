"""Files for the import, reconciliation and duplicate tests: synthetic
families written in each layout (csv, xlsx, xls)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from balai.registry.actions import Address, FamilyInput, Member, Person
from balai.registry.imports import samples
from balai.registry.reference import MaritalStatus, Religion, Shdk
from balai.registry.synthetic import Generator, Village
from balai.registry.tests.xls_writer import xls_bytes

JAHAB = Village("64.02.06.1001", "Jahab", True)
TIMBAU = Village("64.02.06.1004", "Timbau", True)
TABANG = Village("64.02.12.2001", "Tabang Lama", False)


def synthetic_families(
    residents: int, *, villages=(JAHAB,), seed: int = 7
) -> list[FamilyInput]:
    """Households of about `residents` people, spread over `villages`."""
    generator = Generator(seed=seed)
    families: list[FamilyInput] = []
    share = max(1, residents // len(villages))
    for village in villages:
        families.extend(generator.village_families(village, share))
    return families


def region_maps() -> tuple[dict[str, str], dict[str, str]]:
    return samples.region_names()


def siak_table(families: list[FamilyInput]) -> list[list[Any]]:
    villages, kecamatan = region_maps()
    return [
        list(samples.SIAK_HEADER),
        *samples.siak_rows(families, villages, kecamatan),
    ]


def write_rows(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8") -> Path:
    samples.write_csv(path, rows[0], rows[1:], encoding=encoding)
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Penduduk")
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_xls(path: Path, rows: list[list[Any]]) -> Path:
    path.write_bytes(xls_bytes(rows))
    return path


def one_family(
    *,
    kk: str = "6402060101200001",
    village: str = "64.02.06.1001",
    head_nik: str = "6402061203850001",
    wife_nik: str = "6402065507880002",
    child_nik: str = "6402060102150003",
) -> FamilyInput:
    """A small KK with known numbers: husband, wife and a son."""
    return FamilyInput(
        address=Address(village=village, rt="001", rw="002", street="Jl. Pesut"),
        kk_number=kk,
        members=[
            Member(
                person=Person(
                    name="Ahmad Rusdi",
                    sex="L",
                    birth_date=datetime.date(1985, 3, 12),
                    religion=Religion.ISLAM,
                    nik=head_nik,
                    birth_place="Tenggarong",
                    marital_status=MaritalStatus.KAWIN,
                    father_name="Hamdani",
                    mother_name="Siti Aminah",
                ),
                shdk=Shdk.KEPALA_KELUARGA,
            ),
            Member(
                person=Person(
                    name="Nurhayati",
                    sex="P",
                    birth_date=datetime.date(1988, 7, 15),
                    religion=Religion.ISLAM,
                    nik=wife_nik,
                    birth_place="Samarinda",
                    marital_status=MaritalStatus.KAWIN,
                    father_name="Jailani",
                    mother_name="Masnah",
                ),
                shdk=Shdk.ISTRI,
            ),
            Member(
                person=Person(
                    name="Muhammad Rizal",
                    sex="L",
                    birth_date=datetime.date(2015, 2, 1),
                    religion=Religion.ISLAM,
                    nik=child_nik,
                    birth_place="Tenggarong",
                    father_name="Ahmad Rusdi",
                    mother_name="Nurhayati",
                ),
                shdk=Shdk.ANAK,
            ),
        ],
    )
