"""The population register: residents and families as projections of an
append-only log of life events."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from balai.core.ids import new_id
from balai.core.models import OwnedModel
from balai.registry.reference import (
    BloodType,
    Citizenship,
    Disability,
    Education,
    MaritalStatus,
    Occupation,
    Religion,
    Sex,
    Shdk,
)


class ResidentStatus(models.TextChoices):
    ALIVE = "hidup", _("Hidup")
    DEAD = "mati", _("Meninggal")
    MOVED_OUT = "pindah", _("Pindah keluar")
    INVALID = "tidak_valid", _("Tidak valid")


class Flag(models.TextChoices):
    NIK_TO_CHECK = "nik_periksa", _("NIK perlu diperiksa")
    AWAITING_NIK = "menunggu_nik", _("Menunggu NIK dari SIAK")
    FAMILY_WITHOUT_HEAD = "kk_tanpa_kepala", _("KK tanpa kepala keluarga")
    POSSIBLE_DUPLICATE = "mungkin_ganda", _("Mungkin data ganda")


class Family(OwnedModel):
    """A Kartu Keluarga (KK): a household with one head and its members."""

    # NULL while awaiting SIAK's number (several may wait: NULLs are distinct).
    # Unique by a constraint, not `unique=True`: that would add a second
    # (pattern) index on PostgreSQL that no query uses.
    kk_number = models.CharField(  # noqa: DJ001
        _("nomor KK"), max_length=16, null=True, blank=True
    )
    head = models.ForeignKey(
        "Resident",
        verbose_name=_("kepala keluarga"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    village = models.ForeignKey(
        "regions.Region",
        verbose_name=_("desa/kelurahan"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The kecamatan code, kept beside the village for scope filters.
    kecamatan_code = models.CharField(max_length=8, db_index=True)
    dusun = models.CharField(_("dusun"), max_length=64, blank=True, default="")
    rt = models.CharField(_("RT"), max_length=3, blank=True, default="")
    rw = models.CharField(_("RW"), max_length=3, blank=True, default="")
    street = models.CharField(_("alamat"), max_length=255, blank=True, default="")
    is_active = models.BooleanField(_("aktif"), default=True)
    # How many events have been applied: a version for optimistic locking.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("keluarga (KK)")
        verbose_name_plural = _("keluarga (KK)")
        constraints = [
            models.UniqueConstraint(fields=["kk_number"], name="registry_kk_unique")
        ]

    def __str__(self) -> str:
        return f"KK {self.kk_number or '(menunggu nomor)'}"

    def sync_route(self) -> tuple[str, str]:
        return (self.owner_office.code if self.owner_office_id else ""), self.village_id


class Resident(OwnedModel):
    """A person in the register; the current state, projected from events."""

    # NULL while awaiting SIAK's number; unique by a constraint (see
    # Family.kk_number).
    nik = models.CharField(  # noqa: DJ001
        _("NIK"), max_length=16, null=True, blank=True
    )
    name = models.CharField(_("nama lengkap"), max_length=150)
    # The name folded for search: lower case, spelling variants made one.
    name_key = models.CharField(
        max_length=150, db_index=True, editable=False, default=""
    )
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=Sex.choices)
    birth_place = models.CharField(
        _("tempat lahir"), max_length=100, blank=True, default=""
    )
    # Not indexed: no query looks residents up by birth date alone (the
    # search's age filter narrows name candidates; migration 0007).
    birth_date = models.DateField(_("tanggal lahir"))
    religion = models.PositiveSmallIntegerField(_("agama"), choices=Religion.choices)
    marital_status = models.PositiveSmallIntegerField(
        _("status perkawinan"),
        choices=MaritalStatus.choices,
        default=MaritalStatus.BELUM_KAWIN,
    )
    shdk = models.PositiveSmallIntegerField(
        _("hubungan dalam keluarga"), choices=Shdk.choices, null=True, blank=True
    )
    education = models.PositiveSmallIntegerField(
        _("pendidikan"),
        choices=Education.choices,
        default=Education.TIDAK_BELUM_SEKOLAH,
    )
    occupation = models.PositiveSmallIntegerField(
        _("pekerjaan"),
        choices=Occupation.choices,
        default=Occupation.BELUM_TIDAK_BEKERJA,
    )
    blood_type = models.PositiveSmallIntegerField(
        _("golongan darah"), choices=BloodType.choices, default=BloodType.TIDAK_TAHU
    )
    citizenship = models.PositiveSmallIntegerField(
        _("kewarganegaraan"), choices=Citizenship.choices, default=Citizenship.WNI
    )
    disability = models.PositiveSmallIntegerField(
        _("disabilitas"), choices=Disability.choices, default=Disability.TIDAK_CACAT
    )
    father_name = models.CharField(
        _("nama ayah"), max_length=150, blank=True, default=""
    )
    father_nik = models.CharField(_("NIK ayah"), max_length=16, blank=True, default="")
    mother_name = models.CharField(
        _("nama ibu"), max_length=150, blank=True, default=""
    )
    mother_nik = models.CharField(_("NIK ibu"), max_length=16, blank=True, default="")
    passport_number = models.CharField(
        _("nomor paspor"), max_length=20, blank=True, default=""
    )
    birth_cert_number = models.CharField(
        _("nomor akta lahir"), max_length=40, blank=True, default=""
    )
    marriage_cert_number = models.CharField(
        _("nomor akta perkawinan"), max_length=40, blank=True, default=""
    )
    marriage_date = models.DateField(_("tanggal perkawinan"), null=True, blank=True)
    divorce_cert_number = models.CharField(
        _("nomor akta perceraian"), max_length=40, blank=True, default=""
    )
    divorce_date = models.DateField(_("tanggal perceraian"), null=True, blank=True)
    ektp_recorded = models.BooleanField(_("sudah rekam KTP-el"), default=False)
    phone = models.CharField(_("telepon"), max_length=20, blank=True, default="")
    family = models.ForeignKey(
        Family,
        verbose_name=_("keluarga"),
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    village = models.ForeignKey(
        "regions.Region",
        verbose_name=_("desa/kelurahan"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Indexed with the village (Meta.indexes), which serves it alone too.
    kecamatan_code = models.CharField(max_length=8)
    dusun = models.CharField(_("dusun"), max_length=64, blank=True, default="")
    rt = models.CharField(_("RT"), max_length=3, blank=True, default="")
    rw = models.CharField(_("RW"), max_length=3, blank=True, default="")
    street = models.CharField(_("alamat"), max_length=255, blank=True, default="")
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ResidentStatus.choices,
        default=ResidentStatus.ALIVE,
    )
    status_date = models.DateField(_("tanggal status"), null=True, blank=True)
    flags = models.JSONField(_("tanda"), default=list, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("penduduk")
        verbose_name_plural = _("penduduk")
        constraints = [
            models.UniqueConstraint(fields=["nik"], name="registry_nik_unique"),
            # One head per family, enforced by the database too.
            models.UniqueConstraint(
                fields=["family"],
                condition=Q(shdk=1, status="hidup"),
                name="registry_one_head_per_family",
            ),
        ]
        # No index on father_nik / mother_nik: nothing looks a resident up
        # by a parent's NIK (migration 0007 dropped them).
        indexes = [
            models.Index(fields=["kecamatan_code", "village"]),
        ]

    def __str__(self) -> str:
        return self.name

    def sync_route(self) -> tuple[str, str]:
        return (self.owner_office.code if self.owner_office_id else ""), self.village_id


class EventKind(models.TextChoices):
    REGISTRATION = "pendataan", _("Pendataan (data awal)")
    BIRTH = "lahir", _("Kelahiran")
    DEATH = "mati", _("Kematian")
    MOVE_WITHIN = "pindah_dalam", _("Pindah dalam kabupaten")
    MOVE_OUT = "pindah_keluar", _("Pindah keluar kabupaten")
    ARRIVAL = "datang", _("Kedatangan dari luar kabupaten")
    MARRIAGE = "kawin", _("Perkawinan")
    DIVORCE = "cerai", _("Perceraian")
    NEW_KK = "kk_baru", _("KK baru")
    CORRECTION = "koreksi", _("Koreksi data")
    NIK_ISSUED = "nik_terbit", _("NIK terbit dari SIAK")
    KK_ISSUED = "kk_terbit", _("Nomor KK terbit dari SIAK")


class LifeEvent(models.Model):
    """One thing that happened to a person or a family. Never edited or deleted."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    kind = models.CharField(_("jenis"), max_length=16, choices=EventKind.choices)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("penduduk"),
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
        # Served by the unique (resident, seq) index below.
        db_index=False,
    )
    family = models.ForeignKey(
        Family,
        verbose_name=_("keluarga"),
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
    )
    # Events recorded together (a marriage of two, a family that moves) share a group.
    group_id = models.UUIDField(null=True, blank=True, db_index=True)
    occurred_on = models.DateField(_("tanggal kejadian"))
    recorded_at = models.DateTimeField(_("dicatat"), default=timezone.now)
    data = models.JSONField(_("data"), default=dict)
    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    entered_by = models.CharField(_("dicatat oleh"), max_length=150)
    approved_by = models.CharField(
        _("disetujui oleh"), max_length=150, blank=True, default=""
    )
    # The subject's version after this event: 1 for the event that creates it,
    # then 2, 3, ... The projection folds a subject's events in this order.
    seq = models.PositiveIntegerField(_("urutan"))

    class Meta:
        verbose_name = _("peristiwa kependudukan")
        verbose_name_plural = _("peristiwa kependudukan")
        ordering = ["recorded_at", "id"]
        constraints = [
            # One event per version of a resident: two writers racing on the
            # same person collide here instead of forking his history.
            models.UniqueConstraint(
                fields=["resident", "seq"],
                condition=Q(resident__isnull=False),
                name="registry_event_resident_seq",
            ),
            models.UniqueConstraint(
                fields=["family", "seq"],
                condition=Q(resident__isnull=True, family__isnull=False),
                name="registry_event_family_seq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"

    def save(self, *args, **kwargs):
        # The register is append-only: an event is written once, never edited.
        if not self._state.adding:
            raise RuntimeError("Peristiwa kependudukan tidak boleh diubah.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Peristiwa kependudukan tidak boleh dihapus.")

    def sync_route(self) -> tuple[str, str]:
        region = ""
        if self.resident_id is not None:
            region = self.resident.village_id
        elif self.family_id is not None:
            region = self.family.village_id
        return (self.office.code if self.office_id else ""), region


class CorrectionStatus(models.TextChoices):
    PENDING = "menunggu", _("Menunggu persetujuan")
    APPROVED = "disetujui", _("Disetujui")
    REJECTED = "ditolak", _("Ditolak")


class CorrectionRequest(OwnedModel):
    """A proposed correction: entered by one officer, approved by another."""

    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="corrections"
    )
    field = models.CharField(_("kolom"), max_length=40)
    old_value = models.JSONField(_("nilai lama"), null=True)
    new_value = models.JSONField(_("nilai baru"), null=True)
    reason = models.TextField(_("alasan"))
    evidence = models.CharField(_("bukti"), max_length=255)
    status = models.CharField(
        max_length=10,
        choices=CorrectionStatus.choices,
        default=CorrectionStatus.PENDING,
    )
    entered_by_id = models.CharField(max_length=64)
    entered_by = models.CharField(_("diusulkan oleh"), max_length=150)
    decided_by = models.CharField(
        _("diputuskan oleh"), max_length=150, blank=True, default=""
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")
    event = models.OneToOneField(
        LifeEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("usulan koreksi")
        verbose_name_plural = _("usulan koreksi")

    def __str__(self) -> str:
        return f"koreksi {self.field} {self.resident_id}"

    def sync_route(self) -> tuple[str, str]:
        return (
            self.owner_office.code if self.owner_office_id else ""
        ), self.resident.village_id


class NumberSequence(models.Model):
    """The last serial used for a NIK or KK prefix (BALAI_NUMBERS=local).

    The prefix is "N" or "K" (NIK or KK) + the 12 digits before the serial,
    so a NIK and a KK number that share their first 12 digits never share a
    counter.
    """

    prefix = models.CharField(max_length=16, primary_key=True)
    last_serial = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last_serial}"


# Digitisation records (imports, reconciliation, duplicates): their own module.
from balai.registry.models_digitisation import *  # noqa: E402, F403
