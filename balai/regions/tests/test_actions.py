import csv

import pytest

from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError
from balai.core.models import ChangeRecord
from balai.regions.actions import REGIONS_CSV, ensure_offices, load_regions
from balai.regions.models import Office, OfficeKind, Region, RegionLevel

pytestmark = pytest.mark.django_db


def test_counts_match_kemendagri():
    assert Region.objects.filter(level=RegionLevel.KECAMATAN).count() == 20
    assert Region.objects.filter(level=RegionLevel.DESA).count() == 193
    assert Region.objects.filter(level=RegionLevel.KELURAHAN).count() == 44
    villages = Region.objects.filter(
        level__in=[RegionLevel.DESA, RegionLevel.KELURAHAN]
    )
    assert villages.exclude(postal_code="").count() == 237
    assert all(len(v.postal_code) == 5 for v in villages)


def test_every_kecamatan_and_village_has_an_office():
    assert Office.objects.filter(kind=OfficeKind.MPP).count() == 20
    assert (
        Office.objects.filter(kind__in=[OfficeKind.DESA, OfficeKind.KELURAHAN]).count()
        == 237
    )
    assert Office.objects.filter(kind=OfficeKind.REGENCY, code="DISDUKCAPIL").exists()
    friday = Office.objects.get(code="MPP-64.02.12").hours["fri"]
    assert len(friday) == 2, "Friday hours have a prayer break"


def test_loading_twice_changes_nothing(system_actor):
    regions_before = Region.objects.count()
    audit_before = AuditEntry.objects.count()
    changes_before = ChangeRecord.objects.count()
    result = load_regions(actor=system_actor)
    offices = ensure_offices(actor=system_actor)
    assert (result.created, result.updated, result.unchanged) == (0, 0, regions_before)
    assert offices.created == 0
    assert Region.objects.count() == regions_before
    assert AuditEntry.objects.count() == audit_before
    assert ChangeRecord.objects.count() == changes_before


def test_loader_rejects_a_village_under_an_unknown_kecamatan(tmp_path, system_actor):
    bad = tmp_path / "wilayah.csv"
    rows = list(csv.DictReader(REGIONS_CSV.open(encoding="utf-8")))
    rows.append(
        {
            "kode": "64.02.99.2001",
            "nama": "Desa Khayalan",
            "tingkat": "desa",
            "kode_induk": "64.02.99",
            "kode_pos": "75500",
        }
    )
    with bad.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(BalaiError) as exc:
        load_regions(actor=system_actor, path=bad)
    assert "64.02.99" in exc.value.message
    assert not Region.objects.filter(code="64.02.99.2001").exists()


def test_loader_needs_a_system_administrator(make_staff, actor_of):
    officer = make_staff(role="counter_officer")
    with pytest.raises(BalaiError):
        load_regions(actor=actor_of(officer))
