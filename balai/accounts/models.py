"""Staff and citizen accounts, roles, and postings (who held which post, when)."""

import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from balai.core.ids import new_id
from balai.core.models import TimestampedModel


class AccountKind(models.TextChoices):
    STAFF = "staff", _("Petugas")
    CITIZEN = "citizen", _("Warga")


class User(AbstractUser):
    """A person who logs in: a civil servant or a citizen."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    kind = models.CharField(
        _("jenis akun"),
        max_length=8,
        choices=AccountKind.choices,
        default=AccountKind.STAFF,
    )
    # NIP: the civil servant's 18-digit number, printed under signatures.
    nip = models.CharField(_("NIP"), max_length=18, blank=True, default="")
    phone = models.CharField(_("telepon"), max_length=20, blank=True, default="")
    # For a citizen: the resident in the register this account speaks for.
    resident_id = models.UUIDField(_("penduduk"), null=True, blank=True)
    is_verified_citizen = models.BooleanField(_("warga terverifikasi"), default=False)

    class Meta:
        verbose_name = _("pengguna")
        verbose_name_plural = _("pengguna")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    COUNTER_OFFICER = "counter_officer", _("Petugas loket")
    REGISTRY_OFFICER = "registry_officer", _("Petugas registrasi")
    REGISTRAR = "registrar", _("Pencatat sipil (kabupaten)")
    HELPDESK_OFFICER = "helpdesk_officer", _("Petugas helpdesk")
    NETWORK_OPERATOR = "network_operator", _("Operator jaringan")
    SERVICE_ADMIN = "service_admin", _("Administrator layanan")
    LEADER = "leader", _("Pimpinan")
    AUDITOR = "auditor", _("Auditor")
    SYSADMIN = "sysadmin", _("Administrator sistem")


# Roles whose holders read personal data, and so must pass a second factor.
PERSONAL_DATA_ROLES = frozenset(
    {
        Role.COUNTER_OFFICER,
        Role.REGISTRY_OFFICER,
        Role.REGISTRAR,
        Role.HELPDESK_OFFICER,
        Role.AUDITOR,
        Role.SYSADMIN,
    }
)
# Roles that see the whole regency when posted at a regency office.
REGENCY_WIDE_ROLES = frozenset(Role.values)


class Posting(TimestampedModel):
    """A post held by a staff user in one office from a date to a date."""

    user = models.ForeignKey(
        User,
        verbose_name=_("pegawai"),
        on_delete=models.PROTECT,
        related_name="postings",
    )
    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="postings",
    )
    position = models.CharField(_("jabatan"), max_length=100)
    role = models.CharField(_("peran"), max_length=20, choices=Role.choices)
    # Whether this post heads the office (the one who signs its letters).
    is_head = models.BooleanField(_("kepala kantor"), default=False)
    # Plt. (pelaksana tugas): acting holder of the post.
    is_acting = models.BooleanField(_("Plt."), default=False)
    start_date = models.DateField(_("mulai"))
    end_date = models.DateField(_("selesai"), null=True, blank=True)

    class Meta:
        verbose_name = _("penugasan")
        verbose_name_plural = _("penugasan")
        ordering = ["office__code", "-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="accounts_posting_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        prefix = "Plt. " if self.is_acting else ""
        return f"{prefix}{self.position}, {self.office}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.start_date <= day and (
            self.end_date is None or self.end_date >= day
        )

    @property
    def title(self) -> str:
        """The position as printed under a signature ("Plt. Camat Tabang")."""
        return f"Plt. {self.position}" if self.is_acting else self.position

    def sync_route(self) -> tuple[str, str]:
        return self.office.code, self.office.region_id


class ApiToken(TimestampedModel):
    """A bearer token for the API, issued only after the second factor."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    digest = models.CharField(max_length=64, unique=True)
    otp_verified = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.name or self.pk} for {self.user}"
