import datetime

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from balai.audit.models import AuditEntry
from balai.core.models import ChangeRecord
from balai.core.rows import (
    SMALL_BATCH,
    db_value,
    insert_rows,
    select_rows,
    update_row,
)

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=datetime.UTC)


def change(i: int, node: str) -> ChangeRecord:
    return ChangeRecord(
        node=node,
        epoch=1,
        seq=i,
        model="uji.baris",
        object_id=f"obj-{i}",
        op="upsert",
        payload={"n": i, "nama": "Ñoman", "daftar": [1, None, "x"]},
        office_code="MPP-64.02.06",
        created_at=AT,
    )


def stored(model, pks) -> list[dict]:
    rows = {o.pk: o for o in model.objects.filter(pk__in=pks)}
    return [
        {k: v for k, v in model_to_dict(rows[pk]).items() if k != "id"} for pk in pks
    ]


def test_a_small_batch_is_stored_as_bulk_create_stores_it_keys_in_order():
    ours = [change(i, "uji-a") for i in range(3)]
    theirs = [change(i, "uji-b") for i in range(3)]
    insert_rows(ours)
    ChangeRecord.objects.bulk_create(theirs)
    assert all(o.pk is not None and not o._state.adding for o in ours)
    assert [ChangeRecord.objects.get(pk=o.pk).seq for o in ours] == [0, 1, 2]
    mine = stored(ChangeRecord, [o.pk for o in ours])
    reference = stored(ChangeRecord, [o.pk for o in theirs])
    assert [{**r, "node": "uji-b"} for r in mine] == reference


def test_rows_with_their_own_keys_and_defaults():
    before = timezone.now()
    entries = [
        AuditEntry(
            chain="uji",
            seq=i + 1,
            actor_name="uji",
            action="uji.tulis",
            details={"i": i},
            prev_hash="0" * 64,
            hash=f"{i:064d}",
        )
        for i in range(2)
    ]
    insert_rows(entries)
    got = [AuditEntry.objects.get(pk=e.pk) for e in entries]
    assert [g.details for g in got] == [{"i": 0}, {"i": 1}]
    assert all(g.at >= before for g in got)


def test_a_large_batch_goes_through_bulk_create():
    rows = [change(i, "uji-c") for i in range(SMALL_BATCH + 5)]
    insert_rows(rows)
    assert ChangeRecord.objects.filter(node="uji-c").count() == SMALL_BATCH + 5
    assert len({r.pk for r in rows}) == SMALL_BATCH + 5


def test_unless_taken_writes_one_row_only_when_its_key_is_free():
    from balai.core.models import IdempotencyRecord

    def claim() -> IdempotencyRecord:
        return IdempotencyRecord(
            key="k-1", action="uji.klaim", actor="uji", fingerprint="f"
        )

    first, second = claim(), claim()
    assert insert_rows([first], unless_taken=("action", "actor", "key")) == 1
    assert first.pk is not None
    assert insert_rows([second], unless_taken=("action", "actor", "key")) == 0
    assert second._state.adding
    assert IdempotencyRecord.objects.filter(action="uji.klaim").count() == 1
    with pytest.raises(ValueError, match="one row"):
        insert_rows([claim(), claim()], unless_taken=("action", "actor", "key"))


def test_select_rows_gives_instances_as_the_orm_reads_them_in_order():
    records = [change(i, "uji-pilih") for i in (3, 1, 2)]
    insert_rows(records)

    found = select_rows(
        ChangeRecord,
        where="node = %s AND seq >= %s",
        params=[db_value(ChangeRecord, "node", "uji-pilih"), 2],
        order_by="seq DESC",
    )

    assert [r.seq for r in found] == [3, 2]
    reference = ChangeRecord.objects.get(pk=found[0].pk)
    assert model_to_dict(found[0]) == model_to_dict(reference)
    assert found[0].created_at == AT.replace(microsecond=456789)
    assert found[0].payload == {"n": 3, "nama": "Ñoman", "daftar": [1, None, "x"]}


def test_update_row_writes_the_fields_as_save_does_auto_now_included():
    from balai.documents.models import DocumentSequence
    from balai.regions.models import Office

    office = Office.objects.first()
    ours = DocumentSequence.objects.create(
        office=office, owner_office=office, kind="sktm", year=2026
    )
    theirs = DocumentSequence.objects.create(
        office=office, owner_office=office, kind="sku", year=2026
    )
    before = timezone.now()
    ours.last_serial = theirs.last_serial = 41
    ours.number_format = theirs.number_format = "tidak-ditulis"

    update_row(ours, fields=["last_serial", "updated_at"])
    theirs.save(update_fields=["last_serial", "updated_at"])

    mine = DocumentSequence.objects.get(pk=ours.pk)
    reference = DocumentSequence.objects.get(pk=theirs.pk)
    assert mine.last_serial == reference.last_serial == 41
    assert mine.number_format == reference.number_format != "tidak-ditulis"
    assert mine.updated_at >= before
    assert mine.updated_at == ours.updated_at


def test_update_row_refuses_a_row_that_is_not_there():
    record = ChangeRecord(node="uji-hilang", epoch=1, seq=1, model="x", object_id="1")
    insert_rows([record])
    ChangeRecord.objects.filter(pk=record.pk).delete()

    with pytest.raises(RuntimeError):
        update_row(record, fields=["op"])


@pytest.mark.postgres
@pytest.mark.skipif(
    not __import__("os").environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (DATABASE_URL)",
)
def test_select_rows_for_update_holds_the_rows_lock_to_the_transactions_end():
    import psycopg
    from django.db import connection, transaction

    from balai.regions.models import Office

    code = Office.objects.values_list("code", flat=True).first()  # committed
    found = select_rows(Office, where="code = %s", params=[code], for_update=True)
    assert [o.code for o in found] == [code]
    assert transaction.get_connection().in_atomic_block
    settings = connection.get_connection_params()
    with (
        psycopg.connect(**settings, autocommit=True) as other,
        pytest.raises(psycopg.errors.LockNotAvailable),
    ):
        other.execute(
            "SELECT 1 FROM regions_office WHERE code = %s FOR UPDATE NOWAIT", [code]
        )
