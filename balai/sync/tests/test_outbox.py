"""A node's outbox: batches, bases, epochs, and what an acknowledgement means."""

import datetime

import pytest

from balai.core.models import ChangeRecord, NodeState
from balai.sync import outbox
from balai.sync.models import Conflict, ConflictKind, SyncState, SyncVersion
from balai.sync.protocol import change_digest

from .conftest import MPP, NODE, TABANG

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_node(settings, regions):
    settings.BALAI_NODE = NODE
    return SyncState.objects.create(pk=1, node=NODE, floor=7)


@pytest.fixture
def work(as_node, make_staff, actor_of):
    from balai.registry.actions import register_residents_bulk

    from .test_engine import _family_input

    officer = actor_of(make_staff(office=MPP, role="registry_officer"))

    def do(n=1):
        for _i in range(n):
            register_residents_bulk(actor=officer, families=[_family_input(TABANG)])
        return list(ChangeRecord.objects.filter(node=NODE).order_by("epoch", "seq"))

    return do


def test_a_batch_is_one_epoch_with_bases_and_the_range_it_covers(work, as_node):
    records = work(2)
    family = next(r for r in records if r.model == "registry.family")
    SyncVersion.objects.create(
        model=family.model, object_id=family.object_id, global_seq=40
    )
    batch = outbox.next_batch(as_node, limit=1000)
    assert (batch.epoch, batch.first, batch.last) == (1, 1, records[-1].seq)
    bases = {(c["model"], c["object_id"]): c["base"] for c in batch.records}
    assert bases[(family.model, family.object_id)] == 40
    assert set(bases.values()) == {7, 40}  # the snapshot's floor for the rest
    assert batch.epoch_start == {"prev_epoch": 0, "prev_seq": 0, "renumbered": 0}


def test_a_change_made_before_a_conflict_was_taken_has_no_base(work, as_node):
    records = work(1)
    family = next(r for r in records if r.model == "registry.family")
    SyncVersion.objects.create(
        model=family.model, object_id=family.object_id, global_seq=40
    )
    Conflict.objects.create(
        node=NODE,
        model=family.model,
        object_id=family.object_id,
        kind=ConflictKind.CHANGED_ELSEWHERE,
        message="x",
        rev=40,
        applied_marker=records[-1].id,
    )
    batch = outbox.next_batch(as_node, limit=1000)
    bases = {(c["model"], c["object_id"]): c["base"] for c in batch.records}
    assert bases[(family.model, family.object_id)] == 0


def test_an_acknowledgement_lost_on_the_way_is_recognised(work, as_node):
    records = work(1)
    last = records[-1]
    digest = change_digest(last.model, last.object_id, last.op, last.payload)
    outcome = outbox.reconcile(
        {"epoch": 1, "seq": last.seq, "digest_seq": last.seq, "digest": digest},
        regency_epoch=1,
    )
    assert outcome == "caught_up"
    as_node.refresh_from_db()
    assert (as_node.acked_epoch, as_node.acked_seq) == (1, last.seq)
    assert outbox.backlog() == 0


def test_a_restored_node_renumbers_its_unacknowledged_changes(work, as_node):
    records = work(2)
    SyncState.objects.filter(pk=1).update(acked_epoch=1, acked_seq=3)
    outcome = outbox.reconcile(
        {"epoch": 1, "seq": 50, "digest_seq": 50, "digest": "f" * 64}, regency_epoch=1
    )
    assert outcome == "new_epoch"
    moved = ChangeRecord.objects.filter(node=NODE, epoch=2).order_by("seq")
    assert [r.seq for r in moved] == list(range(1, len(records) - 3 + 1))
    assert [r.id for r in moved] == [r.id for r in records[3:]]
    state = NodeState.objects.get(node=NODE)
    assert (state.epoch, state.last_seq) == (2, len(records) - 3)
    s = SyncState.objects.get(pk=1)
    assert s.epoch_start == {
        "prev_epoch": 1,
        "prev_seq": 3,
        "renumbered": len(records) - 3,
    }
    batch = outbox.next_batch(s, limit=1000)
    assert (batch.epoch, batch.first) == (2, 1)
    assert batch.epoch_start["renumbered"] == len(records) - 3


def test_an_operator_can_start_a_new_epoch(work, as_node):
    from django.core.management import call_command

    work(1)
    call_command("node_new_epoch", verbosity=0)
    assert not ChangeRecord.objects.filter(node=NODE, epoch=1).exists()
    assert NodeState.objects.get(node=NODE).epoch == 2


def test_the_regency_behind_us_gets_everything_again(work, as_node):
    work(1)
    SyncState.objects.filter(pk=1).update(acked_epoch=1, acked_seq=5)
    assert outbox.reconcile({"epoch": 1, "seq": 2}, regency_epoch=1) == "behind_regency"
    assert SyncState.objects.get(pk=1).acked_seq == 2
    assert datetime.date.today()  # nothing renumbered
    assert not ChangeRecord.objects.filter(node=NODE, epoch=2).exists()
