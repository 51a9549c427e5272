"""`@action`: keyword-only, atomic, and idempotent by a caller-supplied key."""

import datetime

import pytest

from balai.accounts.actions import create_posting
from balai.accounts.models import Posting
from balai.audit.models import AuditEntry
from balai.core.actions import action, current_action
from balai.core.errors import BalaiError
from balai.core.models import ChangeRecord, IdempotencyRecord
from balai.regions.models import Office

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(make_staff, actor_of):
    """Post a fresh staff user at Tabang, as a regency system administrator."""
    admin = actor_of(make_staff(office="DISKOMINFO", role="sysadmin"))
    user = make_staff(office="MPP-64.02.06")
    office = Office.objects.get(code="MPP-64.02.12")

    def run(actor=admin, **kwargs):
        args = {
            "actor": actor,
            "user": user,
            "office": office,
            "position": "Petugas Loket",
            "role": "counter_officer",
            "start_date": datetime.date(2025, 3, 3),
            **kwargs,
        }
        return create_posting(**args)

    return run


def counts():
    return (
        Posting.objects.count(),
        AuditEntry.objects.count(),
        ChangeRecord.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def test_a_replay_with_the_same_key_returns_the_first_result_and_writes_nothing(post):
    first = post(idempotency_key="kunci-1")
    before = counts()
    again = post(idempotency_key="kunci-1")
    assert again == first
    assert counts() == before


def test_the_same_key_with_other_arguments_is_refused(post):
    post(idempotency_key="kunci-1")
    before = counts()
    with pytest.raises(BalaiError) as info:
        post(idempotency_key="kunci-1", position="Camat")
    assert info.value.code == "idempotency_mismatch"
    assert info.value.status_code == 422
    assert counts() == before


def test_without_a_key_each_call_writes(post):
    assert post() != post()


def test_keys_belong_to_one_actor(post, make_staff, actor_of):
    other_admin = actor_of(make_staff(office="DISKOMINFO", role="sysadmin"))
    mine = post(idempotency_key="kunci-1")
    theirs = post(actor=other_admin, idempotency_key="kunci-1")
    assert mine != theirs


def test_a_failed_write_keeps_no_key_so_a_corrected_retry_works(post):
    before = counts()
    with pytest.raises(BalaiError):
        post(idempotency_key="kunci-2", end_date=datetime.date(2025, 1, 1))
    assert counts() == before, "the key claim rolled back with the write"
    assert post(idempotency_key="kunci-2").end_date is None


def test_an_overlong_key_is_refused(post):
    with pytest.raises(BalaiError, match="terlalu panjang"):
        post(idempotency_key="k" * 129)


def test_actions_are_keyword_only_and_need_an_actor(system_actor):
    @action("test.noop")
    def noop(*, actor):
        return current_action()

    assert noop(actor=system_actor) == "test.noop"
    assert current_action() == "", "reset after the call"
    with pytest.raises(TypeError, match="keyword"):
        noop(system_actor)
    with pytest.raises(TypeError, match="actor"):
        noop(actor="admin")


@pytest.mark.postgres
@pytest.mark.skipif(
    not __import__("os").environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (DATABASE_URL)",
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_calls_with_one_key_write_once():
    import threading

    from django.db import connections
    from django.utils import timezone

    from balai.core.actors import Actor
    from balai.core.models import ScheduledJob

    started, release = threading.Event(), threading.Event()
    results: list = []

    @action("core.test.count_run")
    def count_run(*, actor: Actor, name: str) -> ScheduledJob:
        job, _ = ScheduledJob.objects.get_or_create(
            name=name, defaults={"next_run_at": timezone.now()}
        )
        job.runs += 1
        job.save(update_fields=["runs"])
        started.set()
        # Hold the transaction open: the twin must wait on the key, not run.
        release.wait(timeout=30)
        return job

    def call() -> None:
        try:
            actor = Actor.system(name="uji")
            results.append(
                count_run(actor=actor, name="uji.kunci", idempotency_key="k")
            )
        except BaseException as exc:  # reported below
            results.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=call)
    first.start()
    assert started.wait(timeout=30)
    started.clear()
    second = threading.Thread(target=call)
    second.start()
    # The twin is blocked on the key: the body has not run a second time.
    assert not started.wait(timeout=1)
    release.set()
    first.join(timeout=60)
    second.join(timeout=60)
    assert [type(r) for r in results] == [ScheduledJob, ScheduledJob], results
    assert results[0].pk == results[1].pk == "uji.kunci"
    assert not started.is_set()
    assert ScheduledJob.objects.get(name="uji.kunci").runs == 1
    assert IdempotencyRecord.objects.filter(action="core.test.count_run").count() == 1
