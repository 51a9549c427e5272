"""At a node: pulled changes are written without outbox records, a record
with unpushed local changes is left for the regency to judge, and a
conflict's answer is taken (the regency's row, or none)."""

import pytest
from django.db import transaction

from balai.core.models import ChangeRecord
from balai.core.serialize import model_payload
from balai.sync import engine
from balai.sync.client import apply_conflicts
from balai.sync.models import Conflict, SyncState, SyncVersion

from .conftest import MPP, NODE, TABANG

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_node(settings, regions):
    settings.BALAI_NODE = NODE
    return SyncState.objects.create(pk=1, node=NODE)


def _change(obj, g):
    return {
        "model": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "op": "upsert",
        "payload": model_payload(obj),
        "global_seq": g,
    }


def _all_pushed():
    from balai.core.models import NodeState

    state = NodeState.objects.get(node=NODE)
    SyncState.objects.filter(pk=1).update(
        acked_epoch=state.epoch, acked_seq=state.last_seq
    )


def test_pulled_changes_write_no_outbox_records_and_remember_versions(
    at_node, make_resident
):
    person = make_resident(village=TABANG)
    _all_pushed()
    before = ChangeRecord.objects.count()
    person.name = "Nama Dari Kabupaten"
    with transaction.atomic():
        applied = engine.node_apply([_change(person, 900)])
    assert applied.applied == 1
    assert ChangeRecord.objects.count() == before
    person.refresh_from_db()
    assert person.name == "Nama Dari Kabupaten"
    assert SyncVersion.objects.get(object_id=str(person.pk)).global_seq == 900
    # An older version later never lowers what was seen.
    with transaction.atomic():
        engine.node_apply([_change(person, 800)])
    assert SyncVersion.objects.get(object_id=str(person.pk)).global_seq == 900


def test_a_record_changed_here_and_not_pushed_is_left_alone(
    at_node, make_resident, make_staff, actor_of
):
    from balai.registry.actions import record_issued_nik

    person = make_resident(village=TABANG, nik=None)
    officer = actor_of(make_staff(office=MPP, role="registry_officer"))
    _all_pushed()
    record_issued_nik(actor=officer, resident=person, nik="6402120101900123")
    stale = model_payload(person)
    stale["name"] = "Versi Kabupaten"
    with transaction.atomic():
        applied = engine.node_apply([{**_change(person, 5), "payload": stale}])
    assert applied.skipped_local == 1
    person.refresh_from_db()
    assert person.name != "Versi Kabupaten"


def test_a_conflicts_answer_replaces_or_removes_the_nodes_version(
    at_node, make_resident
):
    kept = make_resident(village=TABANG)
    refused = make_resident(village=TABANG)
    regency_row = model_payload(kept)
    regency_row["name"] = "Versi Kabupaten"
    messages = [
        {
            "id": "0190a0d2-0000-7000-8000-000000000001",
            "model": "registry.resident",
            "object_id": str(kept.pk),
            "kind": "changed_elsewhere",
            "message": "Data ini sudah diubah di kabupaten.",
            "status": "open",
            "rev": 70,
            "payload": model_payload(kept),
            "state": {
                "model": "registry.resident",
                "object_id": str(kept.pk),
                "row": regency_row,
                "version": 60,
            },
        },
        {
            "id": "0190a0d2-0000-7000-8000-000000000002",
            "model": "registry.family",
            "object_id": str(refused.family_id),
            "kind": "duplicate",
            "message": "Nomor KK sudah dipakai.",
            "status": "open",
            "rev": 71,
            "payload": {},
            "state": {
                "model": "registry.family",
                "object_id": str(refused.family_id),
                "row": None,
                "version": 0,
            },
        },
    ]
    with transaction.atomic():
        assert apply_conflicts(messages) == 2
    kept.refresh_from_db()
    assert kept.name == "Versi Kabupaten"
    from balai.registry.models import Family, LifeEvent, Resident

    assert not Family.objects.filter(pk=refused.family_id).exists()
    assert not Resident.objects.filter(pk=refused.pk).exists()  # it pointed there
    assert not LifeEvent.objects.filter(resident_id=refused.pk).exists()
    assert SyncVersion.objects.get(object_id=str(kept.pk)).global_seq == 70
    assert SyncState.objects.get(pk=1).conflict_rev == 71
    # Delivered again (a retried answer): kept once, not applied twice.
    kept.name = "Diubah lagi di node"
    kept.save()
    with transaction.atomic():
        assert apply_conflicts(messages) == 0
    kept.refresh_from_db()
    assert kept.name == "Diubah lagi di node"
    assert Conflict.objects.count() == 2
