"""Reads of regions and offices (public reference data: no scope needed)."""

from django.db.models import Prefetch, QuerySet

from balai.regions.models import Office, Region, RegionLevel


def regions(*, level: str | None = None, parent: str | None = None) -> QuerySet[Region]:
    qs = Region.objects.all().order_by("code")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent_id=parent)
    return qs


def kecamatan_with_villages() -> QuerySet[Region]:
    villages = Region.objects.filter(
        level__in=[RegionLevel.DESA, RegionLevel.KELURAHAN]
    ).order_by("code")
    return (
        Region.objects.filter(level=RegionLevel.KECAMATAN)
        .order_by("code")
        .prefetch_related(Prefetch("children", queryset=villages, to_attr="villages"))
    )


def offices(*, kind: str | None = None) -> QuerySet[Office]:
    qs = Office.objects.select_related("region").filter(is_active=True)
    return qs.filter(kind=kind) if kind else qs


def office_for_region(*, region_code: str) -> Office | None:
    """Return the office that serves a region: the MPP for a kecamatan."""
    prefix = "MPP" if region_code.count(".") == 2 else None
    if prefix:
        return Office.objects.filter(code=f"MPP-{region_code}").first()
    return Office.objects.filter(region_id=region_code).first()
