"""What a pull serves (`routing.pull_page`), here: change records the
regency's bulk path wrote by reference (payload NULL, decision 0012) go out
as their record's current row; one superseded by a newer change the node is
served, or whose record is gone, is left out while the cursor moves past it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from balai.core.models import ChangeRecord
from balai.core.serialize import model_payload
from balai.registry.models import Family, LifeEvent, Resident
from balai.sync import engine, routing

from .conftest import MPP, NODE, TABANG
from .test_engine import _family_input

pytestmark = pytest.mark.django_db

MODELS = {
    "registry.resident": Resident,
    "registry.family": Family,
    "registry.lifeevent": LifeEvent,
}


@pytest.fixture
def imported(regions, make_staff, actor_of):
    """Two KKs in Tabang (the node's kecamatan) written by the regency's bulk
    path, as an import writes them."""
    from balai.registry.actions import register_residents_bulk

    officer = actor_of(make_staff(office="DISDUKCAPIL", role="registry_officer"))
    return register_residents_bulk(
        actor=officer,
        families=[_family_input(members=3), _family_input(members=2)],
    )


def _imported_records(result):
    events = [
        str(pk)
        for pk in LifeEvent.objects.filter(group_id=result.group_id).values_list(
            "pk", flat=True
        )
    ]
    ids = [str(i) for i in [*result.resident_ids, *result.family_ids]] + events
    return ChangeRecord.objects.filter(object_id__in=ids)


def _pull_all(cursor=0, limit=5000):
    changes = []
    while True:
        page = routing.pull_page(NODE, cursor, limit=limit)
        changes += page["changes"]
        cursor = page["next_cursor"]
        if not page["more"]:
            return changes, cursor


def _registrar_moves(family, *, rt, make_staff, actor_of):
    """Disdukcapil moves the KK within Tabang: newer changes of its records."""
    from balai.registry.actions import Address, move_within

    registrar = actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))
    move_within(
        actor=registrar,
        mode="family",
        occurred_on=datetime.date.today(),
        family=family,
        address=Address(village=TABANG, rt=rt),
    )


def _current(change):
    return model_payload(MODELS[change["model"]].objects.get(pk=change["object_id"]))


def test_an_imported_record_is_pulled_as_its_current_row(
    imported, signed_post, sync_node
):
    from .test_api import body_of

    records = _imported_records(imported)
    assert records.count() == 5 + 2 + 7
    assert all(r.payload is None for r in records)  # stored by reference
    # Changed after the import without a change record of its own: the pull
    # sends the row as it is now, not as it was imported.
    resident = Resident.objects.get(pk=imported.resident_ids[0])
    Resident.objects.filter(pk=resident.pk).update(phone="081234567890")
    answer = body_of(signed_post("/pull", {"cursor": 0, "limit": 5000}))
    served = {
        (c["model"], c["object_id"]): c
        for c in answer["changes"]
        if c["model"] in MODELS
    }
    stored = {(r.model, r.object_id): r for r in records.all()}
    assert set(served) == set(stored)
    for key, change in served.items():
        assert change["payload"] == _current(change)
        assert change["op"] == "upsert"
        assert change["global_seq"] == stored[key].global_seq
    key = ("registry.resident", str(resident.pk))
    assert served[key]["payload"]["phone"] == "081234567890"


def test_a_node_writes_an_imported_record_as_pulled(imported, signed_post, sync_node):
    """The node takes the filled payloads like any (parsed as API input) and
    remembers each record's version."""
    from django.db import transaction

    from balai.sync.models import SyncVersion

    changes, _cursor = _pull_all()
    ours = [c for c in changes if c["model"] in MODELS]
    expected = {(c["model"], c["object_id"]): _current(c) for c in ours}
    # The node's database is this one: remove the rows, write what was pulled.
    with transaction.atomic():
        engine.delete_with_dependents(
            "registry.family", [str(pk) for pk in imported.family_ids]
        )
        assert not Resident.objects.filter(pk__in=imported.resident_ids).exists()
        applied = engine.node_apply(ours, keep_local=False)
    assert applied.applied == len(expected) == 14
    for (label, oid), payload in expected.items():
        assert model_payload(MODELS[label].objects.get(pk=oid)) == payload
        version = SyncVersion.objects.get(model=label, object_id=oid).global_seq
        assert version == next(
            c["global_seq"]
            for c in ours
            if (c["model"], c["object_id"]) == (label, oid)
        )


def test_a_superseded_record_by_reference_is_not_served_the_newer_one_is(
    imported, sync_node, make_staff, actor_of
):

    family = Family.objects.get(pk=imported.family_ids[0])
    moved = {str(family.pk)} | {
        str(pk)
        for pk in Resident.objects.filter(family=family).values_list("pk", flat=True)
    }
    routing.stamp(routing.head())  # the COPY path's records get their number
    stale = {
        (r.model, r.object_id): r.global_seq
        for r in _imported_records(imported)
        if r.object_id in moved
    }
    assert len(stale) == 4  # the KK and its three members
    _registrar_moves(family, rt="009", make_staff=make_staff, actor_of=actor_of)
    changes, _cursor = _pull_all()
    by_key: dict = {}
    for change in changes:
        by_key.setdefault((change["model"], change["object_id"]), []).append(change)
    for key, imported_version in stale.items():
        served = by_key[key]
        # Only the move's record: never the import's, stamped with an older
        # version than the row it would carry.
        assert [c["global_seq"] for c in served] != [imported_version]
        assert all(c["global_seq"] > imported_version for c in served)
        assert served[-1]["payload"] == _current(served[-1])
        assert served[-1]["payload"]["rt"] == "009"
    # The other KK, not moved, is served from the import's records.
    other = str(imported.family_ids[1])
    assert [c["global_seq"] for c in by_key[("registry.family", other)]] == [
        r.global_seq for r in _imported_records(imported) if r.object_id == other
    ]


def test_a_page_of_only_superseded_records_is_empty_and_the_cursor_moves_on(
    imported, sync_node, make_staff, actor_of
):

    first = routing.pull_page(NODE, 0, limit=5000)  # stamps the import's records
    family = Family.objects.get(pk=imported.family_ids[0])
    record = ChangeRecord.objects.get(model="registry.family", object_id=str(family.pk))
    _registrar_moves(family, rt="009", make_staff=make_staff, actor_of=actor_of)
    page = routing.pull_page(NODE, record.global_seq - 1, limit=1)
    assert page["changes"] == []
    assert page["next_cursor"] == record.global_seq
    assert page["more"] is True
    # From the first pull's end: the move's records, the KK's among them.
    later = routing.pull_page(NODE, first["next_cursor"], limit=5000)
    assert ("registry.family", str(family.pk)) in {
        (c["model"], c["object_id"]) for c in later["changes"]
    }


def test_a_record_by_reference_whose_row_is_gone_is_left_out(imported, sync_node):
    family = str(imported.family_ids[1])
    engine.delete_with_dependents("registry.family", [family])
    changes, _cursor = _pull_all()
    keys = {(c["model"], c["object_id"]) for c in changes}
    assert ("registry.family", family) not in keys
    assert ("registry.family", str(imported.family_ids[0])) in keys
    assert all(c["payload"] for c in changes if c["op"] == "upsert")


def test_the_nodes_own_newer_change_does_not_supersede(
    imported, sync_node, push, make_staff, actor_of
):
    """A newer change the node is not served (its own, not lost) delivers
    nothing to it: the import's record is served, as the row is now."""
    from balai.registry.actions import Address, move_within

    officer = actor_of(make_staff(office=MPP, role="registry_officer"))
    family = Family.objects.get(pk=imported.family_ids[0])
    sync_node.capture(
        move_within,
        actor=officer,
        mode="family",
        occurred_on=datetime.date.today(),
        family=family,
        address=Address(village=TABANG, rt="011"),
    )
    answer = push(sync_node.batch())
    assert answer["conflicts"] == []
    assert ChangeRecord.objects.filter(
        node=NODE, model="registry.family", object_id=str(family.pk)
    ).exists()
    changes, _cursor = _pull_all()
    served = [
        c
        for c in changes
        if (c["model"], c["object_id"]) == ("registry.family", str(family.pk))
    ]
    assert len(served) == 1
    assert served[0]["node"] == "regency"
    assert served[0]["payload"] == _current(served[0])
    assert served[0]["payload"]["rt"] == "011"


def test_records_by_reference_are_filled_with_one_query_per_model(imported, sync_node):
    routing.pull_page(NODE, 0, limit=1)  # stamps the import's records
    rows = list(
        _imported_records(imported)
        .order_by("global_seq")
        .values(
            "global_seq", "node", "epoch", "seq", "model", "object_id", "op", "payload"
        )
    )
    route = routing.NodeRoute(NODE)
    with CaptureQueriesContext(connection) as queries:
        served = routing.fill_by_reference(rows, route)
    assert len(served) == len(rows) == 14
    # Per model: its rows, and the newest change of each record.
    assert len(queries) == 2 * 3


def _as_copy_wrote_them(result):
    """Take the import's records back to what the COPY path leaves: no
    global sequence yet (SQLite's bulk path numbers them at once)."""
    records = _imported_records(result)
    records.update(global_seq=None)
    return sorted(records.values_list("seq", flat=True))


def test_records_are_stamped_a_bounded_batch_at_a_time_nothing_skipped(
    imported, sync_node, monkeypatch
):
    seqs = _as_copy_wrote_them(imported)
    everything, _cursor = _pull_all()  # one batch stamps them all
    monkeypatch.setattr(routing, "STAMP_BATCH", 4)
    _as_copy_wrote_them(imported)

    page = routing.pull_page(NODE, 0, limit=5000)

    # Only the four oldest got their number: the page stops before the rest.
    assert page["head"] == seqs[3]
    assert page["next_cursor"] == seqs[3]
    assert page["more"] is True
    assert all(c["global_seq"] <= seqs[3] for c in page["changes"])
    assert ChangeRecord.objects.filter(global_seq__isnull=True).count() == 10
    rest, _cursor = _pull_all(page["next_cursor"])
    assert ChangeRecord.objects.filter(global_seq__isnull=True).count() == 0
    served = [(c["model"], c["object_id"]) for c in page["changes"] + rest]
    assert served == [(c["model"], c["object_id"]) for c in everything]
