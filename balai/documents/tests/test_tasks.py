"""The scheduled revocation list: signed again when it misses a revocation or is old."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from balai.core import scheduler
from balai.documents.actions import issue_document, revoke_document
from balai.documents.models import DocumentRevocation, RevocationList
from balai.documents.tasks import (
    REVOCATION_LIST_JOB,
    publish_revocations,
    revocation_list_due,
)
from balai.documents.tests.conftest import DESA
from balai.regions.models import Office


def listed_digests(row: RevocationList) -> set[str]:
    return {d["digest"] for d in json.loads(row.body)["documents"]}


def latest() -> RevocationList | None:
    return RevocationList.objects.order_by("-seq").first()


def letter(actor, subject):
    return issue_document(
        actor=actor,
        kind="pengantar",
        office=Office.objects.get(code=DESA),
        subject=subject,
        facts={"purpose": "Pembuatan SKCK"},
    )


def test_the_job_is_scheduled_every_few_minutes_from_the_settings(settings):
    jobs = {j.name: j for j in scheduler.registered_jobs()}
    assert jobs[REVOCATION_LIST_JOB].task is publish_revocations
    assert jobs[REVOCATION_LIST_JOB].current_interval() == dt.timedelta(minutes=15)
    settings.BALAI_REVOCATION_LIST_CHECK_MINUTES = 5
    assert jobs[REVOCATION_LIST_JOB].current_interval() == dt.timedelta(minutes=5)


@pytest.mark.django_db
def test_the_scheduler_enqueues_it_and_the_worker_publishes_the_first_list(root_key):
    assert latest() is None
    # The test task backend runs what is enqueued at once.
    assert REVOCATION_LIST_JOB in scheduler.tick()
    first = latest()
    assert first is not None
    assert first.seq == 1
    assert listed_digests(first) == set()
    # Nothing changed and the list is fresh: no second list.
    assert publish_revocations.call() == "current"
    assert RevocationList.objects.count() == 1


@pytest.mark.django_db
def test_a_revocation_synced_in_from_a_kecamatan_goes_out_with_the_next_run(
    root_key, desa_head, desa_clerk, actor_of, subject
):
    doc = letter(actor_of(desa_clerk), subject)
    assert publish_revocations.call().startswith("published #1")
    # What the sync engine writes at the regency: the row alone, no action,
    # so no list is published in that transaction.
    DocumentRevocation.objects.bulk_create(
        [
            DocumentRevocation(
                document=doc,
                digest=doc.digest,
                revoked_at=timezone.now().replace(microsecond=0),
                reason="dicabut di kecamatan",
                revoked_by="kaur.kecamatan",
            )
        ]
    )
    assert revocation_list_due() == "documents"
    assert publish_revocations.call() == "published #2 (documents)"
    assert listed_digests(latest()) == {doc.digest}
    assert publish_revocations.call() == "current"


@pytest.mark.django_db
def test_a_revocation_at_the_regency_is_listed_when_its_transaction_commits(
    root_key,
    desa_head,
    desa_clerk,
    actor_of,
    subject,
    django_capture_on_commit_callbacks,
):
    doc = letter(actor_of(desa_clerk), subject)
    with django_capture_on_commit_callbacks(execute=True):
        revoke_document(actor=actor_of(desa_head), document=doc, reason="salah data")
    assert doc.digest in listed_digests(latest())
    # The job then finds nothing to add.
    assert revocation_list_due() == ""
    assert publish_revocations.call() == "current"


@pytest.mark.django_db
def test_an_old_list_is_signed_again_even_when_nothing_changed(root_key, settings):
    publish_revocations.call()
    settings.BALAI_REVOCATION_LIST_MAX_HOURS = 24
    later = timezone.now() + dt.timedelta(hours=23)
    assert revocation_list_due(later) == ""
    assert revocation_list_due(later + dt.timedelta(hours=2)) == "old"
    RevocationList.objects.update(issued_at=timezone.now() - dt.timedelta(hours=25))
    assert publish_revocations.call() == "published #2 (old)"
    assert latest().issued_at > timezone.now() - dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_a_kecamatan_node_or_a_regency_without_keys_publishes_nothing(settings, db):
    # No keys at all.
    assert publish_revocations.call() == "no_signing_key"
    assert RevocationList.objects.count() == 0
    settings.BALAI_NODE = "64.02.12"
    assert publish_revocations.call() == "no_signing_key"
    assert RevocationList.objects.count() == 0
