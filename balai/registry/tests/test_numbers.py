"""Numbers Balai allocates itself (BALAI_NUMBERS=local)."""

import datetime
import threading

import pytest
from django.db import connection, connections, transaction

from balai.registry.models import NumberSequence
from balai.registry.nik import validate_nik
from balai.registry.numbers import allocate_kk, allocate_nik, allocate_niks

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(2001, 3, 9)


def test_nik_is_kecamatan_birth_date_and_serial():
    nik = allocate_nik(village_code="64.02.06.1001", birth_date=BIRTH, sex="P")
    assert nik == "6402064903010001"
    assert validate_nik(nik, birth_date=BIRTH, sex="P") == []
    assert allocate_nik(village_code="64.02.06.2001", birth_date=BIRTH, sex="P") == (
        "6402064903010002"
    )
    # A man born the same day has his own prefix (day without 40).
    assert allocate_nik(village_code="64.02.06.1001", birth_date=BIRTH, sex="L") == (
        "6402060903010001"
    )


def test_kk_number_is_kecamatan_issue_date_and_serial():
    day = datetime.date(2025, 1, 9)
    assert allocate_kk(village_code="64.02.12.2001", issued_on=day) == (
        "6402120901250001"
    )
    # The KK counter is not the NIK counter of a man born that day.
    assert (
        allocate_nik(village_code="64.02.12.2001", birth_date=day, sex="L")
        == "6402120901250001"
    )
    assert NumberSequence.objects.filter(prefix__startswith="K").count() == 1
    assert NumberSequence.objects.filter(prefix__startswith="N").count() == 1


def test_serials_already_in_the_register_are_skipped(make_resident):
    make_resident(
        village="64.02.06.1001", sex="P", birth_date=BIRTH, nik="6402064903010001"
    )
    make_resident(
        village="64.02.06.1001", sex="P", birth_date=BIRTH, nik="6402064903010003"
    )
    got = allocate_niks(
        village_code="64.02.06.1001", birth_date=BIRTH, sex="P", count=3
    )
    assert got == ["6402064903010002", "6402064903010004", "6402064903010005"]


def test_serials_run_out_at_9999():
    NumberSequence.objects.create(prefix="N640206090301", last_serial=9999)
    from balai.core.errors import BalaiError

    with pytest.raises(BalaiError) as exc:
        allocate_nik(village_code="64.02.06.1001", birth_date=BIRTH, sex="L")
    assert exc.value.code == "serial_exhausted"


@pytest.mark.postgres
def test_concurrent_allocations_never_collide():
    """Eight connections allocate from one prefix at once: all numbers differ."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers anyway)")
    prefix = "N640206090301"
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work():
        try:
            barrier.wait()
            for _ in range(5):
                with transaction.atomic():
                    results.append(
                        allocate_nik(
                            village_code="64.02.06.1001", birth_date=BIRTH, sex="L"
                        )
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def cleanup():
        NumberSequence.objects.filter(prefix=prefix).delete()
        connections.close_all()

    cleaner = threading.Thread(target=cleanup)
    cleaner.start()
    cleaner.join()
    assert not errors, errors
    assert len(results) == 40
    assert len(set(results)) == 40
    assert sorted(int(r[-4:]) for r in results) == list(range(1, 41))
