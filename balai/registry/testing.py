"""Helpers for tests of any app that need residents: built through the real
register actions, never by saving models directly."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from balai.core.actors import Actor
from balai.registry.models import Family, Resident
from balai.registry.nik import date_part
from balai.registry.reference import Religion, Shdk

AUTO = "auto"
_serials = itertools.count(1)


def made_up_nik(village: str, birth_date: datetime.date, sex: str) -> str:
    """Return a valid NIK for a test person (serials count down from 9999,
    far from the low serials real people hold)."""
    serial = 9999 - (next(_serials) % 9000)
    return (
        "".join(village.split(".")[:3]) + date_part(birth_date, sex) + f"{serial:04d}"
    )


def make_resident(
    actor: Actor,
    *,
    village: str = "64.02.06.1001",
    name: str | None = None,
    sex: str = "L",
    birth_date: datetime.date = datetime.date(1990, 1, 1),
    religion: int = Religion.ISLAM,
    nik: str | None = AUTO,
    family: Family | None = None,
    shdk: int | None = None,
    dusun: str = "",
    rt: str = "001",
    rw: str = "",
    street: str = "",
    kk_number: str | None = None,
    **person: Any,
) -> Resident:
    """Register one resident. Without `family` he heads a KK of his own
    (bulk registration, as data entry); with it he joins that KK as `shdk`
    (an arrival). `nik=AUTO` makes up a valid NIK; `nik=None` leaves him
    awaiting one from SIAK. Other keywords are `Person` fields."""
    from balai.registry.actions import (
        Address,
        FamilyInput,
        Member,
        Person,
        register_arrival,
        register_residents_bulk,
    )

    if nik == AUTO:
        nik = made_up_nik(family.village_id if family else village, birth_date, sex)
    who = Person(
        name=name or f"Penduduk Uji {next(_serials)}",
        sex=sex,
        birth_date=birth_date,
        religion=religion,
        nik=nik,
        **person,
    )
    if family is not None:
        return register_arrival(
            actor=actor,
            person=who,
            occurred_on=datetime.date.today(),
            origin="Kota Samarinda",
            to_family=family,
            shdk=shdk or Shdk.FAMILI_LAIN,
        )
    result = register_residents_bulk(
        actor=actor,
        families=[
            FamilyInput(
                address=Address(
                    village=village, dusun=dusun, rt=rt, rw=rw, street=street
                ),
                members=[Member(person=who, shdk=shdk or Shdk.KEPALA_KELUARGA)],
                kk_number=kk_number,
            )
        ],
    )
    return Resident.objects.select_related("family", "owner_office").get(
        pk=result.resident_ids[0]
    )
