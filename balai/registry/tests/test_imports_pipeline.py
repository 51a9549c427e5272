"""An import from file to register: what it writes (the register's own rows,
events, change log and audit), what it refuses, duplicates, dry runs,
reruns, an interrupted import resumed, scope and roles."""

import codecs
import csv
import datetime
import enum
import io

import pytest
from django.core.management import call_command

from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError, PermissionDenied
from balai.core.models import ChangeRecord
from balai.registry.imports import pipeline, readers
from balai.registry.imports.samples import SIAK_HEADER
from balai.registry.models import EventKind, Family, Flag, LifeEvent, Resident
from balai.registry.models_digitisation import (
    ImportIssue,
    ImportJob,
    IssueOutcome,
    JobStatus,
)
from balai.registry.rebuild import check
from balai.registry.tests.digitisation_helpers import (
    TABANG,
    TIMBAU,
    one_family,
    siak_table,
    synthetic_families,
    write_rows,
    write_xls,
    write_xlsx,
)

pytestmark = pytest.mark.django_db(transaction=False)

COL = {name: i for i, name in enumerate(SIAK_HEADER)}


@pytest.fixture
def officer(make_staff, actor_of):
    """A registry officer of the Tenggarong MPP: he covers Tenggarong only."""
    return actor_of(make_staff(office="MPP-64.02.06", role="registry_officer"))


@pytest.fixture
def regency(make_staff, actor_of):
    return actor_of(make_staff(office="DISDUKCAPIL", role="registry_officer"))


def run(actor, path, **kwargs):
    return pipeline.run_import(actor=actor, path=path, **kwargs)


def issues(job_id):
    return list(ImportIssue.objects.filter(job_id=job_id).order_by("line", "id"))


def test_a_siak_file_is_registered_as_the_actions_register(tmp_path, regency):
    families = synthetic_families(60, villages=(TIMBAU, TABANG))
    rows = siak_table(families)
    path = write_rows(tmp_path / "siak.csv", rows)
    changes_before = ChangeRecord.objects.count()
    summary = run(regency, path)
    people = len(rows) - 1
    assert summary.line() == f"imported={people} flagged=0 rejected=0 duplicates=0"
    assert Resident.objects.count() == people
    assert Family.objects.count() == len(families)
    events = LifeEvent.objects.filter(kind=EventKind.REGISTRATION)
    assert events.filter(resident__isnull=False).count() == people
    assert events.filter(resident__isnull=True).count() == len(families)
    # Change log: every resident, KK and event; audit: the batch and the job.
    assert (
        ChangeRecord.objects.count() - changes_before == people * 2 + len(families) * 2
    )
    assert AuditEntry.objects.filter(action="registry.residents.register_bulk").exists()
    assert AuditEntry.objects.filter(action="registry.import.batch").count() == 1
    job = ImportJob.objects.get(pk=summary.job_id)
    assert (job.status, job.rows_done, job.batches_committed) == (
        JobStatus.DONE,
        people,
        1,
    )
    head = families[0].members[0].person
    stored = Resident.objects.get(nik=head.nik)
    assert stored.name == head.name.upper()
    assert stored.birth_date == head.birth_date
    assert stored.family.kk_number == families[0].kk_number
    assert stored.family.head_id == stored.pk
    assert check() == []  # the rows are the projection of their events


def test_nik_findings_follow_the_register_rules(tmp_path, regency):
    rows = siak_table([one_family()])
    # The wife's NIK says another birth date: imported, flagged to check.
    rows[2][COL["Tanggal Lahir"]] = "16-07-1988"
    # The son's NIK is impossible: rejected, the rest of the KK imported.
    rows[3][COL["NIK"]] = "64020601021500"
    summary = run(regency, write_rows(tmp_path / "a.csv", rows))
    assert (summary.imported, summary.flagged, summary.rejected) == (2, 1, 1)
    wife = Resident.objects.get(nik="6402065507880002")
    assert Flag.NIK_TO_CHECK in wife.flags
    lines = issues(summary.job_id)
    flagged = next(i for i in lines if i.outcome == IssueOutcome.FLAGGED)
    assert flagged.line == 3
    assert "periksa" in flagged.message
    rejected = next(i for i in lines if i.outcome == IssueOutcome.REJECTED)
    assert (rejected.line, rejected.column) == (4, "NIK")
    assert "16 angka" in rejected.message


def test_a_kk_whose_head_is_refused_is_refused_whole(tmp_path, regency):
    rows = siak_table([one_family()])
    rows[1][COL["Tanggal Lahir"]] = "31-02-1985"
    summary = run(regency, write_rows(tmp_path / "a.csv", rows))
    assert (summary.imported, summary.rejected) == (0, 3)
    reasons = {i.line: i for i in issues(summary.job_id)}
    assert reasons[2].code == "date_impossible"
    assert reasons[3].code == "kk_without_head"
    assert "baris kepala" in reasons[3].message
    assert not Resident.objects.exists()


def test_two_heads_keep_the_first(tmp_path, regency):
    rows = siak_table([one_family()])
    rows[2][COL["SHDK"]] = "Kepala Keluarga"
    summary = run(regency, write_rows(tmp_path / "a.csv", rows))
    assert (summary.imported, summary.rejected) == (2, 1)
    assert issues(summary.job_id)[0].code == "second_head"


def test_members_of_one_kk_need_not_be_next_to_each_other(tmp_path, regency):
    first = one_family()
    second = one_family(
        kk="6402060202200002",
        head_nik="6402060304800004",
        wife_nik="6402064405820005",
        child_nik="6402060506100006",
    )
    rows = siak_table([first, second])
    header, a, b = rows[0], rows[1:4], rows[4:7]
    mixed = [header, a[0], b[0], a[1], b[1], b[2], a[2]]
    summary = run(regency, write_rows(tmp_path / "a.csv", mixed), batch_size=2)
    assert summary.imported == 6
    assert Family.objects.get(kk_number=first.kk_number).members.count() == 3


def test_duplicates_in_the_file_and_in_the_register(tmp_path, regency):
    rows = siak_table([one_family()])
    rows.append(list(rows[3]))  # the son again, same NIK
    summary = run(regency, write_rows(tmp_path / "a.csv", rows))
    assert (summary.imported, summary.duplicates) == (3, 1)
    dup = next(i for i in issues(summary.job_id) if i.outcome == IssueOutcome.DUPLICATE)
    assert dup.line == 5
    assert "baris 4" in dup.message
    # Another file with the same people (xlsx this time): all duplicates.
    again = run(regency, write_xlsx(tmp_path / "a.xlsx", rows))
    assert (again.imported, again.duplicates, again.rejected) == (0, 4, 0)
    assert Resident.objects.count() == 3


def test_importing_the_same_file_again_changes_nothing(tmp_path, regency):
    path = write_rows(tmp_path / "a.csv", siak_table([one_family()]))
    first = run(regency, path)
    counts = (
        Resident.objects.count(),
        LifeEvent.objects.count(),
        AuditEntry.objects.count(),
    )
    again = run(regency, path)
    assert again.already_done
    assert again.job_id == first.job_id
    assert again.line() == first.line()
    assert counts == (
        Resident.objects.count(),
        LifeEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def test_dry_run_writes_nothing(tmp_path, regency):
    rows = siak_table([one_family()])
    rows[3][COL["NIK"]] = "12"
    lines = []
    summary = run(
        regency,
        write_rows(tmp_path / "a.csv", rows),
        dry_run=True,
        lines_out=lines.extend,
    )
    assert (summary.imported, summary.rejected, summary.dry_run) == (2, 1, True)
    assert not Resident.objects.exists()
    assert not ImportJob.objects.exists()
    assert [line.line for line in lines] == [4]


def test_an_interrupted_import_leaves_whole_batches_and_resumes(
    tmp_path, regency, monkeypatch
):
    families = synthetic_families(40, villages=(TIMBAU,), seed=3)
    rows = siak_table(families)
    path = write_rows(tmp_path / "a.csv", rows)
    real = pipeline.register_residents_bulk
    calls = {"n": 0}

    def failing(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            # Something dies halfway through the third batch's writing.
            real(**kwargs)
            raise RuntimeError("listrik padam")
        return real(**kwargs)

    monkeypatch.setattr(pipeline, "register_residents_bulk", failing)
    with pytest.raises(RuntimeError):
        run(regency, path, batch_size=10)
    job = ImportJob.objects.get()
    assert job.batches_committed == 2
    committed_rows = job.rows_done
    # Only whole batches: every resident belongs to a committed batch's KK.
    assert Resident.objects.count() == job.imported
    assert 0 < committed_rows < len(rows) - 1
    monkeypatch.setattr(pipeline, "register_residents_bulk", real)
    summary = run(regency, path, batch_size=999)  # the job's own size is kept
    assert summary.job_id == job.pk
    assert summary.imported == len(rows) - 1 == Resident.objects.count()
    assert summary.duplicates == 0
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.batch_size == 10


def test_a_kecamatan_officer_imports_only_into_his_kecamatan(tmp_path, officer):
    families = synthetic_families(30, villages=(TIMBAU, TABANG), seed=4)
    rows = siak_table(families)
    summary = run(officer, write_rows(tmp_path / "a.csv", rows))
    in_tabang = sum(
        len(f.members) for f in families if f.address.village == TABANG.code
    )
    assert summary.rejected == in_tabang > 0
    assert summary.imported == len(rows) - 1 - in_tabang
    assert not Resident.objects.filter(village_id=TABANG.code).exists()
    reason = next(i for i in issues(summary.job_id) if i.code == "out_of_scope")
    assert "wilayah kerja" in reason.message


def test_only_registry_roles_import(tmp_path, make_staff, actor_of):
    counter = actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))
    path = write_rows(tmp_path / "a.csv", siak_table([one_family()]))
    with pytest.raises(PermissionDenied):
        run(counter, path)


def test_formula_text_is_stored_as_text_and_the_report_guards_it(tmp_path, regency):
    rows = siak_table([one_family()])
    rows[1][COL["Alamat"]] = '=HYPERLINK("http://x","klik")'
    rows[3][COL["NIK"]] = "+6402060102150003"
    path = write_rows(tmp_path / "a.csv", rows)
    report_path = tmp_path / "laporan.csv"
    out = io.StringIO()
    call_command(
        "import_residents", str(path), report=str(report_path), stdout=out, verbosity=0
    )
    assert out.getvalue().strip().splitlines()[-1] == (
        "imported=2 flagged=0 rejected=1 duplicates=0"
    )
    head = Resident.objects.get(nik="6402061203850001")
    assert head.street == '=HYPERLINK("http://x","klik")'
    text = report_path.read_text(encoding="utf-8-sig")
    rows_out = list(csv.reader(io.StringIO(text)))
    assert rows_out[0] == ["baris", "kolom", "hasil", "kode", "alasan", "nilai"]
    nik_line = next(r for r in rows_out[1:] if r[1] == "NIK")
    assert nik_line[0] == "4"
    assert nik_line[5] == "'+6402060102150003"  # never a formula in Excel


def test_xls_and_opensid_files(tmp_path, regency):
    xls = write_xls(tmp_path / "a.xls", siak_table([one_family()]))
    assert run(regency, xls).imported == 3
    from balai.registry.imports.samples import OPENSID_HEADER, opensid_rows

    family = one_family(
        kk="6402060202200002",
        head_nik="6402060304800004",
        wife_nik="6402064405820005",
        child_nik="6402060506100006",
    )
    rows = [list(OPENSID_HEADER), *opensid_rows([family])]
    path = write_rows(tmp_path / "opensid.csv", rows)
    with pytest.raises(BalaiError) as caught:
        run(regency, path)
    assert caught.value.code == "village_required"
    summary = run(regency, path, village="64.02.06.1004")
    assert summary.imported == 3
    assert (
        Family.objects.get(kk_number="6402060202200002").village_id == "64.02.06.1004"
    )


def test_bad_files_are_refused_before_anything_is_written(tmp_path, regency):
    empty = tmp_path / "kosong.csv"
    empty.write_bytes(b"")
    header_only = write_rows(tmp_path / "judul.csv", [list(SIAK_HEADER)])
    wrong = write_rows(tmp_path / "lain.csv", [["a", "b"], ["1", "2"]])
    for path, code in (
        (empty, "file_empty"),
        (header_only, "file_no_rows"),
        (wrong, "layout_unknown"),
    ):
        with pytest.raises(BalaiError) as caught:
            run(regency, path)
        assert caught.value.code == code
    with pytest.raises(BalaiError) as caught:
        run(
            regency,
            write_rows(tmp_path / "b.csv", siak_table([one_family()])),
            max_bytes=100,
        )
    assert caught.value.code == "file_too_large"
    assert not ImportJob.objects.exists()
    assert not Resident.objects.exists()


def test_cp1252_file_is_imported_with_its_accents(tmp_path, regency):
    rows = siak_table([one_family()])
    rows[1][COL["Nama Penduduk"]] = "ANDR\u00c9 RUSDI"
    path = write_rows(tmp_path / "a.csv", rows, encoding="cp1252")
    assert run(regency, path).imported == 3
    assert Resident.objects.get(nik="6402061203850001").name == "ANDR\u00c9 RUSDI"


def test_command_dry_run_and_progress(tmp_path, capsys):
    path = write_rows(tmp_path / "a.csv", siak_table([one_family()]))
    out = io.StringIO()
    call_command("import_residents", str(path), dry_run=True, stdout=out)
    text = out.getvalue()
    assert "--dry-run" in text
    assert (
        text.strip().splitlines()[-1] == "imported=3 flagged=0 rejected=0 duplicates=0"
    )
    assert "100%" in capsys.readouterr().err
    assert not Resident.objects.exists()


def test_a_batch_is_never_committed_twice(tmp_path, regency):
    """Two runs of one file at once: the job's lock and count decide."""
    from django.utils import timezone

    from balai.core.errors import Conflict

    families = synthetic_families(30, villages=(TIMBAU,), seed=5)
    path = write_rows(tmp_path / "a.csv", siak_table(families))
    context = pipeline.build_context()
    scanned, mapper = pipeline.scan(path, context=context, max_bytes=None)
    job = pipeline.open_job(
        actor=regency,
        sha256=scanned.sha256,
        layout="siak",
        village="",
        file_name="a.csv",
        file_size=scanned.size,
        rows=scanned.rows,
        batch_size=10,
    )
    producer = pipeline.Producer(
        scanned, mapper, actor=regency, batch_size=10, today=timezone.localdate()
    )
    batches = list(producer.batches())
    assert len(batches) >= 3
    first = pipeline.commit_batch(actor=regency, job=job, batch=batches[0])
    residents = Resident.objects.count()
    assert first.imported == residents > 0
    assert pipeline.commit_batch(actor=regency, job=job, batch=batches[0]) is None
    assert Resident.objects.count() == residents
    with pytest.raises(Conflict) as caught:
        pipeline.commit_batch(actor=regency, job=job, batch=batches[2])
    assert caught.value.code == "import_busy"
    assert Resident.objects.count() == residents


class _Producer:
    """Stands in for `Producer`: yields the given batches, then fails."""

    def __init__(self, batches, failure=None):
        self._batches = batches
        self._failure = failure
        self.stopped = None

    def batches(self):
        yield from self._batches
        if self._failure is not None:
            raise self._failure


def _batch(index):
    return pipeline.Batch(
        index, [], [pipeline.Line(index + 2, "NIK", "x", "y", "z")], 1, 0, 0
    )


def test_the_reader_process_hands_over_batches_and_refusals():
    got = pipeline._forked(_Producer([_batch(0), _batch(1)]))
    assert [(b.index, b.lines[0].line) for b in got] == [(0, 2), (1, 3)]
    refusal = BalaiError("Berkas rusak.", code="file_broken", extra={"line": 7})
    got = pipeline._forked(_Producer([_batch(0)], refusal))
    assert next(got).index == 0
    with pytest.raises(BalaiError) as exc:
        next(got)
    assert (exc.value.message, exc.value.code, exc.value.extra) == (
        "Berkas rusak.",
        "file_broken",
        {"line": 7},
    )
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        list(pipeline._forked(_Producer([], ZeroDivisionError("x"))))


def test_the_reader_process_hands_over_the_batches_the_producer_makes(
    tmp_path, regency, settings
):
    families = synthetic_families(30, villages=(TIMBAU, TABANG), seed=4)
    path = write_rows(tmp_path / "siak.csv", siak_table(families))
    context = pipeline.build_context("")

    def producer():
        scanned, mapper = pipeline.scan(path, context=context, max_bytes=None)
        return pipeline.Producer(
            scanned, mapper, actor=regency, batch_size=7, today=datetime.date.today()
        )

    direct = list(producer().batches())
    assert len(direct) > 4
    # Plain values only (the defaults too): a Choices member handed over is
    # unpickled through its class's constructor, a cost per row.
    values = [
        v
        for b in direct
        for h in b.households
        for r in h.rows
        for v in r.values.values()
    ]
    assert values
    assert not any(isinstance(v, enum.Enum) for v in values)
    assert list(pipeline._forked(producer())) == direct
    # A file of more than four batches is read in the process, else in a thread.
    forked = []
    real = pipeline._forked
    settings.BALAI_IMPORT_READER_PROCESS = True

    def counted(made):
        forked.append(made)
        return real(made)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "_forked", counted)
        assert list(pipeline._reader(producer())) == direct
        assert len(forked) == 1
        small = producer()
        small.batch_size = 1000
        list(pipeline._reader(small))
        assert len(forked) == 1


@pytest.fixture
def fast_pass(monkeypatch):
    """What became of each fast pass of the scan: "done" or "uncertain"."""
    outcomes = []
    real = readers.csv_runs

    def spied(*args, **kwargs):
        try:
            yield from real(*args, **kwargs)
        except readers.Uncertain:
            outcomes.append("uncertain")
            raise
        outcomes.append("done")

    monkeypatch.setattr(readers, "csv_runs", spied)
    return outcomes


def _siak_bytes(table, *, delimiter=",", end="\r\n", order=None):
    order = order or list(range(len(SIAK_HEADER)))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=end)
    for row in table:
        writer.writerow([row[i] for i in order])
    return out.getvalue().encode()


def _variants():
    families = synthetic_families(40, villages=(TIMBAU, TABANG), seed=9)
    table = siak_table(families)
    kk, address, name = COL["Nomor KK"], COL["Alamat"], COL["Nama Penduduk"]
    plain = _siak_bytes(table)
    quoted = [list(r) for r in table]
    quoted[3][address] = "Jl. Pesut, No. 1"
    quoted[4][name] = 'BUDI "KECIL"'
    multiline = [list(r) for r in table]
    multiline[5][address] = "Jl. Pesut\nNo. 1"
    odd_kk = [list(r) for r in table]
    odd_kk[2][kk] = " " + odd_kk[2][kk]
    odd_kk[6][kk] = "'" + odd_kk[6][kk]
    odd_kk[7][kk] = "6.40206E+15"
    odd_kk[8][kk] = ""
    lines = plain.split(b"\r\n")
    kk_third = [2, 1, 0, *range(3, len(SIAK_HEADER))]
    third = _siak_bytes(table, order=kk_third, end="\n").split(b"\n")
    cp1252 = [list(r) for r in table]
    cp1252[2][name] = "ANDR\u00c9 RUSDI"
    cp1252_line = _siak_bytes(cp1252).split(b"\r\n")[2].decode().encode("cp1252")
    stray = plain.replace(b",Hidup,", b',Hi"dup,', 3)
    carriage = plain.replace(b",Hidup,", b",Hi\rdup,", 1)
    assert stray != plain
    assert carriage != plain
    return {
        "crlf": (plain, "done"),
        "lf": (plain.replace(b"\r\n", b"\n"), "done"),
        "no last line end": (plain.rstrip(b"\r\n"), "done"),
        "bom": (codecs.BOM_UTF8 + plain, "done"),
        "semicolon": (_siak_bytes(table, delimiter=";"), "done"),
        "tab": (_siak_bytes(table, delimiter="\t"), "done"),
        "quoted delimiter and quotes": (_siak_bytes(quoted), "done"),
        "stray quote mid-field": (stray, "done"),
        "blank lines": (
            b"\r\n".join(
                [*lines[:3], b"", b",,,,", b" , \t,", *lines[3:6], b"\t", *lines[6:]]
            ),
            "done",
        ),
        "kk cells to clean": (_siak_bytes(odd_kk), "done"),
        "windows-1252 line": (
            b"\r\n".join([*lines[:2], cp1252_line, *lines[3:]]),
            "done",
        ),
        "kk third, short rows": (
            b"\n".join([*third[:4], b"x", b"x,y", b"x,y,", *third[4:]]),
            "done",
        ),
        "a record over two lines": (_siak_bytes(multiline), "uncertain"),
        "windows-1252, then a record over two lines": (
            b"\r\n".join([*lines[:2], cp1252_line, *lines[3:5]])
            + b"\r\n"
            + _siak_bytes(multiline[5:]),
            "uncertain",
        ),
        "a carriage return mid-line": (
            plain.replace(b",Hidup,", b",Hi\rdup,", 1),
            None,
        ),
    }


@pytest.mark.parametrize(
    "variant",
    [
        "crlf",
        "lf",
        "no last line end",
        "bom",
        "semicolon",
        "tab",
        "quoted delimiter and quotes",
        "stray quote mid-field",
        "blank lines",
        "kk cells to clean",
        "windows-1252 line",
        "kk third, short rows",
        "a record over two lines",
        "windows-1252, then a record over two lines",
        "a carriage return mid-line",
    ],
)
def test_the_fast_scan_finds_what_every_row_read_finds(tmp_path, variant, fast_pass):
    content, outcome = _variants()[variant]
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    context = pipeline.build_context()

    def scanned(fast):
        try:
            return pipeline.scan(path, context=context, max_bytes=None, fast=fast)[0]
        except BalaiError as error:
            return error.code

    slow = scanned(fast=False)
    assert fast_pass == []
    fast = scanned(fast=True)
    assert fast == slow
    assert fast_pass == ([outcome] if outcome else ["uncertain"])
    if outcome is None:
        assert slow == "csv_invalid"
    else:
        assert slow.rows > 30
        assert len(slow.last_line) > 5
        assert slow.sha256 == readers.sha256_of(path)
        assert slow.info.fallback_lines == ([3] if "windows-1252" in variant else [])
