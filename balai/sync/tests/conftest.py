"""Fixtures for sync tests in one process: the test database plays the
regency; a node's changes are made by the real actions as that node would
(BALAI_NODE set), captured from the change log and rolled back, then pushed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.db.models import Max
from django.test import override_settings

from balai.audit.appliers import entry_message
from balai.audit.models import AuditEntry
from balai.core.models import ChangeRecord, NodeState
from balai.sync import keys
from balai.sync.protocol import (
    H_NODE,
    H_PROTOCOL,
    H_SIGNATURE,
    H_TIME,
    PROTOCOL_VERSION,
    b64,
    encode_body,
    signing_message,
)

NODE = "64.02.12"
MPP = f"MPP-{NODE}"
TABANG = "64.02.12.2001"
TENGGARONG = "64.02.06.1001"


@dataclass
class FakeNode:
    """A node's outbox, made by capturing what its actions write."""

    name: str
    key: Ed25519PrivateKey
    epoch: int = 1
    seq: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def capture(self, fn, *args, **kwargs) -> Any:
        """Run `fn` as this node, keep its change records and audit entries,
        and undo its writes here (the regency has not seen them)."""
        top = ChangeRecord.objects.aggregate(m=Max("id"))["m"] or 0
        audit_before = set(AuditEntry.objects.values_list("id", flat=True))
        with override_settings(BALAI_NODE=self.name), transaction.atomic():
            # Numbers far from those already pushed here (renumbered below).
            NodeState.objects.update_or_create(
                node=self.name, defaults={"epoch": 99, "last_seq": 0}
            )
            result = fn(*args, **kwargs)
            rows = list(
                ChangeRecord.objects.filter(node=self.name, id__gt=top)
                .order_by("epoch", "seq")
                .values(
                    "model",
                    "object_id",
                    "op",
                    "payload",
                    "office_code",
                    "region_code",
                    "created_at",
                )
            )
            entries = [
                entry_message(e)
                for e in AuditEntry.objects.exclude(id__in=audit_before).order_by(
                    "chain", "seq"
                )
            ]
            transaction.set_rollback(True)
        for row in rows:
            self.seq += 1
            self.changes.append(
                {
                    **row,
                    "seq": self.seq,
                    "created_at": row["created_at"].isoformat(),
                    "base": 0,
                }
            )
        self.audit += entries
        return result

    def batch(self, first: int | None = None, last: int | None = None) -> dict:
        first = first or 1
        last = last or self.seq
        return {
            "epoch": self.epoch,
            "first": first,
            "last": last,
            "epoch_start": {"prev_epoch": 0, "prev_seq": 0, "renumbered": 0},
            "changes": [c for c in self.changes if first <= c["seq"] <= last],
        }


@pytest.fixture(autouse=True)
def _no_receipts(monkeypatch):
    """Where submitting an application issues a signed receipt, these tests
    (about sync, not letters) skip the PDF."""
    try:
        from balai.services import receipts
    except ImportError:
        return
    monkeypatch.setattr(receipts, "issue_receipt", lambda **kwargs: {})


@pytest.fixture
def node_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def sync_node(db, regions, node_key):
    from balai.sync.models import SyncNode

    public = keys.raw_public(node_key)
    SyncNode.objects.create(
        name=NODE, public_key=b64(public), key_id=keys.key_id(public)
    )
    return FakeNode(NODE, node_key)


@pytest.fixture
def push(sync_node):
    """Push a batch of the fake node through the regency's handler."""
    from balai.sync import server
    from balai.sync.models import SyncNode

    def send(batch: dict) -> dict:
        return server.push(SyncNode.objects.get(pk=sync_node.name), batch)

    return send


def signed_headers(
    key: Ed25519PrivateKey,
    *,
    method: str,
    path: str,
    body: bytes,
    node: str = NODE,
    query: str = "",
    skew: float = 0.0,
    protocol: int = PROTOCOL_VERSION,
) -> dict[str, str]:
    stamp = f"{time.time() + skew:.3f}"
    message = signing_message(
        method=method, path=path, query=query, timestamp=stamp, node=node, body=body
    )
    return {
        H_NODE: node,
        H_TIME: stamp,
        H_SIGNATURE: keys.sign(key, message),
        H_PROTOCOL: str(protocol),
    }


@pytest.fixture
def signed_post(client, node_key):
    def post(path: str, payload: Any, **kwargs) -> Any:
        body = encode_body(payload)
        full = f"/api/v1/sync{path}"
        headers = signed_headers(
            kwargs.pop("key", node_key), method="POST", path=full, body=body, **kwargs
        )
        return client.post(
            full,
            data=body,
            content_type="application/json",
            headers={**headers, "Content-Encoding": "gzip"},
        )

    return post
