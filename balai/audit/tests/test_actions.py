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


def _offices(*codes: str) -> list[Office]:
    return [Office.objects.get(code=code) for code in codes]


def test_a_batched_block_writes_its_entries_and_changes_at_its_end_in_order():
    from balai.audit.actions import batched
    from balai.audit.verify import verify_chain
    from balai.core.actions import action

    mpp, desa = _offices("MPP-64.02.06", "DESA-64.02.12.2001")
    officer = Actor(user_id=None, username="uji", office_code="MPP-64.02.06")
    other = Actor(user_id=None, username="uji", office_code="DISKOMINFO")
    entries_before = AuditEntry.objects.count()
    changes_before = ChangeRecord.objects.count()
    seen_inside: list[int] = []

    @action("audit.test.batch")
    def batch_of_three(*, actor: Actor) -> list:
        with batched():
            first = record(actor=actor, target=mpp, details={"n": 1})
            second = record(actor=other, target=desa, details={"n": 2})
            mpp.phone = "0541-000"
            third = record(actor=actor, target=mpp, details={"n": 3})
            # Nothing is written before the block ends: entries have no place yet.
            seen_inside.append(AuditEntry.objects.count() - entries_before)
            assert first.seq is None
            assert first.hash == ""
        return [first, second, third]

    first, second, third = batch_of_three(actor=officer)
    assert seen_inside == [0]
    assert AuditEntry.objects.count() == entries_before + 3
    assert (first.chain, second.chain, third.chain) == (
        "MPP-64.02.06",
        "DISKOMINFO",
        "MPP-64.02.06",
    )
    assert third.seq == first.seq + 1
    assert third.prev_hash == first.hash
    assert [e.details["n"] for e in (first, second, third)] == [1, 2, 3]
    for entry in (first, second, third):
        assert hash_of(AuditEntry.objects.get(pk=entry.pk)) == entry.hash
    assert verify_chain("MPP-64.02.06") is None
    assert verify_chain("DISKOMINFO") is None
    changes = list(ChangeRecord.objects.order_by("id")[changes_before:])
    assert [c.object_id for c in changes] == [str(mpp.pk), str(desa.pk), str(mpp.pk)]
    assert [c.seq for c in changes] == list(range(changes[0].seq, changes[0].seq + 3))
    # Each change keeps the object as it was when it was recorded.
    assert changes[0].payload["phone"] != "0541-000"
    assert changes[2].payload["phone"] == "0541-000"


def test_a_failed_nested_action_in_a_batch_takes_its_entries_back():
    from balai.audit.actions import batched
    from balai.core.actions import action
    from balai.core.errors import BalaiError

    (mpp,) = _offices("MPP-64.02.06")
    officer = Actor(user_id=None, username="uji", office_code="MPP-64.02.06")

    @action("audit.test.inner")
    def inner(*, actor: Actor) -> None:
        record(actor=actor, target=mpp, details={"inner": True})
        raise BalaiError("gagal")

    @action("audit.test.outer")
    def outer(*, actor: Actor) -> None:
        with batched():
            record(actor=actor, target=mpp, details={"outer": 1})
            with pytest.raises(BalaiError):
                inner(actor=actor)
            record(actor=actor, target=mpp, details={"outer": 2})

    entries_before = AuditEntry.objects.count()
    changes_before = ChangeRecord.objects.count()
    outer(actor=officer)
    written = list(
        AuditEntry.objects.filter(action__startswith="audit.test.").order_by("seq")
    )
    assert [e.details for e in written] == [{"outer": 1}, {"outer": 2}]
    assert AuditEntry.objects.count() == entries_before + 2
    assert ChangeRecord.objects.count() == changes_before + 2


def test_a_batch_that_fails_writes_nothing():
    from balai.audit.actions import batched
    from balai.core.actions import action

    (mpp,) = _offices("MPP-64.02.06")
    officer = Actor(user_id=None, username="uji", office_code="MPP-64.02.06")
    head_before = ChainHead.objects.filter(chain="MPP-64.02.06").first()

    @action("audit.test.failing_batch")
    def failing(*, actor: Actor) -> None:
        with batched():
            record(actor=actor, target=mpp, details={})
            raise RuntimeError("putus")

    entries_before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError):
        failing(actor=officer)
    assert AuditEntry.objects.count() == entries_before
    head = ChainHead.objects.filter(chain="MPP-64.02.06").first()
    assert (head and (head.seq, head.hash)) == (
        head_before and (head_before.seq, head_before.hash)
    )
