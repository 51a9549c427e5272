"""Issued documents, their numbering, signing keys, revocations, SIAK PDFs."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from balai.core.models import OwnedModel, TimestampedModel


class DocumentKind(models.TextChoices):
    """What Balai issues and signs itself (DESIGN: "Balai and SIAK")."""

    RECEIPT = "receipt", _("Tanda Terima")
    SKTM = "sktm", _("Surat Keterangan Tidak Mampu")
    DOMISILI = "domisili", _("Surat Keterangan Domisili")
    USAHA = "usaha", _("Surat Keterangan Usaha")
    PENGANTAR = "pengantar", _("Surat Pengantar")
    COMPLETION = "completion", _("Bukti Penyelesaian Layanan")


class DocumentSequence(OwnedModel):
    """The serial counter of one office, document kind and year.

    Locked (select_for_update) by the transaction that issues a number, so
    numbers never repeat and never skip. Written only by the node that serves
    the office.
    """

    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("jenis"), max_length=16, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField(_("tahun"))
    last_serial = models.PositiveIntegerField(_("nomor terakhir"), default=0)
    # Overrides the default number format for this series ("" = default).
    number_format = models.CharField(
        _("format nomor"), max_length=120, blank=True, default=""
    )
    classification = models.CharField(
        _("kode klasifikasi"), max_length=20, blank=True, default=""
    )

    class Meta:
        verbose_name = _("urutan nomor dokumen")
        verbose_name_plural = _("urutan nomor dokumen")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "kind", "year"], name="documents_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.office_id}/{self.kind}/{self.year}: {self.last_serial}"

    def sync_route(self) -> tuple[str, str]:
        return self.office.code, self.office.region_id


class IssuedDocument(OwnedModel):
    """A letter Balai issued and signed: its number, facts, signer and QR."""

    kind = models.CharField(_("jenis"), max_length=16, choices=DocumentKind.choices)
    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor penerbit"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("tahun"))
    serial = models.PositiveIntegerField(_("nomor urut"))
    number = models.CharField(_("nomor"), max_length=64)
    application_ref = models.CharField(
        _("nomor permohonan"), max_length=64, blank=True, default="", db_index=True
    )
    subject = models.JSONField(_("pemohon"), default=dict)
    facts = models.JSONField(_("keterangan"), default=dict)
    subject_name = models.CharField(_("nama"), max_length=150)
    nik_masked = models.CharField(_("NIK (disamarkan)"), max_length=16, blank=True)
    signed_on = models.DateField(_("tanggal surat"))
    signed_at = models.DateTimeField(_("waktu tanda tangan"))
    signer_name = models.CharField(_("penanda tangan"), max_length=150)
    signer_title = models.CharField(_("jabatan penanda tangan"), max_length=120)
    signer_nip = models.CharField(_("NIP penanda tangan"), max_length=18, blank=True)
    signer_posting_id = models.UUIDField(null=True, blank=True)
    key_id = models.CharField(_("kunci"), max_length=16)
    qr_text = models.CharField(_("isi QR"), max_length=400)
    # SHA-512 (hex, first 32) of the signed QR body: the id revocations name.
    digest = models.CharField(max_length=32, unique=True)
    template = models.CharField(_("templat"), max_length=64)
    pdf_sha256 = models.CharField(max_length=64)
    pdf_size = models.PositiveIntegerField(default=0)
    issued_by = models.CharField(_("diterbitkan oleh"), max_length=150)

    class Meta:
        verbose_name = _("dokumen terbit")
        verbose_name_plural = _("dokumen terbit")
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "kind", "year", "serial"],
                name="documents_issued_serial_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def sync_route(self) -> tuple[str, str]:
        return self.office.code, self.office.region_id


class DocumentRevocation(TimestampedModel):
    """The withdrawal of an issued document, with its reason."""

    document = models.OneToOneField(
        IssuedDocument,
        verbose_name=_("dokumen"),
        on_delete=models.PROTECT,
        related_name="revocation",
    )
    digest = models.CharField(max_length=32, unique=True)
    revoked_at = models.DateTimeField(_("dicabut pada"), default=timezone.now)
    reason = models.CharField(_("alasan"), max_length=300)
    revoked_by = models.CharField(_("dicabut oleh"), max_length=150)

    class Meta:
        verbose_name = _("pencabutan dokumen")
        verbose_name_plural = _("pencabutan dokumen")

    def __str__(self) -> str:
        return f"dicabut {self.document_id}"

    def sync_route(self) -> tuple[str, str]:
        office = self.document.office
        return office.code, office.region_id


class KeyCertificate(TimestampedModel):
    """A node signing key certified by the regency root key (public data)."""

    key_id = models.CharField(max_length=16, unique=True)
    node = models.CharField(max_length=32, db_index=True)
    public_key = models.CharField(max_length=64)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    issued_at = models.DateTimeField()
    # The exact canonical JSON the root signed, and the signature (base64).
    certificate = models.TextField()
    signature = models.CharField(max_length=100)

    class Meta:
        verbose_name = _("sertifikat kunci")
        verbose_name_plural = _("sertifikat kunci")
        ordering = ["node", "-not_before"]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.node})"

    def sync_route(self) -> tuple[str, str]:
        return "", ""


class KeyRevocation(TimestampedModel):
    """A root-signed statement that a node key is revoked from a moment on."""

    key_id = models.CharField(max_length=16, unique=True)
    revoked_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True, default="")
    statement = models.TextField()
    signature = models.CharField(max_length=100)

    class Meta:
        verbose_name = _("pencabutan kunci")
        verbose_name_plural = _("pencabutan kunci")

    def __str__(self) -> str:
        return f"kunci {self.key_id} dicabut {self.revoked_at:%Y-%m-%d %H:%M}"

    def sync_route(self) -> tuple[str, str]:
        return "", ""


class RevocationList(TimestampedModel):
    """One published, signed revocation list (documents and keys)."""

    seq = models.PositiveIntegerField(unique=True)
    issued_at = models.DateTimeField()
    signer = models.CharField(max_length=16)  # "root" or a regency key id
    body = models.TextField()
    signature = models.CharField(max_length=100)

    class Meta:
        verbose_name = _("daftar pencabutan")
        verbose_name_plural = _("daftar pencabutan")
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"daftar pencabutan #{self.seq}"

    def sync_route(self) -> tuple[str, str]:
        return "", ""


class SiakKind(models.TextChoices):
    """Documents SIAK issues (Disdukcapil attaches the TTE-signed PDF)."""

    KK = "kk", _("Kartu Keluarga")
    AKTA_LAHIR = "akta_lahir", _("Akta Kelahiran")
    AKTA_MATI = "akta_mati", _("Akta Kematian")
    AKTA_KAWIN = "akta_kawin", _("Akta Perkawinan")
    AKTA_CERAI = "akta_cerai", _("Akta Perceraian")
    PINDAH = "pindah", _("Surat Keterangan Pindah")
    KIA = "kia", _("Kartu Identitas Anak")
    LAINNYA = "lainnya", _("Dokumen SIAK lainnya")


class SiakDocument(OwnedModel):
    """A SIAK-issued PDF kept for delivery to the citizen (content-addressed)."""

    kind = models.CharField(_("jenis"), max_length=16, choices=SiakKind.choices)
    number = models.CharField(_("nomor dokumen"), max_length=64)
    subject_resident_id = models.UUIDField(_("penduduk"), db_index=True)
    application_ref = models.CharField(
        _("nomor permohonan"), max_length=64, blank=True, default="", db_index=True
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField()
    # The region of the delivering office, for scope checks.
    region_code = models.CharField(max_length=16, blank=True, default="")
    stored_by = models.CharField(_("diunggah oleh"), max_length=150)

    class Meta:
        verbose_name = _("dokumen SIAK")
        verbose_name_plural = _("dokumen SIAK")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def sync_route(self) -> tuple[str, str]:
        office = self.owner_office
        return (office.code if office else ""), self.region_code
