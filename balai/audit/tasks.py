"""Background jobs of the audit log, and their schedule."""

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from balai.core.scheduler import register_periodic

CHECKPOINT_JOB = "audit.checkpoint"


@task()
def make_audit_checkpoints() -> int:
    """Sign the head of every chain that grew (run by `balai db_worker`)."""
    from balai.audit.actions import make_checkpoints

    return len(make_checkpoints())


def checkpoint_interval() -> timedelta:
    return timedelta(minutes=settings.BALAI_AUDIT_CHECKPOINT_MINUTES)


register_periodic(
    CHECKPOINT_JOB, task=make_audit_checkpoints, every=checkpoint_interval
)
