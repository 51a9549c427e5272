"""Background work of the register: imports and reconciliations started from
a page (enqueued when the request's transaction commits)."""

from __future__ import annotations

import contextlib
import logging
import os

from django_tasks import task

logger = logging.getLogger(__name__)


def _actor(user_id: str, office_code: str):
    from balai.accounts.models import User
    from balai.accounts.selectors import actor_for
    from balai.core.actors import Actor

    if user_id.startswith("system:"):
        return Actor.system(name=user_id.split(":", 1)[1] or "sistem")
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return None
    return actor_for(user=user, office_code=office_code or None)


@task()
def run_import_job(job_id: str) -> str:
    """Run (or resume) an import job uploaded through a page."""
    from balai.core.errors import BalaiError
    from balai.registry.imports import pipeline
    from balai.registry.models_digitisation import ImportJob, JobStatus

    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == JobStatus.DONE:
        return "none"
    actor = _actor(job.started_by_id, job.office_code)
    if actor is None:
        from balai.core.actors import Actor

        pipeline.finish_job(
            actor=Actor.system(name="import"),
            job=job,
            error="Petugas yang memulai impor ini tidak aktif lagi.",
        )
        return "failed"
    try:
        pipeline.run_import(
            actor=actor,
            path=job.stored_path,
            layout=job.layout,
            village=job.village_code,
            dry_run=job.dry_run,
            max_bytes=pipeline.max_file_bytes(),
            job=job,
        )
    except BalaiError:
        return "failed"  # recorded on the job by run_import
    except Exception as exc:
        logger.exception("import %s failed", job_id)
        pipeline.finish_job(actor=actor, job=job, error=f"Kesalahan sistem: {exc}")
        return "failed"
    if job.stored_path:
        with contextlib.suppress(OSError):
            os.unlink(job.stored_path)
    return "done"


@task()
def run_reconcile_job(run_id: str) -> str:
    """Compare an uploaded SIAK export with the register."""
    from balai.core.errors import BalaiError
    from balai.registry import reconcile
    from balai.registry.models_digitisation import JobStatus, ReconcileRun

    run = ReconcileRun.objects.filter(pk=run_id).first()
    if run is None or run.status == JobStatus.DONE:
        return "none"
    actor = _actor(run.started_by_id, run.office_code)
    if actor is None:
        return "failed"
    try:
        reconcile.run_reconciliation(actor=actor, path=run.stored_path, run=run)
    except BalaiError as exc:
        reconcile.fail_reconciliation(actor=actor, run=run, error=exc.message)
        return "failed"
    except Exception as exc:
        logger.exception("reconciliation %s failed", run_id)
        reconcile.fail_reconciliation(
            actor=actor, run=run, error=f"Kesalahan sistem: {exc}"
        )
        return "failed"
    finally:
        if run.stored_path:
            with contextlib.suppress(OSError):
                os.unlink(run.stored_path)
    return "done"
