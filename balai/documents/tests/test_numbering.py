"""Document numbers: the format, and no gaps or repeats under concurrency."""

import datetime as dt
import io
import os
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from balai.core.errors import BalaiError
from balai.documents.actions import issue_document, lock_sequence
from balai.documents.models import DocumentSequence, IssuedDocument
from balai.documents.numbering import check_format, format_number, roman_month
from balai.documents.tests.conftest import DESA
from balai.regions.models import Office


def number(fmt="{code}/{serial:04d}/{office}/{month_roman}/{year}", **kw):
    values = {
        "code": "470",
        "serial": 1,
        "office_short": "DS-BKG",
        "office_code": "DESA-64.02.12.2001",
        "on": dt.date(2026, 11, 12),
        "kind": "domisili",
        **kw,
    }
    return format_number(fmt, **values)


def test_desa_style_numbers():
    assert number() == "470/0001/DS-BKG/XI/2026"
    assert number(serial=137, on=dt.date(2026, 4, 1)) == "470/0137/DS-BKG/IV/2026"
    assert number(serial=12345) == "470/12345/DS-BKG/XI/2026", "padding never cuts"
    assert number(office_short="") == "470/0001/DESA-64.02.12.2001/XI/2026"
    assert number("{kind}-{year}-{serial:06d}") == "domisili-2026-000001"
    assert [roman_month(m) for m in (1, 4, 9, 12)] == ["I", "IV", "IX", "XII"]


@pytest.mark.parametrize(
    "fmt",
    [
        "",
        "{code}/{year}",  # no serial
        "{serial.__class__}",
        "{serial!r}",
        "{serial:>30}",
        "{office:>10}",
        "{unknown}/{serial}",
        "{serial}/{",
        "{0}/{serial}",
    ],
)
def test_bad_formats_are_refused(fmt):
    with pytest.raises(BalaiError):
        check_format(fmt)


def test_too_long_numbers_are_refused():
    with pytest.raises(BalaiError) as info:
        number("{office_code}/{office_code}/{office_code}/{serial}")
    assert info.value.code == "number_too_long"


@pytest.mark.django_db
def test_lock_sequence_survives_a_concurrent_creation(monkeypatch):
    """The row appears between our look and our insert: we lock the other's row."""
    office = Office.objects.get(code=DESA)
    DocumentSequence.objects.create(
        office=office, owner_office=office, kind="sktm", year=2026, last_serial=41
    )
    real_first = DocumentSequence.objects.none().__class__.first
    calls = {"n": 0}

    def first_misses_once(self):
        calls["n"] += 1
        return None if calls["n"] == 1 else real_first(self)

    monkeypatch.setattr(
        type(DocumentSequence.objects.all()), "first", first_misses_once
    )
    with transaction.atomic():
        sequence = lock_sequence(office=office, kind="sktm", year=2026)
    assert sequence.last_serial == 41
    assert DocumentSequence.objects.filter(office=office, kind="sktm").count() == 1


@pytest.mark.django_db
def test_sequential_issues_have_no_gaps_even_after_failures(
    root_key, desa_head, desa_clerk, actor_of, subject
):
    office = Office.objects.get(code=DESA)
    actor = actor_of(desa_clerk)
    serials = []
    for i in range(6):
        name = "" if i in (2, 4) else f"WARGA {i}"  # two refused in the middle
        try:
            doc = issue_document(
                actor=actor,
                kind="pengantar",
                office=office,
                subject={**subject, "name": name},
                facts={},
            )
        except BalaiError:
            continue
        serials.append(doc.serial)
    assert serials == [1, 2, 3, 4]


ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgis"))


@pytest.fixture
def regions_loaded(transactional_db):
    """A transactional test may start from an emptied database: load again."""
    call_command("load_regions", verbosity=0, stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_threads_on_postgresql_get_distinct_consecutive_serials(
    regions_loaded, root_key, desa_head, desa_clerk, actor_of, subject
):
    assert connection.vendor == "postgresql"
    office = Office.objects.get(code=DESA)
    actor = actor_of(desa_clerk)
    threads_n, per_thread = 4, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_n)

    def work(index: int) -> None:
        try:
            barrier.wait()
            for j in range(per_thread):
                issue_document(
                    actor=actor,
                    kind="sktm",
                    office=office,
                    subject={**subject, "name": f"WARGA {index}-{j}"},
                    facts={},
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    serials = sorted(
        IssuedDocument.objects.filter(office=office, kind="sktm").values_list(
            "serial", flat=True
        )
    )
    assert serials == list(range(1, threads_n * per_thread + 1))
    numbers = IssuedDocument.objects.values_list("number", flat=True)
    assert len(set(numbers)) == threads_n * per_thread
    sequence = DocumentSequence.objects.get(office=office, kind="sktm")
    assert sequence.last_serial == threads_n * per_thread
