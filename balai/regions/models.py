"""The Kemendagri region hierarchy and the offices that serve it."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from balai.core.models import TimestampedModel


class RegionLevel(models.TextChoices):
    KABUPATEN = "kabupaten", _("Kabupaten")
    KECAMATAN = "kecamatan", _("Kecamatan")
    DESA = "desa", _("Desa")
    KELURAHAN = "kelurahan", _("Kelurahan")


class Region(models.Model):
    """A regency, kecamatan, desa or kelurahan, keyed by its Kemendagri code."""

    code = models.CharField(_("kode"), max_length=13, primary_key=True)
    name = models.CharField(_("nama"), max_length=100)
    level = models.CharField(_("tingkat"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("induk"),
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
    )
    postal_code = models.CharField(_("kode pos"), max_length=5, blank=True, default="")
    lat = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    lng = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)

    class Meta:
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "parent"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_village(self) -> bool:
        return self.level in (RegionLevel.DESA, RegionLevel.KELURAHAN)

    @property
    def kecamatan_code(self) -> str:
        """Return the code of the kecamatan this region lies in ('' above it)."""
        parts = self.code.split(".")
        return ".".join(parts[:3]) if len(parts) >= 3 else ""

    def sync_route(self) -> tuple[str, str]:
        return "", self.code


class OfficeKind(models.TextChoices):
    REGENCY = "regency", _("Perangkat daerah kabupaten")
    MPP = "mpp", _("Mal Pelayanan Publik kecamatan")
    DESA = "desa", _("Kantor desa")
    KELURAHAN = "kelurahan", _("Kantor kelurahan")


def default_office_hours() -> dict[str, list[list[str]]]:
    """Return the usual Kukar office hours, with the Friday prayer break."""
    day = [["08:00", "16:00"]]
    return {
        "mon": day,
        "tue": day,
        "wed": day,
        "thu": day,
        "fri": [["08:00", "11:30"], ["13:30", "16:30"]],
        "sat": [],
        "sun": [],
    }


class Office(TimestampedModel):
    """A place that serves citizens: an MPP, a desa or kelurahan office, a dinas."""

    code = models.CharField(_("kode kantor"), max_length=32, unique=True)
    name = models.CharField(_("nama"), max_length=150)
    short_name = models.CharField(_("singkatan"), max_length=32, blank=True, default="")
    kind = models.CharField(_("jenis"), max_length=10, choices=OfficeKind.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("wilayah"),
        on_delete=models.PROTECT,
        related_name="offices",
    )
    address = models.CharField(_("alamat"), max_length=255, blank=True, default="")
    phone = models.CharField(_("telepon"), max_length=32, blank=True, default="")
    email = models.EmailField(_("surel"), blank=True, default="")
    hours = models.JSONField(_("jam layanan"), default=default_office_hours)
    # Whether cuti bersama counts as a working day for this office's deadlines.
    works_on_cuti_bersama = models.BooleanField(default=False)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("kantor")
        verbose_name_plural = _("kantor")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        return self.region_id

    @property
    def is_regency(self) -> bool:
        return self.kind == OfficeKind.REGENCY

    def sync_route(self) -> tuple[str, str]:
        return self.code, self.region_id
