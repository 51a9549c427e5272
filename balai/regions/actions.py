"""Writes to regions and offices: the Kemendagri loader and the office set."""

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from balai.audit.actions import record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.regions.models import Office, OfficeKind, Region, RegionLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
REGIONS_CSV = DATA_DIR / "wilayah_kukar.csv"
POINTS_CSV = DATA_DIR / "kukar_desa_titik.csv"

CODE_PATTERNS = {
    RegionLevel.KABUPATEN: re.compile(r"^\d{2}\.\d{2}$"),
    RegionLevel.KECAMATAN: re.compile(r"^\d{2}\.\d{2}\.\d{2}$"),
    RegionLevel.DESA: re.compile(r"^\d{2}\.\d{2}\.\d{2}\.2\d{3}$"),
    RegionLevel.KELURAHAN: re.compile(r"^\d{2}\.\d{2}\.\d{2}\.1\d{3}$"),
}


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def read_region_rows(path: Path, *, regency: str) -> list[dict[str, str]]:
    """Read and validate the Kemendagri CSV; raise with every bad line listed."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    wanted = [
        r for r in rows if r["kode"] == regency or r["kode"].startswith(regency + ".")
    ]
    if not wanted:
        raise BalaiError(
            f"Berkas wilayah tidak memuat kabupaten {regency}.", code="regency_missing"
        )
    codes = {r["kode"] for r in wanted}
    errors = []
    for line, row in enumerate(rows, start=2):
        if row not in wanted:
            continue
        code, level, parent = row["kode"], row["tingkat"], row["kode_induk"]
        pattern = CODE_PATTERNS.get(level)
        if pattern is None:
            errors.append(f"baris {line}: tingkat '{level}' tidak dikenal")
            continue
        if not pattern.match(code):
            errors.append(f"baris {line}: kode {code} tidak sesuai tingkat {level}")
        if parent != code.rsplit(".", 1)[0]:
            errors.append(f"baris {line}: induk {parent} bukan induk kode {code}")
        elif level != RegionLevel.KABUPATEN and parent not in codes:
            errors.append(f"baris {line}: induk {parent} tidak ada dalam berkas")
        if level in (RegionLevel.DESA, RegionLevel.KELURAHAN) and not re.fullmatch(
            r"\d{5}", row["kode_pos"] or ""
        ):
            errors.append(f"baris {line}: kode pos {row['kode_pos']!r} tidak valid")
        if not row["nama"].strip():
            errors.append(f"baris {line}: nama kosong")
    if errors:
        raise BalaiError(
            "Berkas wilayah tidak valid: " + "; ".join(errors[:20]),
            code="regions_invalid",
            extra={"errors": errors},
        )
    # Parents before children, so foreign keys always point at a saved row.
    return sorted(wanted, key=lambda r: (r["kode"].count("."), r["kode"]))


def _read_points(path: Path) -> dict[str, tuple[Decimal, Decimal]]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {
            r["kode"]: (Decimal(r["lat"]), Decimal(r["lng"]))
            for r in csv.DictReader(fh)
        }


@action("regions.load")
def load_regions(
    *, actor: Actor, path: Path = REGIONS_CSV, points_path: Path = POINTS_CSV
) -> LoadResult:
    """Load the regency's regions from the Kemendagri CSV; safe to run again."""
    actor.require_role("sysadmin")
    regency = settings.BALAI_REGENCY
    rows = read_region_rows(path, regency=regency)
    points = _read_points(points_path)
    existing = {r.code: r for r in Region.objects.all()}
    result = LoadResult()
    changed: list[Region] = []
    for row in rows:
        lat, lng = points.get(row["kode"], (None, None))
        wanted = {
            "name": row["nama"].strip(),
            "level": row["tingkat"],
            "parent_id": None
            if row["tingkat"] == RegionLevel.KABUPATEN
            else row["kode_induk"],
            "postal_code": row["kode_pos"] or "",
            "lat": lat,
            "lng": lng,
        }
        region = existing.get(row["kode"])
        if region is None:
            region = Region(code=row["kode"], **wanted)
            region.save()
            result.created += 1
            changed.append(region)
            continue
        if any(getattr(region, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(region, k, v)
            region.save()
            result.updated += 1
            changed.append(region)
        else:
            result.unchanged += 1
    if changed:
        record_many(
            actor=actor,
            targets=changed,
            details=[{"code": r.code, "name": r.name} for r in changed],
        )
    return result


def _short(name: str) -> str:
    """Make a letter-number abbreviation of a place name ("Bukit Biru" -> "BB")."""
    words = re.findall(r"[A-Za-z]+", name)
    if len(words) == 1:
        word = words[0].upper()
        return word[0] + "".join(c for c in word[1:] if c not in "AIUEO")[:2]
    return "".join(w[0] for w in words).upper()[:4]


REGENCY_OFFICES = [
    (
        "DISDUKCAPIL",
        "Dinas Kependudukan dan Pencatatan Sipil",
        "DISDUKCAPIL",
    ),
    (
        "DPMPTSP",
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
        "DPMPTSP",
    ),
    ("DISKOMINFO", "Dinas Komunikasi dan Informatika", "DISKOMINFO"),
    ("INSPEKTORAT", "Inspektorat Daerah", "ITDA"),
]


@action("regions.offices.ensure")
def ensure_offices(*, actor: Actor) -> LoadResult:
    """Make sure every kecamatan has its MPP, every village its office, and the
    regency its agencies; safe to run again."""
    actor.require_role("sysadmin")
    regency = Region.objects.filter(code=settings.BALAI_REGENCY).first()
    if regency is None:
        raise BalaiError(
            "Muat data wilayah terlebih dahulu (balai load_regions).", code="no_regions"
        )
    seat = regency.name
    wanted: list[dict] = []
    for code, name, short in REGENCY_OFFICES:
        wanted.append(
            {
                "code": code,
                "name": f"{name} Kabupaten {seat}",
                "short_name": short,
                "kind": OfficeKind.REGENCY,
                "region": regency,
                "address": f"Tenggarong, Kabupaten {seat}",
            }
        )
    for region in Region.objects.exclude(level=RegionLevel.KABUPATEN).select_related(
        "parent"
    ):
        if region.level == RegionLevel.KECAMATAN:
            wanted.append(
                {
                    "code": f"MPP-{region.code}",
                    "name": f"Mal Pelayanan Publik Kecamatan {region.name}",
                    "short_name": f"KEC-{_short(region.name)}",
                    "kind": OfficeKind.MPP,
                    "region": region,
                    "address": f"Kantor Kecamatan {region.name}, Kabupaten {seat}",
                }
            )
        else:
            is_desa = region.level == RegionLevel.DESA
            label = "Desa" if is_desa else "Kelurahan"
            wanted.append(
                {
                    "code": f"{'DESA' if is_desa else 'KEL'}-{region.code}",
                    "name": f"Kantor {label} {region.name}",
                    "short_name": f"{'DS' if is_desa else 'KEL'}-{_short(region.name)}",
                    "kind": OfficeKind.DESA if is_desa else OfficeKind.KELURAHAN,
                    "region": region,
                    "address": (
                        f"{'Desa' if is_desa else 'Kelurahan'} {region.name}, "
                        f"Kecamatan {region.parent.name}"
                    ),
                }
            )
    existing = {o.code: o for o in Office.objects.all()}
    result = LoadResult()
    changed = []
    for spec in wanted:
        office = existing.get(spec["code"])
        if office is None:
            office = Office.objects.create(**spec)
            result.created += 1
            changed.append(office)
        else:
            result.unchanged += 1
    if changed:
        record_many(
            actor=actor, targets=changed, details=[{"code": o.code} for o in changed]
        )
    return result
