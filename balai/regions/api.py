"""Public API of the region hierarchy."""

from django.http import HttpRequest
from ninja import Query, Router, Schema

from balai.core.errors import BalaiError
from balai.regions import selectors
from balai.regions.models import RegionLevel

router = Router(tags=["regions"])


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None
    postal_code: str


class RegionList(Schema):
    count: int
    items: list[RegionOut]


class RegionFilter(Schema):
    level: str | None = None
    parent: str | None = None


@router.get("", response=RegionList, auth=None)
def list_regions(request: HttpRequest, filters: Query[RegionFilter]):
    """List regions, by level (kecamatan, desa, kelurahan) and parent code."""
    if filters.level and filters.level not in RegionLevel.values:
        raise BalaiError(
            "Tingkat wilayah harus salah satu dari: "
            + ", ".join(RegionLevel.values)
            + ".",
            code="level_invalid",
            status_code=422,
        )
    rows = selectors.regions(level=filters.level, parent=filters.parent).values(
        "code", "name", "level", "parent_id", "postal_code"
    )
    items = [
        {
            "code": r["code"],
            "name": r["name"],
            "level": r["level"],
            "parent": r["parent_id"],
            "postal_code": r["postal_code"],
        }
        for r in rows
    ]
    return {"count": len(items), "items": items}
