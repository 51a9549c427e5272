"""An import written by two processes taking turns (`pipeline._write_in_turns`,
PostgreSQL only): the same register, change log, audit and report as one
writer, batches committed whole and in file order, an interruption leaving
whole batches that a rerun goes on from."""

import pytest
from django.db import connection, transaction

from balai.audit.models import AuditEntry
from balai.audit.verify import verify_all
from balai.core.models import ChangeRecord
from balai.registry.imports import pipeline
from balai.registry.models import Family, LifeEvent, Resident
from balai.registry.models_digitisation import ImportIssue, ImportJob, JobStatus
from balai.registry.rebuild import check
from balai.registry.tests.digitisation_helpers import (
    TABANG,
    TIMBAU,
    siak_table,
    synthetic_families,
    write_rows,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'",
        reason="writer processes need a database server",
    ),
]

# Not stored the same by two runs: ids, links by id, timestamps.
_RUN_BOUND = {"id", "family_id", "head_id", "created_at", "updated_at"}


@pytest.fixture
def regency(regions, make_staff, actor_of):
    return actor_of(make_staff(office="DISDUKCAPIL", role="registry_officer"))


@pytest.fixture
def file_rows():
    families = synthetic_families(80, villages=(TIMBAU, TABANG), seed=21)
    rows = siak_table(families)
    # A row refused and a duplicate, so that the report has lines too.
    rows[5][0] = "12"
    rows.append(list(rows[9]))
    return rows


def _batches_in_order():
    """Per committed batch, in audit order: (batch number, seqs of the change
    records of the rows it registered)."""
    out = []
    job = ImportJob.objects.get()
    entries = AuditEntry.objects.filter(
        action="registry.import.batch", object_id=str(job.pk)
    ).order_by("chain", "seq")
    groups = {
        e.details.get("label", ""): e.details.get("group_id")
        for e in AuditEntry.objects.filter(action="registry.residents.register_bulk")
    }
    for entry in entries:
        number = entry.details["batch"]
        group = groups.get(f"impor {job.pk} batch {number}")
        ids = (
            [
                str(i)
                for i in LifeEvent.objects.filter(group_id=group).values_list(
                    "pk", flat=True
                )
            ]
            if group
            else []
        )
        seqs = list(
            ChangeRecord.objects.filter(object_id__in=ids).values_list("seq", flat=True)
        )
        out.append((number, seqs))
    return out


def _snapshot():
    """What an import wrote, without what differs between two runs."""
    residents = sorted(
        (
            tuple(sorted((k, str(v)) for k, v in row.items() if k not in _RUN_BOUND))
            for row in Resident.objects.values()
        ),
    )
    families = sorted(
        tuple(sorted((k, str(v)) for k, v in row.items() if k not in _RUN_BOUND))
        for row in Family.objects.values()
    )
    changes = {}
    for record in ChangeRecord.objects.filter(model__startswith="registry."):
        changes[record.model] = changes.get(record.model, 0) + 1
    job = ImportJob.objects.values(
        "batches_committed",
        "rows_done",
        "imported",
        "flagged",
        "rejected",
        "duplicates",
        "status",
    ).get()
    lines = sorted(
        ImportIssue.objects.values_list("batch", "line", "outcome", "code", "message")
    )
    return residents, families, changes, job, lines


def _check_written():
    """The change records are those of the rows (at the regency by
    reference: no payload, decision 0012), numbered without gap; batches in
    file order in audit and change log; the projection and the audit chain
    hold."""
    records = list(ChangeRecord.objects.filter(model__startswith="registry."))
    seqs = sorted(r.seq for r in records)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    models = {"registry.resident": Resident, "registry.family": Family}
    models["registry.lifeevent"] = LifeEvent
    objects = {
        label: {str(o.pk): o for o in model.objects.all()}
        for label, model in models.items()
    }
    for record in records:
        assert record.object_id in objects[record.model]
        assert (record.op, record.payload) == ("upsert", None)
    assert len(records) == sum(len(o) for o in objects.values())
    batches = _batches_in_order()
    assert [number for number, _ in batches] == list(range(1, len(batches) + 1))
    last = 0
    for _number, batch_seqs in batches:
        if batch_seqs:
            assert min(batch_seqs) > last
            last = max(batch_seqs)
    assert check() == []
    assert verify_all() == []


def _forget_import():
    """Empty the register and the import's rows (the next run starts anew)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            "registry_importissue",
            "registry_importjob",
            "registry_lifeevent",
            "registry_resident",
            "registry_family",
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        cursor.execute("DELETE FROM core_changerecord WHERE model LIKE 'registry.%%'")


def test_two_writers_write_what_one_writes(tmp_path, regency, file_rows):
    path = write_rows(tmp_path / "a.csv", file_rows)
    two = pipeline.run_import(actor=regency, path=path, batch_size=9, writers=2)
    assert two.imported > 60
    assert (two.rejected, two.duplicates) == (1, 1)
    assert ImportJob.objects.get().batches_committed > 6
    _check_written()
    after_two = _snapshot()
    # The same file again changes nothing.
    again = pipeline.run_import(actor=regency, path=path, batch_size=9, writers=2)
    assert again.already_done
    assert _snapshot() == after_two
    _forget_import()
    one = pipeline.run_import(actor=regency, path=path, batch_size=9, writers=1)
    assert one.line() == two.line()
    _check_written()
    assert _snapshot() == after_two


@pytest.mark.parametrize("failing_batch", [3, 4])
def test_an_interrupted_import_with_two_writers_leaves_whole_batches_and_resumes(
    tmp_path, regency, file_rows, monkeypatch, failing_batch
):
    """A batch fails after writing its rows (in the child writer for an odd
    index, in the importing process itself for an even one): the batches
    before it are committed, it and every later one are not, a rerun goes on
    and ends as an import without the failure."""
    path = write_rows(tmp_path / "a.csv", file_rows)
    real = pipeline.register_residents_bulk

    def failing(**kwargs):
        result = real(**kwargs)
        if kwargs["label"].endswith(f" batch {failing_batch + 1}"):
            raise RuntimeError("listrik padam")
        return result

    monkeypatch.setattr(pipeline, "register_residents_bulk", failing)
    with pytest.raises(RuntimeError, match="listrik padam"):
        pipeline.run_import(actor=regency, path=path, batch_size=9, writers=2)
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.batches_committed == failing_batch
    # Whole batches only: what the job counts is what the register holds,
    # and the audit has exactly the committed batches, in order.
    assert Resident.objects.count() == job.imported > 0
    assert [n for n, _ in _batches_in_order()] == list(range(1, failing_batch + 1))
    assert set(ImportIssue.objects.values_list("batch", flat=True)) <= set(
        range(failing_batch)
    )
    _check_written()
    monkeypatch.setattr(pipeline, "register_residents_bulk", real)
    summary = pipeline.run_import(actor=regency, path=path, writers=2)
    assert summary.job_id == job.pk
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert (summary.rejected, summary.duplicates) == (1, 1)
    assert summary.imported == len(file_rows) - 1 - 2 == Resident.objects.count()
    _check_written()
    resumed = _snapshot()
    _forget_import()
    pipeline.run_import(actor=regency, path=path, batch_size=9, writers=1)
    assert _snapshot()[:3] == resumed[:3]


def test_a_refusal_while_reading_stops_both_writers_after_whole_batches(
    tmp_path, regency, file_rows, monkeypatch
):
    from balai.core.errors import BalaiError

    path = write_rows(tmp_path / "a.csv", file_rows)
    real = pipeline.Producer.batches

    def batches(self):
        for batch in real(self):
            if batch.index == 5:
                raise BalaiError("Berkas rusak di tengah.", code="file_broken")
            yield batch

    monkeypatch.setattr(pipeline.Producer, "batches", batches)
    with pytest.raises(BalaiError) as refused:
        pipeline.run_import(actor=regency, path=path, batch_size=9, writers=2)
    assert refused.value.code == "file_broken"
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.batches_committed == 5
    assert Resident.objects.count() == job.imported
    _check_written()


def test_a_dry_run_job_is_checked_by_one_writer_and_writes_no_word(
    tmp_path, regency, file_rows
):
    """A page's dry run keeps a job (its report) but writes nothing else: not
    even the search words the writers put in ahead of a batch."""
    path = write_rows(tmp_path / "a.csv", file_rows)
    context = pipeline.build_context()
    scanned, _mapper = pipeline.scan(path, context=context, max_bytes=None)
    job = pipeline.open_job(
        actor=regency,
        sha256=scanned.sha256,
        layout="siak",
        village="",
        file_name="a.csv",
        file_size=scanned.size,
        rows=scanned.rows,
        batch_size=9,
        dry_run=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_resident_word")
        (words,) = cursor.fetchone()
    forks = []
    real = pipeline._write_in_turns
    pipeline._write_in_turns = lambda *a, **k: forks.append(1) or real(*a, **k)
    try:
        summary = pipeline.run_import(
            actor=regency, path=path, job=job, dry_run=True, writers=2
        )
    finally:
        pipeline._write_in_turns = real
    assert forks == []
    assert summary.imported > 60
    assert not Resident.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_resident_word")
        assert cursor.fetchone()[0] == words


def test_a_writer_killed_mid_batch_stops_the_import_and_it_resumes(
    tmp_path, regency, file_rows, monkeypatch
):
    """The child writer dies without a word (as under kill -9) while writing
    batch 4: the importing process does not wait for its turn forever; the
    batches before it stay, and a rerun imports the rest."""
    import os
    import signal

    path = write_rows(tmp_path / "a.csv", file_rows)
    real = pipeline.register_residents_bulk
    parent = os.getpid()

    def dying(**kwargs):
        result = real(**kwargs)
        if os.getpid() != parent and kwargs["label"].endswith(" batch 4"):
            os._exit(9)
        return result

    def waited_too_long(*_args):
        raise AssertionError("the import waited for a dead writer's turn")

    monkeypatch.setattr(pipeline, "register_residents_bulk", dying)
    previous = signal.signal(signal.SIGALRM, waited_too_long)
    signal.alarm(120)
    try:
        with pytest.raises(RuntimeError, match="berhenti tiba-tiba"):
            pipeline.run_import(actor=regency, path=path, batch_size=9, writers=2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    job = ImportJob.objects.get()
    assert job.batches_committed == 3
    assert Resident.objects.count() == job.imported > 0
    monkeypatch.setattr(pipeline, "register_residents_bulk", real)
    summary = pipeline.run_import(actor=regency, path=path, writers=2)
    assert summary.imported == len(file_rows) - 1 - 2 == Resident.objects.count()
    _check_written()
