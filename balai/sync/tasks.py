"""The scheduled sync round of a kecamatan node (every few minutes)."""

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from balai.core.nodes import REGENCY_NODE
from balai.core.scheduler import register_periodic

SYNC_JOB = "sync.round"


@task()
def run_sync_round() -> str:
    """One sync round with the regency; a no-op at the regency itself."""
    if settings.BALAI_NODE == REGENCY_NODE:
        from balai.sync.server import sweep_snapshots

        sweep_snapshots()
        return "regency"
    from balai.sync.client import SyncError, run_round
    from balai.sync.outbox import SyncNotReady

    try:
        return run_round().summary()
    except SyncNotReady as exc:
        return str(exc)
    except SyncError as exc:
        # Kept on the status page; the next run carries on from here.
        return exc.message


def sync_interval() -> timedelta:
    return timedelta(minutes=settings.BALAI_SYNC_INTERVAL_MINUTES)


register_periodic(SYNC_JOB, task=run_sync_round, every=sync_interval)
