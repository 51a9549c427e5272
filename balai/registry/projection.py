"""From a projected state to the stored row: the values the fold does not
carry itself (the folded name for search, the owning office), shared by the
actions, the bulk path and the rebuild."""

from __future__ import annotations

import functools
from typing import Any

from balai.core.errors import BalaiError
from balai.regions.models import Office, OfficeKind
from balai.registry.events import (
    FamilyState,
    ResidentState,
    family_values,
    resident_values,
)
from balai.registry.names import name_key as fold_name


def mpp_code(kecamatan_code: str) -> str:
    """Return the code of the MPP office serving a kecamatan."""
    return f"MPP-{kecamatan_code}"


class Offices:
    """The MPP offices by kecamatan, read once per action or batch."""

    def __init__(self) -> None:
        self._by_kecamatan: dict[str, Office] = {
            o.region_id: o for o in Office.objects.filter(kind=OfficeKind.MPP)
        }

    def mpp(self, kecamatan_code: str) -> Office:
        office = self._by_kecamatan.get(kecamatan_code)
        if office is None:
            raise BalaiError(
                f"Kantor MPP untuk kecamatan {kecamatan_code} belum ada; "
                "jalankan balai load_regions.",
                code="office_missing",
            )
        return office


@functools.lru_cache(maxsize=16_384)
def name_key(name: str) -> str:
    """Return the folded name stored beside the name for search (the fold is
    pure, and names repeat: remembered for the bulk path, which asks twice
    for each name of a batch; the words are remembered by the fold itself,
    so a name not remembered costs little: 16,384 names, ~4 MB, where
    100,000 held ~26 MB in each writer process of an import)."""
    return fold_name(name)[:150]


def resident_row(state: ResidentState, offices: Offices) -> dict[str, Any]:
    """Return every stored value a resident's state stands for."""
    values = resident_values(state)
    values["name_key"] = name_key(state.name)
    values["owner_office_id"] = offices.mpp(state.kecamatan_code).pk
    return values


def family_row(state: FamilyState, offices: Offices) -> dict[str, Any]:
    values = family_values(state)
    values["owner_office_id"] = offices.mpp(state.kecamatan_code).pk
    return values
