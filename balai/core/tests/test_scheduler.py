import datetime
import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks import task

from balai.audit.models import Checkpoint
from balai.audit.tasks import CHECKPOINT_JOB, make_audit_checkpoints
from balai.core import scheduler
from balai.core.models import ScheduledJob

pytestmark = pytest.mark.django_db

RUNS: list[str] = []


@task()
def ping() -> str:
    RUNS.append("ping")
    return "pong"


@pytest.fixture
def only_ping(monkeypatch):
    """Replace the registry with one test job enqueued every ten minutes."""
    # Import every app's tasks module first, so the discovery inside tick()
    # cannot register real jobs into the replaced registry.
    scheduler.discover()
    monkeypatch.setattr(scheduler, "_jobs", {})
    RUNS.clear()
    scheduler.register_periodic(
        "test.ping", task=ping, every=datetime.timedelta(minutes=10)
    )
    return scheduler._jobs["test.ping"]


NOON = datetime.datetime(2026, 3, 2, 4, 0, tzinfo=datetime.UTC)


def test_audit_checkpoint_job_is_registered_from_settings():
    jobs = {j.name: j for j in scheduler.registered_jobs()}
    assert jobs[CHECKPOINT_JOB].task is make_audit_checkpoints
    with override_settings(BALAI_AUDIT_CHECKPOINT_MINUTES=15):
        assert jobs[CHECKPOINT_JOB].current_interval() == datetime.timedelta(minutes=15)
    with (
        override_settings(BALAI_AUDIT_CHECKPOINT_MINUTES=0),
        pytest.raises(ValueError, match="lebih dari nol"),
    ):
        jobs[CHECKPOINT_JOB].current_interval()


def test_a_job_runs_at_first_tick_then_once_per_interval(only_ping):
    assert scheduler.tick(now=NOON) == ["test.ping"]
    assert RUNS == ["ping"]
    row = ScheduledJob.objects.get(name="test.ping")
    assert row.runs == 1
    assert row.last_run_at == NOON
    assert row.next_run_at == NOON + datetime.timedelta(minutes=10)
    assert row.interval_seconds == 600
    assert row.last_result_id
    # Not due again until the interval has passed.
    assert scheduler.tick(now=NOON) == []
    assert scheduler.tick(now=NOON + datetime.timedelta(minutes=9, seconds=59)) == []
    assert RUNS == ["ping"]
    later = NOON + datetime.timedelta(minutes=10)
    assert scheduler.tick(now=later) == ["test.ping"]
    assert RUNS == ["ping", "ping"]
    assert ScheduledJob.objects.get(name="test.ping").runs == 2


def test_missed_runs_are_not_replayed_one_by_one(only_ping):
    scheduler.tick(now=NOON)
    # The scheduler was down for five hours: one run, not thirty.
    assert scheduler.tick(now=NOON + datetime.timedelta(hours=5)) == ["test.ping"]
    assert RUNS == ["ping", "ping"]
    row = ScheduledJob.objects.get(name="test.ping")
    assert row.next_run_at == NOON + datetime.timedelta(hours=5, minutes=10)


def test_a_second_scheduler_cannot_claim_the_same_run(only_ping):
    scheduler.tick(now=NOON)
    seen = ScheduledJob.objects.get(name="test.ping").next_run_at
    due = seen + datetime.timedelta(seconds=1)
    interval = datetime.timedelta(minutes=10)
    # Both schedulers read the row before either claims it.
    first = scheduler.claim(
        name="test.ping", seen_next_run_at=seen, now=due, interval=interval
    )
    second = scheduler.claim(
        name="test.ping", seen_next_run_at=seen, now=due, interval=interval
    )
    assert (first, second) == (True, False)
    assert ScheduledJob.objects.get(name="test.ping").runs == 2


def test_a_stale_scheduler_tick_enqueues_nothing(only_ping, monkeypatch):
    scheduler.tick(now=NOON)
    due = NOON + datetime.timedelta(minutes=10)
    real_claim = scheduler.claim

    def other_scheduler_first(**kwargs):
        # Another scheduler claims the run between our read and our claim.
        assert real_claim(**kwargs)
        return real_claim(**kwargs)

    monkeypatch.setattr(scheduler, "claim", other_scheduler_first)
    assert scheduler.tick(now=due) == []
    assert RUNS == ["ping"], "the other scheduler enqueues it, not this one"


def test_a_shortened_interval_applies_at_once(only_ping, settings):
    settings.BALAI_TEST_PING_MINUTES = 60
    scheduler._jobs.clear()
    scheduler.register_periodic(
        "test.ping",
        task=ping,
        every=lambda: datetime.timedelta(minutes=settings.BALAI_TEST_PING_MINUTES),
    )
    scheduler.tick(now=NOON)
    assert scheduler.tick(now=NOON + datetime.timedelta(minutes=5)) == []
    settings.BALAI_TEST_PING_MINUTES = 5
    assert scheduler.tick(now=NOON + datetime.timedelta(minutes=5)) == ["test.ping"]


def test_registering_another_task_under_a_taken_name_is_refused(only_ping):
    with pytest.raises(ValueError, match="sudah didaftarkan"):
        scheduler.register_periodic(
            "test.ping", task=make_audit_checkpoints, every=datetime.timedelta(1)
        )


def test_seconds_until_next(only_ping):
    assert scheduler.seconds_until_next(now=NOON) == 0.0, "never ran: due now"
    scheduler.tick(now=NOON)
    wait = scheduler.seconds_until_next(
        now=NOON + datetime.timedelta(minutes=4), ceiling=3600
    )
    assert wait == 6 * 60
    assert scheduler.seconds_until_next(now=NOON, ceiling=30) == 30


def test_scheduler_command_enqueues_the_audit_checkpoint(system_actor):
    from balai.audit.actions import record
    from balai.core.actions import action

    @action("test.write")
    def write(*, actor):
        record(actor=actor, details={"n": 1}, change=None)

    write(actor=system_actor)
    before = Checkpoint.objects.count()
    call_command("scheduler", "--once", stdout=(out := io.StringIO()))
    assert f"antre: {CHECKPOINT_JOB}" in out.getvalue()
    # The test backend runs tasks at once: the checkpoint is there.
    assert Checkpoint.objects.count() > before
    row = ScheduledJob.objects.get(name=CHECKPOINT_JOB)
    assert row.runs == 1
    assert row.next_run_at > timezone.now()
    # A second scheduler (or a second tick) finds nothing due.
    call_command("scheduler", "--once", stdout=(out := io.StringIO()))
    assert CHECKPOINT_JOB not in out.getvalue()
    call_command("scheduler", "--list", stdout=(out := io.StringIO()))
    assert f"{CHECKPOINT_JOB}: tiap 60 menit" in out.getvalue()
