"""The sync status page and the conflicts page (with what to do)."""

import pytest

from balai.sync.models import (
    Conflict,
    ConflictKind,
    ConflictStatus,
    SyncNode,
    SyncState,
)

from .conftest import MPP, NODE

pytestmark = pytest.mark.django_db


@pytest.fixture
def conflict(regions):
    SyncNode.objects.create(
        name=NODE, public_key="x", key_id="k", clock_skew_seconds=-14400
    )
    return Conflict.objects.create(
        node=NODE,
        epoch=1,
        seq=4,
        model="registry.lifeevent",
        object_id="e1",
        kind=ConflictKind.EVENT_REFUSED,
        message="Penduduk ini sudah meninggal.",
        advice="Periksa data penduduk ini.",
        region_code="64.02.12.2001",
        payload={"kind": "pindah_dalam"},
        rev=5,
    )


def test_status_page_is_for_staff_with_a_role(client, client_as, make_staff, conflict):
    response = client.get("/sinkron/")
    assert response.status_code == 302
    network = client_as(make_staff(office="DISKOMINFO", role="network_operator"))
    assert network.get("/sinkron/").status_code == 403
    network.logout()
    admin = client_as(make_staff(office="DISKOMINFO", role="sysadmin"))
    page = admin.get("/sinkron/").content.decode()
    assert NODE in page
    assert "-14400 detik" in page


def test_node_status_shows_backlog_skew_and_last_error(
    client_as, make_staff, settings, regions
):
    settings.BALAI_NODE = NODE
    SyncState.objects.create(
        pk=1, node=NODE, clock_skew_seconds=3600, last_error="Sambungan gagal"
    )
    from balai.sync.outbox import backlog

    page = client_as(make_staff(office=MPP)).get("/sinkron/").content.decode()
    assert backlog() > 0  # the staff made here are this node's changes
    assert f'<dd id="backlog">{backlog()}</dd>' in page
    assert "3600 detik" in page
    assert "Sambungan gagal" in page


def test_conflicts_list_and_what_to_do(client_as, make_staff, conflict):
    clerk = client_as(make_staff(office=MPP, role="counter_officer"))
    page = clerk.get("/sinkron/konflik/").content.decode()
    assert "sudah meninggal" in page
    detail = clerk.get(f"/sinkron/konflik/{conflict.pk}/").content.decode()
    assert "Periksa data penduduk ini." in detail
    assert "pindah_dalam" in detail
    assert "Tandai selesai" not in detail  # settled by a registrar, at the regency
    response = clerk.post(f"/sinkron/konflik/{conflict.pk}/", {"note": "sudah dicek"})
    assert response.status_code == 403


def test_a_registrar_settles_a_conflict_and_nodes_learn_it(
    client_as, make_staff, conflict
):
    registrar = client_as(make_staff(office="DISDUKCAPIL", role="registrar"))
    response = registrar.post(f"/sinkron/konflik/{conflict.pk}/", {"note": "ok"})
    assert "paling sedikit 5 huruf" in response.content.decode()
    response = registrar.post(
        f"/sinkron/konflik/{conflict.pk}/", {"note": "Dicatat ulang sebagai koreksi."}
    )
    assert response.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.RESOLVED
    assert conflict.rev > 5
    from balai.sync import server

    news = server.pull(SyncNode.objects.get(pk=NODE), {"cursor": 0, "conflict_rev": 5})
    assert [c["status"] for c in news["conflicts"]] == [ConflictStatus.RESOLVED]
    assert news["conflicts"][0]["resolution_note"] == "Dicatat ulang sebagai koreksi."


def test_an_officer_of_another_kecamatan_does_not_see_the_conflict(
    client_as, make_staff, conflict
):
    other = client_as(make_staff(office="MPP-64.02.06", role="counter_officer"))
    assert "sudah meninggal" not in other.get("/sinkron/konflik/").content.decode()
    assert other.get(f"/sinkron/konflik/{conflict.pk}/").status_code == 404
