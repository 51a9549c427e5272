"""Message templates and the outbox of messages to send.

The outbox is node-local operational data: a message is sent by the node that
queued it, so neither templates nor messages go into the sync change log (a
message body may hold a one-time code).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from balai.core.models import OwnedModel, TimestampedModel


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", _("Surel")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("antre")
    SENDING = "sending", _("sedang dikirim")
    SENT = "sent", _("terkirim ke penyedia")
    DELIVERED = "delivered", _("diterima")
    FAILED = "failed", _("gagal")


FINAL_STATUSES = frozenset({MessageStatus.DELIVERED, MessageStatus.FAILED})
REDACTED_BODY = "[disembunyikan: pesan memuat kode rahasia]"


class MessageTemplate(TimestampedModel):
    """A message text in Indonesian for one channel, with its declared fields."""

    code = models.SlugField(_("kode"), max_length=64)
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    name = models.CharField(_("nama"), max_length=150)
    subject = models.CharField(_("subjek"), max_length=255, blank=True, default="")
    body = models.TextField(_("isi"))
    # The placeholder names the body and subject use, e.g. ["nomor", "layanan"].
    fields = models.JSONField(_("isian"), default=list)
    # A sensitive message (one-time code) is never shown in lists and its body
    # is blanked once it has left the outbox.
    is_sensitive = models.BooleanField(_("rahasia"), default=False)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("templat pesan")
        verbose_name_plural = _("templat pesan")
        ordering = ["code", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "channel"], name="notify_template_code_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.channel})"


class OutboxMessage(OwnedModel):
    """One message to one recipient, and what became of it."""

    template = models.ForeignKey(
        MessageTemplate,
        verbose_name=_("templat"),
        on_delete=models.PROTECT,
        related_name="messages",
    )
    template_code = models.CharField(_("kode templat"), max_length=64)
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("penerima"), max_length=254)
    subject = models.CharField(_("subjek"), max_length=255, blank=True, default="")
    body = models.TextField(_("isi"))
    is_sensitive = models.BooleanField(_("rahasia"), default=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MessageStatus.choices,
        default=MessageStatus.QUEUED,
    )
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    last_error = models.CharField(
        _("kesalahan terakhir"), max_length=500, blank=True, default=""
    )
    # When the next attempt is due (set while queued; None once final or sent).
    next_attempt_at = models.DateTimeField(_("percobaan berikutnya"), null=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("dikirim"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("diterima"), null=True, blank=True)
    failed_at = models.DateTimeField(_("gagal"), null=True, blank=True)
    provider = models.CharField(_("penyedia"), max_length=32, blank=True, default="")
    provider_ref = models.CharField(
        _("referensi penyedia"), max_length=128, blank=True, default=""
    )
    queued_by = models.CharField(_("diantrekan oleh"), max_length=150)

    class Meta:
        verbose_name = _("pesan keluar")
        verbose_name_plural = _("pesan keluar")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["provider", "provider_ref"]),
        ]

    def __str__(self) -> str:
        return f"{self.template_code} → {self.channel} ({self.status})"
