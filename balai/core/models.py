"""Base models, the change log that sync ships, and idempotency records."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from balai.core.ids import new_id


class TimestampedModel(models.Model):
    """A record with a UUIDv7 key made where it is born, and aware timestamps."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)

    class Meta:
        abstract = True


class OwnedModel(TimestampedModel):
    """A record with one owning office: only the node serving it may change it."""

    owner_office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor pemilik"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        abstract = True


class NodeState(models.Model):
    """This node's identity and change-log counter: one row per node name."""

    node = models.CharField(max_length=32, primary_key=True)
    epoch = models.PositiveIntegerField(default=1)
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.node} (epoch {self.epoch}, seq {self.last_seq})"


class ChangeOp(models.TextChoices):
    UPSERT = "upsert", _("simpan")
    DELETE = "delete", _("hapus")


class ChangeRecord(models.Model):
    """One change to one record, numbered per node by (epoch, seq), for sync."""

    id = models.BigAutoField(primary_key=True)
    node = models.CharField(max_length=32)
    epoch = models.PositiveIntegerField()
    seq = models.PositiveBigIntegerField()
    model = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    op = models.CharField(max_length=8, choices=ChangeOp.choices)
    # The row as the change left it (every concrete field by attname); `{}`
    # for a delete. SQL NULL on an upsert: a change record "by reference"
    # (the regency's bulk path, decision 0012): sync sends the record's
    # current row instead (`balai.sync.routing.fill_by_reference`).
    payload = models.JSONField(default=dict, null=True)
    # Routing for pulls: which office owns the record and where it lives.
    office_code = models.CharField(max_length=32, blank=True, default="")
    region_code = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # Set by the regency when it applies the change: the one order all pull in.
    global_seq = models.PositiveBigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "epoch", "seq"], name="core_change_node_epoch_seq"
            )
        ]
        indexes = [
            models.Index(fields=["model", "object_id"]),
            # Regency rows written by the COPY path, not yet given a global
            # sequence (balai.sync stamps them, the oldest first, before
            # serving a pull).
            models.Index(
                fields=["node", "seq"],
                condition=models.Q(global_seq__isnull=True),
                name="core_change_unstamped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node}/{self.epoch}/{self.seq} {self.op} {self.model}"


class IdempotencyRecord(models.Model):
    """A caller-supplied key and the result of the write it first made."""

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=128)
    action = models.CharField(max_length=96)
    actor = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)
    result_model = models.CharField(max_length=64, blank=True, default="")
    result_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["action", "actor", "key"], name="core_idempotency_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.key}"


class ScheduledJob(models.Model):
    """One periodic job and when it runs next: the scheduler's shared memory.

    The scheduler claims a due run by moving `next_run_at` forward with a
    compare-and-swap update, so a second scheduler started by mistake finds
    nothing to claim instead of enqueueing the same run twice.
    """

    name = models.CharField(_("nama"), max_length=96, primary_key=True)
    interval_seconds = models.PositiveIntegerField(_("selang (detik)"), default=0)
    next_run_at = models.DateTimeField(_("jadwal berikutnya"))
    last_run_at = models.DateTimeField(_("terakhir dijalankan"), null=True, blank=True)
    last_result_id = models.CharField(max_length=64, blank=True, default="")
    runs = models.PositiveIntegerField(_("jumlah dijalankan"), default=0)

    class Meta:
        verbose_name = _("tugas terjadwal")
        verbose_name_plural = _("tugas terjadwal")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (berikutnya {self.next_run_at:%Y-%m-%d %H:%M})"
