"""How the counter queue syncs (balai.sync): lanes, counters, tickets and
their events, appointment settings and appointments belong to the MPP's
office, written by the node serving it.

A ticket number already taken at the regency for the same lane and day (a
node restored from a backup handed out the same numbers again) is given the
next free one, shown as a "renumbered" notice: a past day's queue is history,
and both visits are kept.
"""

from __future__ import annotations

from typing import Any

from balai.sync.framework import OWNED, ModelSpec


def _office(values: dict[str, Any], unit: Any) -> str | None:
    return unit.offices.region_of_id(values.get("office_id"))


def _ticket_regions(unit: Any, ticket_id: Any) -> list[str]:
    current = unit.current("antrian.ticket", ticket_id)
    row = current or unit.final("antrian.ticket", ticket_id)
    if row is None:
        return []
    region = unit.offices.region_of_id(row.get("office_id"))
    return [region] if region else []


def _event_owner(values: dict[str, Any], unit: Any) -> str | None:
    regions = _ticket_regions(unit, values["ticket_id"])
    return regions[0] if regions else None


def _renumber_ticket(unit: Any, item: Any, field: str) -> dict[str, Any] | None:
    from django.db.models import Max

    from balai.antrian.models import QueueLane, Ticket

    values = item.values
    current = unit.current("antrian.ticket", item.object_id)
    if current is not None and current["seq"] != values["seq"]:
        return {"seq": current["seq"], "number": current["number"]}
    lane = QueueLane.objects.filter(pk=values["issued_lane_id"]).first()
    if lane is None:
        return None
    top = (
        Ticket.objects.filter(issued_lane_id=lane.pk, day=values["day"]).aggregate(
            m=Max("seq")
        )["m"]
        or 0
    )
    for other in unit.of_model("antrian.ticket"):
        v = other.values
        if v and v["issued_lane_id"] == lane.pk and v["day"] == values["day"]:
            top = max(top, v["seq"])
    seq = top + 1
    return {"seq": seq, "number": f"{lane.prefix}-{seq:03d}"}


SPECS = [
    ModelSpec("antrian.queuelane", kind=OWNED, owner=_office),
    ModelSpec("antrian.counter", kind=OWNED, owner=_office, m2m=("lanes",)),
    ModelSpec(
        "antrian.ticket",
        kind=OWNED,
        owner=_office,
        group_keys=lambda v: [("ticket", str(v["id"]))],
        renumber=_renumber_ticket,
    ),
    ModelSpec(
        "antrian.ticketevent",
        kind=OWNED,
        owner=_event_owner,
        creators=lambda v, unit: _ticket_regions(unit, v["ticket_id"]),
        group_keys=lambda v: [("ticket", str(v["ticket_id"]))],
    ),
    ModelSpec("antrian.appointmentsettings", kind=OWNED, owner=_office),
    # After tickets: a checked-in appointment points at its ticket, and the
    # two travel together.
    ModelSpec(
        "antrian.appointment",
        kind=OWNED,
        owner=_office,
        group_keys=lambda v: (
            [("ticket", str(v["ticket_id"]))] if v.get("ticket_id") else []
        ),
    ),
]
