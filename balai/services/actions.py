"""Every write of the services app: the catalogue, local holidays, uploads,
applications and their workflow steps, the SLA check, citizen sign-up, drafts
and the satisfaction survey."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from balai.accounts.models import AccountKind, Role, User
from balai.audit.actions import batched_audit, record, record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict, NotFound, PermissionDenied
from balai.core.nodes import node_serves
from balai.core.rows import insert_rows
from balai.core.serialize import json_value
from balai.regions.models import Office, OfficeKind
from balai.registry.models import Resident, ResidentStatus
from balai.registry.names import name_key
from balai.services import calendar as cal
from balai.services import (
    files,
    letters,
    notifications,
    receipts,
    register,
    siak,
    sla,
    workflow,
)
from balai.services.catalogue import SEED_SERVICES, SIAK_OUTPUTS
from balai.services.models import (
    IKM_ELEMENTS,
    AlertKind,
    Application,
    ApplicationCounter,
    ApplicationDraft,
    ApplicationEvent,
    ApplicationSubject,
    Attachment,
    AttachmentKind,
    Availability,
    Blob,
    Channel,
    CitizenOtp,
    LocalHoliday,
    Relation,
    ResponsibleKind,
    Service,
    ServiceVersion,
    SlaAlert,
    Status,
    SubjectKind,
    SurveyResponse,
    WorkflowKind,
)
from balai.services.schema import check_schema, validate_form_data

SERVICE_ADMIN_ROLES = (Role.SERVICE_ADMIN,)
COUNTER_ROLES = (Role.COUNTER_OFFICER, Role.REGISTRY_OFFICER)
SIAK_OFFICE_CODE = "DISDUKCAPIL"
# The unambiguous alphabet of tracking codes: no 0/O, 1/I/L, U.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 8
OTP_MINUTES = 10
OTP_MAX_ATTEMPTS = 5

# Fields a service administrator edits; the rest is bound to code.
EDITABLE_FIELDS = (
    "name",
    "name_en",
    "description",
    "description_en",
    "responsible_kind",
    "responsible_office_code",
    "requirements",
    "time_limit_days",
    "time_limit_to_confirm",
    "fee_rupiah",
    "form_schema",
    "availability",
    "siak_outputs",
    "legal_basis",
    "is_active",
    "sort_order",
    "max_subjects",
)
FIXED_FIELDS = (
    "code",
    "workflow",
    "register_effect",
    "subject_kind",
    "document_kind",
)


def siak_office_code() -> str:
    return getattr(settings, "BALAI_SIAK_OFFICE", SIAK_OFFICE_CODE)


# --- Catalogue ----------------------------------------------------------------


def _check_requirements(value: Any) -> list[dict]:
    if not isinstance(value, list):
        raise BalaiError("Persyaratan harus berupa daftar.", code="requirements_bad")
    codes = set()
    clean = []
    for item in value:
        if not isinstance(item, dict) or not item.get("code") or not item.get("label"):
            raise BalaiError(
                "Setiap persyaratan perlu kode dan nama.", code="requirements_bad"
            )
        if item["code"] in codes:
            raise BalaiError(
                f"Kode persyaratan '{item['code']}' ganda.", code="requirements_bad"
            )
        codes.add(item["code"])
        mode = item.get("mode", "upload")
        if mode not in ("upload", "show"):
            raise BalaiError(
                "Cara persyaratan harus 'upload' (diunggah) atau 'show' "
                "(ditunjukkan di loket).",
                code="requirements_bad",
            )
        clean.append(
            {
                "code": str(item["code"]),
                "label": str(item["label"]),
                "label_en": str(item.get("label_en") or item["label"]),
                "mode": mode,
                "required": bool(item.get("required", True)),
            }
        )
    return clean


def validate_service_values(values: dict[str, Any]) -> dict[str, Any]:
    """Check a whole catalogue entry; return it cleaned. Raise on the first fault."""
    v = dict(values)
    for name in ("name", "name_en"):
        v[name] = str(v.get(name) or "").strip()
        if not v[name]:
            raise BalaiError("Nama layanan (dua bahasa) wajib diisi.", code="name")
    if v.get("workflow") not in WorkflowKind.values:
        raise BalaiError("Jenis alur tidak dikenal.", code="workflow_unknown")
    if v.get("responsible_kind") not in ResponsibleKind.values:
        raise BalaiError("Kantor penanggung jawab tidak dikenal.", code="responsible")
    code = str(v.get("responsible_office_code") or "").strip()
    if v["responsible_kind"] == ResponsibleKind.REGENCY:
        if not Office.objects.filter(
            code=code, kind=OfficeKind.REGENCY, is_active=True
        ).exists():
            raise BalaiError(
                "Untuk layanan kabupaten, pilih kode perangkat daerah yang ada.",
                code="responsible_office_unknown",
            )
    else:
        code = ""
    v["responsible_office_code"] = code
    if v.get("availability") not in Availability.values:
        raise BalaiError("Saluran layanan tidak dikenal.", code="availability")
    try:
        v["time_limit_days"] = int(v.get("time_limit_days"))
        v["fee_rupiah"] = int(v.get("fee_rupiah") or 0)
    except (TypeError, ValueError) as exc:
        raise BalaiError(
            "Batas waktu dan biaya harus angka.", code="number_bad"
        ) from exc
    if not 1 <= v["time_limit_days"] <= 365:
        raise BalaiError("Batas waktu 1 sampai 365 hari kerja.", code="time_limit_bad")
    if v["fee_rupiah"] < 0:
        raise BalaiError("Biaya tidak boleh negatif.", code="fee_bad")
    if v["workflow"] == WorkflowKind.SIAK and v["fee_rupiah"] != 0:
        raise BalaiError(
            "Dokumen kependudukan tidak dipungut biaya (UU 24/2013 Pasal 79A): "
            "biaya layanan SIAK harus Rp0.",
            code="siak_fee_forbidden",
        )
    v["requirements"] = _check_requirements(v.get("requirements", []))
    v["form_schema"] = check_schema(v.get("form_schema") or {})
    outputs = v.get("siak_outputs") or []
    if not isinstance(outputs, list) or any(o not in SIAK_OUTPUTS for o in outputs):
        raise BalaiError(
            "Keluaran SIAK hanya: " + ", ".join(SIAK_OUTPUTS) + ".",
            code="siak_outputs_bad",
        )
    v["siak_outputs"] = list(outputs)
    v["max_subjects"] = int(v.get("max_subjects", 1))
    return v


def _snapshot(service: Service) -> dict[str, Any]:
    return {
        name: json_value(getattr(service, name))
        for name in (*FIXED_FIELDS, *EDITABLE_FIELDS)
    }


def _version(
    *, actor: Actor, service: Service, diff: dict, note: str = ""
) -> ServiceVersion:
    return ServiceVersion.objects.create(
        service=service,
        revision=service.revision,
        changed_by_id=str(actor.user_id or ""),
        changed_by=actor.username,
        diff=diff,
        snapshot=_snapshot(service),
        note=note[:255],
    )


@action("services.service.create")
def create_service(
    *, actor: Actor, values: Mapping[str, Any], note: str = ""
) -> Service:
    """Add a service to the catalogue (revision 1 in its history)."""
    actor.require_role(*SERVICE_ADMIN_ROLES)
    code = str(values.get("code") or "").strip()
    if not code or Service.objects.filter(code=code).exists():
        raise BalaiError(
            "Kode layanan wajib diisi dan belum dipakai.", code="service_code_taken"
        )
    clean = validate_service_values(dict(values))
    document_kind = str(values.get("document_kind") or "")
    if document_kind and clean["workflow"] != WorkflowKind.OFFICE_LETTER:
        raise BalaiError(
            "Hanya layanan surat kantor yang menerbitkan surat sendiri.",
            code="document_kind_not_letter",
        )
    service = Service(
        code=code,
        workflow=clean["workflow"],
        register_effect=values.get("register_effect", "") or "",
        document_kind=document_kind,
        subject_kind=values.get("subject_kind") or SubjectKind.RESIDENT,
        revision=1,
        **{k: clean[k] for k in EDITABLE_FIELDS if k in clean},
    )
    service.save()
    version = _version(
        actor=actor,
        service=service,
        diff={k: [None, v] for k, v in _snapshot(service).items()},
        note=note or _("Layanan ditambahkan"),
    )
    record_many(
        actor=actor,
        targets=[service, version],
        details=[{"code": code, "revision": 1}, {"revision": 1}],
    )
    return service


@action("services.service.update")
def update_service(
    *,
    actor: Actor,
    service: Service,
    changes: Mapping[str, Any],
    expected_revision: int,
    note: str = "",
) -> Service:
    """Change a catalogue entry; the history keeps who, when and the diff."""
    actor.require_role(*SERVICE_ADMIN_ROLES)
    fixed = set(changes).intersection(FIXED_FIELDS)
    unknown = set(changes) - set(EDITABLE_FIELDS) - fixed
    if fixed or unknown:
        raise BalaiError(
            "Kolom ini tidak dapat diubah di katalog: "
            + ", ".join(sorted(fixed | unknown)),
            code="service_field_fixed",
        )
    current = Service.objects.select_for_update().get(pk=service.pk)
    if current.revision != expected_revision:
        raise Conflict(
            "Layanan ini baru saja diubah orang lain (revisi "
            f"{current.revision}). Muat ulang halaman lalu ulangi perubahan Anda.",
            extra={"revision": current.revision},
        )
    before = _snapshot(current)
    wanted = {k: getattr(current, k) for k in EDITABLE_FIELDS}
    wanted.update(changes)
    wanted["workflow"] = current.workflow
    clean = validate_service_values(wanted)
    diff = {}
    for name in EDITABLE_FIELDS:
        new = json_value(clean[name])
        if before[name] != new:
            diff[name] = [before[name], new]
            setattr(current, name, clean[name])
    if not diff:
        return current
    current.revision += 1
    current.save()
    version = _version(actor=actor, service=current, diff=diff, note=note)
    record_many(
        actor=actor,
        targets=[current, version],
        details=[
            {"code": current.code, "revision": current.revision, "fields": list(diff)},
            {"revision": current.revision},
        ],
    )
    return current


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    unchanged: int = 0


@action("services.catalogue.load")
def load_catalogue(*, actor: Actor) -> LoadResult:
    """Create the shipped services that are missing; leave existing ones be."""
    actor.require_role(*SERVICE_ADMIN_ROLES, "sysadmin")
    existing = set(Service.objects.values_list("code", flat=True))
    result = LoadResult()
    for spec in SEED_SERVICES:
        if spec["code"] in existing:
            result.unchanged += 1
            continue
        create_service(
            actor=actor, values=spec, note=_("Katalog awal Balai (belum dikonfirmasi)")
        )
        result.created.append(spec["code"])
    return result


# --- Local holidays -----------------------------------------------------------


@action("services.holiday.add")
def add_local_holiday(
    *, actor: Actor, date: datetime.date, name: str, decree: str = ""
) -> LocalHoliday:
    """Declare a regency day off; open deadlines are recomputed."""
    actor.require_role(*SERVICE_ADMIN_ROLES)
    name = name.strip()
    if not name:
        raise BalaiError("Keterangan hari libur wajib diisi.", code="name_required")
    national = cal.national_calendar()
    if date in national.national:
        raise BalaiError(
            f"{date:%d-%m-%Y} sudah hari libur nasional/cuti bersama "
            f"({national.names.get(date, '')}).",
            code="holiday_national",
        )
    holiday = LocalHoliday.objects.filter(date=date).first()
    if holiday is not None and holiday.is_active:
        raise BalaiError(
            "Tanggal ini sudah tercatat sebagai libur daerah.", code="holiday_exists"
        )
    if holiday is None:
        holiday = LocalHoliday(date=date)
    holiday.name, holiday.decree, holiday.is_active = name, decree.strip(), True
    holiday.save()
    record(actor=actor, target=holiday, details={"date": date, "name": name})
    _recompute_open(actor=actor)
    return holiday


@action("services.holiday.withdraw")
def withdraw_local_holiday(*, actor: Actor, holiday: LocalHoliday) -> LocalHoliday:
    """Withdraw a regency day off (the row stays, inactive)."""
    actor.require_role(*SERVICE_ADMIN_ROLES)
    holiday = LocalHoliday.objects.select_for_update().get(pk=holiday.pk)
    if not holiday.is_active:
        return holiday
    holiday.is_active = False
    holiday.save()
    record(actor=actor, target=holiday, details={"date": holiday.date, "active": False})
    _recompute_open(actor=actor)
    return holiday


def _recompute_open(*, actor: Actor) -> int:
    """Recompute the deadlines of open applications this node writes."""
    calendar = sla.regency_calendar()
    changed = []
    qs = (
        Application.objects.filter(
            status__in=workflow.OPEN, clock_started_at__isnull=False
        )
        .select_related("filed_office", "owner_office")
        .prefetch_related("events")
    )
    for app in qs.iterator(chunk_size=500):
        if app.owner_office and not node_serves(app.owner_office):
            continue
        deadline = sla.deadline_of(app, list(app.events.all()), calendar)
        if deadline and not deadline.paused and deadline.due != app.due_date:
            app.due_date = deadline.due
            app.deadline_flagged = deadline.flagged
            changed.append(app)
    if changed:
        Application.objects.bulk_update(changed, ["due_date", "deadline_flagged"])
        record_many(
            actor=actor,
            targets=changed,
            details=[{"due_date": a.due_date} for a in changed],
        )
    return len(changed)


@action("services.deadlines.recompute")
def recompute_deadlines(*, actor: Actor) -> int:
    """Recompute open deadlines (after a calendar change arrives by sync)."""
    actor.require_role(*SERVICE_ADMIN_ROLES)
    return _recompute_open(actor=actor)


# --- Attachments --------------------------------------------------------------


def _actor_key(actor: Actor) -> str:
    return str(actor.user_id) if actor.user_id else f"system:{actor.username}"


@action("services.attachment.upload")
def upload_attachment(
    *,
    actor: Actor,
    file: IO[bytes] | bytes,
    kind: str = AttachmentKind.REQUIREMENT,
    requirement_code: str = "",
    original_name: str = "",
) -> Attachment:
    """Check a file, store its clean bytes by hash, and hold it for the uploader."""
    if not (actor.is_citizen or actor.user_id or actor.is_system):
        raise PermissionDenied()
    if kind not in AttachmentKind.values:
        raise BalaiError("Jenis lampiran tidak dikenal.", code="attachment_kind")
    if kind == AttachmentKind.SIAK_DOCUMENT:
        actor.require_role(Role.REGISTRY_OFFICER, Role.REGISTRAR)
    clean = files.clean_upload(file)
    if kind == AttachmentKind.SIAK_DOCUMENT and clean.content_type != files.PDF:
        raise BalaiError(
            "Dokumen terbitan SIAK harus berupa PDF.", code="siak_document_not_pdf"
        )
    blob = Blob.objects.filter(sha256=clean.sha256).first()
    if blob is None:
        blob = Blob.objects.create(
            sha256=clean.sha256, size=clean.size, content_type=clean.content_type
        )
        files.store_blob_bytes(blob.storage_name, clean.content)
    attachment = Attachment.objects.create(
        blob=blob,
        kind=kind,
        requirement_code=requirement_code[:48],
        original_name=(original_name or "")[:150],
        uploaded_by_id=_actor_key(actor),
        uploaded_by=actor.username,
    )
    record_many(
        actor=actor,
        targets=[blob, attachment],
        details=[
            {"size": blob.size, "type": blob.content_type},
            {"sha256": blob.sha256, "kind": kind},
        ],
    )
    return attachment


def _claim_attachments(
    *, actor: Actor, ids: Iterable[Any], application: Application
) -> list[Attachment]:
    wanted = {str(i) for i in ids}
    if not wanted:
        return []
    found = list(
        Attachment.objects.select_for_update(of=("self",))
        .select_related("blob")
        .filter(
            pk__in=wanted, uploaded_by_id=_actor_key(actor), application__isnull=True
        )
        .order_by("created_at")
    )
    if len(found) != len(wanted):
        raise BalaiError(
            "Lampiran tidak ditemukan atau sudah dipakai. Unggah ulang berkasnya.",
            code="attachment_unknown",
        )
    for attachment in found:
        attachment.application = application
        attachment.save(update_fields=["application", "updated_at"])
    return found


# --- Applications -------------------------------------------------------------


def _next_number(*, office: Office, moment: datetime.datetime) -> str:
    year = cal.to_wita(moment).year
    # One statement: the counter made if missing, moved on and read back; its
    # row stays locked to the commit (no gaps, no repeats).
    table = connection.ops.quote_name(ApplicationCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (office_code, year, last_serial) "  # noqa: S608
            "VALUES (%s, %s, 1) ON CONFLICT (office_code, year) "
            f"DO UPDATE SET last_serial = {table}.last_serial + 1 "
            "RETURNING last_serial",
            [office.code, year],
        )
        serial = cursor.fetchone()[0]
    return format_number(office.code, year, serial)


def format_number(office_code: str, year: int, serial: int) -> str:
    """The application number: office code, year, serial (URL-safe, readable)."""
    return f"{office_code}-{year}-{serial:06d}"


def normalize_number(raw: str) -> str:
    """Accept a number typed with slashes or spaces (MPP-64.02.12/2026/000123)."""
    text = (raw or "").strip().upper().replace(" ", "")
    parts = text.rsplit("/", 2)
    if len(parts) == 3:
        text = "-".join(parts)
    return text


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalize_code(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "").replace("-", "")


def _office_for_village(village_code: str) -> Office | None:
    return (
        Office.objects.filter(
            region_id=village_code,
            kind__in=[OfficeKind.DESA, OfficeKind.KELURAHAN],
            is_active=True,
        )
        .order_by("code")
        .first()
    )


def _responsible_office(
    service: Service, village_code: str, *, known: Office | None = None
) -> Office:
    """The office that decides; `known` (the filing office) saves a lookup."""
    if service.responsible_kind == ResponsibleKind.REGENCY:
        office = Office.objects.filter(
            code=service.responsible_office_code, is_active=True
        ).first()
    elif service.responsible_kind == ResponsibleKind.MPP:
        code = "MPP-" + ".".join(village_code.split(".")[:3])
        if known is not None and (known.code, known.kind, known.is_active) == (
            code,
            OfficeKind.MPP,
            True,
        ):
            return known
        office = Office.objects.filter(
            code=code, kind=OfficeKind.MPP, is_active=True
        ).first()
    else:
        office = _office_for_village(village_code)
    if office is None:
        raise BalaiError(
            "Kantor yang melayani permohonan ini belum terdaftar.",
            code="office_missing",
        )
    return office


NO_MATCH = "Data subjek tidak cocok dengan data kependudukan."


def _subject_residents(
    *,
    actor: Actor,
    service: Service,
    subjects: list[Mapping[str, str]],
    relation: str,
    applicant_resident: Resident | None,
) -> list[Resident]:
    """Resolve the subjects by NIK (and name where the actor is not family)."""
    if service.subject_kind == SubjectKind.NEW_PERSON:
        if subjects:
            raise BalaiError(
                "Layanan ini mencatat orang baru: isi datanya di formulir.",
                code="subjects_not_expected",
            )
        return []
    if not subjects:
        if relation == Relation.SELF and applicant_resident is not None:
            return [applicant_resident]
        raise BalaiError(
            "Sebutkan NIK penduduk yang dimohonkan.", code="subjects_required"
        )
    limit = max(service.max_subjects, 1)
    if len(subjects) > limit:
        raise BalaiError(
            f"Layanan ini untuk paling banyak {limit} orang.", code="subjects_too_many"
        )
    found: list[Resident] = []
    for item in subjects:
        nik = str(item.get("nik") or "").strip()
        resident = (
            Resident.objects.select_related("family")
            .filter(nik=nik, status=ResidentStatus.ALIVE)
            .first()
            if len(nik) == 16 and nik.isdigit()
            else None
        )
        if resident is None:
            raise NotFound(NO_MATCH, code="subject_no_match")
        if actor.is_citizen:
            own = applicant_resident is not None and (
                resident.pk == applicant_resident.pk
                or (
                    resident.family_id is not None
                    and resident.family_id == applicant_resident.family_id
                )
            )
            named = bool(item.get("name")) and name_key(item["name"]) == name_key(
                resident.name
            )
            if not own and not (relation == Relation.PROXY and named):
                raise NotFound(NO_MATCH, code="subject_no_match")
        elif not actor.covers(resident.village_id):
            raise NotFound(NO_MATCH, code="subject_no_match")
        if resident in found:
            raise BalaiError("Subjek ganda.", code="subject_duplicate")
        found.append(resident)
    if relation == Relation.SELF and (
        applicant_resident is None or found != [applicant_resident]
    ):
        raise BalaiError(
            "Hubungan 'diri sendiri' hanya bila pemohon sendiri subjeknya.",
            code="relation_mismatch",
        )
    return found


@action("services.application.submit")
@batched_audit
def submit_application(
    *,
    actor: Actor,
    service: Service,
    channel: str,
    form_data: Mapping[str, Any],
    relation: str = Relation.SELF,
    subjects: list[Mapping[str, str]] | None = None,
    attachments: list[Any] | None = None,
    applicant: Mapping[str, str] | None = None,
) -> Application:
    """File an application (online by a citizen, at a counter by an officer).

    `service` is the catalogue entry as the caller read it in this request:
    its revision is the one the application records.
    """
    now = timezone.now()
    if not service.is_active:
        raise BalaiError("Layanan ini sedang tidak dibuka.", code="service_inactive")
    if channel not in Channel.values:
        raise BalaiError("Saluran tidak dikenal.", code="channel_unknown")
    if relation not in Relation.values:
        raise BalaiError("Hubungan dengan subjek tidak dikenal.", code="relation")
    if channel == Channel.ONLINE and not service.offered_online:
        raise BalaiError(
            "Layanan ini hanya dilayani di loket.", code="channel_not_offered"
        )
    if channel != Channel.ONLINE and not service.offered_at_counter:
        raise BalaiError(
            "Layanan ini hanya dilayani secara daring.", code="channel_not_offered"
        )
    form_data = validate_form_data(service.form_schema, dict(form_data))
    held = False
    applicant_user: User | None = None
    if actor.is_citizen:
        if channel != Channel.ONLINE:
            raise PermissionDenied("Warga mengajukan secara daring.")
        applicant_user = User.objects.get(pk=actor.user_id)
        applicant_resident = Resident.objects.filter(
            pk=applicant_user.resident_id
        ).first()
        if applicant_resident is None:
            raise BalaiError(
                "Akun Anda belum terhubung dengan data kependudukan.",
                code="account_not_linked",
            )
        applicant_name = applicant_resident.name
        applicant_phone = applicant_user.phone or applicant_resident.phone
        held = not applicant_user.is_verified_citizen
    else:
        actor.require_role(*COUNTER_ROLES)
        if channel == Channel.ONLINE:
            raise BalaiError(
                "Petugas mencatat permohonan loket atau janji temu.",
                code="channel_staff",
            )
        info = dict(applicant or {})
        applicant_resident = None
        if info.get("nik"):
            applicant_resident = Resident.objects.filter(
                nik=str(info["nik"]).strip(), status=ResidentStatus.ALIVE
            ).first()
            if applicant_resident is None or not actor.covers(
                applicant_resident.village_id
            ):
                raise NotFound(
                    "Pemohon tidak ditemukan dalam data kependudukan wilayah ini.",
                    code="applicant_no_match",
                )
        applicant_name = str(
            info.get("name") or (applicant_resident.name if applicant_resident else "")
        ).strip()
        if not applicant_name:
            raise BalaiError("Nama pemohon wajib diisi.", code="applicant_name")
        applicant_phone = str(info.get("phone") or "").strip()[:20]
    residents = _subject_residents(
        actor=actor,
        service=service,
        subjects=list(subjects or []),
        relation=relation,
        applicant_resident=applicant_resident,
    )
    if residents:
        village_code = residents[0].village_id
    elif form_data.get("village_code"):
        village_code = str(form_data["village_code"])
    elif applicant_resident is not None:
        village_code = applicant_resident.village_id
    else:
        village_code = actor_office(actor).region_id
    if actor.is_citizen:
        filed = responsible = _responsible_office(service, village_code)
    else:
        filed = actor_office(actor)
        responsible = _responsible_office(service, village_code, known=filed)
        allowed = filed.pk == responsible.pk or (
            service.responsible_kind == ResponsibleKind.REGENCY
            and filed.kind == OfficeKind.MPP
        )
        if not allowed:
            raise BalaiError(
                f"Permohonan ini dilayani {responsible.name}, bukan kantor Anda.",
                code="wrong_office",
            )
    number = _next_number(office=filed, moment=now)
    application = Application(
        number=number,
        tracking_code=new_tracking_code(),
        service=service,
        service_revision=service.revision,
        workflow=service.workflow,
        time_limit_days=service.time_limit_days,
        channel=channel,
        status=Status.SUBMITTED,
        version=1,
        owner_office=responsible,
        filed_office=filed,
        kecamatan_code=".".join(filed.region_id.split(".")[:3]),
        region_code=filed.region_id,
        applicant_user=applicant_user,
        applicant_resident=applicant_resident,
        applicant_name=applicant_name[:150],
        applicant_phone=applicant_phone,
        relation=relation,
        form_data=form_data,
        submitted_at=now,
        clock_started_at=None if held else now,
        held_for_identity=held,
    )
    # The clock fields go in with the row (no pause before the first step:
    # the same as refreshing with the submit event, one UPDATE less).
    sla.refresh(application, [])
    insert_rows([application])
    claimed = _claim_attachments(
        actor=actor, ids=attachments or [], application=application
    )
    if relation == Relation.PROXY and not any(
        a.kind == AttachmentKind.POWER_OF_ATTORNEY for a in claimed
    ):
        raise BalaiError(
            "Permohonan atas kuasa wajib melampirkan surat kuasa.",
            code="power_of_attorney_missing",
        )
    if channel == Channel.ONLINE:
        given = {a.requirement_code for a in claimed}
        missing = [
            r["label"]
            for r in service.requirements
            if r.get("required")
            and r.get("mode") == "upload"
            and r["code"] not in given
        ]
        if missing:
            raise BalaiError(
                "Persyaratan belum diunggah: " + "; ".join(missing) + ".",
                code="requirements_missing",
                extra={"missing": missing},
            )
    subject_rows = [
        ApplicationSubject(application=application, resident=r, position=i)
        for i, r in enumerate(residents)
    ]
    insert_rows(subject_rows)
    event = ApplicationEvent(
        application=application,
        seq=1,
        transition="submit",
        from_status="",
        to_status=Status.SUBMITTED,
        at=now,
        actor_id=str(actor.user_id or ""),
        actor_name=actor.username,
        by_applicant=actor.is_citizen,
        office=None if actor.is_citizen else filed,
        owner_office_code=responsible.code,
        data={"channel": channel, "held_for_identity": held},
    )
    # The receipt (tanda terima), in this transaction: no application without it.
    receipt = receipts.issue_receipt(
        actor=actor,
        application=application,
        attachment_labels=_receipt_items(service, claimed),
    )
    if receipt:
        event.data["receipt"] = receipt
    insert_rows([event])
    record_many(
        actor=actor,
        targets=[application, event, *subject_rows],
        details=[
            {"number": number, "service": service.code, "channel": channel},
            {"transition": "submit"},
            *[{"position": s.position} for s in subject_rows],
        ],
    )
    if applicant_phone:
        notifications.queue_text(
            actor=actor,
            template=notifications.RECEIVED_TEMPLATE,
            recipient=applicant_phone,
            context={
                "nomor": number,
                "layanan": service.name,
                "perkiraan_selesai": (
                    f"{application.due_date:%d-%m-%Y}"
                    if application.due_date
                    else "setelah identitas diverifikasi"
                ),
                "tautan": tracking_path(application),
            },
        )
    application.as_filed = (subject_rows, claimed, [event])
    return application


@action("services.application.file_at_counter")
def file_at_counter(
    *,
    actor: Actor,
    service: Service,
    form_data: Mapping[str, Any],
    relation: str = Relation.SELF,
    applicant_id: str = "",
    applicant_name: str = "",
    applicant_phone: str = "",
    subject_ids: list[str] | None = None,
    attachments: list[Any] | None = None,
    ticket_number: str = "",
) -> Application:
    """File a walk-in citizen's application at the counter (channel `counter`),
    the applicant and subjects chosen from the register by id, and link the
    queue ticket of today being served: all in one transaction."""
    from balai.registry.selectors import get_resident

    actor.require_role(*COUNTER_ROLES)
    ticket = None
    if ticket_number.strip():
        from balai.antrian.selectors import ticket_today

        ticket = ticket_today(actor, ticket_number)

    def person(pk: str, what: str) -> Resident:
        try:
            return get_resident(actor, pk)
        except (NotFound, PermissionDenied):
            raise NotFound(
                f"{what} tidak ditemukan dalam data kependudukan wilayah Anda.",
                code="resident_not_found",
            ) from None

    resident = person(applicant_id, "Pemohon") if applicant_id else None
    subjects = [person(pk, "Subjek") for pk in subject_ids or []]
    if resident is not None and not resident.nik:
        raise BalaiError(
            "Pemohon belum memiliki NIK; isi namanya sebagai pemohon tidak terdaftar.",
            code="applicant_without_nik",
        )
    application = submit_application(
        actor=actor,
        service=service,
        channel=Channel.COUNTER,
        form_data=form_data,
        relation=relation,
        subjects=[{"nik": r.nik or "", "name": r.name} for r in subjects],
        attachments=list(attachments or []),
        applicant={
            "nik": resident.nik if resident is not None else "",
            # A registered applicant goes by his name in the register.
            "name": resident.name if resident is not None else applicant_name,
            "phone": applicant_phone.strip()
            or (resident.phone if resident is not None else ""),
        },
    )
    if ticket is not None:
        from balai.antrian.actions import link_application

        link_application(actor=actor, ticket=ticket, application_id=application.pk)
    return application


def _receipt_items(service: Service, claimed: list[Attachment]) -> list[str]:
    """The papers received, named as the catalogue names them."""
    labels = {r["code"]: r["label"] for r in service.requirements}
    items = []
    for attachment in claimed:
        if attachment.kind == AttachmentKind.POWER_OF_ATTORNEY:
            items.append(str(AttachmentKind.POWER_OF_ATTORNEY.label))
        else:
            items.append(
                labels.get(attachment.requirement_code)
                or attachment.original_name
                or str(AttachmentKind(attachment.kind).label)
            )
    return items


def tracking_path(application: Application) -> str:
    return f"/layanan/lacak/?nomor={application.number}"


def actor_office(actor: Actor) -> Office:
    if actor.office_id is None:
        raise PermissionDenied("Anda tidak sedang bertugas di kantor mana pun.")
    # Read with the actor's postings in this request: no second query.
    for posting in actor.postings:
        if posting.office_id == actor.office_id:
            return posting.office
    return Office.objects.get(pk=actor.office_id)


def _check_siak_record(
    *, service: Service, numbers: Mapping[str, Any], claimed: list[Attachment]
) -> dict[str, str]:
    clean = {}
    for key in service.siak_outputs:
        value = str(numbers.get(key) or "").strip()
        if not value:
            raise BalaiError(
                f"{SIAK_OUTPUTS[key]} dari SIAK wajib dicatat.",
                code="siak_number_missing",
                extra={"field": key},
            )
        if key in ("nik", "kk_number") and (len(value) != 16 or not value.isdigit()):
            raise BalaiError(
                f"{SIAK_OUTPUTS[key]} harus 16 angka.",
                code="siak_number_invalid",
                extra={"field": key},
            )
        if len(value) > 60:
            raise BalaiError(
                f"{SIAK_OUTPUTS[key]} terlalu panjang.", code="siak_number_invalid"
            )
        clean[key] = value
    extra = set(numbers) - set(service.siak_outputs)
    if extra:
        raise BalaiError(
            "Nomor yang tidak diterbitkan layanan ini: " + ", ".join(sorted(extra)),
            code="siak_number_unexpected",
        )
    if not any(a.kind == AttachmentKind.SIAK_DOCUMENT for a in claimed):
        raise BalaiError(
            "Lampirkan PDF terbitan SIAK (bertanda tangan elektronik).",
            code="siak_document_missing",
        )
    return clean


def derived_status(application: Application) -> tuple[str, int]:
    """Return (status, version) as the events say: what the row must agree with."""
    last = application.events.order_by("-seq").values("to_status", "seq").first()
    if last is None:
        return "", 0
    return last["to_status"], last["seq"]


@action("services.application.transition")
def transition_application(
    *,
    actor: Actor,
    application: Application,
    name: str,
    expected_version: int,
    note: str = "",
    numbers: Mapping[str, Any] | None = None,
    attachments: list[Any] | None = None,
) -> Application:
    """Take one workflow step; refuse if someone acted since `expected_version`."""
    app = (
        Application.objects.select_for_update(of=("self",))
        .select_related("service", "owner_office", "filed_office")
        .get(pk=application.pk)
    )
    if not (actor.is_citizen and workflow.is_applicant(actor, app)) and not (
        actor.is_system or actor.sees_everything or actor.covers(app.region_code)
    ):
        raise NotFound()
    if app.version != int(expected_version):
        last = app.events.order_by("-seq").first()
        who = f" oleh {last.actor_name}" if last else ""
        raise Conflict(
            f"Permohonan {app.number} sudah diubah{who} sesaat lalu (status kini "
            f"“{Status(app.status).label}”). Muat ulang halaman, periksa, lalu "
            "ulangi bila masih perlu.",
            code="stale_version",
            extra={"version": app.version, "status": app.status},
        )
    status, version = derived_status(app)
    if (status, version) != (app.status, app.version):
        raise BalaiError(
            "Status permohonan tidak sesuai riwayatnya; hubungi administrator.",
            code="status_inconsistent",
            status_code=500,
        )
    if app.owner_office and not node_serves(app.owner_office):
        raise Conflict(
            "Permohonan ini sedang dikelola kantor lain dan hanya dapat diubah di "
            "sana.",
            code="not_this_node",
        )
    step, as_who = workflow.check(actor, app, name, note=note, service=app.service)
    claimed = _claim_attachments(actor=actor, ids=attachments or [], application=app)
    data: dict[str, Any] = {}
    if step.records_siak:
        app.issued_numbers = _check_siak_record(
            service=app.service, numbers=numbers or {}, claimed=claimed
        )
        data["numbers"] = app.issued_numbers
    elif numbers:
        app.issued_numbers = {
            **app.issued_numbers,
            **{k: str(v) for k, v in numbers.items()},
        }
        data["numbers"] = dict(numbers)
    register_data = register.on_step(actor=actor, application=app, step=step, note=note)
    if register_data:
        data["register"] = register_data
    if step.records_siak:
        # Delivered through the documents app (access-logged); the
        # attachment stays on the application as well.
        stored = siak.store(actor=actor, application=app, claimed=claimed)
        if stored:
            data["siak_document"] = stored
    if step.name == "issue" and app.workflow == WorkflowKind.OFFICE_LETTER:
        letter = letters.issue_letter(actor=actor, application=app)
        if letter:
            data["document"] = letter
    if step.target == Status.REJECTED:
        app.decision_note = note.strip()
    if step.moves_to == workflow.TO_DISDUKCAPIL:
        target = Office.objects.filter(code=siak_office_code(), is_active=True).first()
        if target is None:
            raise BalaiError(
                "Kantor Disdukcapil belum terdaftar.", code="siak_office_missing"
            )
        app.owner_office = target
    elif step.moves_to == workflow.TO_FILED_OFFICE:
        app.owner_office = app.filed_office
    if claimed:
        data["attachments"] = [str(a.blob_id) for a in claimed]
    from_status = app.status
    app.status = step.target
    app.version += 1
    acting_office = (
        None
        if as_who == "applicant" or actor.office_id is None
        else (Office.objects.get(pk=actor.office_id))
    )
    event = ApplicationEvent.objects.create(
        application=app,
        seq=app.version,
        transition=step.name,
        from_status=from_status,
        to_status=step.target,
        at=timezone.now(),
        actor_id=str(actor.user_id or ""),
        actor_name=actor.username,
        by_applicant=as_who == "applicant",
        office=acting_office,
        owner_office_code=app.owner_office.code if app.owner_office else "",
        note=note.strip(),
        data=json_value(data),
    )
    events = list(app.events.all())
    sla.refresh(app, events)
    updated = Application.objects.filter(pk=app.pk, version=expected_version).update(
        status=app.status,
        version=app.version,
        owner_office=app.owner_office,
        issued_numbers=app.issued_numbers,
        decision_note=app.decision_note,
        due_date=app.due_date,
        deadline_flagged=app.deadline_flagged,
        deadline_note=app.deadline_note,
        completed_at=app.completed_at,
        on_time=app.on_time,
        updated_at=timezone.now(),
    )
    if updated != 1:
        raise Conflict("Permohonan ini baru saja diubah petugas lain.")
    record_many(
        actor=actor,
        targets=[app, event, *claimed],
        details=[
            {"number": app.number, "from": from_status, "to": step.target},
            {"transition": step.name},
            *[{"sha256": a.blob_id} for a in claimed],
        ],
    )
    _tell_applicant(actor=actor, application=app, step=step, note=note)
    return app


def _tell_applicant(*, actor: Actor, application: Application, step, note: str) -> None:
    phone = application.applicant_phone
    if not phone or step.name in ("cancel",):
        return
    link = tracking_path(application)
    if step.target == Status.NEEDS_REVISION:
        template, context = (
            notifications.REVISION_TEMPLATE,
            {
                "nomor": application.number,
                "alasan": note.strip()[:300],
                "batas_waktu": "-",
                "tautan": link,
            },
        )
    elif step.target == Status.ISSUED:
        template, context = (
            notifications.READY_TEMPLATE,
            {
                "nomor": application.number,
                "layanan": application.service.name,
                "kantor": application.filed_office.name,
                "jam_layanan": _hours_text(application.filed_office),
            },
        )
    else:
        template, context = (
            notifications.STATUS_TEMPLATE,
            {
                "nomor": application.number,
                "layanan": application.service.name,
                "status": str(Status(application.status).label),
                "tautan": link,
            },
        )
    notifications.queue_text(
        actor=actor, template=template, recipient=phone, context=context
    )


def _hours_text(office: Office) -> str:
    monday = (office.hours or {}).get("mon") or []
    return ", ".join(f"{a}-{b}" for a, b in monday) + " WITA" if monday else "-"


# --- SLA warnings and breaches ------------------------------------------------


@dataclass
class SlaCheckResult:
    warnings: int = 0
    breaches: int = 0


@action("services.sla.check")
def check_deadlines(
    *, actor: Actor, today: datetime.date | None = None
) -> SlaCheckResult:
    """Warn before a breach, notify the office head at a breach: once each."""
    if not actor.is_system:
        actor.require_role(Role.SERVICE_ADMIN)
    today = today or timezone.localdate()
    calendar = sla.regency_calendar()
    warn_days = int(getattr(settings, "BALAI_SLA_WARNING_DAYS", 1))
    result = SlaCheckResult()
    qs = (
        Application.objects.filter(
            status__in=workflow.OPEN - workflow.PAUSED, due_date__isnull=False
        )
        .select_related("service", "owner_office", "filed_office")
        .order_by("due_date")
    )
    for app in qs.iterator(chunk_size=500):
        if app.owner_office and not node_serves(app.owner_office):
            continue
        left = sla.working_days_left(app, today=today, calendar=calendar)
        if left is None:
            continue
        if today > app.due_date:
            kind = AlertKind.BREACH
        elif left <= warn_days:
            kind = AlertKind.WARNING
        else:
            continue
        if SlaAlert.objects.filter(
            application=app, kind=kind, due_date=app.due_date
        ).exists():
            continue
        office = app.owner_office or app.filed_office
        if kind == AlertKind.BREACH:
            late = (today - app.due_date).days
            notified = notifications.notify_office_head(
                actor=actor,
                office=office,
                template=notifications.BREACH_TEMPLATE,
                context={
                    "nomor": app.number,
                    "layanan": app.service.name,
                    "kantor": office.name,
                    "batas_waktu": f"{app.due_date:%d-%m-%Y}",
                    "terlambat": f"{late} hari",
                },
            )
            result.breaches += 1
        else:
            notified = ""
            if office.email and notifications.queue_text(
                actor=actor,
                template=notifications.WARNING_TEMPLATE,
                recipient=office.email,
                context={
                    "nomor": app.number,
                    "layanan": app.service.name,
                    "batas_waktu": f"{app.due_date:%d-%m-%Y}",
                    "sisa": f"{max(left, 0)} hari kerja",
                },
            ):
                notified = office.email
            result.warnings += 1
        alert = SlaAlert.objects.create(
            application=app, kind=kind, due_date=app.due_date, notified=notified
        )
        record(actor=actor, target=alert, details={"kind": kind, "number": app.number})
    return result


# --- Citizens: sign-up, one-time code, counter verification -------------------


@dataclass
class SignUpResult:
    user: User
    code_sent: bool
    phone_hint: str


def _otp_digest(user_id: Any, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _mask_phone(phone: str) -> str:
    return phone[:4] + "*" * max(len(phone) - 7, 0) + phone[-3:] if phone else ""


def _send_code(*, actor: Actor, user: User) -> bool:
    if not user.phone:
        return False
    CitizenOtp.objects.filter(user=user, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    code = f"{secrets.randbelow(10**6):06d}"
    otp = CitizenOtp.objects.create(
        user=user,
        digest=_otp_digest(user.pk, code),
        expires_at=timezone.now() + datetime.timedelta(minutes=OTP_MINUTES),
    )
    record(actor=actor, target=otp, details={"user": str(user.pk)}, change=None)
    notifications.queue_text(
        actor=actor,
        template=notifications.OTP_TEMPLATE,
        recipient=user.phone,
        context={"kode": code, "menit": OTP_MINUTES},
        required=True,
    )
    return True


def _create_citizen(
    *, actor: Actor, username: str, password: str, phone: str, resident: Resident
) -> User:
    from balai.accounts import actions as accounts_actions

    create = getattr(accounts_actions, "create_citizen_account", None)
    if create is not None:
        try:
            return create(
                actor=actor,
                username=username,
                password=password,
                phone=phone,
                resident_id=resident.pk,
            )
        except BalaiError as exc:
            if exc.code != "phone_invalid":
                raise
            return create(
                actor=actor,
                username=username,
                password=password,
                phone="",
                resident_id=resident.pk,
            )
    raise BalaiError(  # pragma: no cover - accounts ships create_citizen_account
        "Pembuatan akun warga belum tersedia.", code="citizen_accounts_missing"
    )


@action("services.citizen.sign_up")
def citizen_sign_up(
    *, actor: Actor, nik: str, kk_number: str, mother_name: str, password: str
) -> SignUpResult:
    """Open a citizen account if NIK, KK number and mother's name match the
    register; send a one-time code to the phone on record, if there is one."""
    nik, kk_number = (nik or "").strip(), (kk_number or "").strip()
    resident = (
        Resident.objects.select_related("family")
        .filter(nik=nik, status=ResidentStatus.ALIVE)
        .first()
        if len(nik) == 16 and nik.isdigit()
        else None
    )
    matches = (
        resident is not None
        and resident.family is not None
        and resident.family.kk_number == kk_number
        and bool(mother_name.strip())
        and name_key(mother_name) == name_key(resident.mother_name)
    )
    if not matches:
        raise BalaiError("Data tidak cocok dengan data kependudukan.", code="no_match")
    if User.objects.filter(kind=AccountKind.CITIZEN, resident_id=resident.pk).exists():
        raise Conflict(
            "Akun untuk data ini sudah ada. Masuk, atau minta bantuan di loket.",
            code="account_exists",
        )
    user = _create_citizen(
        actor=actor,
        username=nik,
        password=password,
        phone=resident.phone,
        resident=resident,
    )
    sent = _send_code(actor=actor, user=user)
    return SignUpResult(user=user, code_sent=sent, phone_hint=_mask_phone(user.phone))


def _mark_verified(*, actor: Actor, user: User, how: str) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_verified_citizen:
        return user
    user.is_verified_citizen = True
    user.save(update_fields=["is_verified_citizen"])
    record(actor=actor, target=user, details={"verified": how})
    _release_held(actor=actor, user=user)
    return user


def _release_held(*, actor: Actor, user: User) -> None:
    now = timezone.now()
    held = list(
        Application.objects.select_for_update(of=("self",))
        .filter(applicant_user=user, held_for_identity=True)
        .select_related("filed_office")
    )
    for app in held:
        app.held_for_identity = False
        if app.status in workflow.OPEN:
            app.clock_started_at = now
        changed = sla.refresh(app)
        app.save(
            update_fields=[
                "held_for_identity",
                "clock_started_at",
                "updated_at",
                *changed,
            ]
        )
    if held:
        record_many(
            actor=actor,
            targets=held,
            details=[{"released": True, "due_date": a.due_date} for a in held],
        )


@action("services.citizen.check_code")
def check_citizen_code(*, actor: Actor, user: User, code: str) -> str:
    """Check a one-time code; count the attempt. Returns "ok", "wrong",
    "expired" or "locked" (it never raises, so a wrong try stays counted)."""
    otp = (
        CitizenOtp.objects.select_for_update()
        .filter(user=user, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if otp is None or otp.expires_at <= timezone.now():
        return "expired"
    if otp.attempts >= OTP_MAX_ATTEMPTS:
        return "locked"
    if not hmac.compare_digest(otp.digest, _otp_digest(user.pk, (code or "").strip())):
        otp.attempts += 1
        otp.save(update_fields=["attempts"])
        record(actor=actor, target=otp, details={"attempt": otp.attempts}, change=None)
        return "wrong"
    otp.used_at = timezone.now()
    otp.save(update_fields=["used_at"])
    _mark_verified(actor=actor, user=user, how="otp")
    return "ok"


def verify_citizen_code(*, actor: Actor, user: User, code: str) -> User:
    """Verify the phone on record with the one-time code, or raise."""
    outcome = check_citizen_code(actor=actor, user=user, code=code)
    if outcome == "locked":
        raise BalaiError(
            "Terlalu banyak percobaan. Minta kode baru.", code="otp_locked"
        )
    if outcome != "ok":
        raise BalaiError("Kode salah atau sudah kedaluwarsa.", code="otp_invalid")
    return User.objects.get(pk=user.pk)


@action("services.citizen.resend_code")
def resend_citizen_code(*, actor: Actor, user: User) -> bool:
    """Send a fresh one-time code to the phone on record."""
    if user.is_verified_citizen:
        return False
    recent = CitizenOtp.objects.filter(
        user=user, created_at__gte=timezone.now() - datetime.timedelta(minutes=1)
    ).exists()
    if recent:
        raise BalaiError(
            "Tunggu satu menit sebelum meminta kode baru.", code="otp_too_soon"
        )
    return _send_code(actor=actor, user=user)


@action("services.citizen.verify_at_counter")
def verify_citizen_at_counter(*, actor: Actor, user: User, nik_seen: str) -> User:
    """An officer saw the citizen's KTP-el at the counter: verify his account."""
    actor.require_role(*COUNTER_ROLES)
    resident = Resident.objects.filter(pk=user.resident_id).first()
    if (
        user.kind != AccountKind.CITIZEN
        or resident is None
        or not actor.covers(resident.village_id)
    ):
        raise NotFound()
    if resident.nik != (nik_seen or "").strip():
        raise BalaiError(
            "NIK pada KTP-el tidak sama dengan NIK akun ini.", code="nik_mismatch"
        )
    return _mark_verified(actor=actor, user=user, how=f"loket:{actor.office_code}")


# --- Drafts -------------------------------------------------------------------


@action("services.draft.save")
def save_draft(
    *, actor: Actor, service: Service, data: Mapping[str, Any]
) -> ApplicationDraft:
    """Keep a citizen's unfinished application (one draft per service)."""
    if not actor.is_citizen:
        raise PermissionDenied("Draf hanya untuk permohonan daring warga.")
    draft, _created = ApplicationDraft.objects.update_or_create(
        user_id=actor.user_id, service=service, defaults={"data": json_value(data)}
    )
    record(actor=actor, target=draft, details={"service": service.code}, change=None)
    return draft


@action("services.draft.discard")
def discard_draft(*, actor: Actor, service: Service) -> None:
    deleted, _ = ApplicationDraft.objects.filter(
        user_id=actor.user_id, service=service
    ).delete()
    if deleted:
        record(actor=actor, details={"draft_discarded": service.code}, change=None)


# --- Satisfaction survey (IKM) ------------------------------------------------


@action("services.survey.submit")
def submit_survey(
    *,
    actor: Actor,
    application: Application,
    scores: Mapping[str, int],
    comment: str = "",
) -> SurveyResponse:
    """The applicant rates the nine IKM elements of a completed service, once."""
    app = Application.objects.select_for_update().get(pk=application.pk)
    if not workflow.is_applicant(actor, app):
        raise NotFound()
    if app.status not in workflow.COMPLETED:
        raise BalaiError(
            "Survei dapat diisi setelah layanan selesai.", code="survey_too_early"
        )
    if SurveyResponse.objects.filter(application=app).exists():
        raise Conflict("Survei untuk permohonan ini sudah diisi.", code="survey_done")
    names = [name for name, _label in IKM_ELEMENTS]
    missing = [n for n in names if n not in scores]
    unknown = set(scores) - set(names)
    if missing or unknown:
        raise BalaiError(
            "Nilai kesembilan unsur survei wajib diisi.",
            code="survey_incomplete",
            extra={"missing": missing, "unknown": sorted(unknown)},
        )
    values = {}
    for name in names:
        try:
            value = int(scores[name])
        except (TypeError, ValueError):
            value = 0
        if not 1 <= value <= 4:
            raise BalaiError(
                "Setiap nilai antara 1 dan 4.",
                code="survey_score_range",
                extra={"field": name},
            )
        values[name] = value
    response = SurveyResponse.objects.create(
        application=app,
        service_id=app.service_id,
        office_id=app.filed_office_id,
        kecamatan_code=app.kecamatan_code,
        comment=comment.strip()[:2000],
        **values,
    )
    record(actor=actor, target=response, details={"number": app.number})
    return response
