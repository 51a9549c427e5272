"""The message templates Balai ships with, in Indonesian.

Each entry is (code, name, fields, sensitive, {channel: (subject, body)}).
`seed_templates` creates the missing ones; an administrator's edit is kept.
"""

from __future__ import annotations

from typing import NamedTuple


class TemplateSpec(NamedTuple):
    code: str
    name: str
    fields: tuple[str, ...]
    sensitive: bool
    texts: dict[str, tuple[str, str]]


_TRACK = "Lacak di {tautan}"

CATALOG: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        "otp_pendaftaran",
        "Kode verifikasi pendaftaran akun",
        ("kode", "menit"),
        True,
        {
            "sms": (
                "",
                "Kode verifikasi Balai Anda: {kode}. Berlaku {menit} menit. "
                "JANGAN berikan kode ini kepada siapa pun, termasuk petugas.",
            ),
            "whatsapp": (
                "",
                "Kode verifikasi Balai Anda: *{kode}*. Berlaku {menit} menit. "
                "JANGAN berikan kode ini kepada siapa pun, termasuk petugas.",
            ),
            "email": (
                "Kode verifikasi Balai",
                "Kode verifikasi pendaftaran akun Balai Anda adalah {kode}.\n\n"
                "Kode ini berlaku {menit} menit. Jangan berikan kode ini kepada "
                "siapa pun, termasuk petugas. Jika Anda tidak mendaftar, abaikan "
                "surel ini.",
            ),
        },
    ),
    TemplateSpec(
        "permohonan_diterima",
        "Permohonan diterima",
        ("nomor", "layanan", "perkiraan_selesai", "tautan"),
        False,
        {
            "sms": (
                "",
                "Permohonan {layanan} Anda diterima, nomor {nomor}. Perkiraan "
                "selesai {perkiraan_selesai}. " + _TRACK,
            ),
            "whatsapp": (
                "",
                "Permohonan *{layanan}* Anda telah diterima dengan nomor *{nomor}*. "
                "Perkiraan selesai {perkiraan_selesai}. " + _TRACK,
            ),
            "email": (
                "Permohonan {nomor} diterima",
                "Permohonan {layanan} Anda telah kami terima dengan nomor {nomor}.\n\n"
                "Perkiraan selesai: {perkiraan_selesai}.\n" + _TRACK + ".",
            ),
        },
    ),
    TemplateSpec(
        "status_berubah",
        "Status permohonan berubah",
        ("nomor", "layanan", "status", "tautan"),
        False,
        {
            "sms": ("", "Status permohonan {nomor} ({layanan}): {status}. " + _TRACK),
            "whatsapp": (
                "",
                "Status permohonan *{nomor}* ({layanan}) kini: *{status}*. " + _TRACK,
            ),
            "email": (
                "Status permohonan {nomor}: {status}",
                "Status permohonan {layanan} Anda dengan nomor {nomor} kini: "
                "{status}.\n\n" + _TRACK + ".",
            ),
        },
    ),
    TemplateSpec(
        "perlu_perbaikan",
        "Permohonan perlu diperbaiki",
        ("nomor", "alasan", "batas_waktu", "tautan"),
        False,
        {
            "sms": (
                "",
                "Permohonan {nomor} perlu dilengkapi: {alasan}. Perbaiki sebelum "
                "{batas_waktu} di {tautan}",
            ),
            "whatsapp": (
                "",
                "Permohonan *{nomor}* perlu dilengkapi: {alasan}. Mohon perbaiki "
                "sebelum {batas_waktu} di {tautan}",
            ),
            "email": (
                "Permohonan {nomor} perlu diperbaiki",
                "Permohonan Anda dengan nomor {nomor} perlu dilengkapi:\n\n"
                "{alasan}\n\nMohon perbaiki sebelum {batas_waktu} di {tautan}.",
            ),
        },
    ),
    TemplateSpec(
        "siap_diambil",
        "Dokumen siap diambil",
        ("nomor", "layanan", "kantor", "jam_layanan"),
        False,
        {
            "sms": (
                "",
                "Dokumen permohonan {nomor} ({layanan}) siap diambil di {kantor}, "
                "{jam_layanan}. Bawa tanda terima dan KTP-el asli.",
            ),
            "whatsapp": (
                "",
                "Dokumen permohonan *{nomor}* ({layanan}) siap diambil di {kantor}, "
                "{jam_layanan}. Bawa tanda terima dan KTP-el asli.",
            ),
            "email": (
                "Dokumen permohonan {nomor} siap diambil",
                "Dokumen permohonan {layanan} Anda dengan nomor {nomor} siap "
                "diambil di {kantor}.\n\nJam layanan: {jam_layanan}.\n"
                "Bawa tanda terima dan KTP-el asli.",
            ),
        },
    ),
    TemplateSpec(
        "janji_temu_dibuat",
        "Janji temu di MPP tercatat",
        ("kode", "kantor", "layanan", "waktu"),
        False,
        {
            "sms": (
                "",
                "Janji temu Anda di {kantor} ({layanan}) {waktu} WITA tercatat. "
                "Kode: {kode}. Masukkan kode di anjungan atau loket mulai 30 "
                "menit sebelum jadwal.",
            ),
            "whatsapp": (
                "",
                "Janji temu Anda di *{kantor}* ({layanan}) pada {waktu} WITA "
                "tercatat. Kode janji temu: *{kode}*. Masukkan kode ini di "
                "anjungan atau loket mulai 30 menit sebelum jadwal.",
            ),
            "email": (
                "Janji temu {kode} di {kantor}",
                "Janji temu Anda telah tercatat.\n\nTempat: {kantor}\n"
                "Layanan: {layanan}\nWaktu: {waktu} WITA\nKode janji temu: "
                "{kode}\n\nMasukkan kode ini di anjungan atau sebutkan di loket "
                "mulai 30 menit sebelum jadwal sampai 15 menit sesudahnya. Bawa "
                "KTP-el asli.",
            ),
        },
    ),
    TemplateSpec(
        "janji_temu_dibatalkan",
        "Janji temu di MPP dibatalkan oleh kantor",
        ("kode", "kantor", "waktu", "alasan"),
        False,
        {
            "sms": (
                "",
                "Mohon maaf, janji temu Anda {kode} di {kantor} {waktu} WITA "
                "dibatalkan oleh petugas: {alasan}. Silakan buat janji temu baru.",
            ),
            "whatsapp": (
                "",
                "Mohon maaf, janji temu Anda *{kode}* di *{kantor}* pada {waktu} "
                "WITA dibatalkan oleh petugas MPP.\nAlasan: {alasan}\nSilakan "
                "buat janji temu baru pada waktu lain.",
            ),
            "email": (
                "Janji temu {kode} di {kantor} dibatalkan",
                "Mohon maaf, janji temu Anda dibatalkan oleh petugas MPP.\n\n"
                "Kode janji temu: {kode}\nTempat: {kantor}\nWaktu: {waktu} WITA\n"
                "Alasan: {alasan}\n\nSilakan buat janji temu baru pada waktu "
                "lain, atau datang dan ambil nomor antrean biasa di anjungan.",
            ),
        },
    ),
    TemplateSpec(
        "janji_temu_terlewat",
        "Janji temu di MPP terlewat (warga tidak datang)",
        ("kode", "kantor", "waktu"),
        False,
        {
            "sms": (
                "",
                "Janji temu Anda {kode} di {kantor} {waktu} WITA terlewat dan "
                "tempatnya sudah dilepas. Bila masih perlu, buat janji temu baru.",
            ),
            "whatsapp": (
                "",
                "Janji temu Anda *{kode}* di *{kantor}* pada {waktu} WITA terlewat "
                "(tidak ada kedatangan yang tercatat) dan tempatnya sudah dilepas. "
                "Bila masih memerlukan layanan, silakan buat janji temu baru.",
            ),
            "email": (
                "Janji temu {kode} di {kantor} terlewat",
                "Janji temu Anda terlewat: tidak ada kedatangan yang tercatat "
                "sampai batas waktunya, dan tempatnya sudah dilepas untuk warga "
                "lain.\n\nKode janji temu: {kode}\nTempat: {kantor}\nWaktu: "
                "{waktu} WITA\n\nBila masih memerlukan layanan, silakan buat "
                "janji temu baru, atau datang dan ambil nomor antrean biasa di "
                "anjungan.",
            ),
        },
    ),
    TemplateSpec(
        "sla_peringatan",
        "Peringatan batas waktu layanan (petugas)",
        ("nomor", "layanan", "batas_waktu", "sisa"),
        False,
        {
            "sms": (
                "",
                "Peringatan SLA: permohonan {nomor} ({layanan}) jatuh tempo "
                "{batas_waktu}, sisa {sisa}.",
            ),
            "email": (
                "Peringatan SLA: permohonan {nomor}",
                "Permohonan {nomor} ({layanan}) akan melewati batas waktu layanan "
                "pada {batas_waktu}. Sisa waktu: {sisa}.\n\nMohon segera "
                "diselesaikan.",
            ),
        },
    ),
    TemplateSpec(
        "sla_terlampaui",
        "Batas waktu layanan terlampaui (kepala kantor)",
        ("nomor", "layanan", "kantor", "batas_waktu", "terlambat"),
        False,
        {
            "sms": (
                "",
                "SLA terlampaui: permohonan {nomor} ({layanan}) di {kantor} lewat "
                "batas {batas_waktu}, terlambat {terlambat}. Mohon tindak lanjut.",
            ),
            "email": (
                "SLA terlampaui: permohonan {nomor} di {kantor}",
                "Kepada Yth. Kepala {kantor},\n\nPermohonan {nomor} ({layanan}) "
                "telah melewati batas waktu layanan {batas_waktu} dan kini "
                "terlambat {terlambat}.\n\nMohon tindak lanjut.",
            ),
        },
    ),
)
