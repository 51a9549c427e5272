"""Background jobs of the services, and their schedule."""

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from balai.core.scheduler import register_periodic

SLA_JOB = "services.sla_check"


@task()
def check_service_deadlines() -> dict:
    """Warn before and report breaches of service deadlines (once each)."""
    from balai.core.actors import Actor
    from balai.services.actions import check_deadlines

    result = check_deadlines(actor=Actor.system(name="sla"))
    return {"warnings": result.warnings, "breaches": result.breaches}


def sla_interval() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "BALAI_SLA_CHECK_MINUTES", 60)))


register_periodic(SLA_JOB, task=check_service_deadlines, every=sla_interval)
