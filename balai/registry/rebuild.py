"""Rebuild the register from its events and compare with what is stored.

Every resident and KK is folded from its own events with the same
`apply_event` the actions use; the KK's head and activity are derived from
the projected members. Any stored value that differs, any record whose
events cannot be folded, and any record without events is a `Difference`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from balai.registry.events import (
    BrokenHistory,
    EventNotAllowed,
    derive_family,
)
from balai.registry.events import fold as fold_events
from balai.registry.models import Family, LifeEvent, Resident
from balai.registry.projection import Offices, family_row, resident_row

CHUNK = 5000


@dataclass
class Difference:
    """A stored record that is not the projection of its events."""

    model: str  # "resident" or "family"
    object_id: uuid.UUID
    # field -> (stored, projected)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # Why the events could not be folded (nothing to repair from), if so.
    problem: str = ""
    # The projected values, for a repair.
    expected: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        what = "penduduk" if self.model == "resident" else "KK"
        if self.problem:
            return f"{what} {self.object_id}: {self.problem}"
        return (
            f"{what} {self.object_id}: kolom berbeda: {', '.join(sorted(self.fields))}"
        )


def _chunks(model, names: list[str]) -> Iterator[list[dict[str, Any]]]:
    last = None
    while True:
        qs = model.objects.order_by("pk")
        if last is not None:
            qs = qs.filter(pk__gt=last)
        rows = list(qs.values(*names)[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


def _events_by(subject: str, ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    lookup = {f"{subject}_id__in": ids}
    if subject == "family":
        lookup["resident__isnull"] = True
    grouped: dict[uuid.UUID, list] = defaultdict(list)
    for row in (
        LifeEvent.objects.filter(**lookup)
        .order_by(f"{subject}_id", "seq")
        .values(
            "id", "kind", "seq", "occurred_on", "data", "resident_id", f"{subject}_id"
        )
    ):
        grouped[row[f"{subject}_id"]].append(SimpleNamespace(**row))
    return grouped


def _fold(events: list) -> tuple[Any, str]:
    if not events:
        return None, "tidak ada peristiwa: data tanpa riwayat"
    try:
        return fold_events(events), ""
    except (EventNotAllowed, BrokenHistory) as exc:
        return None, f"riwayat peristiwa tidak dapat diproyeksikan: {exc}"


def _compare(stored: dict[str, Any], expected: dict[str, Any]) -> dict:
    return {
        name: (stored.get(name), value)
        for name, value in expected.items()
        if stored.get(name) != value
    }


def check() -> list[Difference]:
    """Return every difference between the stored register and its events."""
    offices = Offices()
    differences: list[Difference] = []
    members: dict[uuid.UUID, list[tuple]] = defaultdict(list)
    resident_names = [
        f.attname for f in Resident._meta.concrete_fields if f.attname != "updated_at"
    ]
    for rows in _chunks(Resident, resident_names):
        events = _events_by("resident", [r["id"] for r in rows])
        for row in rows:
            state, problem = _fold(events.get(row["id"], []))
            if state is None:
                differences.append(Difference("resident", row["id"], problem=problem))
                # Keep the stored membership so the KK check stays meaningful.
                if row["family_id"]:
                    members[row["family_id"]].append(
                        (row["id"], row["shdk"], row["status"])
                    )
                continue
            expected = resident_row(state, offices)
            if state.family_id:
                members[state.family_id].append((row["id"], state.shdk, state.status))
            changed = _compare(row, expected)
            if changed:
                differences.append(
                    Difference("resident", row["id"], changed, expected=expected)
                )
    family_names = [
        f.attname for f in Family._meta.concrete_fields if f.attname != "updated_at"
    ]
    for rows in _chunks(Family, family_names):
        events = _events_by("family", [r["id"] for r in rows])
        for row in rows:
            state, problem = _fold(events.get(row["id"], []))
            if state is None:
                differences.append(Difference("family", row["id"], problem=problem))
                continue
            derived = derive_family(members.get(row["id"], ()))
            expected = {
                **family_row(state, offices),
                "head_id": derived.head_id,
                "is_active": derived.is_active,
            }
            changed = _compare(row, expected)
            if changed:
                differences.append(
                    Difference("family", row["id"], changed, expected=expected)
                )
    return differences
