"""Starting a node: its credential, and a snapshot of what it may hold.

The regency registers a node and writes a credential file
(`balai node_add 64.02.12 --out FILE`): the node's private sync key and the
regency's public key. `balai node_init --regency URL --node 64.02.12
--credential FILE` installs them, fetches the snapshot (pages kept on disk,
so a cut download resumes), writes it in one transaction with every record
it refers to, and starts pulling from the snapshot's position.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from balai.core.models import ChangeRecord, NodeState
from balai.core.nodes import REGENCY_NODE
from balai.sync import engine, framework, keys
from balai.sync.client import (
    Regency,
    RoundReport,
    SyncError,
    fetch_files,
    repair_references,
)
from balai.sync.models import SyncState
from balai.sync.protocol import b64, unb64

CREDENTIAL_FORMAT = "balai-sync-credential-v1"
PAGE = 2000


def write_credential(path: Path, *, node: str, private_key: Any, url: str = "") -> None:
    regency = keys.regency_key(create=True)
    data = {
        "format": CREDENTIAL_FORMAT,
        "node": node,
        "private_key_pem": keys.pem_of(private_key).decode("ascii"),
        "regency_public_key": b64(keys.raw_public(regency)),
        "regency_url": url,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    import os

    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def install_credential(path: Path, *, node: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SyncError(f"Berkas kredensial tidak terbaca: {exc}") from exc
    if data.get("format") != CREDENTIAL_FORMAT:
        raise SyncError("Berkas ini bukan kredensial sinkron Balai.")
    if data.get("node") != node:
        raise SyncError(f"Kredensial ini untuk node {data.get('node')}, bukan {node}.")
    private = keys.load_pem(data["private_key_pem"].encode("ascii"))
    keys.write_private(keys.key_dir() / keys.NODE_KEY_FILE, private, replace=True)
    keys.write_regency_public(unb64(data["regency_public_key"]))
    return data


def check_empty() -> None:
    """A node starts from the regency's snapshot, not from data of its own."""
    from balai.regions.models import Office

    if ChangeRecord.objects.exists() or Office.objects.exists():
        raise SyncError(
            "Basis data node ini sudah berisi data. Node disiapkan dari basis data "
            "kosong (balai migrate saja, tanpa load_regions atau demo), agar semua "
            "data berasal dari kabupaten."
        )


def staging_dir(node: str) -> Path:
    path = Path(settings.DATA_DIR) / "sync" / "snapshot" / node
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def init_node(*, url: str, node: str, credential: Path, log=print) -> RoundReport:
    if node != settings.BALAI_NODE or node == REGENCY_NODE:
        raise SyncError(
            f"Atur BALAI_NODE={node} untuk node ini (sekarang: {settings.BALAI_NODE})."
        )
    existing = SyncState.objects.filter(pk=1).first()
    if existing is None or existing.initialized_at is None:
        check_empty()
    install_credential(credential, node=node)
    SyncState.objects.update_or_create(
        pk=1,
        defaults={
            "node": node,
            "regency_url": url,
            "regency_public_key": b64(keys.regency_public() or b""),
        },
    )
    state = SyncState.objects.get(pk=1)
    if state.initialized_at is not None:
        log("Node ini sudah disiapkan; jalankan `balai sync`.")
        return RoundReport()
    client = Regency.for_node(state)
    report = RoundReport(skew=client.measure_skew())
    hello = client.call("/hello", {"node_time": 0, "backlog": 0, "software": "init"})
    if hello.get("status") != "active":
        raise SyncError(f"Node {node} tidak aktif di kabupaten.")
    folder = staging_dir(node)
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
    else:
        manifest = client.call("/snapshot", {})
        manifest_path.write_text(json.dumps(manifest))
    log(f"snapshot pada posisi {manifest['cursor']}")
    for entry in manifest["models"]:
        label, count = entry["model"], entry["count"]
        for offset in range(0, count, PAGE):
            page = folder / f"{label}.{offset:09d}.json.gz"
            if page.exists():
                continue
            answer = client.call(
                "/snapshot/page",
                {
                    "session": manifest["session"],
                    "model": label,
                    "offset": offset,
                    "limit": PAGE,
                },
            )
            tmp = page.with_suffix(".tmp")
            tmp.write_bytes(gzip.compress(json.dumps(answer["changes"]).encode()))
            tmp.replace(page)
        if count:
            log(f"  {label}: {count}")
    wanted_files: set[tuple[str, str]] = set()
    with transaction.atomic():
        for entry in manifest["models"]:
            pages = sorted(folder.glob(f"{entry['model']}.*.json.gz"))
            for page in pages:
                changes = json.loads(gzip.decompress(page.read_bytes()))
                applied = engine.node_apply(changes, keep_local=False)
                repair_references(client, applied)
                from balai.sync.blobs import refs_in

                wanted_files |= refs_in(applied.rows)
                report.pulled += applied.applied
        acked = manifest["acked"]
        epoch = int(manifest.get("epoch") or 0)
        ns, _ = NodeState.objects.select_for_update().get_or_create(node=node)
        if epoch:
            ns.epoch, ns.last_seq = epoch + 1, 0
            ns.save(update_fields=["epoch", "last_seq"])
        SyncState.objects.filter(pk=1).update(
            cursor=manifest["cursor"],
            floor=manifest["cursor"],
            acked_epoch=int(acked["epoch"]),
            acked_seq=int(acked["seq"]),
            epoch_start={
                "prev_epoch": int(acked["epoch"]),
                "prev_seq": int(acked["seq"]),
                "renumbered": 0,
            },
            initialized_at=timezone.now(),
            last_success_at=timezone.now(),
        )
    fetch_files(client, wanted_files, report)
    shutil.rmtree(folder, ignore_errors=True)
    log(f"node {node} siap: {report.pulled} data dari kabupaten")
    return report


def synced_models_count() -> dict[str, int]:
    return {
        label: framework.spec_for(label).model._default_manager.count()
        for label in framework.synced_labels()
    }
