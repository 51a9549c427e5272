"""How services sync (balai.sync).

- The catalogue (services, their history, local holidays) is reference data
  from the regency.
- An application belongs to its owning office and is written by the node
  serving it; a node may create one it files at its own counter for a
  regency office (the owner is then that office). Its subjects, workflow
  events, alerts and survey follow the application and stand or fall with
  it. A workflow step numbered like one the regency already holds is a
  conflict (unique (application, seq)).
- An application number already taken at the regency (a node restored from
  a backup, or the regency numbering an online application for the same
  counter) gets the next free number, shown as a "renumbered" notice.
- Uploaded files travel as content-addressed blobs; drafts and one-time
  codes stay where they were made.
- Application counters are not synced: each side moves its counter past
  every number it learns of, so a number is never handed out twice.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from balai.sync.framework import LOCAL, OWNED, REFERENCE, ModelSpec

APPLICATION = "services.application"


def _app_owner(values: dict[str, Any], unit: Any) -> str | None:
    return unit.offices.region_of_id(
        values.get("owner_office_id") or values.get("filed_office_id")
    )


def _app_creators(values: dict[str, Any], unit: Any) -> list[str]:
    regions = [
        unit.offices.region_of_id(values.get("owner_office_id")),
        unit.offices.region_of_id(values.get("filed_office_id")),
    ]
    return [r for r in regions if r]


def _parent_regions(unit: Any, app_id: Any) -> list[str]:
    if app_id is None:
        return []
    current = unit.current(APPLICATION, app_id)
    if current is not None:
        region = _app_owner(current, unit)
        return [region] if region else []
    final = unit.final(APPLICATION, app_id)
    return _app_creators(final, unit) if final else []


def _child_owner(values: dict[str, Any], unit: Any) -> str | None:
    regions = _parent_regions(unit, values.get("application_id"))
    return regions[0] if regions else None


def _child_creators(values: dict[str, Any], unit: Any) -> list[str]:
    return _parent_regions(unit, values.get("application_id"))


def _app_keys(values: dict[str, Any]) -> list:
    return (
        [("app", str(values["application_id"]))] if values.get("application_id") else []
    )


def split_number(number: str) -> tuple[str, int, int] | None:
    """("MPP-64.02.12", 2026, 123) from "MPP-64.02.12-2026-000123"."""
    parts = number.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2])


def _renumber_application(unit: Any, item: Any, field: str) -> dict[str, Any] | None:
    from balai.services.actions import format_number
    from balai.services.models import Application, ApplicationCounter

    if field != "number":
        return None
    current = unit.current(APPLICATION, item.object_id)
    if current is not None and current["number"] != item.values["number"]:
        return {"number": current["number"]}
    parts = split_number(item.values["number"])
    if parts is None:
        return None
    office, year, _serial = parts
    prefix = f"{office}-{year}-"
    top = 0
    for number in Application.objects.filter(number__startswith=prefix).values_list(
        "number", flat=True
    ):
        found = split_number(number)
        if found:
            top = max(top, found[2])
    for other in unit.of_model(APPLICATION):
        found = split_number(other.values["number"]) if other.values else None
        if found and found[0] == office and found[1] == year:
            top = max(top, found[2])
    counter = ApplicationCounter.objects.filter(office_code=office, year=year).first()
    if counter is not None:
        top = max(top, counter.last_serial)
    serial = top + 1
    ApplicationCounter.objects.update_or_create(
        office_code=office, year=year, defaults={"last_serial": serial}
    )
    return {"number": format_number(office, year, serial)}


def _app_duplicate(field: str, value: Any) -> str:
    return f"Nilai {field}={value} sudah dipakai permohonan lain di kabupaten."


SPECS = [
    ModelSpec("services.service", kind=REFERENCE),
    ModelSpec("services.serviceversion", kind=REFERENCE),
    ModelSpec("services.localholiday", kind=REFERENCE),
    ModelSpec(
        APPLICATION,
        kind=OWNED,
        movable=True,
        owner=_app_owner,
        creators=_app_creators,
        group_keys=lambda v: [("app", str(v["id"]))],
        renumber=_renumber_application,
        duplicate_message=_app_duplicate,
    ),
    ModelSpec(
        "services.applicationsubject",
        kind=OWNED,
        owner=_child_owner,
        creators=_child_creators,
        group_keys=_app_keys,
    ),
    ModelSpec(
        "services.applicationevent",
        kind=OWNED,
        owner=_child_owner,
        creators=_child_creators,
        group_keys=_app_keys,
    ),
    ModelSpec(
        "services.blob",
        kind=OWNED,
        owner=lambda v, unit: None,
        blob_refs=lambda v: [("attachment", v["sha256"])],
    ),
    ModelSpec(
        "services.attachment",
        kind=OWNED,
        movable=True,
        owner=_child_owner,
        creators=_child_creators,
        group_keys=_app_keys,
    ),
    ModelSpec("services.applicationdraft", kind=LOCAL),
    ModelSpec(
        "services.slaalert",
        kind=OWNED,
        owner=_child_owner,
        creators=_child_creators,
        group_keys=_app_keys,
    ),
    ModelSpec(
        "services.surveyresponse",
        kind=OWNED,
        owner=_child_owner,
        creators=_child_creators,
        group_keys=_app_keys,
    ),
    ModelSpec("services.citizenotp", kind=LOCAL),
]


# --- counters ----------------------------------------------------------------------


def _bump_counters(rows: list[dict[str, Any]]) -> None:
    from balai.services.models import ApplicationCounter

    top: dict[tuple[str, int], int] = defaultdict(int)
    for row in rows:
        parts = split_number(row.get("number") or "")
        if parts:
            key = (parts[0], parts[1])
            top[key] = max(top[key], parts[2])
    for (office, year), serial in top.items():
        counter, created = ApplicationCounter.objects.get_or_create(
            office_code=office, year=year, defaults={"last_serial": serial}
        )
        if not created and counter.last_serial < serial:
            ApplicationCounter.objects.filter(
                pk=counter.pk, last_serial__lt=serial
            ).update(last_serial=serial)


def after_write(unit: Any) -> None:
    _bump_counters(
        [
            i.values
            for i in unit.items
            if i.alive and i.model == APPLICATION and i.values
        ]
    )


def node_after_apply(rows_by_model: dict[str, list[dict[str, Any]]]) -> None:
    _bump_counters(rows_by_model.get(APPLICATION, []))


def blob_holders(kind: str, sha256: str) -> list[tuple[str, str]]:
    """Records that refer to an uploaded file (who may fetch it)."""
    from balai.services.models import Attachment

    if kind != "attachment":
        return []
    holders = [("services.blob", sha256)]
    holders += [
        ("services.attachment", str(pk))
        for pk in Attachment.objects.filter(blob_id=sha256).values_list(
            "pk", flat=True
        )[:50]
    ]
    return holders
