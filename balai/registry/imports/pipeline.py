"""An import, from a file to the register: read -> validate -> dedupe -> batch
-> `register_residents_bulk`.

Two passes over the file, both streaming (memory does not grow with the file,
apart from one number per NIK and per KK):

1. scan: the SHA-256, the header and its layout, the number of data rows,
   and the last line of each KK (a KK's rows need not be next to each other);
2. import: each row is mapped (`layouts`), checked by the register's own rule
   (`actions.clean_person`) and held with its KK until the KK's last line has
   been read; complete KKs are checked as a whole (one head, the KK number,
   the actor's scope) and gathered into batches of about `batch_size` rows.

A thread reads and checks the next batch while the database writes the
previous one. Each batch commits atomically with the job's progress
(`commit_batch`): the register's bulk action, the report lines and the
counters, under a lock on the `ImportJob` row. The batches are cut from the
file alone (never from the register), so a rerun of an interrupted import
cuts the same batches, skips those committed and goes on with the rest.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import multiprocessing
import os
import pickle
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from balai.audit.actions import record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict
from balai.regions.models import Region, RegionLevel
from balai.registry import bulk, numbers
from balai.registry.actions import (
    BULK_ROLES,
    LABELS,
    PERSON_NAMES,
    Address,
    CheckedPerson,
    FamilyInput,
    Member,
    Person,
    Problems,
    clean_person_values,
    register_residents_bulk,
)
from balai.registry.bulk import matching
from balai.registry.imports import layouts, readers
from balai.registry.imports.layouts import NOTE, REJECT, Context, Issue, Mapper
from balai.registry.models import Family, Flag, Resident
from balai.registry.models_digitisation import (
    ImportIssue,
    ImportJob,
    IssueOutcome,
    JobStatus,
)
from balai.registry.nik import impossible, to_check, validate_kk, validate_nik
from balai.registry.projection import name_key
from balai.registry.reference import (
    BloodType,
    Citizenship,
    Disability,
    Education,
    MaritalStatus,
    Occupation,
    Shdk,
)
from balai.registry.search import add_words

PIPELINE_VERSION = 1
DEFAULT_BATCH = 5000
_CHUNK = 5000

# Fields of a person whose problem refuses the row (it cannot be placed, or
# the register's NIK rule refuses it); a problem in any other field empties
# that field and the row is imported with a note.
CRITICAL = frozenset({"name", "sex", "birth_date", "religion", "nik"})
# Plain values, not the Choices members: each row carries them to the writer
# process, and a member is unpickled through its class's constructor.
DEFAULTS: dict[str, Any] = {
    "birth_place": "",
    "marital_status": MaritalStatus.BELUM_KAWIN.value,
    "education": Education.TIDAK_BELUM_SEKOLAH.value,
    "occupation": Occupation.BELUM_TIDAK_BEKERJA.value,
    "blood_type": BloodType.TIDAK_TAHU.value,
    "citizenship": Citizenship.WNI.value,
    "disability": Disability.TIDAK_CACAT.value,
    "father_name": "",
    "father_nik": "",
    "mother_name": "",
    "mother_nik": "",
    "passport_number": "",
    "birth_cert_number": "",
    "marriage_cert_number": "",
    "marriage_date": None,
    "divorce_cert_number": "",
    "divorce_date": None,
    "ektp_recorded": False,
    "phone": "",
}
# clean_person names a problem's field by name or by its label.
_FIELD_OF_LABEL = {label: name for name, label in LABELS.items()}


def max_file_bytes() -> int:
    """The command line's limit: a setting, never below 1 GB."""
    return max(int(settings.BALAI_IMPORT_MAX_FILE_BYTES), 1_000_000_000)


def max_upload_bytes() -> int:
    return int(settings.BALAI_IMPORT_MAX_UPLOAD_BYTES)


# --- What flows through the pipeline ------------------------------------------


@dataclass
class Line:
    """One line of the report."""

    line: int
    column: str
    outcome: str
    code: str
    message: str
    value: str = ""


@dataclass
class Row:
    """A row that passed the checks of a single row."""

    line: int
    values: dict[str, Any]  # Person fields, cleaned
    shdk: int
    address: Address
    flags: list[str]
    notes: list[Issue]
    titles: dict[str, str]

    @property
    def nik(self) -> str | None:
        return self.values.get("nik") or None


@dataclass
class Household:
    kk: str
    rows: list[Row] = field(default_factory=list)
    address: Address | None = None


@dataclass
class Batch:
    index: int
    households: list[Household]
    lines: list[Line]
    rows: int  # data rows read into this batch
    rejected: int
    duplicates: int
    # The day the rows were checked by `clean_person` (see `CheckedPerson`).
    checked_on: datetime.date | None = None


@dataclass
class Tally:
    imported: int = 0
    flagged: int = 0
    rejected: int = 0
    duplicates: int = 0

    def add(self, other: Tally) -> None:
        self.imported += other.imported
        self.flagged += other.flagged
        self.rejected += other.rejected
        self.duplicates += other.duplicates


@dataclass
class Summary:
    imported: int
    flagged: int
    rejected: int
    duplicates: int
    rows: int
    layout: str
    source: str = ""
    job_id: Any = None
    already_done: bool = False
    dry_run: bool = False

    def line(self) -> str:
        return (
            f"imported={self.imported} flagged={self.flagged} "
            f"rejected={self.rejected} duplicates={self.duplicates}"
        )


Progress = Callable[[int, int], None]


# --- Reading the file ---------------------------------------------------------


def build_context(village: str = "") -> Context:
    regency = settings.BALAI_REGENCY
    villages: dict[str, str] = {}
    kecamatan: dict[str, str] = {}
    for code, name, level in Region.objects.filter(
        code__startswith=regency + "."
    ).values_list("code", "name", "level"):
        if level in (RegionLevel.DESA, RegionLevel.KELURAHAN):
            villages[code] = name
        elif level == RegionLevel.KECAMATAN:
            kecamatan[code] = name
    return Context(villages=villages, kecamatan_names=kecamatan, village=village)


@dataclass
class Scan:
    path: Path
    kind: str
    size: int
    sha256: str
    header: layouts.Header
    info: readers.SourceInfo
    rows: int
    last_line: dict[str, int]


def _blank(cells: list[Any]) -> bool:
    for cell in cells:
        if cell is None:
            continue
        if isinstance(cell, str):
            if cell.strip():
                return False
            continue
        return False
    return True


def scan(
    path: str | Path,
    *,
    layout: str = "auto",
    context: Context,
    max_bytes: int | None,
    fast: bool = True,
) -> tuple[Scan, Mapper]:
    """The first pass: refuse what cannot be imported at all, before anything
    is written (size, kind, encoding, header, layout, village).

    The SHA-256 is computed meanwhile in a thread. The data rows of a
    UTF-8/Windows-1252 csv file are counted by `readers.csv_runs`, which
    reads the KK column alone; where it is not sure (or `fast` is False)
    the rows after the header are read whole by `read_rows`, the reference:
    the same result either way."""
    path = Path(path)
    size = readers.check_size(path, max_bytes)
    kind = readers.detect_kind(path)
    digest = readers.Digest(path)
    try:
        info = readers.SourceInfo(kind=kind, size=size)
        rows = readers.read_rows(path, kind, info)
        header = layouts.detect_header(rows, layout)
        mapper = Mapper(header, context)
        counted = _kk_lines_fast(path, info, header, mapper) if fast else None
        count, last_line = counted or _kk_lines(rows, mapper)
        if count == 0:
            raise BalaiError(
                _("Berkas hanya berisi baris judul kolom; tidak ada data penduduk."),
                code="file_no_rows",
            )
        sha = digest.result()
    finally:
        digest.cancel()
    return (
        Scan(path, kind, size, sha, header, info, count, last_line),
        mapper,
    )


def _kk_lines(rows: Iterator[readers.Row], mapper: Mapper) -> tuple[int, dict]:
    """The number of data rows and the last line of each KK, from every row."""
    last_line: dict[str, int] = {}
    count = 0
    for line, cells in rows:
        if _blank(cells):
            continue
        count += 1
        key = mapper.kk_key(cells)
        if key is not None:
            last_line[key] = line
    return count, last_line


def _kk_lines_fast(
    path: Path, info: readers.SourceInfo, header: layouts.Header, mapper: Mapper
) -> tuple[int, dict] | None:
    """`_kk_lines` of a csv file from its KK column alone; None where
    `readers.csv_runs` is not sure (`info` is then as it was)."""
    if info.kind != readers.CSV or info.encoding not in ("utf-8", "utf-8-sig"):
        return None
    index = mapper.kk_index
    fallback_lines = list(info.fallback_lines)
    last_line: dict[str, int] = {}
    count = 0
    runs = readers.csv_runs(
        path, info, after_line=header.line, column=0 if index is None else index
    )
    try:
        for line, cell, records in runs:
            count += records
            key = None if index is None else _kk_of(cell)
            if key is not None:
                last_line[key] = line
    except readers.Uncertain:
        info.fallback_lines[:] = fallback_lines
        return None
    return count, last_line


def _kk_of(cell: str | None) -> str | None:
    """`Mapper.kk_key` of a csv row whose KK cell is `cell`."""
    if cell is None:
        return None
    try:
        return layouts.number16(cell, label="KK") or None
    except layouts.CellProblem:
        return None


# --- Checking rows and KKs (no database) --------------------------------------


class Producer:
    """Reads the data rows and yields batches; pure Python, no database."""

    def __init__(
        self,
        scanned: Scan,
        mapper: Mapper,
        *,
        actor: Actor,
        batch_size: int,
        today: datetime.date,
    ) -> None:
        self.scan = scanned
        self.mapper = mapper
        self.actor = actor
        self.batch_size = batch_size
        self.today = today
        self.local = numbers.local_numbers()
        self.seen_nik: dict[int | str, int] = {}
        self.seen_nameless: dict[tuple, int] = {}
        self.open: dict[str, Household] = {}
        self.rejected_heads: dict[str, int] = {}
        self.stopped = threading.Event()
        titles = {
            f: mapper.title(f)
            for f in (*PERSON_NAMES, "kk_number", "shdk", "village", "village_code")
        }
        titles["village"] = mapper.title(
            "village_name" if mapper.layout.key == layouts.SIAK else "village_code"
        )
        self.titles = titles

    def batches(self) -> Iterator[Batch]:
        info = self.scan.info
        rows = readers.read_rows(self.scan.path, self.scan.kind, info)
        header_line = self.scan.header.line
        index = 0
        ready: list[Household] = []
        lines: list[Line] = []
        counted = rejected = duplicates = 0
        for line, cells in rows:
            if self.stopped.is_set():
                return
            if line <= header_line:
                continue
            mapped = self.mapper.map(line, cells)
            if mapped.blank:
                continue
            counted += 1
            kk = mapped.values.get("kk_number") or None
            verdict = self._row(mapped, kk, lines)
            if verdict == REJECT:
                rejected += 1
            elif verdict == "duplicate":
                duplicates += 1
            if kk is not None and self.scan.last_line.get(kk) == line:
                household = self.open.pop(kk, None)
                if household is not None:
                    rejected += self._close(household, lines)
                    if household.rows:
                        ready.append(household)
            if counted >= self.batch_size:
                yield Batch(
                    index, ready, lines, counted, rejected, duplicates, self.today
                )
                index += 1
                ready, lines = [], []
                counted = rejected = duplicates = 0
        for kk in list(self.open):
            household = self.open.pop(kk)
            rejected += self._close(household, lines)
            if household.rows:
                ready.append(household)
        if counted or ready or lines:
            yield Batch(index, ready, lines, counted, rejected, duplicates, self.today)

    def _row(self, mapped: layouts.MappedRow, kk: str | None, lines: list[Line]) -> str:
        """Check one row; hold it with its KK, or report why not."""
        line = mapped.line
        values = mapped.values
        if mapped.rejected:
            for issue in mapped.issues:
                if issue.severity == REJECT:
                    lines.append(_line(line, issue, IssueOutcome.REJECTED))
            if kk and values.get("shdk") == Shdk.KEPALA_KELUARGA:
                self.rejected_heads.setdefault(kk, line)
            return REJECT
        notes = [i for i in mapped.issues if i.severity == NOTE]
        person = {name: values.get(name, DEFAULTS.get(name)) for name in PERSON_NAMES}
        for name, value in DEFAULTS.items():
            if person[name] is None and value is not None:
                person[name] = value
        person["nik"] = person["nik"] or None
        cleaned, flags, refusals = self._clean(line, person, notes)
        if refusals:
            lines.extend(refusals)
            if kk and values.get("shdk") == Shdk.KEPALA_KELUARGA:
                self.rejected_heads.setdefault(kk, line)
            return REJECT
        nik = cleaned["nik"]
        if nik:
            key: int | str = int(nik) if nik.isdigit() else nik
            first = self.seen_nik.get(key)
            if first is not None:
                lines.append(
                    Line(
                        line,
                        self.titles["nik"],
                        IssueOutcome.DUPLICATE,
                        "duplicate_in_file",
                        _("NIK %(nik)s sudah ada di baris %(first)d berkas ini.")
                        % {"nik": nik, "first": first},
                        nik,
                    )
                )
                return "duplicate"
            self.seen_nik[key] = line
        else:
            nameless = (kk, name_key(cleaned["name"]), cleaned["birth_date"])
            first = self.seen_nameless.get(nameless)
            if first is not None:
                lines.append(
                    Line(
                        line,
                        self.titles["name"],
                        IssueOutcome.DUPLICATE,
                        "duplicate_in_file",
                        _(
                            "Orang yang sama (nama, tanggal lahir, KK) sudah ada di "
                            "baris %(first)d berkas ini."
                        )
                        % {"first": first},
                        cleaned["name"],
                    )
                )
                return "duplicate"
            self.seen_nameless[nameless] = line
            if not self.local:
                flags = [*flags, Flag.AWAITING_NIK]
        address = Address(
            village=values.get("village") or "",
            dusun=values.get("dusun") or "",
            rt=values.get("rt") or "",
            rw=values.get("rw") or "",
            street=values.get("street") or "",
        )
        household = self.open.get(kk)
        if household is None:
            household = self.open[kk] = Household(kk=kk)
        household.rows.append(
            Row(
                line=line,
                values=cleaned,
                shdk=values["shdk"],
                address=address,
                flags=flags,
                notes=notes,
                titles=self.titles,
            )
        )
        return "held"

    def _clean(
        self, line: int, person: dict[str, Any], notes: list[Issue]
    ) -> tuple[dict[str, Any], list[str], list[Line]]:
        """Check a person by the register's rule (`clean_person`). A problem in
        a field that places the person refuses the row; one in another field
        empties that field (noted) and the person is checked again."""
        for _attempt in range(3):
            problems = Problems()
            cleaned, flags = clean_person_values(
                person, problems, where="", today_=self.today
            )
            if not problems:
                return cleaned, flags, []
            refusals: list[Line] = []
            emptied = False
            for item in problems.items:
                name = _FIELD_OF_LABEL.get(item["field"], item["field"])
                if name in CRITICAL or name not in DEFAULTS:
                    refusals.append(
                        Line(
                            line,
                            self.titles.get(name, name),
                            IssueOutcome.REJECTED,
                            f"invalid_{name}"[:40],
                            item["message"],
                            layouts.shown(person.get(name)),
                        )
                    )
                elif person.get(name) != DEFAULTS[name]:
                    notes.append(
                        Issue(
                            self.titles.get(name, name),
                            f"invalid_{name}"[:40],
                            item["message"] + " " + _("Kolom ini dikosongkan."),
                            NOTE,
                            layouts.shown(person.get(name)),
                        )
                    )
                    person[name] = DEFAULTS[name]
                    emptied = True
            if refusals or not emptied:
                return cleaned, flags, refusals
        return cleaned, flags, []

    def _close(self, household: Household, lines: list[Line]) -> int:
        """Check a complete KK; return how many of its rows were refused."""
        rows = household.rows
        if not rows:
            return 0
        heads = [r for r in rows if r.shdk == Shdk.KEPALA_KELUARGA]
        refused = 0
        if not heads:
            head_line = self.rejected_heads.get(household.kk)
            message = (
                _(
                    "KK %(kk)s tidak memiliki kepala keluarga yang dapat diimpor "
                    "(baris kepala keluarga %(line)d ditolak)."
                )
                % {"kk": household.kk, "line": head_line}
                if head_line
                else _(
                    "KK %(kk)s tidak memiliki kepala keluarga (SHDK Kepala Keluarga)."
                )
                % {"kk": household.kk}
            )
            refused += self._refuse(household, rows, "kk_without_head", message, lines)
            return refused
        head = heads[0]
        for extra in heads[1:]:
            lines.append(
                Line(
                    extra.line,
                    self.titles["shdk"],
                    IssueOutcome.REJECTED,
                    "second_head",
                    _("KK %(kk)s sudah memiliki kepala keluarga di baris %(line)d.")
                    % {"kk": household.kk, "line": head.line},
                    "Kepala Keluarga",
                )
            )
            rows.remove(extra)
            refused += 1
        bad_kk = impossible(validate_kk(household.kk))
        if bad_kk:
            return refused + self._refuse(
                household,
                rows,
                "kk_invalid",
                " ".join(f.message for f in bad_kk),
                lines,
                column=self.titles["kk_number"],
            )
        village = head.address.village
        if not self.actor.covers(village):
            return refused + self._refuse(
                household,
                rows,
                "out_of_scope",
                _("Desa/kelurahan %(code)s di luar wilayah kerja Anda.")
                % {"code": village},
                lines,
                column=self.titles["village"],
            )
        household.address = head.address
        # The head first, as on a KK.
        rows.sort(key=lambda r: (r.shdk != Shdk.KEPALA_KELUARGA, r.line))
        return refused

    def _refuse(
        self,
        household: Household,
        rows: list[Row],
        code: str,
        message: str,
        lines: list[Line],
        column: str = "",
    ) -> int:
        for row in rows:
            lines.append(
                Line(
                    row.line,
                    column or self.titles["kk_number"],
                    IssueOutcome.REJECTED,
                    code,
                    message,
                    household.kk,
                )
            )
        count = len(rows)
        household.rows = []
        return count


def _line(line: int, issue: Issue, outcome: str) -> Line:
    return Line(line, issue.column, outcome, issue.code, issue.message, issue.value)


# --- Checking against the register and writing (database) ---------------------


@dataclass
class Written:
    tally: Tally
    lines: list[Line]


def _register_duplicates(households: list[Household]) -> tuple[set, dict, set]:
    """What of these KKs the register already holds: NIKs, KK numbers (with
    their ids), and (KK, name key, birth date) of people without NIK."""
    niks = [r.nik for h in households for r in h.rows if r.nik]
    known_niks = {nik for (nik,) in matching(Resident, "nik", niks, chunk=_CHUNK)}
    kks = [h.kk for h in households]
    known_kks: dict[str, Any] = dict(
        matching(Family, "kk_number", kks, also=["id"], chunk=_CHUNK)
    )
    nameless: set[tuple] = set()
    ids = [known_kks[h.kk] for h in households if h.kk in known_kks]
    if ids:
        for kk, key, birth in Resident.objects.filter(
            family_id__in=ids, nik__isnull=True
        ).values_list("family__kk_number", "name_key", "birth_date"):
            nameless.add((kk, key, birth))
    return known_niks, known_kks, nameless


def _against_register(households: list[Household], lines: list[Line], tally: Tally):
    """Drop from each KK whoever the register already holds (a duplicate), and
    refuse what cannot be added to it; return the KKs left to write."""
    known_niks, known_kks, nameless = _register_duplicates(households)
    out: list[Household] = []
    for household in households:
        keep: list[Row] = []
        for row in household.rows:
            nik = row.nik
            if nik and nik in known_niks:
                lines.append(
                    Line(
                        row.line,
                        row.titles["nik"],
                        IssueOutcome.DUPLICATE,
                        "duplicate_in_register",
                        _("NIK %(nik)s sudah terdaftar di register.") % {"nik": nik},
                        nik,
                    )
                )
                tally.duplicates += 1
            elif (
                not nik
                and (
                    household.kk,
                    name_key(row.values["name"]),
                    row.values["birth_date"],
                )
                in nameless
            ):
                lines.append(
                    Line(
                        row.line,
                        row.titles["name"],
                        IssueOutcome.DUPLICATE,
                        "duplicate_in_register",
                        _("Orang ini (nama, tanggal lahir, KK) sudah terdaftar."),
                        row.values["name"],
                    )
                )
                tally.duplicates += 1
            else:
                keep.append(row)
        if not keep:
            continue
        if household.kk in known_kks:
            message = _(
                "Nomor KK %(kk)s sudah terdaftar di register; anggota baru KK yang "
                "sudah ada dicatat lewat kelahiran, kedatangan, atau rekonsiliasi "
                "dengan data SIAK (ditinjau petugas), bukan impor."
            ) % {"kk": household.kk}
            code = "kk_in_register"
        elif not any(r.shdk == Shdk.KEPALA_KELUARGA for r in keep):
            message = _(
                "Kepala keluarga KK %(kk)s sudah terdaftar di register (di KK lain); "
                "anggota lain tidak dapat diimpor tanpa kepala keluarganya. "
                "Selesaikan lewat rekonsiliasi atau pindah."
            ) % {"kk": household.kk}
            code = "head_in_register"
        else:
            out.append(Household(kk=household.kk, rows=keep, address=household.address))
            continue
        for row in keep:
            lines.append(
                Line(
                    row.line,
                    row.titles["kk_number"],
                    IssueOutcome.REJECTED,
                    code,
                    message,
                    household.kk,
                )
            )
            tally.rejected += 1
    return out


def _family_inputs(
    households: list[Household], checked_on: datetime.date | None
) -> list[FamilyInput]:
    """The KKs for the bulk action. Each row was checked by `clean_person`
    when read (on `checked_on`), so it goes as a `CheckedPerson`, with the
    flags `clean_person` gave it (the reader adds AWAITING_NIK to a row
    without NIK for its report; the bulk action adds it itself)."""
    if checked_on is None:
        return [
            FamilyInput(
                address=h.address,
                members=[
                    Member(person=Person(**r.values), shdk=r.shdk) for r in h.rows
                ],
                kk_number=h.kk,
            )
            for h in households
        ]
    awaiting = Flag.AWAITING_NIK
    return [
        FamilyInput(
            address=h.address,
            members=[
                Member(
                    person=CheckedPerson(
                        r.values,
                        tuple(f for f in r.flags if f != awaiting),
                        checked_on,
                    ),
                    shdk=r.shdk,
                )
                for r in h.rows
            ],
            kk_number=h.kk,
        )
        for h in households
    ]


_NUMBERS = re.compile(r"\d+")


def _drop_refused(
    households: list[Household], error: BalaiError, lines: list[Line], tally: Tally
) -> list[Household] | None:
    """Take out of a batch the rows the bulk action refused (it names each by
    KK and member number); None when the refusal names none of them."""
    refused: dict[int, dict[int | None, str]] = {}
    for item in error.extra.get("errors", []):
        found = [int(n) for n in _NUMBERS.findall(item.get("where", ""))]
        if not found:
            return None
        member = found[1] if len(found) > 1 else None
        refused.setdefault(found[0], {})[member] = item.get("message", "")
    if not refused:
        return None
    left: list[Household] = []
    for number, household in enumerate(households, start=1):
        problems = refused.get(number)
        if not problems:
            left.append(household)
            continue
        whole = None in problems
        keep = []
        for member_number, row in enumerate(household.rows, start=1):
            message = problems.get(member_number) or (
                problems.get(None) if whole else None
            )
            if message is None:
                keep.append(row)
                continue
            lines.append(Line(row.line, "", IssueOutcome.REJECTED, "refused", message))
            tally.rejected += 1
        if keep and any(r.shdk == Shdk.KEPALA_KELUARGA for r in keep):
            left.append(
                Household(kk=household.kk, rows=keep, address=household.address)
            )
        else:
            for row in keep:
                lines.append(
                    Line(
                        row.line,
                        row.titles["kk_number"],
                        IssueOutcome.REJECTED,
                        "kk_without_head",
                        _(
                            "KK %(kk)s tidak memiliki kepala keluarga yang dapat "
                            "diimpor."
                        )
                        % {"kk": household.kk},
                        household.kk,
                    )
                )
                tally.rejected += 1
    return left


def _imported_lines(
    households: list[Household], lines: list[Line], tally: Tally
) -> None:
    for household in households:
        for row in household.rows:
            tally.imported += 1
            for note in row.notes:
                lines.append(_line(row.line, note, IssueOutcome.NOTE))
            if row.flags:
                tally.flagged += 1
                lines.append(
                    Line(
                        row.line,
                        row.titles["nik"],
                        IssueOutcome.FLAGGED,
                        ",".join(sorted(set(row.flags)))[:40],
                        _flag_message(row),
                        row.nik or "",
                    )
                )


def _flag_message(row: Row) -> str:
    parts = []
    if Flag.NIK_TO_CHECK in row.flags and row.nik:
        findings = to_check(
            validate_nik(
                row.nik, birth_date=row.values["birth_date"], sex=row.values["sex"]
            )
        )
        parts.extend(f.message for f in findings)
    if Flag.AWAITING_NIK in row.flags:
        parts.append(_("Belum ada NIK: ditandai menunggu NIK dari SIAK."))
    return " ".join(parts) or _("Ditandai untuk diperiksa petugas.")


def check_and_write(*, actor: Actor, batch: Batch, label: str, write: bool) -> Written:
    """Check a batch against the register and, if `write`, register it through
    `register_residents_bulk` (inside the caller's transaction)."""
    tally = Tally(rejected=batch.rejected, duplicates=batch.duplicates)
    lines = list(batch.lines)
    households = _against_register(batch.households, lines, tally)
    if write and households:
        for _attempt in range(5):
            try:
                register_residents_bulk(
                    actor=actor,
                    families=_family_inputs(households, batch.checked_on),
                    label=label,
                )
                break
            except Conflict:
                # Someone registered one of these people a moment ago.
                households = _against_register(households, lines, tally)
            except BalaiError as error:
                left = _drop_refused(households, error, lines, tally)
                if left is None:
                    for household in households:
                        for row in household.rows:
                            lines.append(
                                Line(
                                    row.line,
                                    "",
                                    IssueOutcome.REJECTED,
                                    error.code[:40],
                                    error.message[:1000],
                                )
                            )
                            tally.rejected += 1
                    households = []
                    break
                households = left
            if not households:
                break
        else:
            raise BalaiError(
                _("Batch impor tidak dapat dicatat; coba lagi."), code="batch_failed"
            )
    _imported_lines(households, lines, tally)
    lines.sort(key=lambda item: item.line)
    return Written(tally, lines)


def _issue_rows(job: ImportJob, batch: int, lines: list[Line]) -> list[ImportIssue]:
    return [
        ImportIssue(
            job=job,
            batch=batch,
            line=item.line,
            column=item.column[:64],
            outcome=item.outcome,
            code=item.code[:40],
            message=item.message,
            value=(item.value or "")[:200],
        )
        for item in lines
    ]


_LOCK_TIMEOUT = 120


class _Committed(Exception):
    """The batch was committed meanwhile (by another run of the file)."""


@action("registry.import.batch")
def commit_batch(*, actor: Actor, job: ImportJob, batch: Batch) -> Tally | None:
    """Write one batch of an import with the job's progress, atomically.
    Returns None when the batch was committed before (a rerun).

    Alone, the batch locks the job row first. As one of writers taking turns
    (`balai.registry.bulk.in_turn`), it checks the job without a lock, writes
    its rows, waits for its turn (the batch before it committed), then locks
    the job row: its change records, audit entries and progress follow the
    previous batch's, and the job counts whole batches in file order."""
    actor.require_role(*BULK_ROLES)
    if not bulk.in_turns():
        locked = _locked_job(job, batch)
        if locked is None:
            return None
        written = _check_and_write_batch(actor, job, batch, dry_run=locked.dry_run)
        return _finish_batch(actor, job, locked, batch, written)
    committed, dry_run = ImportJob.objects.values_list(
        "batches_committed", "dry_run"
    ).get(pk=job.pk)
    if committed > batch.index:
        return None
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Should this batch ever wait for a lock held by a later one
                # (waiting for its turn), it fails instead of waiting forever.
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}s'")
            written = _check_and_write_batch(actor, job, batch, dry_run=dry_run)
            bulk.take_turn()
            locked = _locked_job(job, batch)
            if locked is None:
                raise _Committed
            return _finish_batch(actor, job, locked, batch, written)
    except _Committed:
        return None


def _locked_job(job: ImportJob, batch: Batch) -> ImportJob | None:
    """The job row, locked; None if the batch is committed already."""
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.batches_committed > batch.index:
        return None
    if locked.batches_committed != batch.index:
        raise Conflict(
            _("Impor ini dilanjutkan oleh proses lain; tunggu sampai selesai."),
            code="import_busy",
        )
    return locked


def _check_and_write_batch(
    actor: Actor, job: ImportJob, batch: Batch, *, dry_run: bool
) -> Written:
    return check_and_write(
        actor=actor,
        batch=batch,
        label=f"impor {job.pk} batch {batch.index + 1}",
        write=not dry_run,
    )


def _finish_batch(
    actor: Actor, job: ImportJob, locked: ImportJob, batch: Batch, written: Written
) -> Tally:
    """The report lines, the job's counters and the batch's audit entry."""
    ImportIssue.objects.bulk_create(
        _issue_rows(locked, batch.index, written.lines), batch_size=2000
    )
    tally = written.tally
    locked.batches_committed += 1
    locked.rows_done += batch.rows
    locked.imported += tally.imported
    locked.flagged += tally.flagged
    locked.rejected += tally.rejected
    locked.duplicates += tally.duplicates
    locked.status = JobStatus.RUNNING
    locked.save()
    record_many(
        actor=actor,
        targets=[locked],
        details=[
            {
                "batch": batch.index + 1,
                "rows": batch.rows,
                "imported": tally.imported,
                "flagged": tally.flagged,
                "rejected": tally.rejected,
                "duplicates": tally.duplicates,
                "sha256": locked.sha256,
            }
        ],
        change=None,
    )
    for name in ("batches_committed", "rows_done", "imported", "flagged"):
        setattr(job, name, getattr(locked, name))
    job.rejected, job.duplicates = locked.rejected, locked.duplicates
    return tally


# --- Jobs ---------------------------------------------------------------------


def scope_key(actor: Actor) -> str:
    return "*" if actor.scope is None else ",".join(sorted(actor.scope))[:255]


def _actor_id(actor: Actor) -> str:
    return str(actor.user_id) if actor.user_id else f"system:{actor.username}"


@action("registry.import.start")
def open_job(
    *,
    actor: Actor,
    sha256: str,
    layout: str,
    village: str,
    file_name: str,
    file_size: int,
    rows: int,
    batch_size: int,
    dry_run: bool = False,
    stored_path: str = "",
) -> ImportJob:
    """Return the job of this file for this actor's scope, made if new. A
    finished job is returned as it is; an unfinished one (failed, or cut
    off) is taken up again: `commit_batch` skips the batches it committed
    and, under a lock on the job, never commits one twice, so two runs of
    the same file at once cannot import anything twice either."""
    actor.require_role(*BULK_ROLES)
    key = {
        "sha256": sha256,
        "layout": layout,
        "village_code": village,
        "scope_key": scope_key(actor),
    }
    job = None
    if not dry_run:
        job = ImportJob.objects.select_for_update().filter(dry_run=False, **key).first()
    if job is None:
        try:
            with transaction.atomic():
                job = ImportJob.objects.create(
                    **key,
                    dry_run=dry_run,
                    file_name=file_name[:255],
                    file_size=file_size,
                    stored_path=stored_path,
                    batch_size=batch_size,
                    pipeline_version=PIPELINE_VERSION,
                    rows_total=rows,
                    started_by_id=_actor_id(actor),
                    started_by=actor.username,
                    office_code=actor.office_code,
                )
        except IntegrityError as exc:
            raise Conflict(
                _("Berkas ini baru saja mulai diimpor oleh petugas lain.")
            ) from exc
        record_many(
            actor=actor,
            targets=[job],
            details=[{"file": job.file_name, "sha256": sha256, "layout": layout}],
            change=None,
        )
        return job
    if job.status == JobStatus.DONE:
        return job
    if job.pipeline_version != PIPELINE_VERSION:
        raise BalaiError(
            _(
                "Impor berkas ini dimulai oleh versi Balai yang lain dan tidak dapat "
                "dilanjutkan; hubungi admin."
            ),
            code="import_version",
        )
    if stored_path and not (job.stored_path and Path(job.stored_path).exists()):
        job.stored_path = stored_path
    job.rows_total = rows
    job.error = ""
    job.save(update_fields=["rows_total", "error", "stored_path", "updated_at"])
    return job


@action("registry.import.finish")
def finish_job(*, actor: Actor, job: ImportJob, error: str = "") -> ImportJob:
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    locked.status = JobStatus.FAILED if error else JobStatus.DONE
    locked.error = error[:2000]
    locked.finished_at = timezone.now()
    locked.save()
    record_many(
        actor=actor,
        targets=[locked],
        details=[
            {
                "status": locked.status,
                "imported": locked.imported,
                "flagged": locked.flagged,
                "rejected": locked.rejected,
                "duplicates": locked.duplicates,
            }
        ],
        change=None,
    )
    return locked


# --- Running an import --------------------------------------------------------


def _threaded(source: Iterator[Batch], stop: threading.Event) -> Iterator[Batch]:
    """Run `source` in a thread, two batches ahead of the caller."""
    ready: queue.Queue = queue.Queue(maxsize=2)
    end = object()
    failure: list[BaseException] = []

    def make() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer below
            failure.append(exc)
        finally:
            while True:
                try:
                    ready.put(end, timeout=0.5)
                    break
                except queue.Full:
                    if stop.is_set():
                        break

    maker = threading.Thread(target=make, name="balai-import-reader", daemon=True)
    maker.start()
    try:
        while (item := ready.get()) is not end:
            yield item
    finally:
        stop.set()
        maker.join(timeout=5)
    if failure:
        raise failure[0]


def _forked(producer: Producer) -> Iterator[Batch]:
    """Run `producer` in a forked child process (reading, mapping, the checks
    of each row and KK: pure Python, no database), handing each batch over a
    pipe, so that it works on the other core while this process writes the
    previous batch. The pipe holds little: the child is at most about one
    batch ahead. A refusal in the child is raised here as the same
    `BalaiError` (message, code, extra); any other failure as RuntimeError."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def make() -> None:
        bulk.forget_inherited_connections()
        receive.close()
        try:
            with _few_collections():
                for batch in producer.batches():
                    send.send_bytes(
                        pickle.dumps(("batch", batch), pickle.HIGHEST_PROTOCOL)
                    )
                    gc.collect()
            send.send_bytes(pickle.dumps(("end", None)))
        except BalaiError as exc:
            send.send_bytes(
                pickle.dumps(("refused", (exc.message, exc.code, exc.extra)))
            )
        except BaseException as exc:  # handed to the parent below
            send.send_bytes(pickle.dumps(("failed", f"{type(exc).__name__}: {exc}")))
        finally:
            send.close()

    child = context.Process(target=make, name="balai-import-reader", daemon=True)
    # Objects made so far stay out of the child's garbage collections, so it
    # does not copy the pages they share with this process.
    gc.freeze()
    try:
        child.start()
    finally:
        gc.unfreeze()
    send.close()
    # The file's KK map now lives in the child, which reads the rows; this
    # process no longer needs its copy (a million-row file: ~300,000 KKs).
    if isinstance(getattr(producer, "scan", None), Scan):
        producer.scan.last_line = {}
    try:
        while True:
            try:
                # Our own child, over our own pipe: trusted bytes.
                kind, value = pickle.loads(receive.recv_bytes())  # noqa: S301
            except EOFError:
                raise RuntimeError("proses pembaca impor berhenti tiba-tiba") from None
            if kind == "batch":
                yield value
            elif kind == "end":
                break
            elif kind == "refused":
                message, code, extra = value
                raise BalaiError(message, code=code, extra=extra)
            else:
                raise RuntimeError(value)
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)


def _reader(producer: Producer) -> Iterator[Batch]:
    """The producer ahead of the writer: in a second process where there is
    a second core to run it (and `fork`) and the file is more than a few
    batches long (for one or two batches the process only adds its start and
    the hand-over), else in a thread."""
    if (
        settings.BALAI_IMPORT_READER_PROCESS
        and producer.scan.rows > 4 * producer.batch_size
        and (os.cpu_count() or 1) > 1
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return _forked(producer)
    return _threaded(producer.batches(), producer.stopped)


class _Stopped(Exception):
    """Another writer of the import failed: this one stops too."""


class _Turns:
    """The order in which an import's writer processes commit: batch i only
    after batch i-1 (from `first`, the batches committed before this run).
    Shared by the forked writers (a condition and three shared numbers)."""

    def __init__(self, context: Any, first: int) -> None:
        self.condition = context.Condition()
        self.next = context.Value("q", first, lock=False)
        self.rows = context.Value("q", 0, lock=False)
        self.stopped = context.Value("b", 0, lock=False)
        self.parent = os.getpid()
        # The writer processes the importing process started (it alone
        # watches them: one killed mid-batch never takes its turn).
        self.writers: list[Any] = []

    def wait(self, index: int) -> None:
        """Return when batch `index` may take the change log and commit;
        raise `_Stopped` if another writer failed (or the importing process
        is gone)."""
        with self.condition:
            while self.next.value != index:
                if self.stopped.value:
                    raise _Stopped(_("Impor dihentikan: penulis lain gagal."))
                if os.getpid() != self.parent and os.getppid() != self.parent:
                    raise _Stopped(_("Impor dihentikan: proses impor berhenti."))
                if os.getpid() == self.parent and any(
                    w.exitcode not in (None, 0) for w in self.writers
                ):
                    raise _Stopped(_("Impor dihentikan: penulis lain berhenti."))
                self.condition.wait(0.5)

    def done(self, index: int, rows: int) -> int:
        """Batch `index` committed; return the rows done in this run."""
        with self.condition:
            self.next.value = index + 1
            self.rows.value += rows
            self.condition.notify_all()
            return self.rows.value

    def stop(self) -> None:
        with self.condition:
            self.stopped.value = 1
            self.condition.notify_all()


def _message(kind: str, value: Any) -> bytes:
    return pickle.dumps((kind, value), pickle.HIGHEST_PROTOCOL)


def _failure(exc: BaseException) -> bytes:
    if isinstance(exc, BalaiError):
        return _message("refused", (exc.message, exc.code, exc.extra))
    return _message("failed", f"{type(exc).__name__}: {exc}")


def _raise(kind: str, value: Any) -> None:
    if kind == "refused":
        message, code, extra = value
        raise BalaiError(message, code=code, extra=extra)
    raise RuntimeError(value)


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """Run a writer or reader loop without most of Python's cycle
    collections: what exists when it starts (Django, the register's caches)
    is frozen out of them, and none runs while a batch is unpickled or
    built and written; one collection follows each batch (it walks only
    what is not frozen). A batch makes some hundred thousand objects: the
    collections they set off walked the whole heap again and again (a
    tenth of the writer's time in the profile)."""
    gc.freeze()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


def _write_turns(
    receive: Any,
    *,
    actor: Actor,
    job: ImportJob,
    turns: _Turns,
    progress: Callable[[int], None] | None = None,
) -> None:
    """One writer: commit each batch handed over on `receive`, in its turn."""
    with _few_collections():
        while True:
            gc.collect()
            try:
                # From our own reader process, over our own pipe: trusted bytes.
                kind, value = pickle.loads(receive.recv_bytes())  # noqa: S301
            except EOFError:
                raise RuntimeError("proses pembaca impor berhenti tiba-tiba") from None
            if kind == "end":
                return
            if kind != "batch":
                _raise(kind, value)
            batch: Batch = value
            try:
                if not job.dry_run:
                    add_words(
                        [
                            name_key(r.values["name"])
                            for h in batch.households
                            for r in h.rows
                        ]
                    )
                with bulk.in_turn(lambda index=batch.index: turns.wait(index)):
                    commit_batch(actor=actor, job=job, batch=batch)
            except BaseException:
                turns.stop()
                raise
            rows = turns.done(batch.index, batch.rows)
            if progress:
                progress(rows)


def _write_in_turns(
    producer: Producer,
    *,
    actor: Actor,
    job: ImportJob,
    writers: int,
    progress: Progress | None,
) -> None:
    """Write the import with `writers` processes taking turns, fed by a
    reader process.

    The reader (a forked child) reads and checks the file as `_forked` does
    and hands batch i to writer i mod `writers`: this process is writer 0,
    the others are forked children with their own connections. Each writer
    checks its batch against the register and writes its rows while the
    batch before it is still being written; then it waits for its turn
    (`_Turns`: the previous batch committed) before it takes the change log,
    writes the audit entries and the job's progress and commits
    (`commit_batch`). So batches commit one by one in file order, each whole,
    as with one writer: an interrupted import leaves whole batches and a
    rerun goes on after the last one committed. A failure stops every
    writer: a batch waiting for its turn is rolled back."""
    context = multiprocessing.get_context("fork")
    first = job.batches_committed
    done_before = job.rows_done
    total = producer.scan.rows
    turns = _Turns(context, first)
    connections.close_all()  # never share a connection with a child
    inboxes = [context.Pipe(duplex=False) for _ in range(writers)]

    def read() -> None:
        bulk.forget_inherited_connections()
        for receive, _send in inboxes:
            receive.close()
        try:
            with _few_collections():
                for batch in producer.batches():
                    if batch.index >= first:
                        inboxes[batch.index % writers][1].send_bytes(
                            _message("batch", batch)
                        )
                    gc.collect()
            last = _message("end", None)
        except BaseException as exc:  # handed to the writers
            last = _failure(exc)
        for _receive, send in inboxes:
            with contextlib.suppress(OSError):
                send.send_bytes(last)
            send.close()

    reader = context.Process(target=read, name="balai-import-reader", daemon=True)
    gc.freeze()  # see _forked
    try:
        reader.start()
    finally:
        gc.unfreeze()
    for _receive, send in inboxes:
        send.close()
    producer.scan.last_line = {}
    gc.collect()

    children = []
    for k in range(1, writers):
        result_receive, result_send = context.Pipe(duplex=False)

        def work(k: int = k, result_send: Any = result_send) -> None:
            bulk.forget_inherited_connections()
            for j, (receive, _send) in enumerate(inboxes):
                if j != k:
                    receive.close()
            try:
                _write_turns(inboxes[k][0], actor=actor, job=job, turns=turns)
                result_send.send_bytes(_message("done", None))
            except BaseException as exc:  # handed to the parent
                result_send.send_bytes(_failure(exc))
            finally:
                connections.close_all()
                result_send.close()

        child = context.Process(target=work, name="balai-import-writer", daemon=True)
        child.start()
        turns.writers.append(child)
        result_send.close()
        inboxes[k][0].close()
        children.append((child, result_receive))

    def report(rows: int) -> None:
        if progress:
            progress(done_before + rows, total)

    error: BaseException | None = None
    try:
        _write_turns(inboxes[0][0], actor=actor, job=job, turns=turns, progress=report)
    except BaseException as exc:
        turns.stop()
        error = exc
    finally:
        inboxes[0][0].close()
    try:
        for _child, receive in children:
            try:
                # Our own child, over our own pipe: trusted bytes.
                kind, value = pickle.loads(receive.recv_bytes())  # noqa: S301
            except EOFError:
                kind, value = "failed", "penulis impor berhenti tiba-tiba"
            if kind != "done" and (error is None or isinstance(error, _Stopped)):
                try:
                    _raise(kind, value)
                except BaseException as exc:
                    error = exc
    finally:
        for child, receive in children:
            receive.close()
            child.join(timeout=30)
            if child.is_alive():
                child.terminate()
                child.join(timeout=5)
        if reader.is_alive():
            reader.terminate()
        reader.join(timeout=5)
    if error is not None:
        raise error
    job.refresh_from_db()


def _writers(producer: Producer, job: ImportJob | None, writers: int | None) -> int:
    """How many processes write: two on PostgreSQL where the file is more
    than a few batches long and there is a second core (and `fork`); one on
    SQLite (one writer at a time), inside a transaction, or for a dry run."""
    if job is None or job.dry_run or connection.in_atomic_block:
        return 1  # a dry run writes nothing to share
    if writers is not None:
        return max(1, writers)
    if (
        connection.vendor == "postgresql"
        and settings.BALAI_IMPORT_READER_PROCESS
        and producer.scan.rows > 4 * producer.batch_size
        and (os.cpu_count() or 1) > 1
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return 2
    return 1


def run_import(
    *,
    actor: Actor,
    path: str | Path,
    layout: str = "auto",
    village: str = "",
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    max_bytes: int | None = None,
    file_name: str = "",
    job: ImportJob | None = None,
    progress: Progress | None = None,
    lines_out: Callable[[list[Line]], None] | None = None,
    writers: int | None = None,
) -> Summary:
    """Import a file (or, with `dry_run`, only check it and write nothing).

    Without `job` and without `dry_run`, the job of this file is found or
    made (and a finished one returned as it is). `lines_out` receives the
    report lines of each batch as they come (a dry run keeps no job).
    `writers`: processes writing batches in turn (`_write_in_turns`); by
    default two on PostgreSQL for a file of more than four batches.
    """
    actor.require_role(*BULK_ROLES)
    if batch_size < 1:
        raise BalaiError(_("Ukuran batch harus positif."), code="batch_size")
    context = build_context(village)
    scanned, mapper = scan(path, layout=layout, context=context, max_bytes=max_bytes)
    key = scanned.header.layout.key
    if job is None and not dry_run:
        job = open_job(
            actor=actor,
            sha256=scanned.sha256,
            layout=key,
            village=village,
            file_name=file_name or readers.path_name(path),
            file_size=scanned.size,
            rows=scanned.rows,
            batch_size=batch_size,
        )
        if job.status == JobStatus.DONE:
            return _summary(job, scanned, already=True)
    if job is not None:
        batch_size = job.batch_size
        if job.sha256 != scanned.sha256:
            raise BalaiError(
                _("Berkas berubah sejak impor dimulai."), code="file_changed"
            )
        if job.rows_total != scanned.rows:
            ImportJob.objects.filter(pk=job.pk).update(rows_total=scanned.rows)
            job.rows_total = scanned.rows
    producer = Producer(
        scanned,
        mapper,
        actor=actor,
        batch_size=batch_size,
        today=timezone.localdate(),
    )
    tally = Tally()
    done = 0
    if progress:
        progress(job.rows_done if job else 0, scanned.rows)
    try:
        count = _writers(producer, job, writers)
        if count > 1:
            _write_in_turns(
                producer, actor=actor, job=job, writers=count, progress=progress
            )
        else:
            with _few_collections():
                for batch in _reader(producer):
                    gc.collect()
                    if job is not None:
                        if batch.index < job.batches_committed:
                            continue
                        commit_batch(actor=actor, job=job, batch=batch)
                        if progress:
                            progress(job.rows_done, scanned.rows)
                        continue
                    written = check_and_write(
                        actor=actor, batch=batch, label="", write=False
                    )
                    tally.add(written.tally)
                    done += batch.rows
                    if lines_out:
                        lines_out(written.lines)
                    if progress:
                        progress(done, scanned.rows)
    except BalaiError as exc:
        if job is not None and exc.code != "import_busy":
            finish_job(actor=actor, job=job, error=exc.message)
        raise
    except Exception as exc:
        if job is not None:
            # Whole batches only were committed; a rerun goes on from there.
            # (If the database itself is gone, the job stays "running" and a
            # rerun takes it up just the same.)
            with contextlib.suppress(Exception):
                finish_job(actor=actor, job=job, error=f"Terhenti: {exc}"[:500])
        raise
    if job is not None:
        job = finish_job(actor=actor, job=job)
        return _summary(job, scanned)
    return Summary(
        imported=tally.imported,
        flagged=tally.flagged,
        rejected=tally.rejected,
        duplicates=tally.duplicates,
        rows=scanned.rows,
        layout=key,
        source=readers.describe(scanned.info),
        dry_run=True,
    )


def _summary(job: ImportJob, scanned: Scan, *, already: bool = False) -> Summary:
    return Summary(
        imported=job.imported,
        flagged=job.flagged,
        rejected=job.rejected,
        duplicates=job.duplicates,
        rows=job.rows_total,
        layout=job.layout,
        source=readers.describe(scanned.info),
        job_id=job.pk,
        already_done=already,
        dry_run=job.dry_run,
    )
