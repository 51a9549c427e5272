import datetime

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from balai.accounts.actions import create_posting
from balai.audit.actions import chain_for, log_access, record
from balai.audit.chain import hash_of
from balai.audit.models import AccessLog, AccessPurpose, AuditEntry, ChainHead
from balai.core.actors import Actor
from balai.core.models import ChangeRecord
from balai.regions.models import Office

pytestmark = pytest.mark.django_db


def test_every_action_appends_to_its_office_chain(make_staff, actor_of):
    admin = actor_of(make_staff(office="DISKOMINFO", role="sysadmin"))
    assert chain_for(admin) == "DISKOMINFO"
    user = make_staff(office="MPP-64.02.06")
    before = AuditEntry.objects.filter(chain="DISKOMINFO").count()
    changes = ChangeRecord.objects.count()
    posting = create_posting(
        actor=admin,
        user=user,
        office=Office.objects.get(code="MPP-64.02.12"),
        position="Petugas Loket",
        role="counter_officer",
        start_date=datetime.date(2025, 1, 1),
    )
    entries = AuditEntry.objects.filter(chain="DISKOMINFO").order_by("seq")
    assert entries.count() == before + 1
    entry = entries.last()
    assert (entry.object_type, entry.object_id) == ("accounts.posting", str(posting.pk))
    assert entry.action == "accounts.posting.create"
    assert entry.actor_id == str(admin.user_id)
    assert hash_of(entry) == entry.hash
    head = ChainHead.objects.get(chain="DISKOMINFO")
    assert (head.seq, head.hash) == (entry.seq, entry.hash)
    # The sync change record is written in the same call.
    change = ChangeRecord.objects.order_by("-id").first()
    assert ChangeRecord.objects.count() == changes + 1
    assert (change.model, change.object_id) == ("accounts.posting", str(posting.pk))
    assert change.office_code == "MPP-64.02.12"


def test_a_failed_action_leaves_no_audit_entry(make_staff, actor_of):
    admin = actor_of(make_staff(office="DISKOMINFO", role="sysadmin"))
    user = make_staff()
    before = AuditEntry.objects.count()
    with pytest.raises(Exception, match="tidak boleh sebelum"):
        create_posting(
            actor=admin,
            user=user,
            office=Office.objects.get(code="MPP-64.02.06"),
            position="Petugas",
            role="counter_officer",
            start_date=datetime.date(2025, 2, 1),
            end_date=datetime.date(2025, 1, 1),
        )
    assert AuditEntry.objects.count() == before


def test_record_refuses_to_write_outside_a_transaction(monkeypatch):
    # The test itself runs in a transaction; pretend it does not.
    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "in_atomic_block", False)
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError, match="inside an action"):
        record(actor=Actor.system(), action="test.x", details={})
    monkeypatch.undo()
    assert AuditEntry.objects.count() == before


def test_record_needs_an_action_code():
    with transaction.atomic(), pytest.raises(RuntimeError, match="action code"):
        record(actor=Actor.system(), details={})


def test_access_log_records_who_read_whom(make_staff, actor_of):
    reader = actor_of(make_staff(office="MPP-64.02.06", role="registry_officer"))
    subject = make_staff(office="MPP-64.02.06")
    log_access(actor=reader, subject=subject, purpose=AccessPurpose.VERIFICATION)
    row = AccessLog.objects.get(subject_id=str(subject.pk))
    assert row.actor_id == str(reader.user_id)
    assert row.office_code == "MPP-64.02.06"
    assert (row.subject_type, row.purpose) == ("accounts.user", "verifikasi")
