"""Starting imports and reconciliations from a page: the uploaded file is
kept under the data directory, a job is opened, and the work runs as a
background task once the request's transaction commits (django-tasks).

The file is written to disk in chunks while its SHA-256 is computed, the
page's size limit (`BALAI_IMPORT_MAX_UPLOAD_BYTES`) is enforced, and the
header is read before the job is opened, so a wrong, empty or broken file is
refused on the spot with its reason. A finished import's file is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict, NotFound
from balai.registry.imports import layouts, pipeline, readers
from balai.registry.models_digitisation import (
    ImportJob,
    JobStatus,
    ReconcileRun,
)

ROLES = pipeline.BULK_ROLES
_CHUNK = 1 << 20


def upload_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(upload: Any, *, limit: int) -> tuple[Path, str, int]:
    """Write an uploaded file to the upload directory; return its path,
    SHA-256 and size. Refuses (and removes) a file over `limit`."""
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(size, limit)
    target = upload_dir() / f"{uuid.uuid4().hex}.upload"
    digest = hashlib.sha256()
    written = 0
    chunks = upload.chunks() if hasattr(upload, "chunks") else _read_chunks(upload)
    try:
        with open(target, "wb") as fh:
            for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise _too_large(written, limit)
                digest.update(chunk)
                fh.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if written == 0:
        target.unlink(missing_ok=True)
        raise BalaiError(_("Berkas kosong (0 bita)."), code="file_empty")
    return target, digest.hexdigest(), written


def _read_chunks(fh: IO[bytes]):
    while chunk := fh.read(_CHUNK):
        yield chunk


def _too_large(size: int, limit: int) -> BalaiError:
    return BalaiError(
        _(
            "Berkas terlalu besar: %(size)s MB, batasnya %(limit)s MB. Pecah berkas "
            "menjadi beberapa bagian, atau minta admin mengimpornya lewat perintah "
            "balai import_residents."
        )
        % {"size": f"{size / 1e6:.1f}", "limit": f"{limit / 1e6:.0f}"},
        code="file_too_large",
    )


def _detect(path: Path, layout: str, village: str) -> layouts.Layout:
    """Read just enough of the file to know it can be imported: its kind and
    header, and the village a layout needs."""
    kind = readers.detect_kind(path)
    info = readers.SourceInfo(kind=kind, size=path.stat().st_size)
    header = layouts.detect_header(readers.read_rows(path, kind, info), layout)
    layouts.Mapper(header, pipeline.build_context(village))
    return header.layout


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


@action("registry.import.upload")
def start_import(
    *,
    actor: Actor,
    upload: Any,
    layout: str = "auto",
    village: str = "",
    dry_run: bool = False,
) -> ImportJob:
    """Keep an uploaded file, open its import job and run it in the
    background. A file imported before returns its finished job."""
    actor.require_role(*ROLES)
    if village and not actor.covers(village):
        raise BalaiError(
            _("Desa/kelurahan %(code)s di luar wilayah kerja Anda.")
            % {"code": village},
            code="out_of_scope",
        )
    path, sha, size = store_upload(upload, limit=pipeline.max_upload_bytes())
    try:
        found = _detect(path, layout, village)
    except BaseException:
        _remove(path)
        raise
    job = pipeline.open_job(
        actor=actor,
        sha256=sha,
        layout=found.key,
        village=village,
        file_name=os.path.basename(getattr(upload, "name", "") or "berkas"),
        file_size=size,
        rows=0,
        batch_size=pipeline.DEFAULT_BATCH,
        dry_run=dry_run,
        stored_path=str(path),
    )
    if job.status == JobStatus.DONE or job.stored_path != str(path):
        # Finished before, or already has its own copy of the same file.
        transaction.on_commit(lambda: _remove(path))
        if job.status == JobStatus.DONE:
            return job
    _enqueue_import(job)
    return job


def _enqueue_import(job: ImportJob) -> None:
    from balai.registry.tasks import run_import_job

    job_id = str(job.pk)
    transaction.on_commit(lambda: run_import_job.enqueue(job_id))


@action("registry.import.resume")
def resume_import(*, actor: Actor, job: ImportJob) -> ImportJob:
    """Run an interrupted or failed import again: committed batches are
    skipped, the rest imported."""
    actor.require_role(*ROLES)
    job = get_job(actor, job.pk)
    if job.status == JobStatus.DONE:
        raise Conflict(_("Impor ini sudah selesai."))
    if not job.stored_path or not Path(job.stored_path).exists():
        raise BalaiError(
            _("Berkas impor ini tidak tersimpan lagi; unggah ulang berkasnya."),
            code="file_missing",
        )
    _enqueue_import(job)
    return job


def jobs_for(actor: Actor) -> QuerySet[ImportJob]:
    """The import jobs the actor may see: the whole regency's for regency
    staff, those made within his own scope for a kecamatan officer."""
    actor.require_role(*ROLES)
    if actor.scope is None:
        return ImportJob.objects.all()
    return ImportJob.objects.filter(scope_key=pipeline.scope_key(actor))


def get_job(actor: Actor, job_id: Any) -> ImportJob:
    try:
        pk = uuid.UUID(str(job_id))
    except ValueError as exc:
        raise NotFound() from exc
    job = jobs_for(actor).filter(pk=pk).first()
    if job is None:
        raise NotFound()
    return job


@action("registry.reconcile.upload")
def start_reconciliation(*, actor: Actor, upload: Any) -> ReconcileRun:
    """Keep an uploaded SIAK export and compare it in the background."""
    actor.require_role(*ROLES)
    path, sha, _size = store_upload(upload, limit=pipeline.max_upload_bytes())
    try:
        _detect(path, layouts.SIAK, "")
    except BaseException:
        _remove(path)
        raise
    run = ReconcileRun.objects.create(
        sha256=sha,
        file_name=os.path.basename(getattr(upload, "name", "") or "siak")[:255],
        stored_path=str(path),
        started_by_id=str(actor.user_id or f"system:{actor.username}"),
        started_by=actor.username,
        office_code=actor.office_code,
        scope_key=pipeline.scope_key(actor),
    )
    from balai.audit.actions import record_many

    record_many(actor=actor, targets=[run], details=[{"sha256": sha}], change=None)
    from balai.registry.tasks import run_reconcile_job

    run_id = str(run.pk)
    transaction.on_commit(lambda: run_reconcile_job.enqueue(run_id))
    return run
