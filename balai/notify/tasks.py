"""Background tasks (django-tasks): send one message; re-send due messages.

The periodic `notify.retry_due` job is registered with the scheduler
(`balai scheduler`); `balai notify_send_due` does the same by hand or from cron.
"""

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from balai.core.scheduler import register_periodic
from balai.notify.sending import send_due_messages, send_message


@task()
def send_message_task(message_id: str) -> str:
    """Send one queued message (enqueued when the queueing transaction commits)."""
    message = send_message(message_id)
    return message.status if message is not None else "not_due"


@task()
def retry_due(limit: int = 200) -> dict:
    """The periodic `notify.retry_due` job: send what is due."""
    run = send_due_messages(limit=limit)
    return {
        "picked": run.picked,
        "sent": run.sent,
        "delivered": run.delivered,
        "retrying": run.retrying,
        "failed": run.failed,
    }


RETRY_JOB = "notify.retry_due"


def retry_interval() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "BALAI_NOTIFY_RETRY_SECONDS", 60)))


register_periodic(RETRY_JOB, task=retry_due, every=retry_interval)
