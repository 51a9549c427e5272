"""A synthetic but plausible Kutai Kartanegara: families for the demo, the
benchmarks and the tests. Nobody in it exists.

Deterministic: the same seed and reference date give the same people. The
output is `FamilyInput` for `register_residents_bulk`, so seeding goes through
the same checks and writes the same rows as any registration.

What it models (the assumptions are written down in
docs/decisions/0003-register-projection.md):

- how many people live in each kecamatan (`KECAMATAN_WEIGHTS`: no per-village
  figures exist, so villages share their kecamatan's weight, kelurahan twice a
  desa, with a seeded spread);
- who they are: Kutai, Banjar, Bugis, Javanese, Dayak, Balinese and Chinese
  Indonesian households, mixed differently upriver, on the coast and in the
  old transmigration areas, with their names, titles (Aji, Awang, Dayang,
  Andi, H./Hj.), religions and places of birth;
- households: couples with children, extended families, widows, single
  migrant workers (the reason men outnumber women: Dukcapil counted 420,744
  men and 386,220 women in December 2024), twins now and then;
- NIK and KK numbers consistent with birth date, sex and kecamatan of first
  registration: newcomers since 2008 keep the NIK of where they came from;
  people registered before the kecamatan Kota Bangun Darat and Samboja Barat
  existed carry the code of Kota Bangun and Samboja. Serials count down from
  9999 so that no synthetic number is the low serial a real person holds.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from balai.registry.actions import Address, FamilyInput, Member, Person
from balai.registry.models import EventKind
from balai.registry.nik import KECAMATAN_CSV, date_part
from balai.registry.reference import (
    BloodType,
    Disability,
    Education,
    MaritalStatus,
    Occupation,
    Religion,
    Shdk,
)

# Dukcapil, December 2024.
DUKCAPIL_TOTAL = 806_964
DUKCAPIL_MEN = 420_744
MALE_SHARE = DUKCAPIL_MEN / DUKCAPIL_TOTAL
AS_OF = datetime.date(2024, 12, 31)

# Relative population of each kecamatan (thousands, rounded; an assumption,
# not an official figure): the regency seat and the coal, oil and gas coast
# large, the upriver kecamatan small.
KECAMATAN_WEIGHTS: dict[str, float] = {
    "64.02.01": 19,  # Muara Muntai
    "64.02.02": 52,  # Loa Kulu
    "64.02.03": 72,  # Loa Janan
    "64.02.04": 46,  # Anggana
    "64.02.05": 50,  # Muara Badak
    "64.02.06": 112,  # Tenggarong
    "64.02.07": 40,  # Sebulu
    "64.02.08": 33,  # Kota Bangun
    "64.02.09": 11,  # Kenohan
    "64.02.10": 29,  # Kembang Janggut
    "64.02.11": 41,  # Muara Kaman
    "64.02.12": 9,  # Tabang
    "64.02.13": 62,  # Samboja
    "64.02.14": 43,  # Muara Jawa
    "64.02.15": 24,  # Sanga Sanga
    "64.02.16": 74,  # Tenggarong Seberang
    "64.02.17": 28,  # Marang Kayu
    "64.02.18": 9,  # Muara Wis
    "64.02.19": 20,  # Kota Bangun Darat
    "64.02.20": 33,  # Samboja Barat
}
# New kecamatan and the one they were split from, with the year: NIKs of
# people registered earlier carry the old code.
SPLIT_FROM = {"64.02.19": ("64.02.08", 2021), "64.02.20": ("64.02.13", 2021)}
NIK_SINCE = datetime.date(2008, 1, 1)  # before: everyone got a Kukar NIK here

UPRIVER = {"64.02.01", "64.02.09", "64.02.10", "64.02.12", "64.02.18", "64.02.08"}
COAST = {"64.02.04", "64.02.05", "64.02.13", "64.02.14", "64.02.15", "64.02.17"}
TRANSMIGRATION = {"64.02.02", "64.02.07", "64.02.16", "64.02.19", "64.02.20"}

ETHNIC_MIX = {
    # kutai banjar bugis jawa dayak bali tionghoa
    "upriver": (52, 16, 5, 8, 18, 0.3, 0.7),
    "coast": (16, 24, 36, 18, 2, 0.5, 3.5),
    "transmigration": (18, 16, 8, 48, 3, 6, 1),
    "seat": (36, 22, 14, 20, 3, 1, 4),
}
ETHNICITIES = ("kutai", "banjar", "bugis", "jawa", "dayak", "bali", "tionghoa")


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


MALE_NAMES = {
    "kutai": _words(
        "Muhammad Rusdi Syahrani Jumransyah Ardiansyah Hamdani Syahrir Rahmadi "
        "Fahrul Irwansyah Herman Jailani Iskandar Mahyudin Salehuddin Rizal "
        "Marhaban Akhmad Zulkifli Heriansyah Sofyan Yusran Rahim Hasbi Darmawan "
        "Bachtiar"
    ),
    "banjar": _words(
        "Muhammad Ahmad Abdul Rahmat Saberan Jumberi Anang Utuh Fauzi Hairil "
        "Khairullah Syahrial Mursyid Fahriansyah Rusli Masrani Arbain Johansyah "
        "Taufik Murjani Norhadi Ijai Hamberi"
    ),
    "bugis": _words(
        "Muhammad Baso Sulaiman Hasanuddin Syamsul Ambo Lukman Arifin Sudirman "
        "Jamaluddin Hamzah Rahman Basri Arsyad Mappa Kaharuddin Syarifuddin "
        "Nasrullah Amiruddin Saharuddin Ridwan Idris Haerul"
    ),
    "jawa": _words(
        "Slamet Sutrisno Budi Agus Joko Bambang Eko Purwanto Suparman Sugeng "
        "Wahyudi Hadi Supriyadi Teguh Sarwono Heru Edi Tri Dwi Yusuf Ahmad Sunarto "
        "Suyanto Mulyadi Gunawan Wahyu Rudi"
    ),
    "dayak": _words(
        "Yohanes Petrus Paulus Markus Stefanus Yakobus Lukas Thomas Lirung Lahang "
        "Ajang Ding Jalung Ngau Lawing Bilung Lejau Uyau Ibau Ubang Hudang Lencau"
    ),
    "bali": _words(
        "Sudarma Suarsana Artawan Mertayasa Sukadana Arnawa Suwirta Darmawan "
        "Wirawan Sudiarta Karyasa Suardana"
    ),
    "tionghoa": _words(
        "Hendra Budi Susanto Halim Tjandra Wijaya Kurniawan Hartono Setiawan "
        "Gunawan Sugianto Ricky"
    ),
}
FEMALE_NAMES = {
    "kutai": _words(
        "Siti Noor Nurhayati Aminah Rusmini Hasnah Jamilah Rahmawati Fitriani "
        "Norhayati Mariani Salmah Hamidah Masnah Rusdiana Halimah Syarifah Nurul "
        "Rina Yuliani Erna Mardiana"
    ),
    "banjar": _words(
        "Siti Galuh Aluh Rabiatul Nurjannah Masitah Halimah Zainab Raudah Mariatul "
        "Hamsiah Rusmalina Noorhasanah Fatimah Mahmudah Rahmah Jumiati Nurlaila "
        "Khadijah"
    ),
    "bugis": _words(
        "Sitti Hasnawati Nurhaedah Hasmiah Rosmini Besse Nurlina Hamsinah Suriani "
        "Rosdiana Hasniati Marwah Fatmawati Nurhayati Sumarni Haslinda Rahmatia "
        "Syamsiah"
    ),
    "jawa": _words(
        "Sri Wahyuni Sulastri Rini Endang Suryani Tri Dwi Ningsih Lestari Sumarni "
        "Siti Puji Retno Sutini Yuli Kartini Wulandari Rahayu Murni Suwarni"
    ),
    "dayak": _words(
        "Maria Yuliana Agustina Margaretha Elisabeth Veronika Ingan Lusang Bungan "
        "Ipui Uding Inan Bulan Usat Lidia Martha"
    ),
    "bali": _words(
        "Sari Sukerti Suartini Ariani Widiastuti Sumadi Astiti Mariani Suciati Kariasih"
    ),
    "tionghoa": _words(
        "Lily Meiliana Susanti Linda Yuliana Lanny Mega Jessica Fenny Vivi"
    ),
}
SECOND_NAMES = {
    "kutai": _words("Effendi Noor Hidayat Saputra Rahman Syahrani Aminuddin Idris"),
    "banjar": _words("Noor Arsyad Fadillah Ramadhani Saputra Hidayat Ansyari"),
    "bugis": _words("Daeng Lamba Mappangara Tenri Pawelloi Palaguna Mattalatta"),
    "jawa": _words(
        "Santoso Wibowo Prasetyo Susanto Setiawan Hartono Saputro Wati Rahayu"
    ),
    "dayak": _words("Lirung Lahang Ding Ajang Jalung Lawing Ngau Bilung"),
    "bali": _words("Putra Putri Wijaya Adnyana Pratama"),
    "tionghoa": _words("Wijaya Halim Tanoto Gunawan Salim Santoso"),
}
# Names given across East Kalimantan regardless of ethnicity, more often to
# the young. With only the ethnic lists a million people share a few thousand
# full names, hundreds to a name, which no real register shows and no name
# search could rank; real Kukar names are mostly two or three words.
GENERAL_MALE = {
    "islam": _words(
        "Muhammad Ahmad Abdul Rizki Rizky Fajar Aditya Dimas Ilham Reza Fikri Hafiz "
        "Arif Bayu Dedi Doni Fadli Faisal Farhan Fauzan Hendra Irfan Imam Iqbal "
        "Khairul Lutfi Maulana Nanda Rahmat Ridho Rian Rizal Satria Syahrul Taufik "
        "Wahyu Yoga Zainal Zaki Alif Arya Azka Daffa Fathan Ghani Haikal Hamzah "
        "Hasan Husein Ibrahim Ismail Jefri Kurnia Malik Naufal Rafi Raihan Rayhan "
        "Rendy Riko Safrizal Salman Sandi Yusuf Zulfikar Akbar Anwar Aris Arman "
        "Bahrul Darwis Erwin Firdaus Habibi Helmi Herry Irwan Jamal Kamal Mansur "
        "Mukhlis Nasir Nurdin Ramli Rusdi Samsul Subhan Syaiful Usman Yahya Yudi "
        "Zulkarnain Alfian Amri Asrul Bagus Dani Eko Fahmi Gilang Hadi Heri Joko "
        "Kevin Lukman Nizar Rahmadi Ramadhan Rudi Sultan Syarif Wawan Yusril"
    ),
    "kristen": _words(
        "Yohanes Daniel David Samuel Yosua Kevin Michael Stevan Fransiskus "
        "Antonius Gabriel Natanael Rudolf Hendrik Frans Benny Roni Yakub Elias "
        "Timotius Markus Petrus Paulus Andreas Kornelius Matius Simon Robert"
    ),
}
GENERAL_FEMALE = {
    "islam": _words(
        "Siti Nur Nurul Putri Aulia Nabila Salsabila Anisa Annisa Dewi Fitri Indah "
        "Intan Lestari Maya Nadia Rina Rini Sari Ayu Dian Eka Fatimah Aisyah Zahra "
        "Khairunnisa Laila Lina Mega Nisa Novi Nurhaliza Rahma Ratna Rizka Safitri "
        "Sinta Tiara Wulan Yuni Zaskia Amelia Ananda Aprilia Citra Desi Dinda Elisa "
        "Erna Farida Hana Hasanah Ika Irma Jannah Kartika Kirana Kurniasih Mardiana "
        "Marlina Melati Mutiara Nadya Najwa Nova Puspita Rahayu Ramadhani Riska "
        "Rosmawati Sabrina Selvi Sofia Suci Syifa Titin Umi Vina Wati Widya Yanti "
        "Yulia Zahira Zulaikha Halimah Hamidah Juwita Kasmawati Lailatul Maimunah "
        "Nursiah Rohani Rukmini Sarifah Yusnita Alya Devi Evi Fadhila Hesti Isna "
        "Lia Mira Nanda Rara Sekar Tari Winda"
    ),
    "kristen": _words(
        "Maria Yohana Debora Ester Ruth Grace Natalia Kristina Veronika Agnes "
        "Theresia Lusia Monika Priskila Yuliana Magdalena Elisabeth Margaretha "
        "Kristin Stefani Yuliana Sisilia Regina Paulina"
    ),
}
GENERAL_SECOND_MALE = _words(
    "Saputra Pratama Hidayat Ramadhan Kurniawan Setiawan Firmansyah Nugroho "
    "Wijaya Permana Purnama Maulana Syahputra Fadillah Hakim Rahman Akbar Anugrah "
    "Aditya Fauzi Hamdani Hermawan Irawan Iskandar Junaidi Kusuma Mahendra "
    "Prasetya Rizaldi Sanjaya Septian Sulistyo Wibisono Zulkifli Effendi Arifin "
    "Anshari Baharuddin Darmawan Fahrezi Gunawan Haris Ismail Jaya Lukman Mulyadi "
    "Putra Rangga Santoso Sofyan Wardana Yusuf Alfarizi Ardiansyah Budiman "
    "Hidayatullah Kurniadi Nasrullah Perdana Rahmadani Rizki Saifullah "
    "Syahreza Wiranata Yuliansyah Adrian Ferdiansyah Gustian Hamdan Julianto "
    "Oktavian Pangestu Rasyid Satrio Triyono Utomo"
)
GENERAL_SECOND_FEMALE = _words(
    "Saputri Pratiwi Hidayati Ramadhani Kurniawati Setiawati Utami Lestari "
    "Permata Purnamasari Syahputri Fadillah Rahmawati Hasanah Aulia Amalia "
    "Azzahra Fauziah Novianti Oktaviani Susanti Yulianti Khairunnisa Putri "
    "Anggraini Damayanti Fitriani Handayani Indriani Kusumawati Maharani "
    "Nuraini Puspitasari Rahmadani Safitri Wulandari Yuliani Agustina Ayuningtyas "
    "Cahyani Febriani Hairani Istiqomah Juliani Marlina Nurjanah Permatasari "
    "Rosita Sartika Wahyuni Zulaikha Apriliani Dewanti Kartini Melinda Oktavia "
    "Pertiwi Ramadhanti Sulistiani Yunita"
)
BALI_ORDER = ["Wayan", "Made", "Nyoman", "Ketut"]
# Muslim peoples of the regency whose given names others borrow.
MIXING = ("kutai", "banjar", "bugis", "jawa")
TOWNS = {
    "kutai": ["Tenggarong", "Samarinda", "Kota Bangun", "Muara Kaman"],
    "banjar": ["Banjarmasin", "Amuntai", "Martapura", "Samarinda", "Tenggarong"],
    "bugis": ["Sengkang", "Watampone", "Makassar", "Samarinda", "Parepare"],
    "jawa": ["Surabaya", "Malang", "Kediri", "Semarang", "Yogyakarta", "Ngawi"],
    "dayak": ["Tabang", "Long Iram", "Melak", "Kembang Janggut"],
    "bali": ["Denpasar", "Tabanan", "Gianyar", "Buleleng"],
    "tionghoa": ["Samarinda", "Balikpapan", "Tenggarong", "Jakarta"],
}
ORIGIN_PROVINCES = {
    "kutai": ["64"],
    "banjar": ["63"],
    "bugis": ["73", "73", "76"],
    "jawa": ["35", "33", "32", "34"],
    "dayak": ["64", "62"],
    "bali": ["51"],
    "tionghoa": ["64", "31"],
}
# Share of households that came from outside the regency.
ARRIVAL_SHARE = {
    "kutai": 0.03,
    "banjar": 0.25,
    "bugis": 0.35,
    "jawa": 0.45,
    "dayak": 0.10,
    "bali": 0.50,
    "tionghoa": 0.20,
}
RELIGION_BY_ETHNICITY = {
    "kutai": ((Religion.ISLAM, 99), (Religion.KRISTEN, 1)),
    "banjar": ((Religion.ISLAM, 100),),
    "bugis": ((Religion.ISLAM, 99), (Religion.KRISTEN, 1)),
    "jawa": ((Religion.ISLAM, 94), (Religion.KRISTEN, 3), (Religion.KATHOLIK, 3)),
    "dayak": (
        (Religion.KRISTEN, 45),
        (Religion.KATHOLIK, 30),
        (Religion.ISLAM, 20),
        (Religion.KEPERCAYAAN, 5),
    ),
    "bali": ((Religion.HINDU, 95), (Religion.ISLAM, 5)),
    "tionghoa": (
        (Religion.BUDHA, 40),
        (Religion.KRISTEN, 30),
        (Religion.KATHOLIK, 15),
        (Religion.KHONGHUCU, 15),
    ),
}
STREETS = _words(
    "Diponegoro|Ahmad Yani|Imam Bonjol|Mulawarman|Kartini|Sudirman|Pesut|Patin|"
    "Gunung Belah|Wolter Monginsidi|KH Ahmad Muksin|S. Parman|Cut Nyak Dien|"
    "Pahlawan|Jelawat|Panjaitan|Hasanuddin|Danau Semayang|Kusuma Bangsa|"
    "Kebaktian|Tunjung|Loa Ipuh",
    "|",
)
ADULT_EDUCATION = (
    (Education.TIDAK_BELUM_SEKOLAH, 5),
    (Education.BELUM_TAMAT_SD, 8),
    (Education.TAMAT_SD, 24),
    (Education.SLTP, 20),
    (Education.SLTA, 31),
    (Education.DIPLOMA_I_II, 2),
    (Education.DIPLOMA_III, 3),
    (Education.STRATA_I, 6.3),
    (Education.STRATA_II, 0.6),
    (Education.STRATA_III, 0.1),
)
MALE_WORK = (
    (Occupation.PETANI_PEKEBUN, 17),
    (Occupation.WIRASWASTA, 15),
    (Occupation.KARYAWAN_SWASTA, 20),
    (Occupation.BURUH_HARIAN_LEPAS, 10),
    (Occupation.NELAYAN, 3),
    (Occupation.PNS, 4),
    (Occupation.PEDAGANG, 5),
    (Occupation.SOPIR, 3),
    (Occupation.BURUH_TANI, 6),
    (Occupation.TUKANG_KAYU, 2),
    (Occupation.TUKANG_BATU, 2),
    (Occupation.KARYAWAN_HONORER, 3),
    (Occupation.GURU, 2),
    (Occupation.POLRI, 0.6),
    (Occupation.TNI, 0.4),
    (Occupation.KARYAWAN_BUMN, 1),
    (Occupation.BELUM_TIDAK_BEKERJA, 6),
)
FEMALE_WORK = (
    (Occupation.MENGURUS_RUMAH_TANGGA, 50),
    (Occupation.WIRASWASTA, 10),
    (Occupation.PEDAGANG, 8),
    (Occupation.GURU, 4),
    (Occupation.PNS, 3),
    (Occupation.KARYAWAN_SWASTA, 8),
    (Occupation.PETANI_PEKEBUN, 7),
    (Occupation.BIDAN, 1),
    (Occupation.PERAWAT, 1),
    (Occupation.KARYAWAN_HONORER, 3),
    (Occupation.BELUM_TIDAK_BEKERJA, 5),
)
BLOOD = (
    (BloodType.TIDAK_TAHU, 55),
    (BloodType.A, 12),
    (BloodType.B, 12),
    (BloodType.AB, 3),
    (BloodType.O, 18),
)


def _head_age_weights() -> list[tuple[int, float]]:
    weights = []
    for age in range(19, 91):
        if age < 25:
            w = (age - 18) * 0.6
        elif age < 45:
            w = 4.5
        elif age < 60:
            w = 4.5 - (age - 45) * 0.17
        else:
            w = max(0.15, 2.0 - (age - 60) * 0.07)
        weights.append((age, w))
    return weights


# Age of a household head (years, weight): few very young, most 30-55.
HEAD_AGES = _head_age_weights()


class Chooser:
    """Weighted choice by bisect over cumulative weights (fast, seeded)."""

    def __init__(self, pairs: Sequence[tuple[object, float]]) -> None:
        self.items = [item for item, _w in pairs]
        self.cumulative = list(itertools.accumulate(w for _i, w in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.items[
            bisect.bisect_right(self.cumulative, rng.random() * self.total)
        ]


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    is_kelurahan: bool

    @property
    def kecamatan(self) -> str:
        return self.code.rsplit(".", 1)[0]


@dataclass(frozen=True)
class OriginKecamatan:
    code: str  # 6 digits
    name: str
    regency: str
    province: str
    valid_until: int


def _origins() -> dict[str, list[OriginKecamatan]]:
    by_province: dict[str, list[OriginKecamatan]] = {}
    with Path(KECAMATAN_CSV).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["kode"].replace(".", "")
            if code.startswith("6402"):
                continue
            by_province.setdefault(code[:2], []).append(
                OriginKecamatan(
                    code,
                    row["nama"],
                    row["kabupaten_kota"],
                    row["provinsi"],
                    int(row["berlaku"]),
                )
            )
    return by_province


def village_quotas(
    villages: Sequence[Village], total: int, rng: random.Random
) -> list[tuple[Village, int]]:
    """Share `total` residents among villages: each kecamatan by its weight,
    within it kelurahan twice a desa, with a seeded spread; exact total."""
    by_kecamatan: dict[str, list[Village]] = {}
    for village in villages:
        by_kecamatan.setdefault(village.kecamatan, []).append(village)
    weights: list[float] = []
    for village in villages:
        kecamatan = by_kecamatan[village.kecamatan]
        inner = [
            (2.0 if v.is_kelurahan else 1.0) * (0.6 + rng.random()) for v in kecamatan
        ]
        share = inner[kecamatan.index(village)] / sum(inner)
        weights.append(KECAMATAN_WEIGHTS.get(village.kecamatan, 20.0) * share)
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    quotas = [int(r) for r in raw]
    # Largest remainders get the residents left over.
    order = sorted(range(len(raw)), key=lambda i: raw[i] - quotas[i], reverse=True)
    for i in order[: total - sum(quotas)]:
        quotas[i] += 1
    return list(zip(villages, quotas, strict=True))


class Generator:
    """Makes households one after another; all randomness from one seed."""

    def __init__(self, *, seed: int, as_of: datetime.date = AS_OF) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data
        self.as_of = as_of
        self.serials: dict[str, int] = {}
        self.origins = _origins()
        self.men = 0
        self.people = 0
        self.choose_head_age = Chooser(HEAD_AGES)
        self.mixes = {
            k: Chooser(list(zip(ETHNICITIES, v, strict=True)))
            for k, v in ETHNIC_MIX.items()
        }
        self.religions = {k: Chooser(v) for k, v in RELIGION_BY_ETHNICITY.items()}
        self.education = Chooser(ADULT_EDUCATION)
        self.male_work = Chooser(MALE_WORK)
        self.female_work = Chooser(FEMALE_WORK)
        self.blood = Chooser(BLOOD)

    # --- numbers -----------------------------------------------------------------

    def _serial(self, prefix: str) -> str:
        """Next serial of a 12-digit prefix, counting down from 9999."""
        used = self.serials.get(prefix, 0) + 1
        if used > 9998:
            raise RuntimeError(f"no serial left for {prefix}")
        self.serials[prefix] = used
        return prefix + f"{10000 - used:04d}"

    def nik(self, code6: str, birth: datetime.date, sex: str) -> str:
        return self._serial(code6 + date_part(birth, sex))

    def kk_number(self, code6: str, issued: datetime.date) -> str:
        return self._serial("K" + code6 + issued.strftime("%d%m%y"))[1:]

    def kukar_code(self, kecamatan: str, registered: datetime.date) -> str:
        """The kecamatan code a person first registered here on a day has."""
        parent = SPLIT_FROM.get(kecamatan)
        if parent and registered.year < parent[1]:
            kecamatan = parent[0]
        return kecamatan.replace(".", "")

    # --- small draws -----------------------------------------------------------------

    def _pick(self, items: Sequence):
        return items[int(self.rng.random() * len(items))]

    def _int(self, low: int, high: int) -> int:
        """An integer from low to high inclusive (faster than randint)."""
        return low + int(self.rng.random() * (high - low + 1))

    def _date_between(self, low: datetime.date, high: datetime.date) -> datetime.date:
        if high <= low:
            return low
        return low + datetime.timedelta(days=self._int(0, (high - low).days))

    def _birth_for_age(self, age: int) -> datetime.date:
        """A birth date of someone `age` years old on the reference date."""
        try:
            end = self.as_of.replace(year=self.as_of.year - age)
        except ValueError:  # 29 February
            end = datetime.date(self.as_of.year - age, 2, 28)
        return end - datetime.timedelta(days=int(self.rng.random() * 365))

    def _age(self, birth: datetime.date) -> int:
        return (
            self.as_of.year
            - birth.year
            - ((self.as_of.month, self.as_of.day) < (birth.month, birth.day))
        )

    def _male_first(self) -> bool:
        """Sex of someone whose sex is free (single adults): steers the whole
        population toward Dukcapil's share of men."""
        share = self.men / self.people if self.people else MALE_SHARE
        p = min(0.97, max(0.15, 0.8 + 25 * (MALE_SHARE - share)))
        return self.rng.random() < p

    def _boy_share(self) -> float:
        """Chance that a child is a boy: 51.2% at birth, nudged toward the
        share of men Dukcapil counts (migrant workers do most of that)."""
        share = self.men / self.people if self.people else MALE_SHARE
        return 0.512 + min(0.08, max(-0.03, 10 * (MALE_SHARE - share)))

    def name(self, ethnicity: str, sex: str, age: int, religion: int) -> str:
        rng = self.rng
        male = sex == "L"
        names = MALE_NAMES if male else FEMALE_NAMES
        # The young more often carry the names given everywhere; their
        # grandparents more often a single name of their own people.
        general_share = 0.6 if age < 35 else 0.3
        faith = "islam" if religion == Religion.ISLAM else "kristen"
        general = (GENERAL_MALE if male else GENERAL_FEMALE)[faith]
        seconds = GENERAL_SECOND_MALE if male else GENERAL_SECOND_FEMALE
        if ethnicity == "bali":
            prefix = "I" if male else "Ni"
            order = self._pick(BALI_ORDER)
            text = f"{prefix} {order} {self._pick(names['bali'])}"
            if rng.random() < 0.9:
                text = f"{text} {self._pick(SECOND_NAMES['bali'] + seconds)}"
        else:
            own = names[ethnicity]
            # Names travel: a Kutai child may well carry a Banjar or Javanese
            # name, so a share of first names comes from a neighbour's list.
            roll = rng.random()
            if roll < general_share:
                first_pool = general
            elif roll < general_share + 0.15 and faith == "islam":
                first_pool = names[self._pick(MIXING)]
            else:
                first_pool = own
            parts = [self._pick(first_pool)]
            roll = rng.random()
            single = 0.03 if age >= 50 else 0.005
            count = 1 if roll < single else 2 if roll < single + 0.22 else 3
            while len(parts) < count:
                pool_roll = rng.random()
                if pool_roll < (0.3 if male else 0.1):
                    pool = SECOND_NAMES[ethnicity]
                elif pool_roll < 0.7:
                    pool = seconds
                else:
                    pool = general if rng.random() < general_share else own
                word = self._pick(pool)
                if word not in parts:
                    parts.append(word)
            text = " ".join(parts)
            title = ""
            if ethnicity == "kutai":
                roll = rng.random()
                if roll < 0.07:
                    title = "Aji"
                elif roll < 0.13:
                    title = "Awang" if male else "Dayang"
            elif ethnicity == "bugis" and rng.random() < 0.14:
                title = "Andi"
            elif ethnicity == "banjar" and rng.random() < 0.03:
                title = "Gusti"
            if title:
                text = f"{title} {text}"
        if religion == Religion.ISLAM and age >= 45 and rng.random() < 0.08:
            text = ("H. " if male else "Hj. ") + text
        return text

    def _address(self, village: Village) -> Address:
        rng = self.rng
        rt = f"{self._int(1, 45 if village.is_kelurahan else 18):03d}"
        if village.is_kelurahan:
            street = f"Jl. {self._pick(STREETS)}"
            if rng.random() < 0.4:
                street = f"Gg. {self._pick(STREETS)}, {street}"
            return Address(
                village=village.code,
                rt=rt,
                street=f"{street} No. {self._int(1, 120)}",
            )
        dusun = f"Dusun {('I', 'II', 'III', 'IV', 'V')[int(rng.random() * 5)]}"
        street = f"Jl. Poros {village.name}" if rng.random() < 0.5 else ""
        return Address(village=village.code, dusun=dusun, rt=rt, street=street)

    # --- people --------------------------------------------------------------

    def person(
        self,
        *,
        ethnicity: str,
        sex: str,
        birth: datetime.date,
        religion: int,
        nik: str,
        birth_place: str,
        marital: int,
        father: tuple[str, str] = ("", ""),
        mother: tuple[str, str] = ("", ""),
        name: str | None = None,
        married_on: datetime.date | None = None,
    ) -> Person:
        rng = self.rng
        age = self._age(birth)
        if age < 7:
            education = Education.TIDAK_BELUM_SEKOLAH
        elif age < 13:
            education = Education.BELUM_TAMAT_SD
        elif age < 16:
            education = Education.TAMAT_SD
        elif age < 19:
            education = Education.SLTP
        else:
            education = self.education(rng)
            if age > 60 and education > Education.SLTP and rng.random() < 0.5:
                education = Education.TAMAT_SD
        if age < 5:
            occupation = Occupation.BELUM_TIDAK_BEKERJA
        elif age < 19 or (age < 23 and rng.random() < 0.4):
            occupation = Occupation.PELAJAR_MAHASISWA
        elif age >= 62 and rng.random() < 0.6:
            occupation = (
                Occupation.PENSIUNAN
                if rng.random() < 0.15
                else Occupation.BELUM_TIDAK_BEKERJA
            )
        else:
            occupation = (self.male_work if sex == "L" else self.female_work)(rng)
        born_recently = birth.year >= 2000
        birth_cert = ""
        if rng.random() < (0.85 if born_recently else 0.3):
            birth_cert = f"6402-LT-{birth.strftime('%d%m%Y')}-{self._int(1, 9999):04d}"
        self.people += 1
        self.men += sex == "L"
        return Person(
            name=name or self.name(ethnicity, sex, age, religion),
            sex=sex,
            birth_date=birth,
            birth_place=birth_place,
            religion=religion,
            nik=nik,
            marital_status=marital,
            education=education,
            occupation=occupation,
            blood_type=self.blood(rng),
            disability=Disability.CACAT_FISIK
            if rng.random() < 0.006
            else Disability.TIDAK_CACAT,
            father_name=father[0] or self.name(ethnicity, "L", 70, religion),
            father_nik=father[1],
            mother_name=mother[0] or self.name(ethnicity, "P", 70, religion),
            mother_nik=mother[1],
            birth_cert_number=birth_cert,
            marriage_date=married_on if marital == MaritalStatus.KAWIN else None,
            ektp_recorded=age >= 17 and rng.random() < 0.96,
        )

    def household(self, village: Village, size_left: int) -> FamilyInput:
        """One KK in `village` with at most `size_left` members."""
        rng = self.rng
        kecamatan = village.kecamatan
        area = (
            "upriver"
            if kecamatan in UPRIVER
            else "coast"
            if kecamatan in COAST
            else "transmigration"
            if kecamatan in TRANSMIGRATION
            else "seat"
        )
        ethnicity = self.mixes[area](rng)
        religion = self.religions[ethnicity](rng)
        local_town = village.name if not village.is_kelurahan else "Tenggarong"
        # Where they come from, if they came: a kecamatan of the origin province.
        arrived_on = None
        origin = None
        if rng.random() < ARRIVAL_SHARE[ethnicity]:
            arrived_on = self._date_between(
                datetime.date(1985, 1, 1), self.as_of - datetime.timedelta(days=60)
            )
            choices = self.origins[self._pick(ORIGIN_PROVINCES[ethnicity])]
            origin = self._pick(choices)
        kind_roll = rng.random()
        share = self.men / self.people if self.people else MALE_SHARE
        if kind_roll < 0.09 + min(0.06, max(0.0, 20 * (MALE_SHARE - share))):
            kind = "single"
        elif kind_roll < 0.16:
            kind = "single_parent"
        elif kind_roll < 0.23:
            kind = "couple"
        elif kind_roll < 0.36:
            kind = "extended"
        else:
            kind = "nuclear"
        head_age = self.choose_head_age(rng)
        if kind == "single":
            head_age = min(head_age, self._int(19, 50))
        members: list[Member] = []
        registered = self.as_of

        def numbers_for(birth: datetime.date, sex: str, born_here: bool) -> tuple:
            """NIK and event of a person: newcomers since 2008 keep the NIK of
            their origin; everyone else has the Kukar code of when he first
            registered (birth, or 2008 for those here before NIKs)."""
            if arrived_on and not born_here and arrived_on >= NIK_SINCE and origin:
                # Before 2025 codes may have changed: the list holds old ones.
                return (
                    self.nik(origin.code, birth, sex),
                    EventKind.ARRIVAL,
                    arrived_on,
                    f"Kecamatan {origin.name}, {origin.regency}, {origin.province}",
                )
            first = max(birth, NIK_SINCE)
            if arrived_on and not born_here:
                first = max(first, arrived_on)
            code = self.kukar_code(kecamatan, first)
            return self.nik(code, birth, sex), EventKind.REGISTRATION, None, ""

        def add(person: Person, shdk: int, event: tuple) -> None:
            _nik, kind_, occurred, origin_text = event
            members.append(
                Member(
                    person=person,
                    shdk=shdk,
                    kind=kind_,
                    occurred_on=occurred,
                    origin=origin_text,
                )
            )

        def born_here(birth: datetime.date) -> bool:
            return arrived_on is None or birth >= arrived_on

        def place(birth: datetime.date) -> str:
            if born_here(birth):
                return local_town if rng.random() < 0.7 else "Tenggarong"
            if origin is not None and rng.random() < 0.6:
                return origin.regency.replace("Kabupaten ", "").replace("Kota ", "")
            return self._pick(TOWNS[ethnicity])

        if kind == "single":
            sex = "L" if self._male_first() else "P"
        elif kind == "single_parent":
            sex = "P" if rng.random() < 0.8 else "L"
        else:
            sex = "L" if rng.random() < 0.96 else "P"
        head_birth = self._birth_for_age(head_age)
        head_event = numbers_for(head_birth, sex, born_here(head_birth))
        if kind in ("couple", "nuclear", "extended"):
            head_marital = MaritalStatus.KAWIN
        elif kind == "single_parent":
            head_marital = (
                MaritalStatus.CERAI_MATI
                if rng.random() < 0.6
                else MaritalStatus.CERAI_HIDUP
            )
        else:
            head_marital = (
                MaritalStatus.BELUM_KAWIN
                if head_age < 35 or rng.random() < 0.6
                else MaritalStatus.CERAI_HIDUP
            )
        married_on = None
        spouse_birth = None
        if head_marital == MaritalStatus.KAWIN:
            gap = self._int(0, 8) if sex == "L" else -self._int(0, 5)
            spouse_age = max(18, min(95, head_age - gap))
            spouse_birth = self._birth_for_age(spouse_age)
            younger = max(head_birth, spouse_birth)
            married_on = self._date_between(
                younger + datetime.timedelta(days=365 * 19),
                younger + datetime.timedelta(days=365 * 27),
            )
            married_on = min(married_on, self.as_of - datetime.timedelta(days=30))
        head = self.person(
            ethnicity=ethnicity,
            sex=sex,
            birth=head_birth,
            religion=religion,
            nik=head_event[0],
            birth_place=place(head_birth),
            marital=head_marital,
            married_on=married_on,
        )
        add(head, Shdk.KEPALA_KELUARGA, head_event)
        spouse = None
        if spouse_birth is not None and len(members) < size_left:
            spouse_sex = "P" if sex == "L" else "L"
            spouse_event = numbers_for(
                spouse_birth, spouse_sex, born_here(spouse_birth)
            )
            spouse = self.person(
                ethnicity=ethnicity,
                sex=spouse_sex,
                birth=spouse_birth,
                religion=religion,
                nik=spouse_event[0],
                birth_place=place(spouse_birth),
                marital=MaritalStatus.KAWIN,
                married_on=married_on,
            )
            add(spouse, Shdk.ISTRI if sex == "L" else Shdk.SUAMI, spouse_event)
        # Children: of the couple, or of the single parent.
        mother = spouse if sex == "L" else head
        father = head if sex == "L" else spouse
        if kind in ("nuclear", "extended", "single_parent"):
            mother_birth = mother.birth_date if mother else head_birth
            first_child = max(
                married_on or mother_birth + datetime.timedelta(days=365 * 20),
                mother_birth + datetime.timedelta(days=365 * 17),
            )
            wanted = min(1 + int(rng.expovariate(1 / 2.1)), 9)
            day = first_child + datetime.timedelta(days=self._int(300, 900))
            last_fertile = mother_birth + datetime.timedelta(days=365 * 44)
            born = 0
            while born < wanted and day <= min(self.as_of, last_fertile):
                twins = 2 if rng.random() < 0.012 else 1
                for _twin in range(twins):
                    if len(members) >= size_left:
                        break
                    child_sex = "L" if rng.random() < self._boy_share() else "P"
                    age = self._age(day)
                    # Grown-up children have mostly left for their own KK.
                    if age >= 24 and rng.random() < 0.85:
                        continue
                    event = numbers_for(day, child_sex, born_here(day))
                    child = self.person(
                        ethnicity=ethnicity,
                        sex=child_sex,
                        birth=day,
                        religion=religion,
                        nik=event[0],
                        birth_place=place(day),
                        marital=MaritalStatus.BELUM_KAWIN
                        if age < 25 or rng.random() < 0.5
                        else MaritalStatus.KAWIN,
                        father=(father.name, father.nik) if father else ("", ""),
                        mother=(mother.name, mother.nik) if mother else ("", ""),
                    )
                    add(child, Shdk.ANAK, event)
                born += 1
                day += datetime.timedelta(days=self._int(540, 1800))
        if kind == "extended" and len(members) < size_left:
            roll = rng.random()
            if roll < 0.45 and head_age <= 68:
                # A widowed parent or parent-in-law lives with them.
                elder_sex = "P" if rng.random() < 0.7 else "L"
                elder_birth = self._birth_for_age(head_age + self._int(20, 30))
                event = numbers_for(elder_birth, elder_sex, born_here(elder_birth))
                elder = self.person(
                    ethnicity=ethnicity,
                    sex=elder_sex,
                    birth=elder_birth,
                    religion=religion,
                    nik=event[0],
                    birth_place=place(elder_birth),
                    marital=MaritalStatus.CERAI_MATI,
                )
                add(
                    elder,
                    Shdk.ORANG_TUA if rng.random() < 0.55 else Shdk.MERTUA,
                    event,
                )
            elif roll < 0.8 and head_age >= 45:
                # A married child, his spouse and a grandchild.
                child_age = self._int(20, head_age - 22)
                child_birth = self._birth_for_age(child_age)
                in_law_birth = self._birth_for_age(
                    max(19, child_age + self._int(-2, 4))
                )
                child_sex = "L" if rng.random() < 0.5 else "P"
                wed = min(
                    self._date_between(
                        max(child_birth, in_law_birth)
                        + datetime.timedelta(days=365 * 19),
                        self.as_of - datetime.timedelta(days=400),
                    ),
                    self.as_of - datetime.timedelta(days=30),
                )
                for birth, s, rel in (
                    (child_birth, child_sex, Shdk.ANAK),
                    (in_law_birth, "P" if child_sex == "L" else "L", Shdk.MENANTU),
                ):
                    if len(members) >= size_left:
                        break
                    event = numbers_for(birth, s, born_here(birth))
                    add(
                        self.person(
                            ethnicity=ethnicity,
                            sex=s,
                            birth=birth,
                            religion=religion,
                            nik=event[0],
                            birth_place=place(birth),
                            marital=MaritalStatus.KAWIN,
                            married_on=wed,
                            father=(head.name, head.nik)
                            if rel == Shdk.ANAK and sex == "L"
                            else ("", ""),
                        ),
                        rel,
                        event,
                    )
                grandchild_birth = self._date_between(
                    wed + datetime.timedelta(days=300), self.as_of
                )
                if len(members) < size_left and grandchild_birth <= self.as_of:
                    s = "L" if rng.random() < 0.512 else "P"
                    event = numbers_for(grandchild_birth, s, True)
                    add(
                        self.person(
                            ethnicity=ethnicity,
                            sex=s,
                            birth=grandchild_birth,
                            religion=religion,
                            nik=event[0],
                            birth_place=place(grandchild_birth),
                            marital=MaritalStatus.BELUM_KAWIN,
                        ),
                        Shdk.CUCU,
                        event,
                    )
            elif len(members) < size_left:
                # A nephew or cousin who came to work or study.
                birth = self._birth_for_age(self._int(16, 30))
                s = "L" if self._male_first() else "P"
                event = numbers_for(birth, s, born_here(birth))
                add(
                    self.person(
                        ethnicity=ethnicity,
                        sex=s,
                        birth=birth,
                        religion=religion,
                        nik=event[0],
                        birth_place=place(birth),
                        marital=MaritalStatus.BELUM_KAWIN,
                    ),
                    Shdk.FAMILI_LAIN,
                    event,
                )
        # The KK number: issued in this kecamatan at the last change.
        latest = max(
            [
                m.occurred_on or m.person.birth_date
                for m in members
                if isinstance(m.person.birth_date, datetime.date)
            ]
            + [married_on or NIK_SINCE, arrived_on or NIK_SINCE, NIK_SINCE]
        )
        issued = self._date_between(min(latest, self.as_of), self.as_of)
        kk = self.kk_number(self.kukar_code(kecamatan, issued), issued)
        return FamilyInput(
            address=self._address(village),
            members=members,
            kk_number=kk,
            occurred_on=registered,
        )

    def village_families(self, village: Village, quota: int) -> Iterator[FamilyInput]:
        left = quota
        while left > 0:
            family = self.household(village, left)
            left -= len(family.members)
            yield family


def population(
    residents: int,
    *,
    villages: Sequence[Village],
    seed: int = 1,
    as_of: datetime.date = AS_OF,
) -> Iterator[FamilyInput]:
    """Yield KKs with exactly `residents` people spread over `villages`."""
    generator = Generator(seed=seed, as_of=as_of)
    spread = random.Random(seed * 7919 + 1)  # noqa: S311 - synthetic data
    quotas = village_quotas(villages, residents, spread)
    for village, quota in quotas:
        yield from generator.village_families(village, quota)


def villages_from_regions() -> list[Village]:
    """Return the regency's villages from the region table, in code order."""
    from django.conf import settings

    from balai.regions.models import Region, RegionLevel

    rows = Region.objects.filter(
        level__in=[RegionLevel.DESA, RegionLevel.KELURAHAN],
        code__startswith=settings.BALAI_REGENCY + ".",
    ).order_by("code")
    return [Village(r.code, r.name, r.level == RegionLevel.KELURAHAN) for r in rows]
