import pytest
from django.core.management import call_command

from balai.notify.actions import queue_message
from balai.notify.catalog import CATALOG
from balai.notify.models import MessageStatus, OutboxMessage
from balai.notify.tasks import RETRY_JOB, retry_due

pytestmark = pytest.mark.django_db


def queue(actor, recipient):
    return queue_message(
        actor=actor,
        template="status_berubah",
        recipient=recipient,
        context={"nomor": "P-1", "layanan": "KK", "status": "selesai", "tautan": "x"},
    )


def test_retry_job_is_registered_with_the_scheduler(settings):
    from balai.core.scheduler import registered_jobs

    [job] = [job for job in registered_jobs() if job.name == RETRY_JOB]
    assert job.task is retry_due
    settings.BALAI_NOTIFY_RETRY_SECONDS = 30
    assert job.current_interval().total_seconds() == 30


def test_retry_task_sends_what_is_due(system_actor, templates):
    queue(system_actor, "08000000001")
    queue(system_actor, "08000000003")
    result = retry_due.enqueue()
    assert result.return_value == {
        "picked": 2,
        "sent": 0,
        "delivered": 1,
        "retrying": 0,
        "failed": 1,
    }


def test_command_sends_due_messages(system_actor, templates, capsys):
    queue(system_actor, "08000000002")
    call_command("notify_send_due")
    assert "dicoba ulang nanti 1" in capsys.readouterr().out
    assert OutboxMessage.objects.get().status == MessageStatus.QUEUED


def test_load_templates_command(db, capsys):
    call_command("notify_load_templates")
    rows = sum(len(spec.texts) for spec in CATALOG)
    assert f"{rows} baru" in capsys.readouterr().out
    call_command("notify_load_templates")
    assert "0 baru" in capsys.readouterr().out
