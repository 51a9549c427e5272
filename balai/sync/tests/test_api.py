"""The regency's sync endpoints: who may call (signed, registered, active,
same protocol, clock within the window), and what a node receives."""

import datetime
import gzip
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from balai.sync.models import NodeStatus, SyncNode
from balai.sync.protocol import decode_body, encode_body

from .conftest import MPP, NODE, TABANG, TENGGARONG

pytestmark = pytest.mark.django_db


def body_of(response):
    return decode_body(response.content, encoding=response.get("Content-Encoding", ""))


def test_time_is_open_and_everything_else_needs_a_signature(client, sync_node):
    response = client.get("/api/v1/sync/time")
    assert response.status_code == 200
    assert body_of(response)["protocol"] == 1
    response = client.post(
        "/api/v1/sync/hello", data=encode_body({}), content_type="application/json"
    )
    assert response.status_code == 401
    assert body_of(response)["code"] == "unsigned"


def test_a_signed_hello_answers_what_the_regency_holds(signed_post, sync_node):
    response = signed_post("/hello", {"node_time": 0, "backlog": 3})
    assert response.status_code == 200
    answer = body_of(response)
    assert answer["node"] == NODE
    assert answer["acked"] == {"epoch": 0, "seq": 0, "digest_seq": 0, "digest": ""}
    assert MPP in answer["chains"]
    assert SyncNode.objects.get(pk=NODE).backlog == 3


def test_a_wrong_key_an_unknown_node_and_a_stale_clock_are_refused(
    signed_post, sync_node
):
    other = Ed25519PrivateKey.generate()
    response = signed_post("/hello", {}, key=other)
    assert response.status_code == 401
    assert body_of(response)["code"] == "bad_signature"
    response = signed_post("/hello", {}, node="64.02.05")
    assert response.status_code == 401
    assert body_of(response)["code"] == "unknown_node"
    response = signed_post("/hello", {}, skew=-3 * 3600)
    assert response.status_code == 401
    assert "jam kabupaten" in body_of(response)["message"]


def test_a_revoked_key_and_a_retired_node_are_refused_clearly(signed_post, sync_node):
    SyncNode.objects.filter(pk=NODE).update(status=NodeStatus.REVOKED)
    response = signed_post("/hello", {})
    assert response.status_code == 403
    assert "dicabut" in body_of(response)["message"]
    SyncNode.objects.filter(pk=NODE).update(status=NodeStatus.RETIRED)
    response = signed_post("/push", {"epoch": 1, "first": 1, "last": 1, "changes": []})
    assert response.status_code == 403
    assert "dipensiunkan" in body_of(response)["message"]


def test_another_protocol_version_is_refused_in_indonesian(signed_post, sync_node):
    response = signed_post("/hello", {}, protocol=9)
    assert response.status_code == 426
    message = body_of(response)["message"]
    assert "Versi protokol sinkron tidak cocok" in message
    assert "Perbarui Balai" in message


def test_a_hostile_body_is_refused_without_writing(client, sync_node, node_key):
    from .conftest import signed_headers

    bomb = gzip.compress(b"[" * 10 + b"0" * (10 * 1024 * 1024))
    path = "/api/v1/sync/push"
    response = client.post(
        path,
        data=bomb,
        content_type="application/json",
        headers={
            **signed_headers(node_key, method="POST", path=path, body=bomb),
            "Content-Encoding": "gzip",
        },
    )
    assert response.status_code == 400
    bad = encode_body({"epoch": 1, "first": 1, "last": 1, "changes": [{"seq": "x"}]})
    response = client.post(
        path,
        data=bad,
        content_type="application/json",
        headers={
            **signed_headers(node_key, method="POST", path=path, body=bad),
            "Content-Encoding": "gzip",
        },
    )
    assert response.status_code == 400
    assert SyncNode.objects.get(pk=NODE).high_seq == 0


def test_a_pull_routes_only_what_the_node_may_hold_never_its_own(
    signed_post, sync_node, make_resident, make_staff, actor_of
):
    from balai.registry.actions import register_residents_bulk

    from .test_engine import _family_input

    tabang = make_resident(village=TABANG)
    tenggarong = make_resident(village=TENGGARONG)
    officer = actor_of(make_staff(office=MPP, role="registry_officer"))
    result = sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input()]
    )
    response = signed_post("/push", sync_node.batch())
    assert response.status_code == 200
    ids = set()
    cursor = 0
    while True:
        answer = body_of(signed_post("/pull", {"cursor": cursor, "limit": 500}))
        ids |= {(c["model"], c["object_id"]) for c in answer["changes"]}
        assert all(c["node"] != NODE for c in answer["changes"])
        cursor = answer["next_cursor"]
        if not answer["more"]:
            break
    assert ("registry.resident", str(tabang.pk)) in ids
    assert ("registry.resident", str(tenggarong.pk)) not in ids
    assert ("registry.resident", str(result.resident_ids[0])) not in ids
    assert ("regions.region", "64.02.06") in ids  # reference data goes everywhere


def test_a_pull_follows_a_resident_who_moved_away(
    signed_post, sync_node, make_resident, make_staff, actor_of
):
    from balai.registry.actions import Address, move_within

    person = make_resident(village=TABANG)
    first = body_of(signed_post("/pull", {"cursor": 0, "limit": 5000}))
    registrar = actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))
    move_within(
        actor=registrar,
        mode="family",
        occurred_on=datetime.date.today(),
        family=person.family,
        address=Address(village=TENGGARONG, rt="003"),
    )
    answer = body_of(signed_post("/pull", {"cursor": first["next_cursor"]}))
    moved = [c for c in answer["changes"] if c["object_id"] == str(person.pk)]
    assert moved
    assert moved[-1]["payload"]["village_id"] == TENGGARONG


def test_a_backfill_gives_only_records_a_held_record_refers_to(
    signed_post, sync_node, make_resident
):
    tabang = make_resident(village=TABANG)
    tenggarong = make_resident(village=TENGGARONG)
    wanted = {
        "model": "registry.family",
        "object_id": str(tabang.family_id),
        "ref_model": "registry.resident",
        "ref_id": str(tabang.pk),
        "field": "family_id",
    }
    answer = body_of(signed_post("/backfill", {"wanted": [wanted]}))
    assert [c["object_id"] for c in answer["changes"]] == [str(tabang.family_id)]
    sneaky = {**wanted, "object_id": str(tenggarong.family_id)}
    answer = body_of(signed_post("/backfill", {"wanted": [sneaky]}))
    assert answer["changes"] == []
    foreign = {
        **wanted,
        "object_id": str(tenggarong.family_id),
        "ref_id": str(tenggarong.pk),
    }
    answer = body_of(signed_post("/backfill", {"wanted": [foreign]}))
    assert answer["changes"] == []


def test_a_node_cannot_send_audit_entries_of_a_chain_it_does_not_write(
    signed_post, sync_node
):
    response = signed_post("/audit", {"chains": {"DISDUKCAPIL": []}})
    assert response.status_code == 403
    response = signed_post("/audit", {"chains": {MPP: [{"seq": 1}]}})
    assert response.status_code == 400


def test_snapshot_pages_carry_what_the_node_may_hold(
    signed_post, sync_node, make_resident
):
    tabang = make_resident(village=TABANG)
    make_resident(village=TENGGARONG)
    start = body_of(signed_post("/snapshot", {}))
    counts = {m["model"]: m["count"] for m in start["models"]}
    assert counts["registry.resident"] == 1
    page = body_of(
        signed_post(
            "/snapshot/page",
            {"session": start["session"], "model": "registry.resident", "offset": 0},
        )
    )
    assert [c["object_id"] for c in page["changes"]] == [str(tabang.pk)]
    assert json.dumps(page)  # plain JSON
