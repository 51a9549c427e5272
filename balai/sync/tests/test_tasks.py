"""The scheduled sync round."""

import pytest

from balai.core.scheduler import registered_jobs
from balai.sync.tasks import SYNC_JOB, run_sync_round


def test_the_round_is_a_scheduled_job_every_few_minutes(settings):
    settings.BALAI_SYNC_INTERVAL_MINUTES = 5
    job = next(j for j in registered_jobs() if j.name == SYNC_JOB)
    assert job.current_interval().total_seconds() == 300


@pytest.mark.django_db
def test_the_round_does_nothing_at_the_regency_and_waits_for_init_at_a_node(settings):
    assert run_sync_round.call() == "regency"
    settings.BALAI_NODE = "64.02.12"
    assert "node_init" in run_sync_round.call()
