"""Periodic jobs: registered here, enqueued by the one `balai scheduler` process.

An app registers a job in its `tasks.py` (found by `discover()`):

    register_periodic("audit.checkpoint", task=make_audit_checkpoints,
                      every=lambda: timedelta(minutes=settings.X))

`tick()` enqueues every due job onto the task backend (django-tasks-db, run by
`balai db_worker`). Which runs are due lives in the database (`ScheduledJob`),
and a run is claimed by a compare-and-swap update of `next_run_at` in the same
transaction as the enqueue, so two schedulers never enqueue the same run twice
and a crash between claim and enqueue loses nothing half-done.
See docs/decisions/0002-scheduler.md.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from balai.core.models import ScheduledJob

log = logging.getLogger("balai.scheduler")


@dataclass(frozen=True)
class PeriodicJob:
    """A task to enqueue every `interval()` (read at each tick, from settings)."""

    name: str
    task: object  # a django_tasks Task
    interval: Callable[[], datetime.timedelta]

    def current_interval(self) -> datetime.timedelta:
        interval = self.interval()
        if interval <= datetime.timedelta(0):
            raise ValueError(f"Selang tugas {self.name} harus lebih dari nol.")
        return interval


_jobs: dict[str, PeriodicJob] = {}


def register_periodic(
    name: str,
    *,
    task: object,
    every: datetime.timedelta | Callable[[], datetime.timedelta],
) -> PeriodicJob:
    """Register `task` to be enqueued every `every` (a timedelta or a callable)."""
    interval = every if callable(every) else (lambda: every)
    existing = _jobs.get(name)
    if existing is not None and existing.task is not task:
        raise ValueError(f"Tugas terjadwal {name!r} sudah didaftarkan.")
    job = PeriodicJob(name=name, task=task, interval=interval)
    _jobs[name] = job
    return job


def discover() -> None:
    """Import every installed app's `tasks` module, where jobs are registered."""
    autodiscover_modules("tasks")


def registered_jobs() -> list[PeriodicJob]:
    discover()
    return [_jobs[name] for name in sorted(_jobs)]


def _is_due(row: ScheduledJob, interval: datetime.timedelta, now) -> bool:
    if row.next_run_at <= now:
        return True
    # A shortened interval takes effect at once, not after the old one ends.
    return row.last_run_at is not None and row.last_run_at + interval <= now


def claim(
    *,
    name: str,
    seen_next_run_at: datetime.datetime,
    now: datetime.datetime,
    interval: datetime.timedelta,
) -> bool:
    """Claim one run of `name`: succeed only if nobody moved it since we read it."""
    return bool(
        ScheduledJob.objects.filter(name=name, next_run_at=seen_next_run_at).update(
            next_run_at=now + interval,
            last_run_at=now,
            interval_seconds=int(interval.total_seconds()),
            runs=F("runs") + 1,
        )
    )


def tick(*, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every job that is due; return the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in registered_jobs():
        interval = job.current_interval()
        row, _created = ScheduledJob.objects.get_or_create(
            name=job.name,
            defaults={
                "next_run_at": now,
                "interval_seconds": int(interval.total_seconds()),
            },
        )
        if not _is_due(row, interval, now):
            continue
        with transaction.atomic():
            if not claim(
                name=job.name,
                seen_next_run_at=row.next_run_at,
                now=now,
                interval=interval,
            ):
                log.info("scheduler.skip", extra={"job": job.name})
                continue
            result = job.task.enqueue()  # type: ignore[attr-defined]
            ScheduledJob.objects.filter(name=job.name).update(
                last_result_id=str(result.id)[:64]
            )
        log.info("scheduler.enqueue", extra={"job": job.name, "task": str(result.id)})
        enqueued.append(job.name)
    return enqueued


def seconds_until_next(
    *, now: datetime.datetime | None = None, ceiling: float = 60.0
) -> float:
    """Return how long the scheduler may sleep before a job falls due."""
    now = now or timezone.now()
    wait = ceiling
    rows = {r.name: r for r in ScheduledJob.objects.all()}
    for job in registered_jobs():
        row = rows.get(job.name)
        if row is None:
            return 0.0
        due_at = row.next_run_at
        if row.last_run_at is not None:
            due_at = min(due_at, row.last_run_at + job.current_interval())
        wait = min(wait, (due_at - now).total_seconds())
    return max(wait, 0.0)
