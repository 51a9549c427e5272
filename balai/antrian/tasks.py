"""Background jobs of the counter queue, and their schedule.

`antrian.appointments_missed` marks bookings whose slot is over without a
check-in as missed (idempotent: a second run finds nothing). It is
registered with the scheduler (`balai scheduler`); `balai
antrian_mark_missed` does the same by hand or from cron.
"""

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from balai.core.scheduler import register_periodic

MISSED_JOB = "antrian.appointments_missed"


@task()
def mark_missed_appointments() -> dict:
    """The periodic job: bookings whose slot is over become missed."""
    from balai.antrian.actions import mark_missed_appointments as mark
    from balai.core.actors import Actor

    run = mark(actor=Actor.system(name="janji-temu"))
    return {"missed": run.missed, "offices": run.offices}


def missed_interval() -> timedelta:
    return timedelta(
        minutes=int(getattr(settings, "BALAI_APPOINTMENT_MISSED_MINUTES", 15))
    )


register_periodic(MISSED_JOB, task=mark_missed_appointments, every=missed_interval)
