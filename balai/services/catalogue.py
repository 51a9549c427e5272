"""The services Balai ships with: the seed of the catalogue.

`load_catalogue` (balai load_services) creates the ones that are missing and
leaves existing entries alone, so a service administrator's edits survive.

Time limits: the regency's published service standards (standar pelayanan)
were not available when this list was written, so every limit here is a
default marked `time_limit_to_confirm` and shown as "belum dikonfirmasi" in
the catalogue until an administrator confirms or corrects it.
Fees: population documents are free by law (UU 24/2013, Pasal 79A); the
catalogue refuses a fee on any SIAK service.
"""

from __future__ import annotations

from typing import Any

from balai.services.models import (
    Availability,
    RegisterEffect,
    ResponsibleKind,
    SubjectKind,
    WorkflowKind,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ADMINDUK = (
    "UU 23/2006 jo. UU 24/2013 tentang Administrasi Kependudukan (Pasal 79A: "
    "tidak dipungut biaya); Perpres 96/2018"
)
DESA_LETTER = "Peraturan desa/kelurahan setempat; layanan tanpa biaya"

# What Disdukcapil may record from SIAK when an application is issued.
SIAK_OUTPUTS = {
    "nik": "NIK",
    "kk_number": "Nomor KK",
    "akta_number": "Nomor akta",
    "skpwni_number": "Nomor SKPWNI",
    "skpd_number": "Nomor SKPD",
}


def text(title: str, title_en: str, *, max_length: int = 150, **extra) -> dict:
    return {
        "type": "string",
        "title": title,
        "x-title-en": title_en,
        "minLength": 1,
        "maxLength": max_length,
        **extra,
    }


def date(title: str, title_en: str) -> dict:
    return {"type": "string", "format": "date", "title": title, "x-title-en": title_en}


def nik(title: str, title_en: str) -> dict:
    return {
        "type": "string",
        "title": title,
        "x-title-en": title_en,
        "pattern": "^[0-9]{16}$",
        "x-error": f"{title} harus 16 angka.",
    }


def choice(title: str, title_en: str, labels: dict[str, str]) -> dict:
    return {
        "type": "string",
        "title": title,
        "x-title-en": title_en,
        "enum": list(labels),
        "x-enum-labels": labels,
    }


def schema(properties: dict[str, dict], required: list[str]) -> dict:
    return {
        "$schema": DIALECT,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def req(code: str, label: str, label_en: str, *, mode="upload", required=True):
    return {
        "code": code,
        "label": label,
        "label_en": label_en,
        "mode": mode,
        "required": required,
    }


SEX = {"L": "Laki-laki", "P": "Perempuan"}
KK_REQ = req("kk", "Kartu Keluarga", "Family card (KK)")
KTP_REQ = req("ktp", "KTP-el", "Electronic ID card (KTP-el)", mode="show")
PURPOSE = text("Keperluan", "Purpose", max_length=255, **{"x-widget": "textarea"})
CORRECTABLE = {
    "name": "Nama",
    "birth_place": "Tempat lahir",
    "birth_date": "Tanggal lahir",
    "religion": "Agama",
    "education": "Pendidikan",
    "occupation": "Pekerjaan",
    "blood_type": "Golongan darah",
    "father_name": "Nama ayah",
    "mother_name": "Nama ibu",
    "marital_status": "Status perkawinan",
}
CORRECTION_FORM = schema(
    {
        "field": choice("Data yang diubah", "Data to change", CORRECTABLE),
        "new_value": text("Data yang benar", "Correct value"),
        "reason": text(
            "Alasan perubahan", "Reason", max_length=500, **{"x-widget": "textarea"}
        ),
    },
    ["field", "new_value", "reason"],
)
MOVE_DESTINATION = {
    "village_code": {
        "type": "string",
        "title": "Kode desa/kelurahan tujuan",
        "x-title-en": "Destination village code",
        "pattern": "^[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}\\.[12][0-9]{3}$",
        "x-error": "Kode desa/kelurahan tujuan seperti 64.02.06.1001.",
    },
    "street": text("Alamat tujuan", "Destination address", max_length=255),
    "rt": {"type": "string", "title": "RT", "pattern": "^[0-9]{1,3}$"},
    "rw": {"type": "string", "title": "RW", "pattern": "^[0-9]{1,3}$"},
    "reason": text("Alasan pindah", "Reason for moving", max_length=255),
    "whole_family": {
        "type": "boolean",
        "title": "Pindah bersama seluruh anggota KK",
        "x-title-en": "The whole family moves",
    },
}

SIAK = {
    "workflow": WorkflowKind.SIAK,
    "responsible_kind": ResponsibleKind.MPP,
    "fee_rupiah": 0,
    "legal_basis": ADMINDUK,
    "time_limit_to_confirm": True,
}
REGISTER = {**SIAK, "workflow": WorkflowKind.REGISTER_CHANGE}
LETTER = {
    "workflow": WorkflowKind.OFFICE_LETTER,
    "responsible_kind": ResponsibleKind.DESA,
    "fee_rupiah": 0,
    "legal_basis": DESA_LETTER,
    "time_limit_to_confirm": True,
    "availability": Availability.BOTH,
    "time_limit_days": 1,
}

SEED_SERVICES: list[dict[str, Any]] = [
    {
        **SIAK,
        "code": "ktp-el-baru",
        "name": "KTP-el baru",
        "name_en": "New electronic ID card (KTP-el)",
        "description": "Perekaman dan pencetakan KTP-el pertama (usia 17 tahun "
        "atau sudah/pernah kawin). Perekaman biometrik dilakukan di loket.",
        "description_en": "First KTP-el: biometric recording at the counter.",
        "availability": Availability.COUNTER,
        "time_limit_days": 3,
        "requirements": [KK_REQ],
        "siak_outputs": [],
        "form_schema": schema({}, []),
        "sort_order": 10,
    },
    {
        **SIAK,
        "code": "ktp-el-ganti",
        "name": "KTP-el pengganti (rusak atau hilang)",
        "name_en": "Replacement KTP-el (damaged or lost)",
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            KK_REQ,
            req(
                "surat_kehilangan",
                "Surat keterangan kehilangan dari kepolisian (jika hilang)",
                "Police report of loss (if lost)",
                required=False,
            ),
            req(
                "ktp_rusak",
                "KTP-el yang rusak (jika rusak)",
                "The damaged KTP-el (if damaged)",
                mode="show",
                required=False,
            ),
        ],
        "siak_outputs": [],
        "form_schema": schema(
            {
                "reason": choice(
                    "Alasan", "Reason", {"rusak": "Rusak", "hilang": "Hilang"}
                )
            },
            ["reason"],
        ),
        "sort_order": 11,
    },
    {
        **SIAK,
        "code": "ktp-el-ubah",
        "name": "KTP-el perubahan data",
        "name_en": "KTP-el with changed data",
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            KK_REQ,
            req("bukti_perubahan", "Dokumen bukti perubahan data", "Proof of change"),
        ],
        "siak_outputs": [],
        "form_schema": schema(
            {"change": text("Data yang berubah", "What changed", max_length=255)},
            ["change"],
        ),
        "sort_order": 12,
    },
    {
        **SIAK,
        "code": "kk-baru",
        "name": "Kartu Keluarga (KK) baru",
        "name_en": "New family card (KK)",
        "description": "KK baru untuk keluarga yang baru dibentuk (setelah menikah) "
        "atau yang memisahkan diri dari KK lama.",
        "register_effect": RegisterEffect.NEW_KK,
        "subject_kind": SubjectKind.RESIDENTS,
        "max_subjects": 10,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            req(
                "buku_nikah",
                "Buku nikah / akta perkawinan",
                "Marriage book / certificate",
            ),
            KK_REQ,
        ],
        "siak_outputs": ["kk_number"],
        "form_schema": schema(
            {
                "street": text("Alamat", "Address", max_length=255),
                "rt": {"type": "string", "title": "RT", "pattern": "^[0-9]{1,3}$"},
                "rw": {"type": "string", "title": "RW", "pattern": "^[0-9]{1,3}$"},
            },
            ["street"],
        ),
        "sort_order": 20,
    },
    {
        **SIAK,
        "code": "kk-tambah-anggota",
        "name": "KK: tambah anggota keluarga",
        "name_en": "Family card: add a member",
        "register_effect": RegisterEffect.ADD_MEMBER,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            KK_REQ,
            req(
                "dasar_tambah",
                "Dokumen dasar (akta kelahiran, surat pindah, atau buku nikah)",
                "Basis document (birth certificate, moving letter, marriage book)",
            ),
        ],
        "siak_outputs": ["kk_number"],
        "form_schema": schema(
            {
                "kk_number": nik("Nomor KK tujuan", "Destination KK number")
                | {"x-error": "Nomor KK harus 16 angka."},
                "shdk": choice(
                    "Hubungan dalam keluarga",
                    "Relation to the head",
                    {
                        "3": "Istri",
                        "2": "Suami",
                        "4": "Anak",
                        "5": "Menantu",
                        "6": "Cucu",
                        "7": "Orang tua",
                        "8": "Mertua",
                        "9": "Famili lain",
                        "11": "Lainnya",
                    },
                ),
            },
            ["kk_number", "shdk"],
        ),
        "sort_order": 21,
    },
    {
        **SIAK,
        "code": "kk-kurang-anggota",
        "name": "KK: kurangi anggota keluarga",
        "name_en": "Family card: remove a member",
        "register_effect": RegisterEffect.REMOVE_MEMBER,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [KK_REQ],
        "siak_outputs": ["kk_number"],
        "form_schema": schema(
            {"reason": text("Alasan", "Reason", max_length=255)}, ["reason"]
        ),
        "sort_order": 22,
    },
    {
        **SIAK,
        "code": "kk-ubah-data",
        "name": "KK: perubahan data",
        "name_en": "Family card: change of data",
        "register_effect": RegisterEffect.CORRECTION,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            KK_REQ,
            req("bukti_perubahan", "Dokumen bukti perubahan data", "Proof of change"),
        ],
        "siak_outputs": ["kk_number"],
        "form_schema": CORRECTION_FORM,
        "sort_order": 23,
    },
    {
        **SIAK,
        "code": "kia",
        "name": "Kartu Identitas Anak (KIA)",
        "name_en": "Child identity card (KIA)",
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            KK_REQ,
            req(
                "akta_lahir", "Kutipan akta kelahiran anak", "Child's birth certificate"
            ),
            req(
                "pas_foto",
                "Pas foto anak (usia 5 tahun ke atas)",
                "Child's photo (age 5 and over)",
                required=False,
            ),
        ],
        "siak_outputs": [],
        "form_schema": schema({}, []),
        "sort_order": 30,
    },
    {
        **SIAK,
        "code": "akta-kelahiran",
        "name": "Akta Kelahiran",
        "name_en": "Birth certificate",
        "description": "Pencatatan kelahiran dan penerbitan akta kelahiran; anak "
        "dicatat dalam KK orang tua dan mendapat NIK dari SIAK.",
        "register_effect": RegisterEffect.BIRTH,
        "subject_kind": SubjectKind.NEW_PERSON,
        "max_subjects": 0,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            req(
                "surat_lahir",
                "Surat keterangan lahir dari rumah sakit/bidan/desa",
                "Birth notice from the hospital, midwife or village",
            ),
            KK_REQ,
            req(
                "buku_nikah",
                "Buku nikah / akta perkawinan orang tua (jika ada)",
                "Parents' marriage book (if any)",
                required=False,
            ),
        ],
        "siak_outputs": ["nik", "akta_number", "kk_number"],
        "form_schema": schema(
            {
                "child_name": text("Nama anak", "Child's name"),
                "sex": choice("Jenis kelamin", "Sex", SEX),
                "birth_date": date("Tanggal lahir", "Date of birth"),
                "birth_place": text("Tempat lahir", "Place of birth", max_length=100),
                "mother_nik": nik("NIK ibu", "Mother's NIK"),
                "father_nik": nik("NIK ayah", "Father's NIK"),
                "kk_number": nik("Nomor KK", "Family card number")
                | {"x-error": "Nomor KK harus 16 angka."},
            },
            [
                "child_name",
                "sex",
                "birth_date",
                "birth_place",
                "mother_nik",
                "kk_number",
            ],
        ),
        "sort_order": 40,
    },
    {
        **SIAK,
        "code": "akta-kematian",
        "name": "Akta Kematian",
        "name_en": "Death certificate",
        "register_effect": RegisterEffect.DEATH,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            req(
                "surat_kematian",
                "Surat keterangan kematian dari rumah sakit/desa",
                "Death notice from the hospital or village",
            ),
            KK_REQ,
        ],
        "siak_outputs": ["akta_number", "kk_number"],
        "form_schema": schema(
            {
                "death_date": date("Tanggal meninggal", "Date of death"),
                "death_place": text("Tempat meninggal", "Place of death"),
                "cause": text(
                    "Sebab kematian (jika diketahui)",
                    "Cause (if known)",
                    max_length=255,
                ),
            },
            ["death_date", "death_place"],
        ),
        "sort_order": 41,
    },
    {
        **SIAK,
        "code": "pindah-keluar",
        "name": "Surat Keterangan Pindah (keluar kabupaten)",
        "name_en": "Moving certificate (out of the regency)",
        "register_effect": RegisterEffect.MOVE_OUT,
        "subject_kind": SubjectKind.RESIDENTS,
        "max_subjects": 10,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [KK_REQ],
        "siak_outputs": ["skpwni_number", "kk_number"],
        "form_schema": schema(
            {
                "destination": text(
                    "Alamat tujuan (desa, kecamatan, kabupaten/kota, provinsi)",
                    "Destination address",
                    max_length=255,
                ),
                "reason": text("Alasan pindah", "Reason for moving", max_length=255),
                "move_date": date("Tanggal pindah", "Moving date"),
            },
            ["destination", "reason"],
        ),
        "sort_order": 50,
    },
    {
        **SIAK,
        "code": "pindah-datang",
        "name": "Surat Keterangan Pindah Datang",
        "name_en": "Arrival registration (moving into the regency)",
        "description": "Pencatatan penduduk yang datang dari luar kabupaten dengan "
        "SKPWNI dari daerah asal; NIK tetap.",
        "register_effect": RegisterEffect.ARRIVAL,
        "subject_kind": SubjectKind.NEW_PERSON,
        "max_subjects": 0,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            req("skpwni", "SKPWNI dari daerah asal", "Moving certificate from origin")
        ],
        "siak_outputs": ["kk_number", "skpd_number"],
        "form_schema": schema(
            {
                "nik": nik("NIK", "NIK"),
                "name": text("Nama lengkap", "Full name"),
                "sex": choice("Jenis kelamin", "Sex", SEX),
                "birth_date": date("Tanggal lahir", "Date of birth"),
                "religion": choice(
                    "Agama",
                    "Religion",
                    {
                        "1": "Islam",
                        "2": "Kristen",
                        "3": "Katholik",
                        "4": "Hindu",
                        "5": "Budha",
                        "6": "Khonghucu",
                        "7": "Kepercayaan Terhadap Tuhan YME",
                    },
                ),
                "skpwni_number": text("Nomor SKPWNI", "SKPWNI number", max_length=40),
                **MOVE_DESTINATION,
            },
            [
                "nik",
                "name",
                "sex",
                "birth_date",
                "skpwni_number",
                "village_code",
                "street",
            ],
        ),
        "sort_order": 51,
    },
    {
        **REGISTER,
        "code": "pindah-dalam",
        "name": "Pindah dalam kabupaten",
        "name_en": "Moving within the regency",
        "register_effect": RegisterEffect.MOVE_WITHIN,
        "subject_kind": SubjectKind.RESIDENTS,
        "max_subjects": 10,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [KK_REQ],
        "siak_outputs": ["kk_number"],
        "form_schema": schema(MOVE_DESTINATION, ["village_code", "street", "reason"]),
        "sort_order": 52,
    },
    {
        **SIAK,
        "code": "akta-perkawinan",
        "name": "Akta Perkawinan (non-Muslim)",
        "name_en": "Marriage certificate (non-Muslim)",
        "description": "Pencatatan perkawinan bagi pemeluk selain Islam (perkawinan "
        "Muslim dicatat di KUA).",
        "register_effect": RegisterEffect.MARRIAGE,
        "subject_kind": SubjectKind.RESIDENTS,
        "max_subjects": 2,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            req(
                "surat_pemberkatan",
                "Surat perkawinan dari pemuka agama/penghayat",
                "Religious marriage letter",
            ),
            req("pas_foto", "Pas foto berdampingan", "Joint photo"),
            KK_REQ,
        ],
        "siak_outputs": ["akta_number"],
        "form_schema": schema(
            {
                "marriage_date": date("Tanggal perkawinan", "Date of marriage"),
                "place": text("Tempat perkawinan", "Place of marriage"),
                "religious_leader": text(
                    "Nama pemuka agama", "Name of the religious leader"
                ),
            },
            ["marriage_date", "place"],
        ),
        "sort_order": 60,
    },
    {
        **SIAK,
        "code": "akta-perceraian",
        "name": "Akta Perceraian",
        "name_en": "Divorce certificate",
        "register_effect": RegisterEffect.DIVORCE,
        "subject_kind": SubjectKind.RESIDENTS,
        "max_subjects": 2,
        "availability": Availability.BOTH,
        "time_limit_days": 3,
        "requirements": [
            req(
                "putusan",
                "Salinan putusan pengadilan yang berkekuatan hukum tetap",
                "Final court decision",
            ),
            req("akta_perkawinan", "Kutipan akta perkawinan", "Marriage certificate"),
        ],
        "siak_outputs": ["akta_number"],
        "form_schema": schema(
            {
                "decision_number": text(
                    "Nomor putusan pengadilan", "Court decision number", max_length=80
                ),
                "decision_date": date("Tanggal putusan", "Date of decision"),
            },
            ["decision_number", "decision_date"],
        ),
        "sort_order": 61,
    },
    {
        **REGISTER,
        "code": "koreksi-data",
        "name": "Perbaikan data kependudukan",
        "name_en": "Correction of personal data",
        "register_effect": RegisterEffect.CORRECTION,
        "availability": Availability.BOTH,
        "time_limit_days": 5,
        "requirements": [
            req(
                "bukti",
                "Dokumen bukti data yang benar (ijazah, akta, dll.)",
                "Proof of the correct data",
            ),
            KK_REQ,
        ],
        "siak_outputs": [],
        "form_schema": CORRECTION_FORM,
        "sort_order": 70,
    },
    {
        **LETTER,
        "code": "sktm",
        "document_kind": "sktm",
        "name": "Surat Keterangan Tidak Mampu (SKTM)",
        "name_en": "Certificate of low income (SKTM)",
        "requirements": [KK_REQ, KTP_REQ],
        "form_schema": schema(
            {
                "purpose": PURPOSE,
                "monthly_income": {
                    "type": "integer",
                    "title": "Penghasilan keluarga per bulan (rupiah)",
                    "x-title-en": "Household income per month (rupiah)",
                    "minimum": 0,
                },
                "dependants": {
                    "type": "integer",
                    "title": "Jumlah tanggungan",
                    "x-title-en": "Dependants",
                    "minimum": 0,
                    "maximum": 30,
                },
            },
            ["purpose"],
        ),
        "sort_order": 80,
    },
    {
        **LETTER,
        "code": "sku",
        "document_kind": "usaha",
        "name": "Surat Keterangan Usaha (SKU)",
        "name_en": "Business certificate (SKU)",
        "requirements": [KK_REQ, KTP_REQ],
        "form_schema": schema(
            {
                "business_name": text("Nama usaha", "Business name"),
                "business_kind": text("Jenis usaha", "Kind of business"),
                "business_address": text(
                    "Alamat usaha", "Business address", max_length=255
                ),
                "since": {
                    "type": "integer",
                    "title": "Berusaha sejak tahun",
                    "x-title-en": "In business since (year)",
                    "minimum": 1950,
                    "maximum": 2100,
                },
                "purpose": PURPOSE,
            },
            ["business_name", "business_kind", "business_address", "purpose"],
        ),
        "sort_order": 81,
    },
    {
        **LETTER,
        "code": "domisili",
        "document_kind": "domisili",
        "name": "Surat Keterangan Domisili",
        "name_en": "Certificate of domicile",
        "requirements": [KK_REQ, KTP_REQ],
        "form_schema": schema(
            {
                "address": text("Alamat tinggal", "Address", max_length=255),
                "since": date("Tinggal sejak", "Living there since"),
                "purpose": PURPOSE,
            },
            ["address", "purpose"],
        ),
        "sort_order": 82,
    },
    {
        **LETTER,
        "code": "surat-pengantar",
        "document_kind": "pengantar",
        "name": "Surat Pengantar dari desa/kelurahan",
        "name_en": "Cover letter from the village (surat pengantar)",
        "requirements": [KTP_REQ],
        "form_schema": schema(
            {
                "addressed_to": text("Ditujukan kepada", "Addressed to"),
                "purpose": PURPOSE,
            },
            ["addressed_to", "purpose"],
        ),
        "sort_order": 83,
    },
]
