"""balai.registry.bulk: the bulk path stores what the ORM would store.

On SQLite (these tests) the rows go in as tuples with ``executemany`` and the
change records are written beside them without model instances; here every
stored column is compared with what the field itself prepares for the
database (what ``bulk_create`` stores), and every change record with the one
`log_changes` writes for the same row: at a node the same record, payload
included; at the regency the same record by reference (payload SQL NULL,
decision 0012). On PostgreSQL (``DATABASE_URL``) the same tests check the
COPY path.
"""

import dataclasses
import datetime
import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from balai.core.changelog import log_changes
from balai.core.models import ChangeRecord
from balai.core.nodes import REGENCY_NODE
from balai.core.serialize import model_payload
from balai.registry import bulk
from balai.registry.actions import (
    CheckedPerson,
    Problems,
    clean_person,
    register_residents_bulk,
)
from balai.registry.models import Family, Flag, LifeEvent, Resident
from balai.registry.reference import Shdk
from balai.registry.synthetic import population, villages_from_regions

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(system_actor):
    families = list(population(40, villages=villages_from_regions()[:5], seed=5))
    result = register_residents_bulk(actor=system_actor, families=families)
    assert result.residents == 40
    return result


def _columns_as(model, pk, shown: str) -> dict:
    """Every stored column of the row, each through the SQL `shown`
    (``{}`` for the column)."""
    qn = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if f.column]
    columns = ", ".join(shown.format(qn(f.column)) for f in fields)
    pk_value = model._meta.pk.get_db_prep_value(pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {qn(model._meta.db_table)} "  # noqa: S608
            f"WHERE {qn(model._meta.pk.column)} = %s",
            [pk_value],
        )
        return dict(zip([f.attname for f in fields], cursor.fetchone(), strict=True))


def _stored(model, pk):
    """The row as SQLite holds it: each value as its SQL literal (``quote``),
    which shows the storage class too (text, integer, real, NULL)."""
    return _columns_as(model, pk, "quote({})")


def _literals(values):
    """The SQL literals SQLite stores for these parameters."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["quote(%s)"] * len(values)), list(values))
        return list(cursor.fetchone())


@pytest.mark.parametrize("model", [Resident, Family, LifeEvent])
def test_rows_are_stored_as_the_fields_prepare_them(written, model):
    if connection.vendor != "sqlite":
        pytest.skip("the executemany path is the one without COPY")
    ids = {
        Resident: written.resident_ids,
        Family: written.family_ids,
        LifeEvent: list(
            LifeEvent.objects.filter(group_id=written.group_id).values_list(
                "pk", flat=True
            )
        ),
    }[model]
    assert ids
    fields = [f for f in model._meta.concrete_fields if f.column]
    for obj in model.objects.filter(pk__in=ids):
        stored = _stored(model, obj.pk)
        # What bulk_create would store for the object read back.
        expected = _literals(
            [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
        )
        for field, value in zip(fields, expected, strict=True):
            assert stored[field.attname] == value, (model, field.attname)


@pytest.fixture(params=[REGENCY_NODE, "64.02.12"], ids=["regency", "node"])
def written_at(request, settings, system_actor):
    """The bulk path run at the regency, or at a kecamatan node."""
    settings.BALAI_NODE = request.param
    families = list(population(40, villages=villages_from_regions()[:5], seed=5))
    result = register_residents_bulk(actor=system_actor, families=families)
    assert result.residents == 40
    return result


def _null_payloads(model_prefix):
    """How many change records of these models store SQL NULL as payload
    (not JSON null: the column itself)."""
    table = connection.ops.quote_name(ChangeRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {table} "  # noqa: S608 - the model's table
            "WHERE payload IS NULL AND model LIKE %s",
            [model_prefix + "%"],
        )
        return cursor.fetchone()[0]


def test_change_records_are_those_log_changes_writes(written_at):
    records = ChangeRecord.objects.filter(model__startswith="registry.").order_by("seq")
    assert records.count() == 40 + 2 * len(written_at.family_ids) + 40
    seqs = [r.seq for r in records]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    at_regency = settings.BALAI_NODE == REGENCY_NODE
    for record in records:
        obj = apps.get_model(record.model).objects.get(pk=record.object_id)
        with transaction.atomic():
            (reference,) = log_changes(
                [obj], routes=[(record.office_code, record.region_code)]
            )
            transaction.set_rollback(True)
        assert reference.payload == model_payload(obj)
        if at_regency:
            # By reference: sync sends the row as it is when it is pulled.
            assert record.payload is None
        else:
            # A node keeps the row as it was: its outbox sends it.
            assert record.payload == reference.payload
        for name in ("node", "epoch", "model", "object_id", "op", "region_code"):
            assert getattr(record, name) == getattr(reference, name), name
        assert record.office_code == reference.office_code
        # The COPY path leaves the regency's global sequence to sync.
        if at_regency and not bulk.use_copy():
            assert record.global_seq == record.seq
        else:
            assert record.global_seq is None
    assert _null_payloads("registry.") == (records.count() if at_regency else 0)


def test_adapters_take_other_value_types_through_the_field():
    if bulk.use_copy():
        pytest.skip("the adapters serve the executemany path (no COPY)")
    fields = {f.attname: f for f in Resident._meta.concrete_fields}
    some = uuid.UUID("01234567-89ab-7def-8123-456789abcdef")
    cases = [
        ("id", some),
        ("id", str(some)),
        ("birth_date", datetime.date(2000, 2, 29)),
        ("birth_date", "2000-02-29"),
        ("created_at", datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)),
        ("flags", ["nik_periksa"]),
        ("religion", 1),
        ("ektp_recorded", True),
        ("ektp_recorded", 1),
        ("name", "Aji Raffi"),
        ("nik", None),
        ("family_id", None),
        ("family_id", some),
    ]
    for name, value in cases:
        (adapt,) = bulk._db_adapters([fields[name]])
        assert adapt(value) == fields[name].get_db_prep_save(value, connection), (
            name,
            value,
        )


def test_matching_finds_what_the_register_holds(written):
    resident = Resident.objects.get(pk=written.resident_ids[0])
    family = Family.objects.get(pk=written.family_ids[0])
    assert bulk.matching(Resident, "nik", [resident.nik, "6402000000000000"]) == [
        (resident.nik,)
    ]
    assert bulk.matching(
        Family, "kk_number", [family.kk_number, "x"], also=["id"], chunk=1
    ) == [(family.kk_number, family.pk)]
    assert bulk.matching(Resident, "nik", []) == []


@pytest.mark.parametrize("node", [REGENCY_NODE, "64.02.12"])
def test_a_value_of_another_class_goes_through_the_field(written, settings, node):
    if bulk.use_copy():
        pytest.skip("the executemany path (no COPY)")
    settings.BALAI_NODE = node
    from django.utils import timezone
    from django.utils.translation import gettext_lazy

    from balai.registry.models import Family as F

    template = Family.objects.get(pk=written.family_ids[0])
    row = bulk.full_row(
        F,
        {
            "id": uuid.uuid4(),
            "village_id": template.village_id,
            "kecamatan_code": template.kecamatan_code,
            "owner_office_id": str(template.owner_office_id),  # a str, not a UUID
            "rt": 7,  # an int in a text column
            "street": gettext_lazy("Jalan Mulawarman"),  # a lazy string
            "version": True,  # a bool in an integer column
            "created_at": timezone.now().replace(microsecond=0),
            "updated_at": timezone.now().replace(microsecond=0),
        },
    )
    with transaction.atomic():
        assert bulk.insert(F, [row], routes=[("MPP", template.village_id)]) == 1
    stored = _stored(F, row["id"])
    fields = [f for f in F._meta.concrete_fields if f.column]
    expected = _literals(
        [f.get_db_prep_save(row[f.attname], connection) for f in fields]
    )
    assert [stored[f.attname] for f in fields] == expected
    assert stored["rt"] == "'7'"
    record = ChangeRecord.objects.get(object_id=str(row["id"]))
    if node == REGENCY_NODE:
        assert record.payload is None  # by reference: no payload made
        return
    assert record.payload == model_payload(F(**row))
    assert record.payload["rt"] == 7
    assert record.payload["street"] == "Jalan Mulawarman"


def _checked(families, day):
    """The same KKs with every person as the import hands him over: checked
    once by `clean_person` (`CheckedPerson`)."""
    out = []
    for family in families:
        members = []
        for member in family.members:
            problems = Problems()
            values, flags = clean_person(member.person, problems, today_=day)
            assert not problems
            members.append(
                dataclasses.replace(
                    member, person=CheckedPerson(values, tuple(flags), day)
                )
            )
        out.append(dataclasses.replace(family, members=members))
    return out


def _what_was_written(result):
    """The stored residents and their events, without what differs between
    two runs (ids, the KK's id, timestamps, group)."""
    ignored = {"id", "family_id", "created_at", "updated_at"}
    residents = sorted(
        (
            {k: v for k, v in row.items() if k not in ignored}
            for row in Resident.objects.filter(pk__in=result.resident_ids).values()
        ),
        key=lambda row: (row["nik"] or "", row["name"]),
    )
    events = sorted(
        (
            event.kind,
            repr(
                sorted(
                    (k, v)
                    for k, v in (event.data.get("set") or {}).items()
                    if k != "family_id"
                )
            ),
            tuple(event.data.get("flags_add", ())),
        )
        for event in LifeEvent.objects.filter(group_id=result.group_id)
    )
    return residents, events, result.flagged


def _with_a_nik_to_check(families):
    """The KKs with one child's sex turned, so that his NIK is to be checked
    (flagged, not refused)."""
    for i, family in enumerate(families):
        for j, member in enumerate(family.members):
            if member.shdk == Shdk.ANAK and member.person.nik:
                other = "P" if member.person.sex == "L" else "L"
                turned = dataclasses.replace(
                    member, person=dataclasses.replace(member.person, sex=other)
                )
                members = [*family.members]
                members[j] = turned
                families[i] = dataclasses.replace(family, members=members)
                return families
    raise AssertionError("no child with a NIK")


def test_a_checked_person_is_written_as_the_person_is(system_actor, monkeypatch):
    from balai.registry import actions

    families = _with_a_nik_to_check(
        list(population(30, villages=villages_from_regions()[:3], seed=8))
    )
    day = actions.today()
    with transaction.atomic():
        plain = _what_was_written(
            register_residents_bulk(actor=system_actor, families=families)
        )
        transaction.set_rollback(True)
    checked = _checked(families, day)
    calls = []
    monkeypatch.setattr(
        actions,
        "clean_person",
        lambda *a, **k: calls.append(a) or clean_person(*a, **k),
    )
    with transaction.atomic():
        result = register_residents_bulk(actor=system_actor, families=checked)
        assert _what_was_written(result) == plain
        transaction.set_rollback(True)
    # Checked today: not checked again.
    assert calls == []
    assert len(plain[0]) == 30
    assert plain[2] == 1  # the flag went through too


def test_a_person_checked_on_another_day_is_checked_again(system_actor, monkeypatch):
    from balai.core.errors import BalaiError
    from balai.registry import actions

    families = list(population(5, villages=villages_from_regions()[:1], seed=9))
    yesterday = actions.today() - datetime.timedelta(days=1)
    checked = _checked(families, yesterday)
    calls = []
    monkeypatch.setattr(
        actions,
        "clean_person",
        lambda *a, **k: calls.append(a) or clean_person(*a, **k),
    )
    register_residents_bulk(actor=system_actor, families=checked)
    assert len(calls) == 5
    # A value no longer right is refused as from a Person.
    family = families[0]
    member = family.members[0]
    problems = Problems()
    values, flags = clean_person(member.person, problems, today_=yesterday)
    stale = dataclasses.replace(
        family,
        kk_number=None,
        members=[
            dataclasses.replace(
                member,
                person=CheckedPerson(
                    {**values, "name": "", "nik": None}, tuple(flags), yesterday
                ),
            )
        ],
    )
    with pytest.raises(BalaiError) as refused:
        register_residents_bulk(actor=system_actor, families=[stale])
    assert "Nama lengkap wajib diisi." in str(refused.value.extra)


def test_array_text_is_read_back_as_the_same_strings():
    if not bulk.use_copy():
        pytest.skip("PostgreSQL arrays")
    values = ["64.02.06", 'a"b', "c\\d", "", "NULL", "x,y", "{z}", " sp "]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [bulk._array_text(values)])
        assert cursor.fetchone()[0] == values
        plain = ["MPP-64.02.06", "6402061234567890", "64.02.06.1004", "nul"]
        assert bulk._array_text(plain) == "{" + ",".join(plain) + "}"
        cursor.execute("SELECT %s::text[]", [bulk._array_text(plain)])
        assert cursor.fetchone()[0] == plain
        for odd in (["a", "null"], ["a", ""], ["a b"], ["x,y"]):
            cursor.execute("SELECT %s::text[]", [bulk._array_text(odd)])
            assert cursor.fetchone()[0] == odd
        ids = [uuid.uuid4() for _ in range(3)]
        cursor.execute("SELECT %s::uuid[]", [bulk._array_text(map(str, ids))])
        assert cursor.fetchone()[0] == ids


def test_rows_into_a_table_with_a_trigger_go_in_statements_of_many(
    system_actor, monkeypatch
):
    """On SQLite the resident rows (a table with an insert trigger: the FTS5
    name index) go in multi-row INSERTs: every row once, in order, each
    through the trigger, also the last statement of fewer rows."""
    if connection.vendor != "sqlite":
        pytest.skip("multi-row INSERTs serve the executemany path (no COPY)")
    monkeypatch.setattr(bulk, "_ROWS_PER_STATEMENT", 7)
    assert bulk._rows_per_statement(Resident._meta.db_table, 41) == 7
    assert bulk._rows_per_statement(Family._meta.db_table, 10) == 1
    families = list(population(40, villages=villages_from_regions()[:5], seed=5))
    with CaptureQueriesContext(connection) as queries:
        result = register_residents_bulk(actor=system_actor, families=families)
    inserts = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('INSERT INTO "registry_resident" (')
    ]
    # 40 rows: five statements of 7 rows and one of 5.
    assert [sql.count("), (") + 1 for sql in inserts] == [7] * 5 + [5]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id, r.name_key FROM registry_resident r "
            "JOIN registry_resident_words w ON w.rowid = r.rowid ORDER BY r.rowid"
        )
        indexed = cursor.fetchall()
    # Every resident is in the name index, and the rows went in in order.
    assert [uuid.UUID(pk) for pk, _key in indexed] == result.resident_ids
    stored = dict(Resident.objects.values_list("id", "name_key"))
    assert [key for _pk, key in indexed] == [stored[i] for i in result.resident_ids]
    for obj in Resident.objects.filter(pk__in=result.resident_ids[35:]):
        assert _stored(Resident, obj.pk)["name_key"] == _literals([obj.name_key])[0]


def _village_check_plan() -> str:
    """The plan of the statement PostgreSQL's foreign-key check runs for a
    row's village (as ``ri_triggers.c`` writes it), planned now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT 1 FROM ONLY regions_region x "
            "WHERE code OPERATOR(pg_catalog.=) %s FOR KEY SHARE OF x",
            ["64.02.06.1004"],
        )
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_copied_rows_keys_are_checked_by_index(system_actor):
    if not bulk.use_copy():
        pytest.skip("PostgreSQL's foreign-key checks")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE regions_region")
    # The villages fit in a few pages: planned as any statement, a key is
    # looked for by reading the whole table.
    assert "Seq Scan" in _village_check_plan()
    with transaction.atomic():
        families = list(population(6, villages=villages_from_regions()[:2], seed=5))
        register_residents_bulk(actor=system_actor, families=families)
        # What the rows' deferred checks are planned with at commit.
        plan = _village_check_plan()
        assert "Index Scan" in plan, plan
        assert "Seq Scan" not in plan, plan


def test_the_resident_table_keeps_only_the_indexes_queries_use():
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "registry_resident")
    indexed = {tuple(i["columns"]) for i in indexes.values() if i["index"]}
    # Migration 0007: nothing looks residents up by these alone.
    for column in ("birth_date", "father_nik", "mother_nik"):
        assert (column,) not in indexed
    # What the register's lookups and the name search need stays.
    assert ("name_key",) in indexed
    assert ("family_id",) in indexed
    assert any(i["unique"] and i["columns"] == ["nik"] for i in indexes.values())


def _column_texts(model, pk):
    """Every stored column of the row as PostgreSQL's text of it."""
    return _columns_as(model, pk, "{}::text")


# Text that COPY's text format would have to escape, a non-ASCII name, and
# JSON with escapes of its own.
_AWKWARD = "Sit\\i\tNur\nhaliza\r\\N Çağrı Ñúñez 李"


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
def test_the_copy_path_stores_what_bulk_create_stores(written, binary, monkeypatch):
    if not bulk.use_copy():
        pytest.skip("the COPY path")
    if not binary:
        monkeypatch.setattr(bulk, "_binary_types", lambda fields: None)
    source = Resident.objects.get(pk=written.resident_ids[0])
    fields = [f for f in Resident._meta.concrete_fields if f.column]
    values = {f.attname: getattr(source, f.attname) for f in fields}
    values.update(
        name=_AWKWARD,
        birth_place="",
        nik=None,
        shdk=None,
        marriage_date=None,
        # Choices members too: their value, as json.dumps writes them.
        flags=[
            "nik_periksa",
            _AWKWARD,
            {"a\\b": None, "c": [1, 2.5, True]},
            Shdk.ANAK,
            Flag.AWAITING_NIK,
        ],
        created_at=datetime.datetime(
            2026,
            1,
            2,
            3,
            4,
            5,
            678901,
            tzinfo=datetime.timezone(-datetime.timedelta(hours=3, minutes=30)),
        ),
        birth_date=datetime.date(1, 1, 1),
    )
    copied = {**values, "id": uuid.uuid4()}
    ormed = {**values, "id": uuid.uuid4()}
    with transaction.atomic():
        bulk.write_rows(Resident, iter([copied]), routes=[("x", "y")])
        Resident.objects.bulk_create([Resident(**ormed)])
        got, expected = (
            _column_texts(Resident, copied["id"]),
            _column_texts(Resident, ormed["id"]),
        )
        given = _column_texts(Resident, source.pk)["updated_at"]
        transaction.set_rollback(True)
    assert got.pop("id") != expected.pop("id")
    # auto_now: bulk_create stamps its own time; COPY stores the one given.
    expected.pop("updated_at")
    assert got.pop("updated_at") == given
    assert got == expected
    assert got["name"] == _AWKWARD
    assert got["nik"] is None
    assert got["marriage_date"] is None
    assert got["birth_place"] == ""
    assert "\\\\b" in got["flags"]


def test_a_copied_value_of_another_type_is_refused(written):
    if not bulk.use_copy():
        pytest.skip("the COPY path")
    source = Resident.objects.get(pk=written.resident_ids[0])
    row = {
        f.attname: getattr(source, f.attname)
        for f in Resident._meta.concrete_fields
        if f.column
    }
    row.update(id=str(uuid.uuid4()), nik="6402011111111113", shdk=None)
    with (
        pytest.raises(Exception),  # noqa: B017, PT011 - psycopg's or the server's
        transaction.atomic(),
    ):
        bulk.write_rows(Resident, iter([row]), routes=[("x", "y")])
    assert not Resident.objects.filter(nik="6402011111111113").exists()
