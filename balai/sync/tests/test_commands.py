"""Node lifecycle commands at the regency: register (credential file),
retire, revoke; each audited."""

import io
import json
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from balai.audit.models import AuditEntry
from balai.sync.models import NodeStatus, SyncNode

from .conftest import NODE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path):
    settings.BALAI_KEY_DIR = tmp_path / "keys"


def test_node_add_writes_a_secret_credential_and_registers_the_key(regions, tmp_path):
    out = tmp_path / "kredensial.json"
    call_command("node_add", NODE, out=out, stdout=io.StringIO())
    data = json.loads(out.read_text())
    assert data["node"] == NODE
    assert "PRIVATE KEY" in data["private_key_pem"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    node = SyncNode.objects.get(pk=NODE)
    assert node.status == NodeStatus.ACTIVE
    assert AuditEntry.objects.filter(action="sync.node.register").exists()
    with pytest.raises(CommandError):
        call_command("node_add", "64.02.99", out=tmp_path / "x.json")


def test_retire_refuses_a_node_with_a_backlog_unless_forced(regions, tmp_path):
    call_command("node_add", NODE, out=tmp_path / "k.json", stdout=io.StringIO())
    SyncNode.objects.filter(pk=NODE).update(backlog=12)
    with pytest.raises(CommandError) as caught:
        call_command("node_retire", NODE)
    assert "12 perubahan" in str(caught.value)
    call_command("node_retire", NODE, force=True, stdout=io.StringIO())
    assert SyncNode.objects.get(pk=NODE).status == NodeStatus.RETIRED
    assert AuditEntry.objects.filter(action="sync.node.retire").exists()


def test_revoke_marks_the_key_and_a_new_credential_restores_the_node(regions, tmp_path):
    call_command("node_add", NODE, out=tmp_path / "k.json", stdout=io.StringIO())
    old_key = SyncNode.objects.get(pk=NODE).key_id
    call_command("node_revoke", NODE, reason="laptop hilang", stdout=io.StringIO())
    node = SyncNode.objects.get(pk=NODE)
    assert node.status == NodeStatus.REVOKED
    assert node.status_note == "laptop hilang"
    call_command("node_add", NODE, out=tmp_path / "k2.json", stdout=io.StringIO())
    node = SyncNode.objects.get(pk=NODE)
    assert node.status == NodeStatus.ACTIVE
    assert node.key_id != old_key
    with pytest.raises(CommandError):
        call_command("node_revoke", "64.02.05")
