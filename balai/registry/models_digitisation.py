"""Digitisation records: import jobs and their report lines, reconciliation
runs with SIAK and their items, and candidate duplicate pairs.

These are working records about the register, not the register itself: the
residents, KKs and events an import or a decision writes are written by the
register's own actions (see docs/decisions/0009-digitisation.md).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from balai.core.models import TimestampedModel

__all__ = [
    "DuplicatePair",
    "ImportIssue",
    "ImportJob",
    "ImportLayout",
    "IssueOutcome",
    "ItemKind",
    "ItemStatus",
    "JobStatus",
    "PairStatus",
    "ReconcileItem",
    "ReconcileRun",
]


class ImportLayout(models.TextChoices):
    SIAK = "siak", _("Ekspor SIAK")
    OPENSID = "opensid", _("Impor penduduk OpenSID")
    BALAI = "balai", _("Templat Balai")


class JobStatus(models.TextChoices):
    PENDING = "menunggu", _("Menunggu")
    RUNNING = "berjalan", _("Berjalan")
    DONE = "selesai", _("Selesai")
    FAILED = "gagal", _("Gagal")


class ImportJob(TimestampedModel):
    """One file imported into the register, batch after batch.

    A rerun of the same file (same SHA-256, layout, village and scope) finds
    this row: committed batches are skipped, the rest is imported; a finished
    job is not run again.
    """

    sha256 = models.CharField(max_length=64)
    layout = models.CharField(_("format"), max_length=10, choices=ImportLayout.choices)
    # The desa/kelurahan given on import (OpenSID files name no village).
    village_code = models.CharField(max_length=13, blank=True, default="")
    # The actor's scope when the job was made ("*" for the whole regency).
    scope_key = models.CharField(max_length=255, default="*")
    dry_run = models.BooleanField(_("uji saja"), default=False)
    file_name = models.CharField(_("nama berkas"), max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    # Where a file uploaded through a page waits for the background task.
    stored_path = models.CharField(max_length=500, blank=True, default="")
    batch_size = models.PositiveIntegerField(default=5000)
    pipeline_version = models.PositiveSmallIntegerField(default=1)
    batches_committed = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(_("diimpor"), default=0)
    flagged = models.PositiveIntegerField(_("ditandai"), default=0)
    rejected = models.PositiveIntegerField(_("ditolak"), default=0)
    duplicates = models.PositiveIntegerField(_("ganda"), default=0)
    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    error = models.TextField(blank=True, default="")
    started_by_id = models.CharField(max_length=64)
    started_by = models.CharField(_("dijalankan oleh"), max_length=150)
    office_code = models.CharField(max_length=32, blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("impor penduduk")
        verbose_name_plural = _("impor penduduk")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sha256", "layout", "village_code", "scope_key"],
                condition=Q(dry_run=False),
                name="registry_import_once_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"impor {self.file_name} ({self.get_status_display()})"

    def sync_route(self) -> tuple[str, str]:
        return self.office_code, ""

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == JobStatus.DONE else 0
        return min(100, int(100 * self.rows_done / self.rows_total))


class IssueOutcome(models.TextChoices):
    REJECTED = "ditolak", _("Ditolak")
    DUPLICATE = "ganda", _("Ganda, tidak diimpor")
    FLAGGED = "ditandai", _("Diimpor dan ditandai")
    NOTE = "catatan", _("Diimpor dengan catatan")


class ImportIssue(models.Model):
    """One line of an import's report: a row not imported, or imported with a
    flag or a note, with its line, column and reason."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    batch = models.PositiveIntegerField()
    line = models.PositiveIntegerField(_("baris"))
    column = models.CharField(_("kolom"), max_length=64, blank=True, default="")
    outcome = models.CharField(max_length=10, choices=IssueOutcome.choices)
    code = models.CharField(max_length=40)
    message = models.TextField(_("alasan"))
    value = models.CharField(_("nilai"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "line"])]

    def __str__(self) -> str:
        return f"baris {self.line}: {self.message}"


class ReconcileRun(TimestampedModel):
    """One comparison of a SIAK export with the register."""

    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(_("nama berkas"), max_length=255)
    stored_path = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    error = models.TextField(blank=True, default="")
    rows = models.PositiveIntegerField(default=0)
    rows_unreadable = models.PositiveIntegerField(default=0)
    only_siak = models.PositiveIntegerField(_("hanya di SIAK"), default=0)
    only_balai = models.PositiveIntegerField(_("hanya di Balai"), default=0)
    differences = models.PositiveIntegerField(_("beda data"), default=0)
    # The desa/kelurahan the export covers: only those are compared.
    villages = models.JSONField(default=list)
    started_by_id = models.CharField(max_length=64)
    started_by = models.CharField(_("dijalankan oleh"), max_length=150)
    office_code = models.CharField(max_length=32, blank=True, default="")
    scope_key = models.CharField(max_length=255, default="*")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rekonsiliasi SIAK")
        verbose_name_plural = _("rekonsiliasi SIAK")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"rekonsiliasi {self.file_name}"

    def sync_route(self) -> tuple[str, str]:
        return self.office_code, ""


class ItemKind(models.TextChoices):
    ONLY_SIAK = "hanya_siak", _("Ada di SIAK, tidak ada di Balai")
    ONLY_BALAI = "hanya_balai", _("Ada di Balai, tidak ada di SIAK")
    FIELD = "beda", _("Data berbeda")


class ItemStatus(models.TextChoices):
    OPEN = "terbuka", _("Belum ditinjau")
    PROPOSED = "diusulkan", _("Diusulkan, menunggu persetujuan")
    APPLIED = "diterapkan", _("Diterapkan")
    DISMISSED = "diabaikan", _("Diabaikan")


class ReconcileItem(models.Model):
    """One difference between SIAK and the register, for an officer to review."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(
        ReconcileRun, on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(max_length=12, choices=ItemKind.choices)
    nik = models.CharField(max_length=16, blank=True, default="")
    resident = models.ForeignKey(
        "registry.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    village_code = models.CharField(max_length=13, blank=True, default="")
    field = models.CharField(_("kolom"), max_length=40, blank=True, default="")
    siak_value = models.JSONField(null=True, blank=True)
    balai_value = models.JSONField(null=True, blank=True)
    # What SIAK says about the person (for an arrival), as read from the row.
    siak_row = models.JSONField(null=True, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)
    # Whether accepting it can change the register (a correction or an
    # arrival); others are for the officer to act on through other events.
    acceptable = models.BooleanField(default=True)
    status = models.CharField(
        max_length=12, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    correction = models.ForeignKey(
        "registry.CorrectionRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["kind", "nik", "field", "id"]
        indexes = [models.Index(fields=["run", "kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.nik} {self.field}"

    def sync_route(self) -> tuple[str, str]:
        return self.run.office_code, self.village_code


class PairStatus(models.TextChoices):
    OPEN = "terbuka", _("Belum ditinjau")
    PROPOSED = "diusulkan", _("Penggabungan diusulkan")
    MERGED = "digabung", _("Digabung")
    DISTINCT = "berbeda", _("Bukan data ganda")


class DuplicatePair(TimestampedModel):
    """Two residents who may be the same person. `first` sorts before
    `second` by id, so a pair is stored once."""

    first = models.ForeignKey(
        "registry.Resident", on_delete=models.PROTECT, related_name="+"
    )
    second = models.ForeignKey(
        "registry.Resident", on_delete=models.PROTECT, related_name="+"
    )
    score = models.FloatField(_("skor"))
    # Which blocking keys met the pair and how each field scored.
    reasons = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=PairStatus.choices, default=PairStatus.OPEN
    )
    kept = models.ForeignKey(
        "registry.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    correction = models.ForeignKey(
        "registry.CorrectionRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("pasangan mungkin ganda")
        verbose_name_plural = _("pasangan mungkin ganda")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["first", "second"], name="registry_duplicate_pair_once"
            ),
            models.CheckConstraint(
                condition=Q(first__lt=models.F("second")),
                name="registry_duplicate_pair_ordered",
            ),
        ]
        indexes = [models.Index(fields=["status", "score"])]

    def __str__(self) -> str:
        return f"ganda? {self.first_id} / {self.second_id}"

    def sync_route(self) -> tuple[str, str]:
        return "", ""
