"""The service catalogue, applications and their append-only workflow events,
attachments (content-addressed blobs), the SLA's local holidays and alerts, and
the satisfaction survey (IKM)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from balai.core.ids import new_id
from balai.core.models import OwnedModel, TimestampedModel


class WorkflowKind(models.TextChoices):
    OFFICE_LETTER = "office_letter", _("Surat dari kantor sendiri")
    SIAK = "siak", _("Layanan SIAK (Disdukcapil)")
    REGISTER_CHANGE = "register_change", _("Perubahan data kependudukan")


class ResponsibleKind(models.TextChoices):
    DESA = "desa", _("Kantor desa/kelurahan")
    MPP = "mpp", _("MPP kecamatan")
    REGENCY = "regency", _("Perangkat daerah kabupaten")


class Availability(models.TextChoices):
    ONLINE = "online", _("Daring saja")
    COUNTER = "counter", _("Loket saja")
    BOTH = "both", _("Daring dan loket")


class Channel(models.TextChoices):
    ONLINE = "online", _("Daring")
    COUNTER = "counter", _("Loket")
    APPOINTMENT = "appointment", _("Janji temu")


class RegisterEffect(models.TextChoices):
    """The life event an approved application records in the register."""

    NONE = "", _("Tidak mengubah data kependudukan")
    BIRTH = "birth", _("Kelahiran")
    DEATH = "death", _("Kematian")
    MOVE_WITHIN = "move_within", _("Pindah dalam kabupaten")
    MOVE_OUT = "move_out", _("Pindah keluar kabupaten")
    ARRIVAL = "arrival", _("Kedatangan dari luar kabupaten")
    MARRIAGE = "marriage", _("Perkawinan")
    DIVORCE = "divorce", _("Perceraian")
    NEW_KK = "new_kk", _("KK baru")
    ADD_MEMBER = "add_member", _("Tambah anggota KK")
    REMOVE_MEMBER = "remove_member", _("Kurangi anggota KK")
    CORRECTION = "correction", _("Koreksi data")


class SubjectKind(models.TextChoices):
    """Whom an application is about."""

    RESIDENT = "resident", _("Satu penduduk terdaftar")
    RESIDENTS = "residents", _("Beberapa penduduk terdaftar")
    NEW_PERSON = "new_person", _("Orang baru (data di formulir)")


class Relation(models.TextChoices):
    """How the applicant stands to the subject(s)."""

    SELF = "self", _("Diri sendiri")
    PARENT = "parent", _("Orang tua")
    CHILD = "child", _("Anak")
    SPOUSE = "spouse", _("Suami/istri")
    HEAD_OF_FAMILY = "head_of_family", _("Kepala keluarga")
    FAMILY_MEMBER = "family_member", _("Anggota keluarga")
    PROXY = "proxy", _("Penerima kuasa (dengan surat kuasa)")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Diajukan")
    VERIFICATION = "verification", _("Verifikasi")
    NEEDS_REVISION = "needs_revision", _("Perlu perbaikan")
    PROCESSING = "processing", _("Diproses")
    APPROVED = "approved", _("Disetujui")
    ISSUED = "issued", _("Terbit")
    COLLECTED = "collected", _("Diterima pemohon")
    REJECTED = "rejected", _("Ditolak")
    CANCELLED = "cancelled", _("Dibatalkan")


# What an office's inbox lists: open work and issued work not yet collected
# (workflow.OPEN and ISSUED; sorted: the index condition is written once).
INBOX_STATUSES = sorted(
    [
        Status.SUBMITTED,
        Status.VERIFICATION,
        Status.NEEDS_REVISION,
        Status.PROCESSING,
        Status.APPROVED,
        Status.ISSUED,
    ]
)


class Service(TimestampedModel):
    """One service of the catalogue: who serves it, what it needs, how long."""

    code = models.SlugField(_("kode"), max_length=48, unique=True)
    name = models.CharField(_("nama"), max_length=150)
    name_en = models.CharField(_("nama (Inggris)"), max_length=150)
    description = models.TextField(_("uraian"), blank=True, default="")
    description_en = models.TextField(_("uraian (Inggris)"), blank=True, default="")
    responsible_kind = models.CharField(
        _("kantor penanggung jawab"), max_length=8, choices=ResponsibleKind.choices
    )
    # For a regency service: which office (DISDUKCAPIL, DPMPTSP, ...).
    responsible_office_code = models.CharField(
        _("kode kantor kabupaten"), max_length=32, blank=True, default=""
    )
    workflow = models.CharField(
        _("jenis alur"), max_length=16, choices=WorkflowKind.choices
    )
    register_effect = models.CharField(
        _("perubahan data kependudukan"),
        max_length=16,
        choices=RegisterEffect.choices,
        blank=True,
        default="",
    )
    subject_kind = models.CharField(
        _("subjek"),
        max_length=12,
        choices=SubjectKind.choices,
        default=SubjectKind.RESIDENT,
    )
    max_subjects = models.PositiveSmallIntegerField(_("jumlah subjek maks."), default=1)
    # [{"code", "label", "label_en", "mode": "upload"|"show", "required": bool}]
    requirements = models.JSONField(_("persyaratan"), default=list, blank=True)
    time_limit_days = models.PositiveSmallIntegerField(_("batas waktu (hari kerja)"))
    # The regency's published time limit is not known yet: a default is used.
    time_limit_to_confirm = models.BooleanField(
        _("batas waktu belum dikonfirmasi"), default=False
    )
    fee_rupiah = models.PositiveIntegerField(_("biaya (rupiah)"), default=0)
    # The form's data, validated by this JSON Schema (Draft 2020-12).
    form_schema = models.JSONField(_("skema formulir"), default=dict, blank=True)
    availability = models.CharField(
        _("saluran"), max_length=8, choices=Availability.choices
    )
    # What Disdukcapil records from SIAK at issue: nik, kk_number, akta_number...
    siak_outputs = models.JSONField(_("keluaran SIAK"), default=list, blank=True)
    legal_basis = models.CharField(
        _("dasar hukum"), max_length=255, blank=True, default=""
    )
    # For an office letter: the kind of letter the documents app issues.
    document_kind = models.CharField(
        _("jenis surat"), max_length=16, blank=True, default=""
    )
    is_active = models.BooleanField(_("aktif"), default=True)
    # The catalogue revision: one ServiceVersion row per change.
    revision = models.PositiveIntegerField(_("revisi"), default=0)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        verbose_name = _("layanan")
        verbose_name_plural = _("layanan")
        ordering = ["sort_order", "code"]
        constraints = [
            # Population documents are free of charge by law.
            models.CheckConstraint(
                condition=~Q(workflow="siak") | Q(fee_rupiah=0),
                name="services_siak_is_free",
            ),
            models.CheckConstraint(
                condition=(
                    Q(responsible_kind="regency") & ~Q(responsible_office_code="")
                )
                | (~Q(responsible_kind="regency") & Q(responsible_office_code="")),
                name="services_regency_office_named",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def offered_online(self) -> bool:
        return self.availability in (Availability.ONLINE, Availability.BOTH)

    @property
    def offered_at_counter(self) -> bool:
        return self.availability in (Availability.COUNTER, Availability.BOTH)

    def sync_route(self) -> tuple[str, str]:
        return "", settings.BALAI_REGENCY


class ServiceVersion(models.Model):
    """One change to a catalogue entry: who, when, what changed (append-only)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="versions"
    )
    revision = models.PositiveIntegerField(_("revisi"))
    changed_at = models.DateTimeField(_("waktu"), default=timezone.now)
    changed_by_id = models.CharField(max_length=64, blank=True, default="")
    changed_by = models.CharField(_("diubah oleh"), max_length=150)
    # {field: [old, new]}; for the first revision, every field with None as old.
    diff = models.JSONField(_("perubahan"), default=dict)
    snapshot = models.JSONField(default=dict)
    note = models.CharField(_("catatan"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("riwayat layanan")
        verbose_name_plural = _("riwayat layanan")
        ordering = ["service", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "revision"], name="services_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_id} r{self.revision}"

    def sync_route(self) -> tuple[str, str]:
        return "", settings.BALAI_REGENCY


class LocalHoliday(TimestampedModel):
    """A day off the regency declares itself (not in the national calendar)."""

    date = models.DateField(_("tanggal"), unique=True)
    name = models.CharField(_("keterangan"), max_length=150)
    decree = models.CharField(
        _("dasar penetapan"), max_length=255, blank=True, default=""
    )
    # A withdrawn day stays as a row (history), inactive.
    is_active = models.BooleanField(_("berlaku"), default=True)

    class Meta:
        verbose_name = _("libur daerah")
        verbose_name_plural = _("libur daerah")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

    def sync_route(self) -> tuple[str, str]:
        return "", settings.BALAI_REGENCY


class Application(OwnedModel):
    """One request for a service, by an applicant, about one or more subjects.

    `status` is denormalised from the last ApplicationEvent; `version` counts
    the events (optimistic locking: a transition names the version it saw).
    """

    number = models.CharField(_("nomor permohonan"), max_length=48, unique=True)
    tracking_code = models.CharField(_("kode lacak"), max_length=8)
    service = models.ForeignKey(
        Service,
        verbose_name=_("layanan"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    service_revision = models.PositiveIntegerField(default=0)
    # Copied from the catalogue when filed: an edit later changes no running case.
    workflow = models.CharField(max_length=16, choices=WorkflowKind.choices)
    time_limit_days = models.PositiveSmallIntegerField()
    channel = models.CharField(_("saluran"), max_length=12, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, db_index=True
    )
    version = models.PositiveIntegerField(default=0)
    # Where the citizen was served (delivery, office hours for the clock).
    filed_office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor penerima"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kecamatan_code = models.CharField(max_length=8, db_index=True)
    region_code = models.CharField(max_length=13, db_index=True)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("akun pemohon"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    applicant_resident = models.ForeignKey(
        "registry.Resident",
        verbose_name=_("pemohon"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    applicant_name = models.CharField(_("nama pemohon"), max_length=150)
    applicant_phone = models.CharField(
        _("telepon pemohon"), max_length=20, blank=True, default=""
    )
    relation = models.CharField(
        _("hubungan dengan subjek"), max_length=16, choices=Relation.choices
    )
    form_data = models.JSONField(_("isian formulir"), default=dict)
    submitted_at = models.DateTimeField(_("diajukan"), default=timezone.now)
    # When the SLA clock started (None while held for the applicant's identity).
    clock_started_at = models.DateTimeField(null=True, blank=True)
    held_for_identity = models.BooleanField(
        _("menunggu verifikasi identitas"), default=False
    )
    due_date = models.DateField(_("batas waktu"), null=True, blank=True)
    # The deadline reaches a year the national calendar does not cover.
    deadline_flagged = models.BooleanField(default=False)
    deadline_note = models.CharField(max_length=255, blank=True, default="")
    completed_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    on_time = models.BooleanField(null=True, blank=True)
    # What SIAK issued: {"nik": ..., "kk_number": ..., "akta_number": ...}
    issued_numbers = models.JSONField(_("nomor terbit"), default=dict, blank=True)
    decision_note = models.TextField(_("alasan/catatan"), blank=True, default="")

    class Meta:
        verbose_name = _("permohonan")
        verbose_name_plural = _("permohonan")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["owner_office", "status", "due_date"]),
            models.Index(fields=["kecamatan_code", "submitted_at"]),
            # An office's inbox in its order (selectors.inbox), over the work
            # still on a desk only: a few percent of all rows. It carries what
            # the inbox filters on, so the first page's ids come from the
            # index alone (PostgreSQL; other databases ignore `include`).
            models.Index(
                fields=[
                    "owner_office",
                    "held_for_identity",
                    "due_date",
                    "submitted_at",
                ],
                include=["id", "filed_office", "status"],
                name="services_app_inbox_ids",
                condition=Q(status__in=INBOX_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def sync_route(self) -> tuple[str, str]:
        return (
            self.owner_office.code if self.owner_office_id else ""
        ), self.region_code


class ApplicationSubject(models.Model):
    """A person an application is about: a resident, or a new person (form)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="subjects"
    )
    resident = models.ForeignKey(
        "registry.Resident",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["application", "position"]

    def __str__(self) -> str:
        return f"{self.application_id}#{self.position}"

    def sync_route(self) -> tuple[str, str]:
        return self.application.sync_route()


class ApplicationEvent(models.Model):
    """One step of an application's workflow. Never edited or deleted."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="events"
    )
    seq = models.PositiveIntegerField()
    transition = models.CharField(_("langkah"), max_length=32)
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, choices=Status.choices)
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_name = models.CharField(_("oleh"), max_length=150)
    # True when the applicant (not an officer) took the step.
    by_applicant = models.BooleanField(default=False)
    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # The owning office after this step (a hand-off moves it).
    owner_office_code = models.CharField(max_length=32, blank=True, default="")
    note = models.TextField(_("catatan"), blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("riwayat permohonan")
        verbose_name_plural = _("riwayat permohonan")
        ordering = ["application", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "seq"], name="services_event_seq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id}#{self.seq} {self.transition}"

    def sync_route(self) -> tuple[str, str]:
        return self.owner_office_code, self.application.region_code


class ApplicationCounter(models.Model):
    """The last serial of application numbers per office and year."""

    office_code = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office_code", "year"], name="services_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.office_code}/{self.year}:{self.last_serial}"


class AttachmentKind(models.TextChoices):
    REQUIREMENT = "requirement", _("Persyaratan")
    POWER_OF_ATTORNEY = "power_of_attorney", _("Surat kuasa")
    SIAK_DOCUMENT = "siak_document", _("Dokumen terbitan SIAK")
    OTHER = "other", _("Lainnya")


class Blob(models.Model):
    """File content, stored once by its SHA-256 outside the web root."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.sha256

    @property
    def storage_name(self) -> str:
        return f"blobs/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"

    def sync_route(self) -> tuple[str, str]:
        return "", ""


class Attachment(TimestampedModel):
    """A file given for an application (before submission: only its uploader's)."""

    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="attachments",
        null=True,
        blank=True,
    )
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER
    )
    requirement_code = models.CharField(max_length=48, blank=True, default="")
    original_name = models.CharField(max_length=150, blank=True, default="")
    uploaded_by_id = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name}"

    def sync_route(self) -> tuple[str, str]:
        if self.application_id:
            return self.application.sync_route()
        return "", ""


class ApplicationDraft(TimestampedModel):
    """A citizen's unfinished application: saved as he goes, one per service."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    # {"form_data": {...}, "relation": ..., "subject_niks": [...], "attachments": []}
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "service"], name="services_one_draft_per_service"
            )
        ]

    def __str__(self) -> str:
        return f"draf {self.service_id} {self.user_id}"

    def sync_route(self) -> tuple[str, str]:
        return "", ""


class AlertKind(models.TextChoices):
    WARNING = "warning", _("Peringatan batas waktu")
    BREACH = "breach", _("Melewati batas waktu")


class SlaAlert(models.Model):
    """A warning or breach notice sent once per application and due date."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(max_length=8, choices=AlertKind.choices)
    due_date = models.DateField()
    at = models.DateTimeField(default=timezone.now)
    notified = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind", "due_date"], name="services_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.application_id}"

    def sync_route(self) -> tuple[str, str]:
        return self.application.sync_route()


# The nine elements of the IKM (Permenpan RB 14/2017), in the regulation's order.
IKM_ELEMENTS = (
    ("persyaratan", _("Persyaratan")),
    ("prosedur", _("Sistem, mekanisme, dan prosedur")),
    ("waktu", _("Waktu penyelesaian")),
    ("biaya", _("Biaya/tarif")),
    ("produk", _("Produk spesifikasi jenis pelayanan")),
    ("kompetensi", _("Kompetensi pelaksana")),
    ("perilaku", _("Perilaku pelaksana")),
    ("pengaduan", _("Penanganan pengaduan, saran, dan masukan")),
    ("sarana", _("Sarana dan prasarana")),
)


def _ikm_field(label):
    return models.PositiveSmallIntegerField(label)


class SurveyResponse(TimestampedModel):
    """The applicant's rating of a completed service: nine elements, 1 to 4."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="survey"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    office = models.ForeignKey(
        "regions.Office", on_delete=models.PROTECT, related_name="+"
    )
    kecamatan_code = models.CharField(max_length=8, db_index=True)
    persyaratan = _ikm_field(_("Persyaratan"))
    prosedur = _ikm_field(_("Sistem, mekanisme, dan prosedur"))
    waktu = _ikm_field(_("Waktu penyelesaian"))
    biaya = _ikm_field(_("Biaya/tarif"))
    produk = _ikm_field(_("Produk spesifikasi jenis pelayanan"))
    kompetensi = _ikm_field(_("Kompetensi pelaksana"))
    perilaku = _ikm_field(_("Perilaku pelaksana"))
    pengaduan = _ikm_field(_("Penanganan pengaduan, saran, dan masukan"))
    sarana = _ikm_field(_("Sarana dan prasarana"))
    comment = models.TextField(_("saran dan masukan"), blank=True, default="")

    class Meta:
        verbose_name = _("survei kepuasan")
        verbose_name_plural = _("survei kepuasan")
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{name}__gte": 1}) & Q(**{f"{name}__lte": 4}),
                name=f"services_ikm_{name}_1_4",
            )
            for name, _label in IKM_ELEMENTS
        ]

    def __str__(self) -> str:
        return f"IKM {self.application_id}"

    def sync_route(self) -> tuple[str, str]:
        return self.application.sync_route()


class CitizenOtp(models.Model):
    """A one-time code sent to the phone on record, stored hashed."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"otp {self.user_id}"

    def sync_route(self) -> tuple[str, str]:
        return "", ""
