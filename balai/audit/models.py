"""The tamper-evident audit log (one hash chain per office) and the access log."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from balai.core.ids import new_id


class AuditEntry(models.Model):
    """One write, chained by hash to the previous entry of the same chain."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    chain = models.CharField(_("rantai"), max_length=64)
    seq = models.PositiveBigIntegerField(_("nomor urut"))
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    actor_id = models.CharField(_("pelaku"), max_length=64, blank=True, default="")
    actor_name = models.CharField(_("nama pelaku"), max_length=150)
    office_code = models.CharField(_("kantor"), max_length=64, blank=True, default="")
    action = models.CharField(_("aksi"), max_length=96)
    object_type = models.CharField(
        _("jenis objek"), max_length=64, blank=True, default=""
    )
    object_id = models.CharField(_("objek"), max_length=64, blank=True, default="")
    details = models.JSONField(_("rincian"), default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("entri audit")
        verbose_name_plural = _("entri audit")
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "seq"], name="audit_entry_chain_seq"
            )
        ]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


class ChainHead(models.Model):
    """The latest entry of a chain: locked by each writer to append in order."""

    chain = models.CharField(max_length=64, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq}"


class Checkpoint(models.Model):
    """A signed statement of a chain head, made on a schedule."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    chain = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField(default=timezone.now)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "seq"], name="audit_checkpoint_seq"
            )
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.chain}#{self.seq}"


class AccessPurpose(models.TextChoices):
    SERVICE = "layanan", _("pelayanan")
    VERIFICATION = "verifikasi", _("verifikasi data")
    CORRECTION = "koreksi", _("koreksi data")
    AUDIT = "audit", _("audit")
    SELF = "pribadi", _("dilihat oleh pemilik data")


class AccessLog(models.Model):
    """One read of a person's whole record (UU 27/2022: every access logged)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_name = models.CharField(_("pembaca"), max_length=150)
    office_code = models.CharField(_("kantor"), max_length=64, blank=True, default="")
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    what = models.CharField(_("yang dibaca"), max_length=64, default="record")
    purpose = models.CharField(
        _("keperluan"), max_length=16, choices=AccessPurpose.choices
    )

    class Meta:
        verbose_name = _("log akses")
        verbose_name_plural = _("log akses")
        indexes = [models.Index(fields=["subject_type", "subject_id", "at"])]

    def __str__(self) -> str:
        return f"{self.actor_name} → {self.subject_type}:{self.subject_id}"
