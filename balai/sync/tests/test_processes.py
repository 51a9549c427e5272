"""Two real processes: the regency served by gunicorn on PostgreSQL, a
kecamatan node on SQLite, talking HTTP on 127.0.0.1. Work at the node, work
at the regency, faults on the way; afterwards both hold the same data (a
content hash per table of what the node may hold), nothing lost or doubled.

Needs BALAI_CI_PG_URL (CI sets it); each module makes its own databases and
drops them. The longer fault run is bench/sync_faults.py.
"""

from __future__ import annotations

import random
import shutil
import signal
import time

import pytest

from .harness import (
    NODE,
    OWN_TABLES,
    ChaosProxy,
    Pair,
    Template,
    admin_connection,
    compare,
    doubled_at_regency,
    pg_url,
    wait_for_acks,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        pg_url() is None,
        reason="BALAI_CI_PG_URL tidak diatur: tes dua proses (PostgreSQL + SQLite) "
        "dilewati; CI selalu mengaturnya",
    ),
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    base = tmp_path_factory.mktemp("sync-processes")
    template = Template(pg_url(), base)
    template.ensure()
    p = Pair(pg_url(), base, template=template)
    try:
        p.start()
        p.init_node()
        yield p
    finally:
        p.close()
        with admin_connection(pg_url()) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template.db}"')


def shell(side, code: str) -> str:
    """Run Python in a side's `balai shell`; return its last printed line."""
    return side.run("shell", "-c", code).stdout.strip().splitlines()[-1]


def assert_same(p: Pair) -> None:
    different, lost = compare(p, OWN_TABLES)
    assert different == []
    assert lost == {}
    assert doubled_at_regency(p) == 0


def test_work_at_the_node_reaches_the_regency_and_both_agree(pair: Pair):
    done = pair.node.tool("work", "--seed", "1", "--families", "4", "--tickets", "6")
    assert done["residents"] > 0
    pair.sync_until_quiet()
    assert_same(pair)
    verified = pair.regency.run("audit_verify")
    assert "utuh" in verified.stdout
    assert "backlog=0" in shell(pair.node, _PRINT_STATE)


_PRINT_STATE = (
    "from balai.sync.outbox import backlog, state;"
    "s = state();"
    "print(f'backlog={backlog()} skew={s.clock_skew_seconds} "
    "success={s.last_success_at is not None}')"
)


def test_changes_at_the_regency_reach_the_node_and_only_its_own(pair: Pair):
    moved = pair.regency.tool("regency-day", "--seed", "91")["moved_family"]
    pair.sync_until_quiet()
    assert_same(pair)
    newcomers = shell(
        pair.node,
        "from balai.registry.models import Resident;"
        f"print(Resident.objects.filter(family_id='{moved}').count())",
    )
    assert int(newcomers) >= 1  # the KK that moved in from Tenggarong
    counts = shell(
        pair.node,
        "from balai.registry.models import Resident;"
        "print(sorted(set(Resident.objects.values_list('kecamatan_code', flat=True))))",
    )
    assert "64.02.06" not in counts  # the KKs still in Tenggarong stay there
    assert NODE in counts


def test_kill_9_of_either_side_mid_batch_loses_and_doubles_nothing(pair: Pair):
    rng = random.Random(5)
    for trial in range(2):
        pair.node.tool(
            "work", "--seed", str(100 + trial), "--families", "40", "--tickets", "4"
        )
        running = pair.node.popen("sync", env={"BALAI_SYNC_BATCH": "40"})
        assert wait_for_acks(pair, running, 40 * rng.randint(1, 3))
        time.sleep(rng.uniform(0.0, 0.3))
        if trial % 2 == 0:
            pair.kill_server()
            assert running.wait(timeout=120) != 0  # the round was cut
            pair.start()
        else:
            running.send_signal(signal.SIGKILL)
            assert running.wait(timeout=30) == -signal.SIGKILL
        pair.sync_until_quiet()
        assert_same(pair)


def test_a_dropped_link_is_reported_and_resumed(pair: Pair):
    pair.node.tool("work", "--seed", "7", "--families", "3")
    pair.kill_server()
    failed = pair.sync(check=False)
    assert failed.returncode != 0
    assert "Sambungan ke kabupaten gagal" in failed.stderr
    pair.start()
    pair.sync_until_quiet()
    assert_same(pair)
    runs = shell(
        pair.node,
        "from balai.sync.models import SyncRun;"
        "print([r.ok for r in SyncRun.objects.order_by('-id')[:3]])",
    )
    assert "False" in runs


def test_a_node_restored_from_an_older_backup_starts_a_new_epoch(pair: Pair):
    database = pair.node.data_dir / "balai.sqlite3"
    pair.sync_until_quiet()
    backup = pair.dir / "backup.sqlite3"
    pair.node.run("shell", "-c", _CHECKPOINT)
    shutil.copy(database, backup)
    first = pair.node.tool("work", "--seed", "201", "--families", "3", "--tickets", "2")
    assert first["residents"]
    pair.sync_until_quiet()
    lost = pair.node.tool("ids", "registry.resident")["registry.resident"]
    for suffix in ("-wal", "-shm"):
        (database.parent / (database.name + suffix)).unlink(missing_ok=True)
    shutil.copy(backup, database)
    pair.node.tool("work", "--seed", "202", "--families", "3", "--tickets", "2")
    pair.sync_until_quiet()
    assert_same(pair)
    held = set(pair.node.tool("ids", "registry.resident")["registry.resident"])
    assert set(lost) <= held  # what the backup lost came back from the regency
    epoch = shell(
        pair.node,
        "from balai.core.models import NodeState; print(NodeState.objects.get().epoch)",
    )
    assert int(epoch) >= 2
    assert "utuh" in pair.regency.run("audit_verify").stdout


_CHECKPOINT = (
    "from django.db import connection;"
    "connection.cursor().execute('PRAGMA wal_checkpoint(TRUNCATE)')"
)


def test_a_node_clock_hours_off_orders_nothing_and_is_shown(pair: Pair):
    off = {"BALAI_CLOCK_OFFSET_SECONDS": str(-5 * 3600)}
    # No letters: a clock behind the letter key's start rightly refuses to sign.
    pair.node.tool(
        "work",
        *("--seed", "301", "--families", "2", "--tickets", "2", "--applications", "0"),
        env=off,
    )
    pair.node.run("sync", env=off)
    pair.node.run("sync", env=off)
    assert_same(pair)
    state = shell(pair.node, _PRINT_STATE)
    skew = float(state.split("skew=")[1].split()[0])
    assert -5 * 3600 - 60 < skew < -5 * 3600 + 60
    shown = shell(
        pair.regency,
        "from balai.sync.models import SyncNode;"
        "print(SyncNode.objects.get().clock_skew_seconds)",
    )
    assert -5 * 3600 - 60 < float(shown) < -5 * 3600 + 60


def test_with_no_link_a_usb_bundle_carries_both_ways(pair: Pair):
    pair.node.tool("work", "--seed", "401", "--families", "3", "--tickets", "2")
    pair.regency.tool("regency-day", "--seed", "402")
    bundle = pair.dir / "usb.balai"
    answer = pair.dir / "usb.balai.jawaban"
    pair.node.run("sync", "--export", str(bundle))
    first = pair.regency.run("sync", "--import", str(bundle), "--answer", str(answer))
    assert "diterapkan" in first.stdout
    again = pair.regency.run("sync", "--import", str(bundle), "--answer", str(answer))
    assert "diterapkan 0 perubahan" in again.stdout
    done = pair.node.run("sync", "--import-answer", str(answer))
    assert "jawaban diterapkan" in done.stdout
    assert_same(pair)
    tampered = pair.dir / "tampered.balai"
    data = bytearray(bundle.read_bytes())
    data[-10] ^= 0xFF
    tampered.write_bytes(bytes(data))
    refused = pair.regency.run("sync", "--import", str(tampered), check=False)
    assert refused.returncode != 0
    assert "rusak" in refused.stderr


def test_a_link_that_drops_doubles_and_replays_requests_changes_nothing(pair: Pair):
    proxy = ChaosProxy(pair.port, seed=11)
    point = (
        "from balai.sync.models import SyncState;"
        "SyncState.objects.update(regency_url='{url}')"
    )
    try:
        pair.node.run("shell", "-c", point.format(url=f"http://127.0.0.1:{proxy.port}"))
        pair.node.tool("work", "--seed", "501", "--families", "20", "--tickets", "3")
        proxy.drop_before = proxy.drop_after = 0.2
        proxy.duplicate = proxy.replay = 0.4
        small = {"BALAI_SYNC_BATCH": "30"}
        for _round in range(4):
            pair.sync(check=False, env=small)
        proxy.calm()
        pair.sync_until_quiet()
        assert sum(proxy.counts.values()) > 0, proxy.counts
    finally:
        proxy.close()
        pair.node.run("shell", "-c", point.format(url=pair.regency_url))
    assert_same(pair)


def test_a_revoked_key_is_refused_and_a_retired_node_too(pair: Pair):
    pair.regency.run("node_revoke", NODE, "--reason", "laptop hilang")
    refused = pair.sync(check=False)
    assert refused.returncode != 0
    assert "dicabut" in refused.stderr
    pair.regency.run("node_retire", NODE, "--force")
    refused = pair.sync(check=False)
    assert "dipensiunkan" in refused.stderr
