"""The three layouts an import reads, told apart by their header row, and the
mapping of each row to one normalized dict.

- ``siak``: Dukcapil's SIAK export (Indonesian words, place names in capitals,
  dates as DD-MM-YYYY text or Excel serial numbers);
- ``opensid``: OpenSID's penduduk import (field names, numeric codes of
  OpenSID's reference tables, which are SIAK's numbers; the village is given
  on import);
- ``balai``: Balai's own template (docs/import-template.md): codes or words.

`Mapper.map(line, cells)` returns a `MappedRow`: the values under the names
`balai.registry.actions.Person` and `Address` use, plus ``kk_number``,
``village``, ``shdk`` and ``life_status``; and every problem found in a cell,
with its column as the file names it. A problem either refuses the row
(``reject``) or is a note (the value is left empty or at its default and the
row imported). Nothing here touches the database.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from balai.core.errors import BalaiError
from balai.registry.reference import (
    BloodType,
    Citizenship,
    Disability,
    Education,
    MaritalStatus,
    Occupation,
    Religion,
    Shdk,
)

SIAK, OPENSID, BALAI = "siak", "opensid", "balai"
LAYOUTS = (SIAK, OPENSID, BALAI)
LAYOUT_LABELS = {
    SIAK: "ekspor SIAK",
    OPENSID: "impor penduduk OpenSID",
    BALAI: "templat Balai",
}
HEADER_SCAN_ROWS = 20

REJECT, NOTE = "reject", "note"
ALIVE = "hidup"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"^[+-]?\d+([.,]\d+)?[eE][+-]?\d+$")
_FLOAT_TEXT = re.compile(r"^(\d+)[.,]0+$")
_DIGITS = re.compile(r"^\d+$")
_DATE_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_DATE_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
# Excel serials 61.. (1 March 1900, after Excel's phantom 29 Feb 1900) to 9999.
_SERIAL_MIN, _SERIAL_MAX = 61, 2_958_465
# Above this a float no longer holds every integer exactly.
_EXACT_FLOAT = 2**53


# --- Small text helpers -------------------------------------------------------


def norm_header(text: Any) -> str:
    """Fold a header cell for matching: 'Gol. Darah' -> 'goldarah'."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKD", str(text)).lower()
    return re.sub(r"[^a-z0-9]", "", folded)


@functools.lru_cache(maxsize=8192)
def norm_word(text: str) -> str:
    """Fold a value for looking it up in a code list: 'SLTA/Sederajat' ->
    'slta sederajat'; words kept apart so 'Diploma I/II' is not 'Diploma III'."""
    folded = unicodedata.normalize("NFKD", text).lower()
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def clean_text(value: Any) -> str:
    """Return a cell as one line of text: control characters (NUL included,
    which no database stores) become spaces, runs of spaces one space."""
    if value.__class__ is str:
        # The common case, fast: printable, single-spaced.
        if value.isprintable() and "  " not in value:
            return value.strip()
        text = _CONTROL.sub(" ", value) if _CONTROL.search(value) else value
        return _SPACES.sub(" ", text).strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def shown(value: Any, limit: int = 200) -> str:
    """Return a cell's value as the report shows it."""
    return clean_text(value)[:limit]


class CellProblem(Exception):
    """A cell that cannot be read as its column says."""

    def __init__(
        self, message: str, code: str, *, severity: str = REJECT, fallback: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.severity = severity
        self.fallback = fallback


@dataclass
class Issue:
    column: str
    code: str
    message: str
    severity: str = REJECT
    value: str = ""


@dataclass
class MappedRow:
    line: int
    values: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    blank: bool = False

    @property
    def rejected(self) -> bool:
        return any(i.severity == REJECT for i in self.issues)


# --- Converters: cell -> value, or CellProblem --------------------------------

Converter = Callable[[Any, "Context"], Any]


def _text(limit: int | None = None, *, dash_empty: bool = True) -> Converter:
    def convert(cell: Any, ctx: Context) -> str:
        text = clean_text(cell)
        if dash_empty and text in ("-", "--"):
            return ""
        if limit is not None and len(text) > limit:
            raise CellProblem(
                _("Isi terlalu panjang (%(n)d karakter, paling banyak %(limit)d).")
                % {"n": len(text), "limit": limit},
                "too_long",
                severity=NOTE,
                fallback="",
            )
        return text

    return convert


def _name(cell: Any, ctx: Context) -> str:
    text = clean_text(cell)
    if not text or text in ("-", "--"):
        raise CellProblem(_("Nama wajib diisi."), "name_missing")
    if len(text) > 150:
        raise CellProblem(
            _("Nama terlalu panjang (%(n)d karakter, paling banyak 150).")
            % {"n": len(text)},
            "name_too_long",
        )
    return text


def number16(cell: Any, *, label: str) -> str:
    """Return a NIK or KK number as its digits, refusing a cell whose digits
    cannot be trusted: a 16-digit number stored as a floating-point number
    (Excel keeps only 15 significant digits, so 6402061234560001 becomes
    6.40206123456E+15 and the last digit is lost)."""
    if cell is None or cell == "":
        return ""
    if cell.__class__ is str and cell.isascii() and cell.isdigit():
        # The common case, fast: text of digits only, which every step below
        # leaves as it is (no space, mark, sign, decimal or exponent).
        return "" if cell == "0" else cell
    if isinstance(cell, bool | datetime.date | datetime.time):
        raise CellProblem(
            _("%(label)s berisi nilai yang bukan angka.") % {"label": label},
            "number_type",
        )
    if isinstance(cell, int):
        return "" if cell == 0 else str(cell)
    if isinstance(cell, float):
        if not math.isfinite(cell) or not cell.is_integer():
            raise CellProblem(_lost(label, repr(cell)), "number_float")
        whole = int(cell)
        text = str(whole)
        if len(text) >= 16 and (whole >= _EXACT_FLOAT or text.endswith("0")):
            raise CellProblem(_lost(label, f"{cell:.10E}"), "number_float")
        return "" if whole == 0 else text
    text = clean_text(cell).replace(" ", "")
    if text.startswith("'"):
        # Excel's "this is text" mark, or Balai's own export guard.
        text = text[1:]
    if text in ("", "-", "--", "0"):
        return ""
    if _SCIENTIFIC.match(text):
        raise CellProblem(_lost(label, text), "number_float")
    floated = _FLOAT_TEXT.match(text)
    if floated:
        digits = floated.group(1)
        if len(digits) >= 16 and digits.endswith("0"):
            raise CellProblem(_lost(label, text), "number_float")
        return digits
    return text


def _lost(label: str, value: str) -> str:
    return _(
        "%(label)s tersimpan sebagai angka desimal/ilmiah (%(value)s), sehingga "
        "digit terakhirnya bisa hilang (Excel hanya menyimpan 15 digit). Simpan "
        "kolom %(label)s sebagai teks lalu ekspor ulang."
    ) % {"label": label, "value": value}


def _number16(label: str) -> Converter:
    def convert(cell: Any, ctx: Context) -> str:
        return number16(cell, label=label)

    return convert


def parse_date(cell: Any, *, label: str) -> datetime.date | None:
    """Return a date from a date cell, an Excel serial number, or text as
    DD-MM-YYYY (also / or .) or YYYY-MM-DD; None for an empty cell."""
    if cell is None or cell == "":
        return None
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    if isinstance(cell, bool):
        raise CellProblem(
            _("%(label)s bukan tanggal.") % {"label": label}, "date_invalid"
        )
    if isinstance(cell, int | float):
        return _from_serial(cell, label=label, shown_as=clean_text(cell))
    text = clean_text(cell)
    if text in ("-", "--"):
        return None
    if " " in text or "T" in text:
        # A date written with its time: 1990-01-31 00:00:00.
        text = re.split(r"[ T]", text, maxsplit=1)[0]
    match = _DATE_DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return _real_date(year, month, day, label=label, shown_as=text)
    match = _DATE_YMD.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _real_date(year, month, day, label=label, shown_as=text)
    if _DIGITS.match(text) and len(text) <= 7:
        return _from_serial(int(text), label=label, shown_as=text)
    raise CellProblem(
        _(
            "%(label)s '%(value)s' tidak terbaca: tulis sebagai HH-BB-TTTT "
            "(misalnya 31-01-1990) atau TTTT-BB-HH."
        )
        % {"label": label, "value": text[:40]},
        "date_format",
    )


def _real_date(
    year: int, month: int, day: int, *, label: str, shown_as: str
) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellProblem(
            _("%(label)s '%(value)s' tidak ada di kalender.")
            % {"label": label, "value": shown_as},
            "date_impossible",
        ) from None


def _from_serial(value: float, *, label: str, shown_as: str) -> datetime.date:
    if not math.isfinite(value) or not _SERIAL_MIN <= value <= _SERIAL_MAX:
        raise CellProblem(
            _("%(label)s '%(value)s' bukan tanggal Excel yang mungkin.")
            % {"label": label, "value": shown_as},
            "date_serial",
        )
    return _EXCEL_EPOCH + datetime.timedelta(days=int(value))


def _date(label: str, *, required: bool = False, note_only: bool = False) -> Converter:
    def convert(cell: Any, ctx: Context) -> datetime.date | None:
        try:
            day = parse_date(cell, label=label)
        except CellProblem as problem:
            if note_only:
                problem.severity, problem.fallback = NOTE, None
                problem.message += " " + _("Kolom ini dikosongkan.")
            raise
        if day is None and required:
            raise CellProblem(
                _("%(label)s wajib diisi.") % {"label": label.capitalize()},
                "date_missing",
            )
        return day

    return convert


def _code_table(choices: Any, extra: dict[str, int] | None = None) -> dict[str, int]:
    table = {norm_word(str(label)): value for value, label in choices.choices}
    for word, value in (extra or {}).items():
        table[norm_word(word)] = value
    return table


RELIGIONS = _code_table(
    Religion,
    {
        "katolik": 3,
        "protestan": 2,
        "kristen protestan": 2,
        "buddha": 5,
        "budha": 5,
        "konghucu": 6,
        "konghuchu": 6,
        "khong hu cu": 6,
        "kepercayaan": 7,
        "penghayat kepercayaan": 7,
        "kepercayaan terhadap tuhan yang maha esa": 7,
    },
)
MARITAL = _code_table(
    MaritalStatus,
    {
        "kawin tercatat": 2,
        "kawin belum tercatat": 2,
        "kawin tidak tercatat": 2,
        "cerai hidup tercatat": 3,
        "cerai hidup belum tercatat": 3,
        "cerai mati tercatat": 4,
        "cerai mati belum tercatat": 4,
        "belum menikah": 1,
        "menikah": 2,
    },
)
RELATIONS = _code_table(
    Shdk,
    {
        "kepala": 1,
        "kk": 1,
        "orangtua": 7,
        "famili": 9,
        "family lain": 9,
        "keluarga lain": 9,
        "lain lain": 11,
        "lain": 11,
    },
)
EDUCATION = _code_table(
    Education,
    {
        "tidak belum sekolah": 1,
        "tidak sekolah": 1,
        "belum sekolah": 1,
        "tamat sd": 3,
        "sd": 3,
        "sltp": 4,
        "smp": 4,
        "slta": 5,
        "sma": 5,
        "smk": 5,
        "diploma i": 6,
        "diploma ii": 6,
        "d1": 6,
        "d2": 6,
        "diploma iii": 7,
        "akademi diploma iii sarjana muda": 7,
        "d3": 7,
        "diploma iv": 8,
        "strata i": 8,
        "s1": 8,
        "s2": 9,
        "s3": 10,
    },
)
OCCUPATIONS = _code_table(
    Occupation,
    {
        "pegawai negeri sipil pns": 5,
        "pns": 5,
        "tentara nasional indonesia tni": 6,
        "tni": 6,
        "kepolisian ri polri": 7,
        "polri": 7,
        "belum bekerja": 1,
        "tidak bekerja": 1,
        "ibu rumah tangga": 2,
        "pelajar": 3,
        "mahasiswa": 3,
        "petani": 9,
        "pekebun": 9,
        "nelayan": 11,
        "buruh harian": 19,
        "karyawan": 15,
        "swasta": 15,
        "wirausaha": 88,
    },
)
DISABILITIES = _code_table(
    Disability,
    {"": 7, "tidak": 7, "tidak ada": 7, "normal": 7, "tidak cacat": 7},
)
CITIZENSHIP = _code_table(Citizenship, {"indonesia": 1, "asing": 2})
BLOOD: dict[str, int] = {
    **{
        str(label).upper().replace(" ", ""): value for value, label in BloodType.choices
    },
    "TDKTH": 13,
    "TIDAKTAHU": 13,
    "TDKTAHU": 13,
    "-": 13,
    "": 13,
}


def _few_values(convert: Converter) -> Converter:
    """Mark a converter whose column holds few distinct texts (code lists,
    RT/RW, place names): a `Mapper` remembers what each text became, so a
    file of a million rows converts each such text once. Only converters
    whose result depends on the cell alone (and the mapper's fixed context)
    are marked; a refused cell (CellProblem) is never remembered."""
    convert.few_values = True  # type: ignore[attr-defined]
    return convert


def _choice(
    choices: Any,
    table: dict[str, int],
    label: str,
    *,
    required: bool = False,
    default: int | None = None,
    note_unknown: bool = False,
) -> Converter:
    valid = frozenset(choices.values)

    def convert(cell: Any, ctx: Context) -> int | None:
        text = clean_text(cell)
        if text in ("", "-", "--"):
            if required:
                raise CellProblem(
                    _("%(label)s wajib diisi.") % {"label": label.capitalize()},
                    "choice_missing",
                )
            return default
        if _DIGITS.match(text) and int(text) in valid:
            return int(text)
        found = table.get(norm_word(text))
        if found is None:
            # "Pegawai Negeri Sipil (PNS)" and the like: try without brackets.
            found = table.get(norm_word(re.sub(r"\(.*?\)", " ", text)))
        if found is not None:
            return found
        message = _("%(label)s '%(value)s' tidak ada dalam daftar SIAK.") % {
            "label": label.capitalize(),
            "value": text[:40],
        }
        if note_unknown:
            raise CellProblem(
                message
                + " "
                + _("Dicatat %(default)s.")
                % {"default": choices(default).label if default else "-"},
                "choice_unknown",
                severity=NOTE,
                fallback=default,
            )
        raise CellProblem(message, "choice_unknown")

    return _few_values(convert)


@_few_values
def _blood(cell: Any, ctx: Context) -> int:
    text = clean_text(cell).upper().replace(" ", "")
    if _DIGITS.match(text) and int(text) in BloodType.values:
        return int(text)
    if text in BLOOD:
        return BLOOD[text]
    raise CellProblem(
        _("Golongan darah '%(value)s' tidak dikenal. Dicatat Tidak Tahu.")
        % {"value": text[:10]},
        "choice_unknown",
        severity=NOTE,
        fallback=BloodType.TIDAK_TAHU,
    )


_MALE = {"l", "lk", "laki laki", "lakilaki", "laki", "pria", "m", "male"}
_FEMALE = {"p", "pr", "perempuan", "wanita", "w", "f", "female"}


def _sex(numeric: bool) -> Converter:
    def convert(cell: Any, ctx: Context) -> str:
        text = norm_word(clean_text(cell))
        if numeric and text in ("1", "2"):
            return "L" if text == "1" else "P"
        if text in _MALE:
            return "L"
        if text in _FEMALE:
            return "P"
        if not text:
            raise CellProblem(_("Jenis kelamin wajib diisi."), "sex_missing")
        raise CellProblem(
            _("Jenis kelamin '%(value)s' tidak dikenal (Laki-laki/Perempuan).")
            % {"value": clean_text(cell)[:20]},
            "sex_unknown",
        )

    return _few_values(convert)


def _rt_rw(label: str) -> Converter:
    def convert(cell: Any, ctx: Context) -> str:
        text = clean_text(cell)
        if text in ("", "-", "--"):
            return ""
        if _DIGITS.match(text) and len(text.lstrip("0") or "0") <= 3:
            return f"{int(text):03d}"
        raise CellProblem(
            _("%(label)s '%(value)s' bukan angka 1-3 digit; dikosongkan.")
            % {"label": label, "value": text[:10]},
            "rt_rw_invalid",
            severity=NOTE,
            fallback="",
        )

    return _few_values(convert)


_YES = {"1", "y", "ya", "yes", "sudah", "true", "benar", "ada", "sudah rekam"}
_NO = {"", "0", "t", "tidak", "no", "belum", "false", "belum rekam", "-"}


def _yes_no(label: str) -> Converter:
    def convert(cell: Any, ctx: Context) -> bool:
        if isinstance(cell, bool):
            return cell
        if isinstance(cell, datetime.date):
            return True  # a print date: printed
        text = norm_word(clean_text(cell))
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise CellProblem(
            _("%(label)s '%(value)s' tidak dikenal (ya/tidak); dicatat tidak.")
            % {"label": label, "value": clean_text(cell)[:20]},
            "yes_no_unknown",
            severity=NOTE,
            fallback=False,
        )

    return _few_values(convert)


@_few_values
def _opensid_ektp(cell: Any, ctx: Context) -> bool:
    """OpenSID status_rekam: 1 belum wajib, 2 belum rekam, 3 sudah rekam,
    4-8 stages of printing and delivery (all recorded)."""
    text = clean_text(cell)
    if text in ("", "-"):
        return False
    if _DIGITS.match(text):
        return int(text) >= 3
    return _yes_no("status_rekam")(cell, ctx)


_LIFE = {
    "hidup": ALIVE,
    "aktif": ALIVE,
    "mati": "mati",
    "meninggal": "mati",
    "pindah": "pindah",
    "hilang": "hilang",
    "pergi": "pergi",
    "tidak valid": "tidak_valid",
}
_OPENSID_LIFE = {
    "1": ALIVE,
    "2": "mati",
    "3": "pindah",
    "4": "hilang",
    "5": "pergi",
    "6": "tidak_valid",
}


def _life(numeric: bool) -> Converter:
    def convert(cell: Any, ctx: Context) -> str:
        text = norm_word(clean_text(cell))
        if not text:
            return ALIVE
        if numeric and text in _OPENSID_LIFE:
            return _OPENSID_LIFE[text]
        if text in _LIFE:
            return _LIFE[text]
        raise CellProblem(
            _("Status penduduk '%(value)s' tidak dikenal (Hidup/Mati).")
            % {"value": clean_text(cell)[:20]},
            "status_unknown",
        )

    return _few_values(convert)


@_few_values
def _keep(cell: Any, ctx: Context) -> str:
    return clean_text(cell)


# --- Layouts ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column a layout reads: the field it fills, the header names it goes
    by (folded with `norm_header`), how a cell becomes a value, whether the
    header must be there."""

    field: str
    headers: tuple[str, ...]
    convert: Converter
    required: bool = False


@dataclass(frozen=True)
class Layout:
    key: str
    columns: tuple[Column, ...]
    # Fields whose columns every file of this layout has (detection).
    required: tuple[str, ...]
    # The village comes from the import, not from the row.
    village_given: bool = False

    @property
    def label(self) -> str:
        return LAYOUT_LABELS[self.key]

    def match(self, header: Sequence[Any]) -> dict[str, int]:
        """Return field -> column index for the header cells this layout knows."""
        found: dict[str, int] = {}
        folded = [norm_header(cell) for cell in header]
        for column in self.columns:
            for index, name in enumerate(folded):
                if name in column.headers and column.field not in found:
                    found[column.field] = index
                    break
        return found

    def missing(self, found: dict[str, int]) -> list[str]:
        return [f for f in self.required if f not in found]


def _h(*names: str) -> tuple[str, ...]:
    return tuple(norm_header(n) for n in names)


SIAK_LAYOUT = Layout(
    key=SIAK,
    columns=(
        Column(
            "kk_number", _h("Nomor KK", "No KK", "NKK", "No. KK"), _number16("Nomor KK")
        ),
        Column("nik", _h("NIK"), _number16("NIK")),
        Column("name", _h("Nama Penduduk", "Nama Lengkap"), _name),
        Column("life_status", _h("Status", "Status Penduduk"), _life(False)),
        Column("birth_place", _h("Tempat Lahir"), _text(100)),
        Column(
            "birth_date",
            _h("Tanggal Lahir", "Tgl Lahir"),
            _date("tanggal lahir", required=True),
        ),
        Column("sex", _h("Kelamin", "JK"), _sex(numeric=False)),
        Column("father_nik", _h("NIK Ayah"), _number16("NIK ayah")),
        Column("father_name", _h("Ayah", "Nama Ayah"), _text(150)),
        Column("mother_nik", _h("NIK Ibu"), _number16("NIK ibu")),
        Column("mother_name", _h("Ibu", "Nama Ibu"), _text(150)),
        Column(
            "marital_status",
            _h("Status Kawin", "Status Perkawinan"),
            _choice(MaritalStatus, MARITAL, "status kawin", default=1),
        ),
        Column(
            "shdk",
            _h("SHDK", "Hubungan Keluarga", "Status Hubungan Dalam Keluarga"),
            _choice(Shdk, RELATIONS, "SHDK", required=True),
        ),
        Column(
            "religion",
            _h("Agama"),
            _choice(Religion, RELIGIONS, "agama", required=True),
        ),
        Column("kecamatan_name", _h("Kecamatan", "Nama Kec", "Kec"), _keep),
        Column(
            "village_name", _h("Desa/Kel", "Desa", "Kelurahan", "Desa/Kelurahan"), _keep
        ),
        Column("street", _h("Alamat"), _text(255)),
        Column("rw", _h("RW"), _rt_rw("RW")),
        Column("rt", _h("RT"), _rt_rw("RT")),
        Column(
            "education",
            _h("Pendidikan", "Pendidikan Terakhir"),
            _choice(Education, EDUCATION, "pendidikan", default=1, note_unknown=True),
        ),
        Column(
            "occupation",
            _h("Pekerjaan", "Jenis Pekerjaan"),
            _choice(
                Occupation, OCCUPATIONS, "pekerjaan", default=89, note_unknown=True
            ),
        ),
        Column("blood_type", _h("Gol. Darah", "Golongan Darah"), _blood),
        Column(
            "disability",
            _h("Cacat", "Penyandang Cacat"),
            _choice(Disability, DISABILITIES, "cacat", default=7, note_unknown=True),
        ),
        Column("ektp_recorded", _h("Cetak KTP"), _yes_no("Cetak KTP")),
        Column("passport_number", _h("Nomor Paspor", "No Paspor"), _text(20)),
        Column(
            "birth_cert_number",
            _h("Nomor Akta Lahir", "No Akta Lahir", "Akta Lahir"),
            _text(40),
        ),
        Column("marriage_cert_number", _h("Nomor Akta Kawin"), _text(40)),
        Column(
            "marriage_date",
            _h("Tanggal Kwn", "Tgl Kawin", "Tanggal Kawin"),
            _date("tanggal kawin", note_only=True),
        ),
        Column("divorce_cert_number", _h("Nomor Akta Cerai"), _text(40)),
        Column(
            "divorce_date",
            _h("Tgl Cerai", "Tanggal Cerai"),
            _date("tanggal cerai", note_only=True),
        ),
    ),
    required=(
        "kk_number",
        "nik",
        "name",
        "sex",
        "birth_date",
        "shdk",
        "religion",
        "kecamatan_name",
        "village_name",
    ),
)

OPENSID_LAYOUT = Layout(
    key=OPENSID,
    columns=(
        Column("street", _h("alamat"), _text(255)),
        Column("dusun", _h("dusun"), _text(64)),
        Column("rw", _h("rw"), _rt_rw("rw")),
        Column("rt", _h("rt"), _rt_rw("rt")),
        Column("name", _h("nama"), _name),
        Column("kk_number", _h("no_kk"), _number16("no_kk")),
        Column("nik", _h("nik"), _number16("nik")),
        Column("sex", _h("sex"), _sex(numeric=True)),
        Column("birth_place", _h("tempatlahir"), _text(100)),
        Column("birth_date", _h("tanggallahir"), _date("tanggallahir", required=True)),
        Column(
            "religion",
            _h("agama_id"),
            _choice(Religion, RELIGIONS, "agama_id", required=True),
        ),
        Column(
            "education",
            _h("pendidikan_kk_id"),
            _choice(
                Education, EDUCATION, "pendidikan_kk_id", default=1, note_unknown=True
            ),
        ),
        Column(
            "occupation",
            _h("pekerjaan_id"),
            _choice(
                Occupation, OCCUPATIONS, "pekerjaan_id", default=1, note_unknown=True
            ),
        ),
        Column(
            "marital_status",
            _h("status_kawin"),
            _choice(MaritalStatus, MARITAL, "status_kawin", default=1),
        ),
        Column(
            "shdk", _h("kk_level"), _choice(Shdk, RELATIONS, "kk_level", required=True)
        ),
        Column(
            "citizenship",
            _h("warganegara_id"),
            _choice(Citizenship, CITIZENSHIP, "warganegara_id", default=1),
        ),
        Column("father_nik", _h("ayah_nik"), _number16("ayah_nik")),
        Column("father_name", _h("nama_ayah"), _text(150)),
        Column("mother_nik", _h("ibu_nik"), _number16("ibu_nik")),
        Column("mother_name", _h("nama_ibu"), _text(150)),
        Column("blood_type", _h("golongan_darah_id"), _blood),
        Column("birth_cert_number", _h("akta_lahir"), _text(40)),
        Column("passport_number", _h("dokumen_pasport"), _text(20)),
        Column("marriage_cert_number", _h("akta_perkawinan"), _text(40)),
        Column(
            "marriage_date",
            _h("tanggalperkawinan"),
            _date("tanggalperkawinan", note_only=True),
        ),
        Column("divorce_cert_number", _h("akta_perceraian"), _text(40)),
        Column(
            "divorce_date",
            _h("tanggalperceraian"),
            _date("tanggalperceraian", note_only=True),
        ),
        Column(
            "disability",
            _h("cacat_id"),
            _choice(Disability, DISABILITIES, "cacat_id", default=7, note_unknown=True),
        ),
        Column("ektp_recorded", _h("status_rekam"), _opensid_ektp),
        Column("life_status", _h("status_dasar"), _life(True)),
    ),
    required=("name", "kk_number", "nik", "sex", "birth_date", "religion", "shdk"),
    village_given=True,
)

BALAI_LAYOUT = Layout(
    key=BALAI,
    columns=(
        Column("kk_number", _h("nomor_kk"), _number16("nomor_kk")),
        Column("nik", _h("nik"), _number16("nik")),
        Column("name", _h("nama"), _name),
        Column("sex", _h("jenis_kelamin"), _sex(numeric=False)),
        Column("birth_place", _h("tempat_lahir"), _text(100)),
        Column(
            "birth_date", _h("tanggal_lahir"), _date("tanggal_lahir", required=True)
        ),
        Column(
            "religion",
            _h("agama"),
            _choice(Religion, RELIGIONS, "agama", required=True),
        ),
        Column(
            "marital_status",
            _h("status_perkawinan"),
            _choice(MaritalStatus, MARITAL, "status_perkawinan", default=1),
        ),
        Column("shdk", _h("shdk"), _choice(Shdk, RELATIONS, "shdk", required=True)),
        Column(
            "education",
            _h("pendidikan"),
            _choice(Education, EDUCATION, "pendidikan", default=1, note_unknown=True),
        ),
        Column(
            "occupation",
            _h("pekerjaan"),
            _choice(Occupation, OCCUPATIONS, "pekerjaan", default=1, note_unknown=True),
        ),
        Column("blood_type", _h("golongan_darah"), _blood),
        Column(
            "disability",
            _h("disabilitas"),
            _choice(
                Disability, DISABILITIES, "disabilitas", default=7, note_unknown=True
            ),
        ),
        Column(
            "citizenship",
            _h("kewarganegaraan"),
            _choice(Citizenship, CITIZENSHIP, "kewarganegaraan", default=1),
        ),
        Column("father_nik", _h("nik_ayah"), _number16("nik_ayah")),
        Column("father_name", _h("nama_ayah"), _text(150)),
        Column("mother_nik", _h("nik_ibu"), _number16("nik_ibu")),
        Column("mother_name", _h("nama_ibu"), _text(150)),
        Column("village_code", _h("kode_desa"), _keep),
        Column("dusun", _h("dusun"), _text(64)),
        Column("rt", _h("rt"), _rt_rw("rt")),
        Column("rw", _h("rw"), _rt_rw("rw")),
        Column("street", _h("alamat"), _text(255)),
        Column("passport_number", _h("nomor_paspor"), _text(20)),
        Column("birth_cert_number", _h("nomor_akta_lahir"), _text(40)),
        Column("marriage_cert_number", _h("nomor_akta_kawin"), _text(40)),
        Column(
            "marriage_date",
            _h("tanggal_kawin"),
            _date("tanggal_kawin", note_only=True),
        ),
        Column("divorce_cert_number", _h("nomor_akta_cerai"), _text(40)),
        Column(
            "divorce_date",
            _h("tanggal_cerai"),
            _date("tanggal_cerai", note_only=True),
        ),
        Column("ektp_recorded", _h("rekam_ktp_el"), _yes_no("rekam_ktp_el")),
        Column("phone", _h("telepon"), _text(20)),
    ),
    required=(
        "kk_number",
        "name",
        "sex",
        "birth_date",
        "religion",
        "shdk",
        "village_code",
    ),
)

BY_KEY: dict[str, Layout] = {
    SIAK: SIAK_LAYOUT,
    OPENSID: OPENSID_LAYOUT,
    BALAI: BALAI_LAYOUT,
}

# Balai's template, in column order (docs/import-template.md).
BALAI_TEMPLATE_HEADER = tuple(
    {
        "kk_number": "nomor_kk",
        "nik": "nik",
        "name": "nama",
        "sex": "jenis_kelamin",
        "birth_place": "tempat_lahir",
        "birth_date": "tanggal_lahir",
        "religion": "agama",
        "marital_status": "status_perkawinan",
        "shdk": "shdk",
        "education": "pendidikan",
        "occupation": "pekerjaan",
        "blood_type": "golongan_darah",
        "disability": "disabilitas",
        "citizenship": "kewarganegaraan",
        "father_nik": "nik_ayah",
        "father_name": "nama_ayah",
        "mother_nik": "nik_ibu",
        "mother_name": "nama_ibu",
        "village_code": "kode_desa",
        "dusun": "dusun",
        "rt": "rt",
        "rw": "rw",
        "street": "alamat",
        "passport_number": "nomor_paspor",
        "birth_cert_number": "nomor_akta_lahir",
        "marriage_cert_number": "nomor_akta_kawin",
        "marriage_date": "tanggal_kawin",
        "divorce_cert_number": "nomor_akta_cerai",
        "divorce_date": "tanggal_cerai",
        "ektp_recorded": "rekam_ktp_el",
        "phone": "telepon",
    }[c.field]
    for c in BALAI_LAYOUT.columns
)


# --- Header detection ---------------------------------------------------------


@dataclass
class Header:
    layout: Layout
    line: int
    found: dict[str, int]
    names: list[str]  # header cells as written, by column index


def detect_header(
    rows: Iterable[tuple[int, list[Any]]], forced: str = "auto"
) -> Header:
    """Find the header row among the first rows and the layout it names.

    With `forced` a layout key, only that layout is tried and a header that
    lacks its columns is refused with the missing ones named.
    """
    candidates = (
        [BY_KEY[forced]] if forced and forced != "auto" else list(BY_KEY.values())
    )
    best: tuple[int, Header] | None = None
    nearest: tuple[int, Layout, list[str]] | None = None
    seen = 0
    for line, cells in rows:
        if not any(clean_text(c) for c in cells):
            continue
        seen += 1
        for layout in candidates:
            found = layout.match(cells)
            missing = layout.missing(found)
            if not missing:
                score = len(found)
                if best is None or score > best[0]:
                    names = [clean_text(c) for c in cells]
                    best = (score, Header(layout, line, found, names))
            elif nearest is None or len(missing) < nearest[0]:
                nearest = (len(missing), layout, missing)
        if best is not None or seen >= HEADER_SCAN_ROWS:
            break
    if best is not None:
        return best[1]
    if seen == 0:
        raise BalaiError(_("Berkas tidak berisi baris apa pun."), code="file_empty")
    if forced and forced != "auto" and nearest is not None:
        layout = nearest[1]
        raise BalaiError(
            _(
                "Baris judul kolom tidak sesuai format %(layout)s: kolom %(missing)s "
                "tidak ada. Periksa format yang dipilih."
            )
            % {
                "layout": layout.label,
                "missing": ", ".join(_column_title(layout, f) for f in nearest[2]),
            },
            code="layout_mismatch",
        )
    raise BalaiError(
        _(
            "Format berkas tidak dikenali: baris judul kolom harus seperti ekspor "
            "SIAK (Nomor KK, NIK, Nama Penduduk, ...), impor penduduk OpenSID "
            "(nama, no_kk, nik, sex, ...) atau templat Balai (nomor_kk, nik, "
            "nama, jenis_kelamin, ...)."
        ),
        code="layout_unknown",
    )


def _column_title(layout: Layout, field_name: str) -> str:
    for column in layout.columns:
        if column.field == field_name:
            return column.headers[0]
    return field_name


# --- Villages -----------------------------------------------------------------


def place_key(text: str) -> str:
    """Fold a desa or kecamatan name: 'KEL. LOA IPUH' -> 'loaipuh'."""
    words = norm_word(text).split()
    while words and words[0] in ("desa", "kelurahan", "kel", "ds", "kec", "kecamatan"):
        words = words[1:]
    return "".join(words)


@dataclass
class Context:
    """What mapping needs to know besides the row: the regency's villages."""

    villages: dict[str, str]  # code -> name (desa and kelurahan)
    kecamatan_names: dict[str, str]  # code -> name
    village: str = ""  # given on import
    _by_names: dict[tuple[str, str], str] = field(default_factory=dict)
    _by_desa: dict[str, list[str]] = field(default_factory=dict)
    _by_kecamatan: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for code, name in self.kecamatan_names.items():
            self._by_kecamatan[place_key(name)] = code
        for code, name in self.villages.items():
            kecamatan = code.rsplit(".", 1)[0]
            kec_name = self.kecamatan_names.get(kecamatan, "")
            self._by_names[(place_key(kec_name), place_key(name))] = code
            self._by_desa.setdefault(place_key(name), []).append(code)

    def village_by_names(self, kecamatan: str, desa: str) -> str | None:
        """Return the code of the desa named `desa` in kecamatan `kecamatan`
        (names as SIAK writes them), or of a desa code written in the cell."""
        desa_text = clean_text(desa)
        if desa_text in self.villages:
            return desa_text
        code = self._by_names.get((place_key(kecamatan), place_key(desa_text)))
        if code is not None:
            return code
        if not clean_text(kecamatan):
            matches = self._by_desa.get(place_key(desa_text), [])
            if len(matches) == 1:
                return matches[0]
        return None


# --- Mapping rows -------------------------------------------------------------

# How many distinct texts a mapper remembers per column (and places): enough
# for any code list or a regency's RT numbers and villages, bounded for a
# column that holds more than its converter's marking expected.
_REMEMBERED = 4096


def _remembering(convert: Converter) -> Converter:
    """`convert`, remembering the result of each text cell if the converter
    is marked `_few_values` (a mapper's context never changes)."""
    if not getattr(convert, "few_values", False):
        return convert
    seen: dict[str, Any] = {}

    def remembered(cell: Any, ctx: Context) -> Any:
        if cell.__class__ is not str:
            return convert(cell, ctx)
        try:
            return seen[cell]
        except KeyError:
            value = convert(cell, ctx)  # a CellProblem is raised, not kept
            if len(seen) < _REMEMBERED:
                seen[cell] = value
            return value

    return remembered


class Mapper:
    """Turns the rows under a header into `MappedRow`s."""

    def __init__(self, header: Header, context: Context) -> None:
        self.header = header
        self.layout = header.layout
        self.context = context
        self.columns = [
            (c, header.found[c.field])
            for c in self.layout.columns
            if c.field in header.found
        ]
        # (field, cell index, converter) per column, read once per row.
        self._plan = [
            (c.field, index, _remembering(c.convert)) for c, index in self.columns
        ]
        self._places: dict[tuple[str, str], str | None] = {}
        self.kk_index = header.found.get("kk_number")
        if self.layout.village_given and not context.village:
            raise BalaiError(
                _(
                    "Berkas %(layout)s tidak menyebut desa: pilih desa/kelurahan "
                    "tujuan impor (--village KODE)."
                )
                % {"layout": self.layout.label},
                code="village_required",
            )
        if context.village and context.village not in context.villages:
            raise BalaiError(
                _("Desa/kelurahan %(code)s tidak dikenal.") % {"code": context.village},
                code="village_unknown",
            )

    def title(self, field_name: str) -> str:
        index = self.header.found.get(field_name)
        if index is not None and index < len(self.header.names):
            return self.header.names[index] or field_name
        return field_name

    def kk_key(self, cells: list[Any]) -> str | None:
        """The KK number of a row as the grouping key (None if unreadable)."""
        if self.kk_index is None or self.kk_index >= len(cells):
            return None
        try:
            return number16(cells[self.kk_index], label="KK") or None
        except CellProblem:
            return None

    def map(self, line: int, cells: list[Any]) -> MappedRow:
        row = MappedRow(line=line, values={})
        if not any(c is not None and clean_text(c) for c in cells):
            row.blank = True
            return row
        values = row.values
        context = self.context
        count = len(cells)
        for name, index, convert in self._plan:
            cell = cells[index] if index < count else None
            try:
                values[name] = convert(cell, context)
            except CellProblem as problem:
                row.issues.append(
                    Issue(
                        column=self.title(name),
                        code=problem.code,
                        message=problem.message,
                        severity=problem.severity,
                        value=shown(cell),
                    )
                )
                values[name] = problem.fallback
        self._place(row)
        if not values.get("kk_number") and not any(
            i.column == self.title("kk_number") for i in row.issues
        ):
            row.issues.append(
                Issue(
                    self.title("kk_number"),
                    "kk_missing",
                    _(
                        "Nomor KK wajib diisi: tanpa nomor KK penduduk tidak dapat "
                        "ditempatkan dalam keluarga."
                    ),
                )
            )
        status = values.get("life_status") or ALIVE
        if status != ALIVE:
            row.issues.append(
                Issue(
                    self.title("life_status"),
                    "not_alive",
                    _(
                        "Penduduk berstatus '%(status)s' tidak diimpor sebagai "
                        "penduduk; kematian dan kepindahan dicatat sebagai peristiwa."
                    )
                    % {"status": status.replace("_", " ")},
                    value=status,
                )
            )
        return row

    def _place(self, row: MappedRow) -> None:
        """Fill in the village code, or refuse the row that names none we know."""
        values = row.values
        context = self.context
        if self.layout.key == SIAK:
            kecamatan = values.pop("kecamatan_name", "") or ""
            desa = values.pop("village_name", "") or ""
            key = (kecamatan, desa)
            try:
                code = self._places[key]
            except KeyError:
                # Both are text (`_keep`); the lookup is pure: remembered.
                code = context.village_by_names(kecamatan, desa)
                if len(self._places) < _REMEMBERED:
                    self._places[key] = code
            if code is None:
                row.issues.append(
                    Issue(
                        self.title("village_name"),
                        "village_unknown",
                        _(
                            "Desa/kelurahan '%(desa)s' di kecamatan '%(kec)s' tidak "
                            "dikenal di kabupaten ini."
                        )
                        % {"desa": clean_text(desa), "kec": clean_text(kecamatan)},
                        value=shown(desa),
                    )
                )
            elif context.village and code != context.village:
                row.issues.append(
                    Issue(
                        self.title("village_name"),
                        "village_other",
                        _(
                            "Baris ini untuk desa/kelurahan %(code)s, bukan desa "
                            "yang dipilih untuk impor (%(chosen)s)."
                        )
                        % {"code": code, "chosen": context.village},
                        value=shown(desa),
                    )
                )
            values["village"] = code or ""
        elif self.layout.key == OPENSID:
            values["village"] = context.village
        else:
            code = clean_text(values.pop("village_code", "")) or context.village
            if code not in context.villages:
                row.issues.append(
                    Issue(
                        self.title("village_code"),
                        "village_unknown",
                        _("Kode desa/kelurahan '%(code)s' tidak dikenal.")
                        % {"code": code[:20]}
                        if code
                        else _("Kode desa/kelurahan wajib diisi."),
                        value=shown(code),
                    )
                )
                code = ""
            values["village"] = code
