"""balai.core.changelog: where change records are written by reference
(decision 0012): the regency's bulk paths only; every action's own records
keep their payload."""

import pytest
from django.db import transaction

from balai.core.changelog import by_reference, is_by_reference, log_changes
from balai.core.models import ChangeOp
from balai.core.nodes import REGENCY_NODE
from balai.core.serialize import model_payload


def test_only_the_regency_writes_bulk_change_records_by_reference(settings):
    settings.BALAI_NODE = REGENCY_NODE
    assert by_reference() is True
    settings.BALAI_NODE = "64.02.12"
    assert by_reference() is False


def test_a_record_by_reference_is_an_upsert_without_payload():
    assert is_by_reference(ChangeOp.UPSERT, None)
    assert not is_by_reference(ChangeOp.UPSERT, {"id": "x"})
    assert not is_by_reference(ChangeOp.UPSERT, {})
    assert not is_by_reference(ChangeOp.DELETE, {})
    assert not is_by_reference(ChangeOp.DELETE, None)


@pytest.mark.django_db
def test_log_changes_at_the_regency_keeps_the_payload(settings, regions):
    from balai.regions.models import Office

    settings.BALAI_NODE = REGENCY_NODE
    office = Office.objects.order_by("code").first()
    with transaction.atomic():
        (record,) = log_changes([office])
    record.refresh_from_db()
    assert record.payload == model_payload(office)
