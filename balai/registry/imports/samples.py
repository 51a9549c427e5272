"""Rows in each import layout, made from `FamilyInput`s (the synthetic
population of `balai.registry.synthetic`): the files the tests and the
benchmarks import. Nothing here is read by an import itself.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from balai.registry.actions import FamilyInput
from balai.registry.imports.layouts import BALAI_TEMPLATE_HEADER
from balai.registry.reference import (
    BloodType,
    Disability,
    Education,
    MaritalStatus,
    Occupation,
    Religion,
    Shdk,
)

SIAK_HEADER = (
    "Nomor KK",
    "NIK",
    "Nama Penduduk",
    "Status",
    "Tempat Lahir",
    "Tanggal Lahir",
    "Kelamin",
    "NIK Ayah",
    "Ayah",
    "NIK Ibu",
    "Ibu",
    "Status Kawin",
    "SHDK",
    "Agama",
    "Kecamatan",
    "Desa/Kel",
    "Alamat",
    "RW",
    "RT",
    "Pendidikan",
    "Pekerjaan",
    "Deskripsi Pekerjaan",
    "Gol. Darah",
    "Cacat",
    "Cetak KTP",
    "Ganti KTP",
    "KTP Berakhir",
    "Nomor Paspor",
    "Nomor Akta Lahir",
    "Nomor Akta Kawin",
    "Tanggal Kwn",
    "Nomor Akta Cerai",
    "Tgl Cerai",
    "Petugas Registrasi",
    "Tgl Ubah",
    "Petugas Entri",
    "Tgl Entri",
)
OPENSID_HEADER = (
    "alamat",
    "dusun",
    "rw",
    "rt",
    "nama",
    "no_kk",
    "nik",
    "sex",
    "tempatlahir",
    "tanggallahir",
    "agama_id",
    "pendidikan_kk_id",
    "pendidikan_sedang_id",
    "pekerjaan_id",
    "status_kawin",
    "kk_level",
    "warganegara_id",
    "ayah_nik",
    "nama_ayah",
    "ibu_nik",
    "nama_ibu",
    "golongan_darah_id",
    "akta_lahir",
    "dokumen_pasport",
    "tanggal_akhir_paspor",
    "dokumen_kitas",
    "akta_perkawinan",
    "tanggalperkawinan",
    "akta_perceraian",
    "tanggalperceraian",
    "cacat_id",
    "cara_kb_id",
    "hamil",
    "ktp_el",
    "status_rekam",
    "alamat_sekarang",
    "status_dasar",
    "suku",
    "tag_id_card",
    "id_asuransi",
    "no_asuransi",
    "lat",
    "lng",
)


def _dmy(day: Any) -> str:
    if isinstance(day, datetime.date):
        return day.strftime("%d-%m-%Y")
    return str(day or "")


def _iso(day: Any) -> str:
    if isinstance(day, datetime.date):
        return day.isoformat()
    return str(day or "")


def siak_rows(
    families: Iterable[FamilyInput],
    villages: dict[str, str],
    kecamatan: dict[str, str],
) -> Iterator[list[Any]]:
    """Rows as SIAK exports them: words, capitals, DD-MM-YYYY."""
    for family in families:
        address = family.address
        desa = villages[address.village].upper()
        kec = kecamatan[address.village.rsplit(".", 1)[0]].upper()
        for member in family.members:
            p = member.person
            yield [
                family.kk_number or "",
                p.nik or "",
                p.name.upper(),
                "Hidup",
                p.birth_place.upper(),
                _dmy(p.birth_date),
                "Laki-Laki" if p.sex == "L" else "Perempuan",
                p.father_nik or "",
                p.father_name.upper(),
                p.mother_nik or "",
                p.mother_name.upper(),
                MaritalStatus(p.marital_status).label,
                Shdk(member.shdk).label,
                Religion(p.religion).label,
                kec,
                desa,
                address.street,
                int(address.rw) if address.rw else "",
                int(address.rt) if address.rt else "",
                Education(p.education).label,
                Occupation(p.occupation).label,
                "",
                "Tdk Th"
                if p.blood_type == BloodType.TIDAK_TAHU
                else BloodType(p.blood_type).label,
                "-"
                if p.disability == Disability.TIDAK_CACAT
                else Disability(p.disability).label,
                "Sudah" if p.ektp_recorded else "Belum",
                "",
                "Seumur Hidup",
                p.passport_number or "-",
                p.birth_cert_number or "-",
                p.marriage_cert_number or "-",
                _dmy(p.marriage_date),
                p.divorce_cert_number or "-",
                _dmy(p.divorce_date),
                "",
                "",
                "",
                "",
            ]


def opensid_rows(families: Iterable[FamilyInput]) -> Iterator[list[Any]]:
    """Rows as OpenSID's penduduk import takes them: codes, YYYY-MM-DD."""
    for family in families:
        address = family.address
        for member in family.members:
            p = member.person
            row = dict.fromkeys(OPENSID_HEADER, "")
            row.update(
                alamat=address.street,
                dusun=address.dusun,
                rw=address.rw,
                rt=address.rt,
                nama=p.name,
                no_kk=family.kk_number or "",
                nik=p.nik or "",
                sex=1 if p.sex == "L" else 2,
                tempatlahir=p.birth_place,
                tanggallahir=_iso(p.birth_date),
                agama_id=int(p.religion),
                pendidikan_kk_id=int(p.education),
                pekerjaan_id=int(p.occupation),
                status_kawin=int(p.marital_status),
                kk_level=int(member.shdk),
                warganegara_id=int(p.citizenship),
                ayah_nik=p.father_nik,
                nama_ayah=p.father_name,
                ibu_nik=p.mother_nik,
                nama_ibu=p.mother_name,
                golongan_darah_id=int(p.blood_type),
                akta_lahir=p.birth_cert_number,
                dokumen_pasport=p.passport_number,
                akta_perkawinan=p.marriage_cert_number,
                tanggalperkawinan=_iso(p.marriage_date),
                akta_perceraian=p.divorce_cert_number,
                tanggalperceraian=_iso(p.divorce_date),
                cacat_id=int(p.disability),
                ktp_el=2 if p.ektp_recorded else 1,
                status_rekam=3 if p.ektp_recorded else 2,
                status_dasar=1,
            )
            yield [row[name] for name in OPENSID_HEADER]


def balai_rows(families: Iterable[FamilyInput]) -> Iterator[list[Any]]:
    """Rows of Balai's template: codes, DD-MM-YYYY."""
    for family in families:
        address = family.address
        for member in family.members:
            p = member.person
            values = {
                "nomor_kk": family.kk_number or "",
                "nik": p.nik or "",
                "nama": p.name,
                "jenis_kelamin": p.sex,
                "tempat_lahir": p.birth_place,
                "tanggal_lahir": _dmy(p.birth_date),
                "agama": int(p.religion),
                "status_perkawinan": int(p.marital_status),
                "shdk": int(member.shdk),
                "pendidikan": int(p.education),
                "pekerjaan": int(p.occupation),
                "golongan_darah": int(p.blood_type),
                "disabilitas": int(p.disability),
                "kewarganegaraan": int(p.citizenship),
                "nik_ayah": p.father_nik,
                "nama_ayah": p.father_name,
                "nik_ibu": p.mother_nik,
                "nama_ibu": p.mother_name,
                "kode_desa": address.village,
                "dusun": address.dusun,
                "rt": address.rt,
                "rw": address.rw,
                "alamat": address.street,
                "nomor_paspor": p.passport_number,
                "nomor_akta_lahir": p.birth_cert_number,
                "nomor_akta_kawin": p.marriage_cert_number,
                "tanggal_kawin": _dmy(p.marriage_date),
                "nomor_akta_cerai": p.divorce_cert_number,
                "tanggal_cerai": _dmy(p.divorce_date),
                "rekam_ktp_el": "ya" if p.ektp_recorded else "tidak",
                "telepon": p.phone,
            }
            yield [values[name] for name in BALAI_TEMPLATE_HEADER]


def write_csv(
    path: str | Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> int:
    """Write a CSV file; return the number of data rows."""
    count = 0
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def region_names() -> tuple[dict[str, str], dict[str, str]]:
    """The regency's villages and kecamatan, code -> name (from the database)."""
    from balai.registry.imports.pipeline import build_context

    context = build_context()
    return context.villages, context.kecamatan_names
