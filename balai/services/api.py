"""JSON API of the services: the catalogue (public), applications, workflow
steps, uploads, tracking (public, rate limited), citizen sign-up, the survey,
local holidays and the steering figures. Every write takes `Idempotency-Key`.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status as HttpStatus
from pydantic import BaseModel

from balai.accounts.auth import CitizenSession, StaffSession, StaffToken, api_actor
from balai.accounts.models import AccountKind, User
from balai.core.actors import Actor
from balai.core.errors import BalaiError, NotFound
from balai.services import actions, selectors, throttle, workflow
from balai.services.models import (
    IKM_ELEMENTS,
    Application,
    Attachment,
    AttachmentKind,
    LocalHoliday,
    Relation,
    Service,
    Status,
)

try:
    from balai.core.api import idempotency_key
except ImportError:  # pragma: no cover - core ships the helper

    def idempotency_key(request: HttpRequest) -> str | None:
        return request.headers.get("Idempotency-Key") or None


# A citizen's session first: the staff session refuses a citizen outright.
STAFF_AUTH = [StaffToken(), StaffSession()]
ANY_AUTH = [StaffToken(), CitizenSession(), StaffSession()]
CITIZEN_AUTH = [CitizenSession()]

router = Router(tags=["services"])
applications_router = Router(tags=["applications"])
track_router = Router(tags=["tracking"])
citizens_router = Router(tags=["citizens"])


class ErrorOut(Schema):
    message: str
    code: str
    extra: dict


ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
    501: ErrorOut,
}


def _responses(ok_code: int, schema: Any) -> dict:
    return {ok_code: schema, **ERRORS}


def _key(request: HttpRequest) -> dict[str, str]:
    key = idempotency_key(request)
    return {"idempotency_key": key} if key else {}


# --- Catalogue ----------------------------------------------------------------


class RequirementOut(Schema):
    code: str
    label: str
    label_en: str
    mode: str
    required: bool


class ServiceOut(Schema):
    code: str
    name: str
    name_en: str
    description: str
    description_en: str
    responsible_kind: str
    responsible_office_code: str
    workflow: str
    register_effect: str
    subject_kind: str
    max_subjects: int
    requirements: list[RequirementOut]
    time_limit_days: int
    time_limit_to_confirm: bool
    fee_rupiah: int
    form_schema: dict
    availability: str
    offered_online: bool
    offered_at_counter: bool
    siak_outputs: list[str]
    legal_basis: str
    document_kind: str
    is_active: bool
    revision: int


class ServiceList(Schema):
    count: int
    items: list[ServiceOut]


def _service_out(s: Service) -> dict[str, Any]:
    return {
        **{f: getattr(s, f) for f in ServiceOut.model_fields if hasattr(s, f)},
        "offered_online": s.offered_online,
        "offered_at_counter": s.offered_at_counter,
    }


@router.get("", response=ServiceList, auth=None, summary="Katalog layanan")
def list_services(request: HttpRequest):
    """The public catalogue of services open now."""
    items = [_service_out(s) for s in selectors.catalogue()]
    return {"count": len(items), "items": items}


class ServiceIn(Schema):
    code: str
    name: str
    name_en: str
    workflow: str
    responsible_kind: str
    responsible_office_code: str = ""
    register_effect: str = ""
    subject_kind: str = "resident"
    max_subjects: int = 1
    description: str = ""
    description_en: str = ""
    requirements: list[dict] = []
    time_limit_days: int
    time_limit_to_confirm: bool = False
    fee_rupiah: int = 0
    form_schema: dict
    availability: str
    siak_outputs: list[str] = []
    legal_basis: str = ""
    document_kind: str = ""
    is_active: bool = True
    sort_order: int = 100
    note: str = ""


@router.post("", response=_responses(201, ServiceOut), auth=STAFF_AUTH)
def create_service(request: HttpRequest, body: ServiceIn):
    """Add a service (service administrators)."""
    values = body.dict()
    note = values.pop("note")
    service = actions.create_service(
        actor=api_actor(request), values=values, note=note, **_key(request)
    )
    return HttpStatus(201, _service_out(service))


class ServicePatch(Schema):
    expected_revision: int
    changes: dict[str, Any]
    note: str = ""


@router.patch("/{code}", response=_responses(200, ServiceOut), auth=STAFF_AUTH)
def update_service(request: HttpRequest, code: str, body: ServicePatch):
    """Change a catalogue entry; refused if it changed since `expected_revision`."""
    service = selectors.service_by_code(code, include_inactive=True)
    service = actions.update_service(
        actor=api_actor(request),
        service=service,
        changes=body.changes,
        expected_revision=body.expected_revision,
        note=body.note,
        **_key(request),
    )
    return _service_out(service)


class VersionOut(Schema):
    revision: int
    changed_at: datetime.datetime
    changed_by: str
    diff: dict
    note: str


@router.get(
    "/{code}/history", response=_responses(200, list[VersionOut]), auth=STAFF_AUTH
)
def service_history(request: HttpRequest, code: str):
    service = selectors.service_by_code(code, include_inactive=True)
    return list(selectors.service_history(actor=api_actor(request), service=service))


class HolidayOut(Schema):
    id: uuid.UUID
    date: datetime.date
    name: str
    decree: str
    is_active: bool


class HolidayIn(Schema):
    date: datetime.date
    name: str
    decree: str = ""


@router.get("/calendar/holidays", response=list[HolidayOut], auth=None)
def list_holidays(request: HttpRequest, year: int | None = None):
    """The regency's local days off (national ones are in the shipped calendar)."""
    return list(selectors.local_holidays(year=year))


@router.post(
    "/calendar/holidays", response=_responses(201, HolidayOut), auth=STAFF_AUTH
)
def add_holiday(request: HttpRequest, body: HolidayIn):
    holiday = actions.add_local_holiday(
        actor=api_actor(request),
        date=body.date,
        name=body.name,
        decree=body.decree,
        **_key(request),
    )
    return HttpStatus(201, holiday)


@router.post(
    "/calendar/holidays/{holiday_id}/withdraw",
    response=_responses(200, HolidayOut),
    auth=STAFF_AUTH,
)
def withdraw_holiday(request: HttpRequest, holiday_id: uuid.UUID):
    holiday = get_object_or_404(LocalHoliday, pk=holiday_id)
    return actions.withdraw_local_holiday(
        actor=api_actor(request), holiday=holiday, **_key(request)
    )


class PeriodIn(Schema):
    start: datetime.date
    end: datetime.date


class ShareOut(Schema):
    kecamatan_code: str
    kecamatan: str
    total: int
    online: int
    share: float | None


@router.get(
    "/figures/online-share", response=_responses(200, list[ShareOut]), auth=STAFF_AUTH
)
def online_share(request: HttpRequest, period: Query[PeriodIn]):
    """Share of online applications per kecamatan (leaders, auditors, admins)."""
    actor = api_actor(request)
    actor.require_role(*selectors.OVERSIGHT_ROLES)
    return selectors.online_share_by_kecamatan((period.start, period.end), actor=actor)


class SlaOut(Schema):
    completed: int
    completed_on_time: int
    on_time_pct: float | None
    open_overdue: int
    open_total: int
    flagged: int


@router.get("/figures/sla", response=_responses(200, SlaOut), auth=STAFF_AUTH)
def sla_figures(request: HttpRequest, period: Query[PeriodIn]):
    """On-time % of completed work and open work past its deadline, side by side."""
    return selectors.sla_figures(
        actor=api_actor(request), period=(period.start, period.end)
    )


@router.get("/{code}", response=_responses(200, ServiceOut), auth=None)
def get_service(request: HttpRequest, code: str):
    return _service_out(selectors.service_by_code(code))


# --- Applications -------------------------------------------------------------


class UploadOut(Schema):
    id: uuid.UUID
    sha256: str
    content_type: str
    size: int
    kind: str
    requirement_code: str


def _upload_out(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "sha256": a.blob_id,
        "content_type": a.blob.content_type,
        "size": a.blob.size,
        "kind": a.kind,
        "requirement_code": a.requirement_code,
    }


@applications_router.post(
    "/uploads", response=_responses(201, UploadOut), auth=ANY_AUTH
)
def upload(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[str] = AttachmentKind.REQUIREMENT,
    requirement_code: Form[str] = "",
):
    """Upload a PDF, JPEG or PNG; use its id when submitting or taking a step."""
    attachment = actions.upload_attachment(
        actor=api_actor(request),
        file=file,
        kind=kind,
        requirement_code=requirement_code,
        original_name=file.name or "",
        **_key(request),
    )
    return HttpStatus(201, _upload_out(attachment))


class SubjectIn(Schema):
    nik: str
    name: str = ""


class ApplicantIn(Schema):
    name: str = ""
    nik: str = ""
    phone: str = ""


class SubmitIn(Schema):
    service: str
    channel: str = "online"
    relation: str = Relation.SELF
    form_data: dict = {}
    subjects: list[SubjectIn] = []
    attachments: list[uuid.UUID] = []
    applicant: ApplicantIn | None = None


class EventOut(Schema):
    seq: int
    transition: str
    from_status: str
    to_status: str
    at: datetime.datetime
    actor_name: str
    office: str
    note: str


class SubjectOut(Schema):
    nik: str
    name: str


class AttachmentOut(UploadOut):
    url: str


class ApplicationOut(Schema):
    id: uuid.UUID
    number: str
    tracking_code: str
    service: str
    service_name: str
    workflow: str
    channel: str
    status: str
    status_label: str
    version: int
    relation: str
    applicant_name: str
    owner_office: str
    filed_office: str
    submitted_at: datetime.datetime
    due_date: datetime.date | None
    deadline_flagged: bool
    deadline_note: str
    held_for_identity: bool
    on_time: bool | None
    form_data: dict
    issued_numbers: dict
    decision_note: str
    subjects: list[SubjectOut]
    attachments: list[AttachmentOut]
    events: list[EventOut]
    transitions: list[str]


class ApplicationRow(BaseModel):
    """A row of a list (plain pydantic: lists of rows are built as dicts, and
    ninja's Schema would wrap each one to read Django objects)."""

    id: uuid.UUID
    number: str
    service: str
    status: str
    status_label: str
    channel: str
    owner_office: str
    submitted_at: datetime.datetime
    due_date: datetime.date | None
    deadline_flagged: bool
    held_for_identity: bool
    version: int


class ApplicationList(BaseModel):
    count: int
    items: list[ApplicationRow]


def mask_nik(nik: str | None) -> str:
    return f"{nik[:6]}******{nik[-4:]}" if nik and len(nik) == 16 else ""


# A list row: its keys and the columns they are read from (plain values, no
# model instances).
ROW_COLUMNS = {
    "id": "pk",
    "number": "number",
    "service": "service__code",
    "status": "status",
    "channel": "channel",
    "owner_office": "owner_office__code",
    "submitted_at": "submitted_at",
    "due_date": "due_date",
    "deadline_flagged": "deadline_flagged",
    "held_for_identity": "held_for_identity",
    "version": "version",
}


def _status_labels() -> dict[str, str]:
    return {s.value: str(s.label) for s in Status}


def _row_of(values: Sequence[Any], labels: dict[str, str]) -> dict[str, Any]:
    row = dict(zip(ROW_COLUMNS, values, strict=True))
    row["owner_office"] = row["owner_office"] or ""
    row["status_label"] = labels[row["status"]]
    return row


def _rows(qs: Any) -> list[dict[str, Any]]:
    labels = _status_labels()
    return [_row_of(v, labels) for v in qs.values_list(*ROW_COLUMNS.values())]


def _row(app: Application) -> dict[str, Any]:
    """The list row of an application already loaded."""

    def read(path: str) -> Any:
        value: Any = app
        for name in path.split("__"):
            value = getattr(value, name) if value is not None else None
        return value

    return _row_of([read(c) for c in ROW_COLUMNS.values()], _status_labels())


def application_out(actor: Actor, app: Application) -> dict[str, Any]:
    subjects, attachments, events = selectors.parts_of(app)
    return {
        **_row(app),
        "tracking_code": app.tracking_code,
        "service_name": app.service.name,
        "workflow": app.workflow,
        "relation": app.relation,
        "applicant_name": app.applicant_name,
        "filed_office": app.filed_office.code,
        "deadline_note": app.deadline_note,
        "on_time": app.on_time,
        "form_data": app.form_data,
        "issued_numbers": app.issued_numbers,
        "decision_note": app.decision_note,
        "subjects": [
            {
                "nik": mask_nik(s.resident.nik) if s.resident else "",
                "name": s.resident.name if s.resident else "",
            }
            for s in subjects
        ],
        "attachments": [
            {
                **_upload_out(a),
                "url": reverse("services:attachment", args=[a.pk]),
            }
            for a in attachments
        ],
        "events": [
            {
                "seq": e.seq,
                "transition": e.transition,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "at": e.at,
                "actor_name": "" if e.by_applicant else e.actor_name,
                "office": e.office.name if e.office_id else "",
                "note": e.note,
            }
            for e in events
        ],
        "transitions": [t.name for t in workflow.available(actor, app)],
    }


@applications_router.post("", response=_responses(201, ApplicationOut), auth=ANY_AUTH)
def submit(request: HttpRequest, body: SubmitIn):
    """File an application. Send `Idempotency-Key`: a double submit files one."""
    actor = api_actor(request)
    service = selectors.service_by_code(body.service)
    app = actions.submit_application(
        actor=actor,
        service=service,
        channel=body.channel,
        form_data=body.form_data,
        relation=body.relation,
        subjects=[s.dict() for s in body.subjects],
        attachments=[str(a) for a in body.attachments],
        applicant=body.applicant.dict() if body.applicant else None,
        **_key(request),
    )
    return HttpStatus(201, application_out(actor, app))


@applications_router.get("", response=_responses(200, ApplicationList), auth=ANY_AUTH)
def list_applications(request: HttpRequest, status: str = ""):
    """A citizen's own applications; an officer's office inbox (deadline first)."""
    actor = api_actor(request)
    if actor.is_citizen:
        qs = selectors.my_applications(actor=actor)
        if status:
            qs = qs.filter(status=status)
    else:
        qs = selectors.inbox(actor=actor, status=status or None)
    # Only what a row shows, as plain values: not the form data, nor each
    # row's service (schema, requirements) and offices (hours) decoded again.
    items = _rows(qs)
    return {"count": len(items), "items": items}


@applications_router.get(
    "/overdue", response=_responses(200, ApplicationList), auth=STAFF_AUTH
)
def overdue(request: HttpRequest):
    """Open work past its deadline, within the caller's scope."""
    items = _rows(selectors.overdue(actor=api_actor(request))[:500])
    return {"count": len(items), "items": items}


@applications_router.get(
    "/{application_id}", response=_responses(200, ApplicationOut), auth=ANY_AUTH
)
def get_application(request: HttpRequest, application_id: uuid.UUID):
    actor = api_actor(request)
    return application_out(actor, selectors.application_for(actor, application_id))


class TransitionIn(Schema):
    name: str
    expected_version: int
    note: str = ""
    numbers: dict[str, str] = {}
    attachments: list[uuid.UUID] = []


@applications_router.post(
    "/{application_id}/transitions",
    response=_responses(200, ApplicationOut),
    auth=ANY_AUTH,
)
def take_step(request: HttpRequest, application_id: uuid.UUID, body: TransitionIn):
    """Take one workflow step. A stale `expected_version` gets 409."""
    actor = api_actor(request)
    app = selectors.application_for(actor, application_id)
    app = actions.transition_application(
        actor=actor,
        application=app,
        name=body.name,
        expected_version=body.expected_version,
        note=body.note,
        numbers=body.numbers,
        attachments=[str(a) for a in body.attachments],
        **_key(request),
    )
    return application_out(actor, app)


class SurveyIn(Schema):
    scores: dict[str, int]
    comment: str = ""


class SurveyOut(Schema):
    application: str
    scores: dict[str, int]
    comment: str


@applications_router.post(
    "/{application_id}/survey", response=_responses(201, SurveyOut), auth=ANY_AUTH
)
def survey(request: HttpRequest, application_id: uuid.UUID, body: SurveyIn):
    """The applicant rates the nine IKM elements (1 to 4), once."""
    actor = api_actor(request)
    app = selectors.application_for(actor, application_id)
    response = actions.submit_survey(
        actor=actor,
        application=app,
        scores=body.scores,
        comment=body.comment,
        **_key(request),
    )
    return HttpStatus(
        201,
        {
            "application": app.number,
            "scores": {n: getattr(response, n) for n, _l in IKM_ELEMENTS},
            "comment": response.comment,
        },
    )


# --- Tracking (public) --------------------------------------------------------


class TrackStepOut(Schema):
    status: str
    status_label: str
    at: datetime.datetime
    office: str


class TrackOut(Schema):
    number: str
    service: str
    service_en: str
    status: str
    status_label: str
    submitted_at: datetime.datetime
    due_date: datetime.date | None
    deadline_flagged: bool
    held_for_identity: bool
    office: str
    steps: list[TrackStepOut]


def track_or_count(request: HttpRequest, number: str, code: str):
    """Look up a tracking request; count a miss against the caller's IP."""
    ip = throttle.client_ip(request)
    throttle.refuse_if_blocked("track", ip)
    try:
        return selectors.track(number=number, code=code)
    except NotFound:
        throttle.count_failure("track", ip)
        raise


@track_router.get("/{path:number}", response=_responses(200, TrackOut), auth=None)
def track(request: HttpRequest, number: str, code: str = ""):
    """Status timeline by number and tracking code, without personal data."""
    return track_or_count(request, number, code)


# --- Citizens -----------------------------------------------------------------


class SignUpIn(Schema):
    nik: str
    kk_number: str
    mother_name: str
    password: str


class SignUpOut(Schema):
    username: str
    code_sent: bool
    phone_hint: str
    verified: bool
    message: str


SYSTEM_SIGNUP = "pendaftaran-warga"


def sign_up_or_count(request: HttpRequest, **values: str):
    ip = throttle.client_ip(request)
    throttle.refuse_if_blocked("sign_up", ip)
    try:
        return actions.citizen_sign_up(actor=Actor.system(name=SYSTEM_SIGNUP), **values)
    except BalaiError as exc:
        if exc.code == "no_match":
            throttle.count_failure("sign_up", ip)
        raise


def sign_up_message(result) -> str:
    if result.code_sent:
        return (
            f"Kode verifikasi dikirim ke nomor {result.phone_hint}. Masukkan kode "
            "itu untuk mengaktifkan akun."
        )
    return (
        "Akun dibuat, tetapi tidak ada nomor telepon di data kependudukan Anda. "
        "Datang ke loket MPP dengan KTP-el untuk verifikasi; permohonan Anda "
        "menunggu sampai akun terverifikasi."
    )


@citizens_router.post("/sign-up", response=_responses(201, SignUpOut), auth=None)
def sign_up(request: HttpRequest, body: SignUpIn):
    """Open a citizen account matched against the register (NIK, KK, mother)."""
    result = sign_up_or_count(
        request,
        nik=body.nik,
        kk_number=body.kk_number,
        mother_name=body.mother_name,
        password=body.password,
    )
    return HttpStatus(
        201,
        {
            "username": result.user.username,
            "code_sent": result.code_sent,
            "phone_hint": result.phone_hint,
            "verified": result.user.is_verified_citizen,
            "message": sign_up_message(result),
        },
    )


class CodeIn(Schema):
    code: str


class VerifiedOut(Schema):
    verified: bool


def _citizen_user(request: HttpRequest) -> User:
    return User.objects.get(pk=api_actor(request).user_id)


@citizens_router.post(
    "/verify", response=_responses(200, VerifiedOut), auth=CITIZEN_AUTH
)
def verify_code(request: HttpRequest, body: CodeIn):
    """Verify the phone on record with the one-time code."""
    ip = throttle.client_ip(request)
    throttle.refuse_if_blocked("otp", ip)
    try:
        user = actions.verify_citizen_code(
            actor=api_actor(request), user=_citizen_user(request), code=body.code
        )
    except BalaiError as exc:
        if exc.code == "otp_invalid":
            throttle.count_failure("otp", ip)
        raise
    return {"verified": user.is_verified_citizen}


@citizens_router.post(
    "/resend", response=_responses(200, VerifiedOut), auth=CITIZEN_AUTH
)
def resend_code(request: HttpRequest):
    user = _citizen_user(request)
    actions.resend_citizen_code(actor=api_actor(request), user=user)
    return {"verified": user.is_verified_citizen}


class CounterVerifyIn(Schema):
    username: str
    nik_seen: str


@citizens_router.post(
    "/verify-at-counter", response=_responses(200, VerifiedOut), auth=STAFF_AUTH
)
def verify_at_counter(request: HttpRequest, body: CounterVerifyIn):
    """An officer who saw the KTP-el verifies a citizen's account."""
    user = User.objects.filter(username=body.username, kind=AccountKind.CITIZEN).first()
    if user is None:
        raise NotFound()
    user = actions.verify_citizen_at_counter(
        actor=api_actor(request), user=user, nik_seen=body.nik_seen, **_key(request)
    )
    return {"verified": user.is_verified_citizen}


# --- "Siapa yang melihat data saya" ---------------------------------------------

ACCESS_LOG_PAGE_SIZE = 50


class AccessReadOut(Schema):
    at: datetime.datetime
    reader: str
    position: str
    office_code: str
    office_name: str
    purpose: str
    purpose_label: str
    what: str


class AccessLogOut(Schema):
    page: int
    has_next: bool
    items: list[AccessReadOut]


@citizens_router.get(
    "/me/access-log", response=_responses(200, AccessLogOut), auth=CITIZEN_AUTH
)
def my_access_log(request: HttpRequest, page: int = 1):
    """Who read the signed-in citizen's record and when, newest first (paged)."""
    from balai.registry.selectors import who_read_my_record

    page = max(1, min(page, 10_000))
    size = ACCESS_LOG_PAGE_SIZE
    rows = who_read_my_record(
        api_actor(request), limit=size + 1, offset=(page - 1) * size
    )
    return {
        "page": page,
        "has_next": len(rows) > size,
        "items": [
            {
                "at": r.at,
                "reader": r.reader,
                "position": r.position,
                "office_code": r.office_code,
                "office_name": r.office_name,
                "purpose": r.purpose,
                "purpose_label": r.purpose_label,
                "what": r.what,
            }
            for r in rows[:size]
        ],
    }
