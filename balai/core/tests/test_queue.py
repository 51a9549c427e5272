import pytest
from django.db import transaction
from django.test.utils import override_settings
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from balai.core.queue import enqueue_with_transaction

pytestmark = pytest.mark.django_db

DONE: list[str] = []


@task()
def remember(value: str) -> None:
    DONE.append(value)


class Rollback(Exception):
    pass


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_with_the_database_backend_the_task_is_written_in_the_transaction():
    seen_inside = []

    def work() -> None:
        with transaction.atomic():
            enqueue_with_transaction(remember, "dibatalkan")
            # Written now, inside the work's transaction: no commit of its own.
            seen_inside.append(
                DBTaskResult.objects.filter(args_kwargs__args=["dibatalkan"]).exists()
            )
            raise Rollback

    with pytest.raises(Rollback):
        work()
    assert seen_inside == [True]
    assert not DBTaskResult.objects.filter(args_kwargs__args=["dibatalkan"]).exists()
    with transaction.atomic():
        enqueue_with_transaction(remember, "jadi")
    assert DBTaskResult.objects.filter(args_kwargs__args=["jadi"]).count() == 1
    assert DONE == []


def test_other_backends_get_the_task_after_commit(django_capture_on_commit_callbacks):
    DONE.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        enqueue_with_transaction(remember, "sesudah")
        assert DONE == []
    assert len(callbacks) == 1
    assert DONE == ["sesudah"]
