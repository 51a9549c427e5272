"""Reads of the services app, each scoped to who asks."""

from __future__ import annotations

import datetime
import hmac
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from balai.accounts.models import Role
from balai.core.actors import Actor
from balai.core.errors import NotFound, PermissionDenied
from balai.core.rows import select_rows
from balai.regions.models import Region, RegionLevel
from balai.services import calendar as cal
from balai.services import workflow
from balai.services.actions import normalize_code, normalize_number
from balai.services.models import (
    Application,
    ApplicationDraft,
    ApplicationEvent,
    ApplicationSubject,
    Attachment,
    AttachmentKind,
    Channel,
    LocalHoliday,
    Service,
    ServiceVersion,
    Status,
)
from balai.services.receipts import receipt_of

# Roles that read applications across offices within their scope.
OVERSIGHT_ROLES = (Role.LEADER, Role.AUDITOR, Role.SERVICE_ADMIN)

# --- Catalogue (public) -------------------------------------------------------


def catalogue(*, include_inactive: bool = False) -> QuerySet[Service]:
    qs = Service.objects.all().order_by("sort_order", "code")
    return qs if include_inactive else qs.filter(is_active=True)


def service_by_code(code: str, *, include_inactive: bool = False) -> Service:
    # A plain statement: every submission reads its service (code is unique).
    found = select_rows(
        Service,
        where="code = %s" + ("" if include_inactive else " AND is_active"),
        params=[code],
    )
    if not found:
        raise NotFound("Layanan tidak ditemukan.", code="service_not_found")
    return found[0]


def service_history(*, actor: Actor, service: Service) -> QuerySet[ServiceVersion]:
    actor.require_role(Role.SERVICE_ADMIN, Role.AUDITOR)
    return ServiceVersion.objects.filter(service=service).order_by("-revision")


def local_holidays(*, year: int | None = None) -> QuerySet[LocalHoliday]:
    qs = LocalHoliday.objects.all().order_by("date")
    return qs.filter(date__year=year) if year else qs


# --- Applications -------------------------------------------------------------


def visible_applications(actor: Actor) -> QuerySet[Application]:
    """Applications the actor may read: his own (citizen), his office's work
    (officer, including what his office handled before a hand-off), or his
    scope's (leaders, auditors, service administrators)."""
    qs = Application.objects.select_related("service", "owner_office", "filed_office")
    if actor.is_system:
        return qs
    if actor.is_citizen:
        return qs.filter(applicant_user_id=actor.user_id)
    if not actor.user_id:
        return qs.none()
    q = Q(pk__in=[])
    if actor.office_id is not None:
        touched = ApplicationEvent.objects.filter(
            application=OuterRef("pk"), office_id=actor.office_id
        )
        q = (
            Q(owner_office_id=actor.office_id)
            | Q(filed_office_id=actor.office_id)
            | Q(Exists(touched))
        )
    if actor.has_role(*OVERSIGHT_ROLES):
        if actor.sees_everything:
            return qs
        q |= actor.scope_q("region_code")
    return qs.filter(q)


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("Permohonan tidak ditemukan.", code="not_found") from None


def application_for(actor: Actor, pk: Any) -> Application:
    """Return one application the actor may read, or NotFound."""
    app = visible_applications(actor).filter(pk=_uuid(pk)).first()
    if app is None:
        raise NotFound("Permohonan tidak ditemukan.", code="application_not_found")
    return app


def events_of(application: Application) -> QuerySet[ApplicationEvent]:
    return application.events.select_related("office").order_by("seq")


def parts_of(
    application: Application,
) -> tuple[list[ApplicationSubject], list[Attachment], list[ApplicationEvent]]:
    """Return an application's subjects, attachments and events.

    A just-filed application carries them as filed (`as_filed`, set by the
    submit action): answering the submission does not read them back.
    """
    filed = getattr(application, "as_filed", None)
    if filed is not None:
        return filed
    return (
        list(application.subjects.select_related("resident")),
        list(application.attachments.select_related("blob")),
        list(events_of(application)),
    )


def inbox(
    *, actor: Actor, status: str | None = None, limit: int = 200
) -> QuerySet[Application]:
    """An office's open work, the nearest deadline first."""
    if actor.is_citizen or actor.office_id is None:
        raise PermissionDenied("Kotak kerja hanya untuk petugas kantor.")
    qs = visible_applications(actor).filter(
        owner_office_id=actor.office_id,
        status__in=workflow.OPEN | {Status.ISSUED},
    )
    if status:
        qs = qs.filter(status=status)
    # Held and paused work (no due date) after the running clocks, on every
    # database (SQLite sorts NULL first, PostgreSQL last).
    order = ("held_for_identity", F("due_date").asc(nulls_last=True), "submitted_at")
    # The first page's ids from the inbox index alone (an index-only scan on
    # PostgreSQL, whatever the planner's page costs), then those rows by key.
    ids = list(qs.order_by(*order).values_list("pk", flat=True)[:limit])
    return visible_applications(actor).filter(pk__in=ids).order_by(*order)


def my_applications(*, actor: Actor) -> QuerySet[Application]:
    if not actor.is_citizen:
        raise PermissionDenied()
    return visible_applications(actor).order_by("-submitted_at")


def my_draft(*, actor: Actor, service: Service) -> ApplicationDraft | None:
    if not actor.is_citizen:
        return None
    return ApplicationDraft.objects.filter(
        user_id=actor.user_id, service=service
    ).first()


def attachment_for(actor: Actor, pk: Any) -> Attachment:
    """An attachment the actor may download: of a visible application, or his own
    upload not yet filed."""
    attachment = (
        Attachment.objects.select_related("blob", "application")
        .filter(pk=_uuid(pk))
        .first()
    )
    if attachment is None:
        raise NotFound()
    if attachment.application_id is None:
        owner = str(actor.user_id) if actor.user_id else f"system:{actor.username}"
        if attachment.uploaded_by_id != owner:
            raise NotFound()
        return attachment
    application_for(actor, attachment.application_id)
    return attachment


# --- Tracking (public, no personal data) --------------------------------------


@dataclass(frozen=True)
class TrackStep:
    status: str
    status_label: str
    at: datetime.datetime
    office: str


@dataclass(frozen=True)
class Tracking:
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
    steps: list[TrackStep] = field(default_factory=list)
    # Links only: the files behind them are served to the applicant or staff.
    receipt_id: str = ""
    # SIAK PDFs kept by the documents app (downloaded through it, logged) ...
    siak_document_ids: list[str] = field(default_factory=list)
    # ... and SIAK attachments it does not keep (served by `attachment`, logged).
    siak_attachment_ids: list[str] = field(default_factory=list)


def track(*, number: str, code: str) -> Tracking:
    """The status timeline for a number and its tracking code.

    A wrong code and an unknown number get the very same answer.
    """
    app = (
        Application.objects.select_related("service", "filed_office")
        .filter(number=normalize_number(number))
        .first()
    )
    given = normalize_code(code)
    if (
        app is None
        or not given
        or not hmac.compare_digest(app.tracking_code.encode(), given.encode())
    ):
        raise NotFound("Permohonan tidak ditemukan.", code="not_found")
    steps = [
        TrackStep(
            status=e.to_status,
            status_label=str(Status(e.to_status).label),
            at=e.at,
            office=e.office.name if e.office_id else "",
        )
        for e in events_of(app)
    ]
    receipt = receipt_of(app)
    documents, loose = [], []
    if app.status in (Status.ISSUED, Status.COLLECTED):
        from balai.services import siak

        documents = siak.documents_of(app)
        kept = {d.sha256 for d in documents}
        loose = [
            str(pk)
            for pk, sha256 in app.attachments.filter(
                kind=AttachmentKind.SIAK_DOCUMENT
            ).values_list("pk", "blob_id")
            if sha256 not in kept
        ]
    return Tracking(
        number=app.number,
        service=app.service.name,
        service_en=app.service.name_en,
        status=app.status,
        status_label=str(Status(app.status).label),
        submitted_at=app.submitted_at,
        due_date=app.due_date,
        deadline_flagged=app.deadline_flagged,
        held_for_identity=app.held_for_identity,
        office=app.filed_office.name,
        steps=steps,
        receipt_id=str(receipt.pk) if receipt is not None else "",
        siak_document_ids=[str(d.pk) for d in documents],
        siak_attachment_ids=loose,
    )


# --- Steering figures ---------------------------------------------------------


def _period_bounds(period) -> tuple[datetime.datetime, datetime.datetime]:
    start, end = period
    tz = cal.WITA
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(
            end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        ),
    )


def online_share_by_kecamatan(
    period: tuple[datetime.date, datetime.date], *, actor: Actor | None = None
) -> list[dict[str, Any]]:
    """Per kecamatan: applications filed in the period, how many online, share.

    Aggregates only (no personal data). With an actor, limited to his scope.
    """
    start, end = _period_bounds(period)
    qs = Application.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    kecamatan = Region.objects.filter(level=RegionLevel.KECAMATAN).order_by("code")
    if actor is not None and not actor.sees_everything:
        qs = qs.filter(actor.scope_q("kecamatan_code"))
        kecamatan = kecamatan.filter(actor.scope_q("code"))
    counts = {
        row["kecamatan_code"]: row
        for row in qs.values("kecamatan_code").annotate(
            total=Count("id"), online=Count("id", filter=Q(channel=Channel.ONLINE))
        )
    }
    rows = []
    for region in kecamatan:
        row = counts.get(region.code, {"total": 0, "online": 0})
        total, online = row["total"], row["online"]
        rows.append(
            {
                "kecamatan_code": region.code,
                "kecamatan": region.name,
                "total": total,
                "online": online,
                "share": round(online / total, 4) if total else None,
            }
        )
    return rows


def overdue(
    *, actor: Actor, today: datetime.date | None = None
) -> QuerySet[Application]:
    """Open work already past its deadline, oldest deadline first."""
    actor.require_role(*OVERSIGHT_ROLES, Role.REGISTRAR)
    today = today or timezone.localdate()
    qs = Application.objects.select_related(
        "service", "owner_office", "filed_office"
    ).filter(
        status__in=workflow.OPEN - workflow.PAUSED,
        due_date__lt=today,
    )
    if not actor.sees_everything:
        qs = qs.filter(actor.scope_q("region_code"))
    return qs.order_by("due_date", "submitted_at")


@dataclass(frozen=True)
class SlaFigures:
    completed: int
    completed_on_time: int
    on_time_pct: float | None
    open_overdue: int
    open_total: int
    flagged: int


def sla_figures(
    *,
    actor: Actor,
    period: tuple[datetime.date, datetime.date],
    today: datetime.date | None = None,
) -> SlaFigures:
    """The two honest figures side by side: on-time % of completed work in the
    period, and open work already past its deadline (today)."""
    actor.require_role(*OVERSIGHT_ROLES, Role.REGISTRAR)
    today = today or timezone.localdate()
    start, end = _period_bounds(period)
    base = Application.objects.all()
    if not actor.sees_everything:
        base = base.filter(actor.scope_q("region_code"))
    done = base.filter(
        completed_at__gte=start, completed_at__lt=end, on_time__isnull=False
    )
    completed = done.count()
    on_time = done.filter(on_time=True).count()
    open_qs = base.filter(status__in=workflow.OPEN)
    return SlaFigures(
        completed=completed,
        completed_on_time=on_time,
        on_time_pct=round(100 * on_time / completed, 1) if completed else None,
        open_overdue=open_qs.filter(
            status__in=workflow.OPEN - workflow.PAUSED, due_date__lt=today
        ).count(),
        open_total=open_qs.count(),
        flagged=open_qs.filter(deadline_flagged=True).count(),
    )


def status_mismatches(*, limit: int = 100) -> list[str]:
    """Numbers of applications whose status disagrees with their last event."""
    bad = []
    for app in Application.objects.prefetch_related("events").iterator(chunk_size=500):
        events = sorted(app.events.all(), key=lambda e: e.seq)
        if not events or (events[-1].to_status, events[-1].seq) != (
            app.status,
            app.version,
        ):
            bad.append(app.number)
            if len(bad) >= limit:
                break
    return bad


# --- Counter filing -----------------------------------------------------------

COUNTER_FILING_ROLES = (Role.COUNTER_OFFICER, Role.REGISTRY_OFFICER)


def counter_services(*, actor: Actor) -> QuerySet[Service]:
    """The open services the actor's office takes at its counter: an MPP its
    own and the regency's, a desa or kelurahan office its own, a regency
    office those it answers for."""
    from balai.regions.models import Office, OfficeKind
    from balai.services.models import Availability, ResponsibleKind

    actor.require_role(*COUNTER_FILING_ROLES)
    office = Office.objects.filter(pk=actor.office_id).first()
    if office is None:
        raise PermissionDenied("Anda tidak sedang bertugas di kantor mana pun.")
    if office.kind == OfficeKind.MPP:
        takes = Q(responsible_kind__in=[ResponsibleKind.MPP, ResponsibleKind.REGENCY])
    elif office.kind in (OfficeKind.DESA, OfficeKind.KELURAHAN):
        takes = Q(responsible_kind=ResponsibleKind.DESA)
    else:
        takes = Q(
            responsible_kind=ResponsibleKind.REGENCY,
            responsible_office_code=office.code,
        )
    return catalogue().filter(
        takes, availability__in=[Availability.COUNTER, Availability.BOTH]
    )


def counter_service(*, actor: Actor, code: str) -> Service:
    service = counter_services(actor=actor).filter(code=code).first()
    if service is None:
        raise NotFound(
            "Layanan ini tidak dilayani di loket kantor Anda.",
            code="service_not_at_counter",
        )
    return service


@dataclass
class Person:
    """A resident as the counter pages show him: masked NIK, name, desa."""

    id: uuid.UUID
    name: str
    nik: str
    village_name: str


@dataclass
class CounterDesk:
    """What the counter filing page shows: the chosen applicant and subjects,
    and a page of register search results (masked NIKs only)."""

    applicant: Person | None = None
    subjects: list[Person] = field(default_factory=list)
    results: Any = None
    search_error: str = ""
    # People asked for that are not in the actor's scope (or do not exist).
    problems: list[str] = field(default_factory=list)


def _person(actor: Actor, resident_id: Any, what: str) -> Person:
    from balai.registry.selectors import get_resident, mask_nik

    try:
        resident = get_resident(actor, resident_id)
    except (NotFound, PermissionDenied):
        raise NotFound(
            f"{what} tidak ditemukan dalam data kependudukan wilayah Anda. Cari ulang.",
            code="resident_not_found",
        ) from None
    return Person(
        id=resident.pk,
        name=resident.name,
        nik=mask_nik(resident.nik),
        village_name=resident.village.name if resident.village_id else "",
    )


def counter_desk(
    *,
    actor: Actor,
    applicant_id: Any = None,
    subject_ids: list[Any] | None = None,
    query: str = "",
    page: int = 1,
) -> CounterDesk:
    """The chosen people (in the actor's scope) and, for a query, the register's
    search (by NIK, KK number or name; `registry.search.search_residents`)."""
    from balai.core.errors import BalaiError
    from balai.registry.search import search_residents

    actor.require_role(*COUNTER_FILING_ROLES)
    desk = CounterDesk()
    try:
        desk.applicant = (
            _person(actor, applicant_id, "Pemohon") if applicant_id else None
        )
    except NotFound as exc:
        desk.problems.append(exc.message)
    for pk in subject_ids or []:
        try:
            desk.subjects.append(_person(actor, pk, "Subjek"))
        except NotFound as exc:
            desk.problems.append(exc.message)
    if query.strip():
        try:
            desk.results = search_residents(
                actor, query, status="hidup", page=page, per_page=10
            )
        except BalaiError as exc:
            desk.search_error = exc.message
    return desk
