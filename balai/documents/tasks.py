"""Background jobs of the documents app, and their schedule."""

import json
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from balai.core.scheduler import register_periodic
from balai.documents import conf

REVOCATION_LIST_JOB = "documents.revocation_list"


@task()
def publish_revocations() -> str:
    """The periodic `documents.revocation_list` job: sign the list again when due.

    A revocation made at the regency publishes a new list in its own
    transaction. This job catches the rest: revocations made on kecamatan
    nodes and synced in, a revocation made while no regency key could sign,
    and a list older than BALAI_REVOCATION_LIST_MAX_HOURS (verifiers show the
    list's date, so it is refreshed even when nothing changed). On a node
    without a current regency key it does nothing.
    """
    from balai.core.actors import Actor
    from balai.documents.actions import can_sign_lists, publish_revocation_list

    if not can_sign_lists():
        return "no_signing_key"
    reason = revocation_list_due()
    if not reason:
        return "current"
    row = publish_revocation_list(actor=Actor.system(name="daftar-pencabutan"))
    return f"published #{row.seq} ({reason})"


def revocation_list_due(now=None) -> str:
    """Why the latest list must be signed again, or "" when it is current."""
    from balai.documents.models import DocumentRevocation, KeyRevocation, RevocationList

    now = now or timezone.now()
    latest = RevocationList.objects.order_by("-seq").first()
    if latest is None:
        return "first"
    if latest.issued_at <= now - timedelta(hours=conf.revocation_list_max_hours()):
        return "old"
    body = json.loads(latest.body)
    listed = {item["digest"] for item in body["documents"]}
    if set(DocumentRevocation.objects.values_list("digest", flat=True)) != listed:
        return "documents"
    listed = {item["statement"] for item in body["keys"]}
    if set(KeyRevocation.objects.values_list("statement", flat=True)) != listed:
        return "keys"
    return ""


def revocation_list_interval() -> timedelta:
    return timedelta(minutes=conf.revocation_list_check_minutes())


register_periodic(
    REVOCATION_LIST_JOB, task=publish_revocations, every=revocation_list_interval
)
