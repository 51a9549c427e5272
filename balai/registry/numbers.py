"""New NIK and KK numbers: awaited from SIAK, or allocated by Balai itself.

With ``BALAI_NUMBERS = "siak"`` (the default) Balai never makes a number: a
newborn or a newcomer without a NIK is registered "awaiting NIK" and an
officer later records the number SIAK issued. With ``"local"`` (demo, tests,
installations without SIAK) Balai allocates them:

- NIK = kecamatan code of the village + DDMMYY of birth (day + 40 for women)
  + serial from 0001;
- KK  = kecamatan code + issue date DDMMYY + serial from 0001.

Allocation is collision-free under concurrency: the `NumberSequence` row of
the prefix is locked (``select_for_update``) for the rest of the caller's
transaction, and serials already present in the register (loaded from SIAK
or typed in) are skipped.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from balai.core.errors import BalaiError
from balai.registry.models import Family, NumberSequence, Resident
from balai.registry.nik import date_part

MAX_SERIAL = 9999


def local_numbers() -> bool:
    """Tell whether Balai allocates NIK and KK numbers itself."""
    return settings.BALAI_NUMBERS == "local"


def kecamatan_digits(region_code: str) -> str:
    """Return the 6 NIK digits of the kecamatan of a region code (64.02.06.1001)."""
    parts = region_code.split(".")
    if len(parts) < 3:
        raise BalaiError(
            f"Kode wilayah {region_code} bukan kode kecamatan atau desa.",
            code="region_invalid",
        )
    return "".join(parts[:3])


def allocate_nik(*, village_code: str, birth_date: datetime.date, sex: str) -> str:
    """Allocate the next free NIK for a person registered in `village_code`."""
    prefix = kecamatan_digits(village_code) + date_part(birth_date, sex)
    return _allocate("N", prefix, Resident, "nik", 1)[0]


def allocate_niks(
    *, village_code: str, birth_date: datetime.date, sex: str, count: int
) -> list[str]:
    """Allocate `count` NIKs sharing one prefix under one lock (bulk paths)."""
    prefix = kecamatan_digits(village_code) + date_part(birth_date, sex)
    return _allocate("N", prefix, Resident, "nik", count)


def allocate_kk(*, village_code: str, issued_on: datetime.date) -> str:
    """Allocate the next free KK number issued in the kecamatan of `village_code`."""
    prefix = kecamatan_digits(village_code) + issued_on.strftime("%d%m%y")
    return _allocate("K", prefix, Family, "kk_number", 1)[0]


def _locked_sequence(key: str) -> NumberSequence:
    """Return the sequence row for `key`, locked until the transaction ends."""
    for _attempt in range(3):
        row = NumberSequence.objects.select_for_update().filter(prefix=key).first()
        if row is not None:
            return row
        try:
            # A concurrent first use of the same prefix fails here and retries,
            # then waits on the row lock the winner holds.
            with transaction.atomic():
                NumberSequence.objects.create(prefix=key, last_serial=0)
        except IntegrityError:
            continue
    return NumberSequence.objects.select_for_update().get(prefix=key)


def _allocate(kind: str, prefix: str, model, field: str, count: int) -> list[str]:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Numbers are allocated inside an action's transaction.")
    row = _locked_sequence(kind + prefix)
    # Serials already in the register: loaded from SIAK, typed in, or from a
    # time before this counter existed. A range keeps the lookup on the index.
    taken = {
        value[12:]
        for value in model.objects.filter(
            **{f"{field}__gte": prefix + "0000", f"{field}__lte": prefix + "9999"}
        ).values_list(field, flat=True)
    }
    serial = row.last_serial
    numbers: list[str] = []
    while len(numbers) < count:
        serial += 1
        if serial > MAX_SERIAL:
            raise BalaiError(
                f"Nomor urut untuk awalan {prefix} sudah habis (9999).",
                code="serial_exhausted",
            )
        text = f"{serial:04d}"
        if text not in taken:
            numbers.append(prefix + text)
    row.last_serial = serial
    row.save(update_fields=["last_serial"])
    return numbers
