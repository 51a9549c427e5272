"""Pages: the citizen catalogue, applying (draft, check your answers, receipt),
my applications, tracking, the survey, sign-up; the officer's inbox and
application page; the catalogue and local-holiday administration; and the
one door to stored files (access checked, never served by the web server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from balai.accounts.auth import request_actor, staff_required
from balai.accounts.models import AccountKind, Role, User
from balai.core.errors import BalaiError, NotFound, PermissionDenied
from balai.services import (
    actions,
    files,
    receipts,
    selectors,
    siak,
    throttle,
    workflow,
)
from balai.services import calendar as cal
from balai.services.api import (
    mask_nik,
    sign_up_message,
    sign_up_or_count,
    track_or_count,
)
from balai.services.forms import (
    ApplyForm,
    CodeForm,
    CounterForm,
    CounterVerifyForm,
    HolidayForm,
    ServiceEditForm,
    SignUpForm,
    StepForm,
    SubmitForm,
    SurveyForm,
    TrackForm,
)
from balai.services.models import (
    IKM_ELEMENTS,
    AttachmentKind,
    Channel,
    LocalHoliday,
    Relation,
    Status,
)
from balai.services.schema import SchemaForm, validate_form_data

OFFICER_ROLES = (
    Role.COUNTER_OFFICER,
    Role.REGISTRY_OFFICER,
    Role.REGISTRAR,
    Role.LEADER,
)


OVERDUE_ROLES = (Role.LEADER, Role.AUDITOR, Role.SERVICE_ADMIN, Role.REGISTRAR)
COUNTER_VERIFY_ROLES = (Role.COUNTER_OFFICER, Role.REGISTRY_OFFICER)


def staff_links(actor) -> list[tuple[str, str]]:
    """Return (address, label) of the service pages this actor may open,
    each checked against the roles its view demands, for the staff home."""
    links: list[tuple[str, str]] = []
    if actor.has_role(*OFFICER_ROLES):
        links.append((reverse("services:inbox"), _("Permohonan di kantor saya")))
    if actor.has_role(*selectors.COUNTER_FILING_ROLES):
        links.append(
            (reverse("services:counter-start"), _("Ajukan permohonan di loket"))
        )
    if actor.has_role(*COUNTER_VERIFY_ROLES):
        links.append(
            (reverse("services:counter-verify"), _("Verifikasi akun warga di loket"))
        )
    if actor.has_role(*OVERDUE_ROLES):
        links.append((reverse("services:overdue"), _("Pekerjaan lewat tenggat")))
    if actor.has_role(Role.SERVICE_ADMIN):
        links += [
            (reverse("services:admin-catalogue"), _("Kelola katalog layanan")),
            (reverse("services:admin-holidays"), _("Hari libur daerah")),
        ]
    return links


def citizen_links(user) -> list[tuple[str, str]]:
    """Return (address, label) of the citizen's own service pages, for the
    citizen home: apply, my applications, tracking, who read my data."""
    links = [
        (reverse("services:catalogue"), _("Ajukan layanan (katalog layanan)")),
        (reverse("services:my-applications"), _("Permohonan saya")),
        (reverse("services:track"), _("Lacak permohonan dengan nomor dan kode")),
        (reverse("antrian:my-appointments"), _("Janji temu saya")),
    ]
    if getattr(user, "resident_id", None):
        links.append(
            (reverse("services:my-access-log"), _("Siapa yang melihat data saya"))
        )
    return links


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.user.kind != AccountKind.CITIZEN:
            raise PermissionDenied("Halaman ini untuk akun warga.")
        return view(request, *args, **kwargs)

    return wrapper


# --- Catalogue (public) -------------------------------------------------------


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(
        request, "services/catalogue.html", {"services": selectors.catalogue()}
    )


@require_GET
def service_detail(request: HttpRequest, code: str) -> HttpResponse:
    service = selectors.service_by_code(code)
    return render(request, "services/service_detail.html", {"service": service})


# --- Applying (citizen) -------------------------------------------------------


def _take_uploads(request, *, actor, service, attached: dict, form) -> bool:
    """Store the files posted for the service's requirements (and a power of
    attorney) in `attached`; name each refused file on `form`."""
    ok = True
    for req in [*_upload_requirements(service), {"code": "kuasa"}]:
        upload = request.FILES.get(f"file_{req['code']}")
        if upload is None:
            continue
        try:
            attachment = actions.upload_attachment(
                actor=actor,
                file=upload,
                kind=AttachmentKind.POWER_OF_ATTORNEY
                if req["code"] == "kuasa"
                else AttachmentKind.REQUIREMENT,
                requirement_code=req["code"],
                original_name=upload.name or "",
            )
        except BalaiError as exc:
            form.add_error(None, f"{upload.name}: {exc.message}")
            ok = False
            continue
        attached[req["code"]] = {
            "id": str(attachment.pk),
            "name": attachment.original_name,
        }
    return ok


def _upload_requirements(service) -> list[dict]:
    return [r for r in service.requirements if r.get("mode") == "upload"]


@citizen_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """Fill in the form; saved as a draft; continue to check your answers."""
    actor = request_actor(request)
    service = selectors.service_by_code(code)
    if not service.offered_online:
        raise BalaiError(_("Layanan ini hanya dilayani di loket."), code="counter_only")
    draft = selectors.my_draft(actor=actor, service=service)
    saved = draft.data if draft else {}
    extra = max(service.max_subjects, 0)
    data_form = SchemaForm(
        request.POST or None,
        schema=service.form_schema,
        initial=saved.get("form_data", {}),
        prefix="f",
    )
    apply_form = ApplyForm(
        request.POST or None,
        max_subjects=extra,
        initial={
            "relation": saved.get("relation", Relation.SELF),
            **{
                f"subject_{k}_{i}": s.get(k, "")
                for i, s in enumerate(saved.get("subjects", []))
                for k in ("nik", "name")
            },
        },
    )
    uploads = _upload_requirements(service)
    attached = dict(saved.get("attachments", {}))
    if request.method == "POST":
        valid = data_form.is_valid() & apply_form.is_valid()
        valid &= _take_uploads(
            request, actor=actor, service=service, attached=attached, form=apply_form
        )
        if valid:
            try:
                validate_form_data(service.form_schema, data_form.json_data())
            except BalaiError as exc:
                data_form.add_schema_errors(exc)
                valid = False
        data = {
            "form_data": data_form.json_data() if valid else saved.get("form_data", {}),
            "relation": apply_form.cleaned_data.get("relation", Relation.SELF)
            if hasattr(apply_form, "cleaned_data")
            else Relation.SELF,
            "subjects": apply_form.subjects() if valid else saved.get("subjects", []),
            "attachments": attached,
        }
        actions.save_draft(actor=actor, service=service, data=data)
        if valid and "lanjut" in request.POST:
            return redirect("services:review", code=service.code)
        if valid:
            messages.success(request, _("Draf disimpan."))
            return redirect("services:apply", code=service.code)
    return render(
        request,
        "services/apply.html",
        {
            "service": service,
            "data_form": data_form,
            "apply_form": apply_form,
            "uploads": uploads,
            "attached": attached,
        },
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, code: str) -> HttpResponse:
    """Check your answers, then submit (one application even on a double click)."""
    actor = request_actor(request)
    service = selectors.service_by_code(code)
    draft = selectors.my_draft(actor=actor, service=service)
    if draft is None:
        return redirect("services:apply", code=service.code)
    data = draft.data
    form = SubmitForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            application = actions.submit_application(
                actor=actor,
                service=service,
                channel=Channel.ONLINE,
                form_data=data.get("form_data", {}),
                relation=data.get("relation", Relation.SELF),
                subjects=data.get("subjects", []),
                attachments=[a["id"] for a in data.get("attachments", {}).values()],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BalaiError as exc:
            error = exc
        else:
            actions.discard_draft(actor=actor, service=service)
            return redirect("services:my-application", pk=application.pk)
    props = service.form_schema.get("properties", {})
    answers = [
        (props.get(k, {}).get("title", k), v)
        for k, v in data.get("form_data", {}).items()
    ]
    return render(
        request,
        "services/review.html",
        {
            "service": service,
            "answers": answers,
            "relation": Relation(data.get("relation", Relation.SELF)).label,
            "subjects": [
                {"nik": mask_nik(s["nik"]), "name": s.get("name", "")}
                for s in data.get("subjects", [])
            ],
            "attached": data.get("attachments", {}),
            "form": form,
            "error": error,
        },
    )


@citizen_required
@require_GET
def my_applications(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    return render(
        request,
        "services/my_applications.html",
        {"applications": selectors.my_applications(actor=actor)},
    )


ACCESS_PAGE_SIZE = 25


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def access_page(actor, page: int, size: int = ACCESS_PAGE_SIZE):
    """One page of who read the citizen's record: (rows, has_next)."""
    from balai.registry.selectors import who_read_my_record

    rows = who_read_my_record(actor, limit=size + 1, offset=(page - 1) * size)
    return rows[:size], len(rows) > size


def what_label(what: str) -> str:
    """What was read, in words, for the citizen."""
    labels = {
        "record": _("Data kependudukan"),
        "record_nik": _("Data kependudukan dengan NIK lengkap"),
        "family_kk": _("Data kartu keluarga"),
        "download": _("Dokumen SIAK (diunduh)"),
        "print": _("Dokumen SIAK (dicetak)"),
        "track_download": _("Dokumen SIAK (diunduh lewat pelacakan)"),
    }
    return str(labels.get(what, what))


@citizen_required
@require_GET
def my_access_log(request: HttpRequest) -> HttpResponse:
    """ "Siapa yang melihat data saya": who read the citizen's record, when, why."""
    actor = request_actor(request)
    page = _page_number(request.GET.get("hal"))
    rows, has_next = access_page(actor, page)
    return render(
        request,
        "services/my_access.html",
        {
            "rows": [(row, what_label(row.what)) for row in rows],
            "page": page,
            "has_next": has_next,
        },
    )


def _step_forms(actor, application) -> list[tuple[Any, StepForm]]:
    return [
        (
            step,
            StepForm(
                initial={"name": step.name, "expected_version": application.version},
                prefix=step.name,
            ),
        )
        for step in workflow.available(actor, application)
    ]


@citizen_required
@require_http_methods(["GET", "POST"])
def my_application(request: HttpRequest, pk) -> HttpResponse:
    """A citizen's application: number, tracking code, timeline, his steps."""
    actor = request_actor(request)
    application = selectors.application_for(actor, pk)
    if request.method == "POST":
        return _take_step(request, actor, application, "services:my-application")
    return render(
        request,
        "services/my_application.html",
        {
            "application": application,
            "events": selectors.events_of(application),
            "receipt": receipts.receipt_of(application),
            "siak_downloads": _siak_downloads(application),
            "steps": _step_forms(actor, application),
            "survey_open": application.status in workflow.COMPLETED
            and not hasattr(application, "survey"),
        },
    )


def _siak_downloads(application) -> list[str]:
    """Links to the application's SIAK PDFs: through the documents app (which
    logs every download), else through `attachment` (which logs it too)."""
    documents = siak.documents_of(application)
    links = [
        reverse(
            "documents:siak-pdf", kwargs={"document_id": str(d.pk), "what": "download"}
        )
        for d in documents
    ]
    kept = {d.sha256 for d in documents}
    links += [
        reverse("services:attachment", args=[a.pk])
        for a in application.attachments.filter(kind=AttachmentKind.SIAK_DOCUMENT)
        if a.blob_id not in kept
    ]
    return links


def _take_step(request, actor, application, view_name: str) -> HttpResponse:
    name = request.POST.get("step", "")
    form = StepForm(request.POST, prefix=name)
    if not form.is_valid():
        messages.error(request, _("Langkah tidak dapat diproses. Muat ulang halaman."))
        return redirect(view_name, pk=application.pk)
    attachments = []
    for upload in request.FILES.getlist(f"{name}-files"):
        attachments.append(
            actions.upload_attachment(
                actor=actor,
                file=upload,
                kind=AttachmentKind.SIAK_DOCUMENT
                if name == "issue"
                else AttachmentKind.OTHER,
                original_name=upload.name or "",
            ).pk
        )
    numbers = {
        key[len(f"{name}-number-") :]: value
        for key, value in request.POST.items()
        if key.startswith(f"{name}-number-") and value.strip()
    }
    try:
        actions.transition_application(
            actor=actor,
            application=application,
            name=form.cleaned_data["name"],
            expected_version=form.cleaned_data["expected_version"],
            note=form.cleaned_data.get("note", ""),
            numbers=numbers,
            attachments=attachments,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except BalaiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Langkah dicatat."))
    return redirect(view_name, pk=application.pk)


@citizen_required
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, pk) -> HttpResponse:
    actor = request_actor(request)
    application = selectors.application_for(actor, pk)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.submit_survey(
                actor=actor,
                application=application,
                scores={n: form.cleaned_data[n] for n, _l in IKM_ELEMENTS},
                comment=form.cleaned_data.get("comment", ""),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BalaiError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Terima kasih atas penilaian Anda."))
            return redirect("services:my-application", pk=application.pk)
    return render(
        request, "services/survey.html", {"application": application, "form": form}
    )


# --- Tracking (public) --------------------------------------------------------


@require_GET
def track(request: HttpRequest) -> HttpResponse:
    """Status timeline by number and code; a wrong code says nothing more."""
    form = TrackForm(request.GET or None)
    result = None
    if request.GET and form.is_valid():
        try:
            result = track_or_count(
                request, form.cleaned_data["nomor"], form.cleaned_data["kode"]
            )
        except NotFound:
            form.add_error(
                None, _("Permohonan tidak ditemukan. Periksa nomor dan kode lacak.")
            )
    siak_links = []
    if result is not None:
        siak_links = [
            reverse(
                "documents:siak-track",
                kwargs={
                    "document_id": pk,
                    "token": siak.track_token(pk, result.number),
                },
            )
            for pk in result.siak_document_ids
        ]
    return render(
        request,
        "services/track.html",
        {"form": form, "result": result, "siak_links": siak_links},
    )


# --- Citizen sign-up ----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = sign_up_or_count(request, **form.cleaned_data)
        except BalaiError as exc:
            form.add_error(None, exc.message)
        else:
            login(
                request,
                result.user,
                backend="django.contrib.auth.backends.ModelBackend",
            )
            messages.info(request, sign_up_message(result))
            return redirect("services:verify-code")
    return render(request, "services/sign_up.html", {"form": form})


@citizen_required
@require_http_methods(["GET", "POST"])
def verify_code(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    user = User.objects.get(pk=actor.user_id)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and "resend" in request.POST:
        try:
            actions.resend_citizen_code(actor=actor, user=user)
            messages.info(request, _("Kode baru dikirim."))
        except BalaiError as exc:
            messages.error(request, exc.message)
        return redirect("services:verify-code")
    if request.method == "POST" and form.is_valid():
        ip = throttle.client_ip(request)
        try:
            throttle.refuse_if_blocked("otp", ip)
            actions.verify_citizen_code(
                actor=actor, user=user, code=form.cleaned_data["code"]
            )
        except BalaiError as exc:
            if exc.code == "otp_invalid":
                throttle.count_failure("otp", ip)
            form.add_error("code", exc.message)
        else:
            messages.success(request, _("Akun Anda terverifikasi."))
            return redirect("services:my-applications")
    return render(
        request,
        "services/verify_code.html",
        {
            "form": form,
            "verified": user.is_verified_citizen,
            "has_phone": bool(user.phone),
        },
    )


# --- Officers -----------------------------------------------------------------


@staff_required(*OFFICER_ROLES)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    status = request.GET.get("status") or None
    if status not in Status.values:
        status = None
    return render(
        request,
        "services/inbox.html",
        {
            "applications": selectors.inbox(actor=actor, status=status),
            "status": status,
            "statuses": Status.choices,
            "today": timezone.localdate(),
            "can_file_at_counter": actor.has_role(*selectors.COUNTER_FILING_ROLES),
        },
    )


@staff_required()
@require_http_methods(["GET", "POST"])
def officer_application(request: HttpRequest, pk) -> HttpResponse:
    actor = request_actor(request)
    application = selectors.application_for(actor, pk)
    if request.method == "POST":
        return _take_step(request, actor, application, "services:officer-application")
    return render(
        request,
        "services/officer_application.html",
        {
            "application": application,
            "events": selectors.events_of(application),
            "subjects": [
                {"nik": mask_nik(s.resident.nik), "name": s.resident.name}
                for s in application.subjects.select_related("resident")
                if s.resident
            ],
            "attachments": application.attachments.select_related("blob"),
            "steps": _step_forms(actor, application),
            "siak_outputs": application.service.siak_outputs,
            "receipt": receipts.receipt_of(application),
            "siak_documents": siak.documents_of(application),
            "today": timezone.localdate(),
        },
    )


@staff_required(*OVERDUE_ROLES)
@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    today = timezone.localdate()
    start = today.replace(day=1)
    return render(
        request,
        "services/overdue.html",
        {
            "applications": selectors.overdue(actor=actor, today=today)[:500],
            "figures": selectors.sla_figures(
                actor=actor, period=(start, today), today=today
            ),
            "share": selectors.online_share_by_kecamatan((start, today), actor=actor),
            "start": start,
            "today": today,
        },
    )


@staff_required(*COUNTER_VERIFY_ROLES)
@require_http_methods(["GET", "POST"])
def counter_verify(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = CounterVerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(
            username=form.cleaned_data["username"], kind=AccountKind.CITIZEN
        ).first()
        try:
            if user is None:
                raise NotFound(_("Akun warga tidak ditemukan."))
            actions.verify_citizen_at_counter(
                actor=actor,
                user=user,
                nik_seen=form.cleaned_data["nik_seen"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BalaiError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Akun warga terverifikasi."))
            return redirect("services:counter-verify")
    return render(request, "services/counter_verify.html", {"form": form})


# --- Counter filing (a walk-in citizen) ---------------------------------------


@staff_required(*selectors.COUNTER_FILING_ROLES)
@require_GET
def counter_start(request: HttpRequest) -> HttpResponse:
    """Pick the service a walk-in citizen asks for (carrying his queue number)."""
    actor = request_actor(request)
    return render(
        request,
        "services/counter_start.html",
        {
            "services": selectors.counter_services(actor=actor),
            "ticket": request.GET.get("tiket", "")[:8],
        },
    )


def _desk_url(code: str, *, applicant: str, subjects: list[str], ticket: str) -> str:
    params = [("pemohon", applicant)] if applicant else []
    params += [("subjek", s) for s in subjects]
    if ticket:
        params.append(("tiket", ticket))
    return reverse("services:counter-file", args=[code]) + (
        "?" + urlencode(params) if params else ""
    )


def _desk_links(service, desk, *, applicant: str, subjects: list[str], ticket: str):
    """Links that choose or drop a person (GET: nothing is written)."""
    room = len(subjects) < max(service.max_subjects, 0)

    def url(a: str, s: list[str]) -> str:
        return _desk_url(service.code, applicant=a, subjects=s, ticket=ticket)

    rows = []
    for row in desk.results.rows if desk.results else []:
        pk = str(row.id)
        rows.append(
            {
                "row": row,
                "as_applicant": url(pk, subjects),
                "as_subject": url(applicant, [*subjects, pk])
                if room and pk not in subjects
                else "",
            }
        )
    return {
        "rows": rows,
        "drop_applicant": url("", subjects),
        "subjects": [
            {
                "person": p,
                "drop": url(applicant, [x for x in subjects if x != str(p.id)]),
            }
            for p in desk.subjects
        ],
    }


def _counter_page(request, actor, service, form, data_form, *, attached, error=None):
    """The filing page again (after an error): the people, fields and files."""
    subjects = form.cleaned_data.get("subjects") if form.is_bound else []
    applicant = form.cleaned_data.get("applicant") if form.is_bound else None
    return _render_counter_file(
        request,
        actor,
        service,
        form,
        data_form,
        applicant=str(applicant or ""),
        subjects=subjects or [],
        attached=attached,
        error=error,
        query="",
    )


def _render_counter_file(
    request,
    actor,
    service,
    form,
    data_form,
    *,
    applicant,
    subjects,
    attached,
    error,
    query,
):
    page = request.GET.get("hal", "1")
    desk = selectors.counter_desk(
        actor=actor,
        applicant_id=applicant or None,
        subject_ids=subjects,
        query=query,
        page=int(page) if page.isdigit() else 1,
    )
    ticket = form["ticket"].value() or ""
    return render(
        request,
        "services/counter_file.html",
        {
            "service": service,
            "form": form,
            "data_form": data_form,
            "desk": desk,
            "links": _desk_links(
                service, desk, applicant=applicant, subjects=subjects, ticket=ticket
            ),
            # A whole number is never written back into a list page.
            "query": ""
            if desk.results is not None and desk.results.kind in ("nik", "kk")
            else query,
            "ticket": ticket,
            "uploads": _upload_requirements(service),
            "shown": [r for r in service.requirements if r.get("mode") == "show"],
            "attached": attached,
            "error": error,
            "attached_json": json.dumps(attached),
            "takes_subjects": service.max_subjects > 0,
        },
    )


@staff_required(*selectors.COUNTER_FILING_ROLES)
@require_http_methods(["GET", "POST"])
def counter_file(request: HttpRequest, code: str) -> HttpResponse:
    """Find the applicant and subjects, fill the service's form, upload the
    scanned papers; then check the answers (nothing is filed before that)."""
    actor = request_actor(request)
    service = selectors.counter_service(actor=actor, code=code)
    if request.method == "GET":
        applicant = request.GET.get("pemohon", "")
        subjects = request.GET.getlist("subjek")
        ticket = request.GET.get("tiket", "")[:8]
        form = CounterForm(
            initial={
                "applicant": applicant,
                "subjects": " ".join(subjects),
                "ticket": ticket,
                "relation": Relation.SELF,
            }
        )
        data_form = SchemaForm(schema=service.form_schema, prefix="f")
        return _render_counter_file(
            request,
            actor,
            service,
            form,
            data_form,
            applicant=applicant,
            subjects=subjects,
            attached={},
            error=None,
            query=request.GET.get("cari", "")[:100],
        )
    form = CounterForm(request.POST)
    editing = "ubah" in request.POST
    valid = form.is_valid()
    attached = dict(form.cleaned_data.get("attached") or {})
    answers = form.cleaned_data.get("answers") or {}
    if editing:
        data_form = SchemaForm(schema=service.form_schema, initial=answers, prefix="f")
        return _counter_page(
            request, actor, service, form, data_form, attached=attached
        )
    data_form = SchemaForm(request.POST, schema=service.form_schema, prefix="f")
    valid = data_form.is_valid() & valid
    valid &= _take_uploads(
        request, actor=actor, service=service, attached=attached, form=form
    )
    if valid:
        try:
            answers = validate_form_data(service.form_schema, data_form.json_data())
        except BalaiError as exc:
            data_form.add_schema_errors(exc)
            valid = False
    if not valid:
        return _counter_page(
            request, actor, service, form, data_form, attached=attached
        )
    state = CounterForm(
        initial={
            **{k: form.cleaned_data[k] for k in COUNTER_STATE},
            "subjects": " ".join(form.cleaned_data["subjects"]),
            "attached": attached,
            "answers": answers,
        }
    )
    desk = selectors.counter_desk(
        actor=actor,
        applicant_id=form.cleaned_data["applicant"],
        subject_ids=form.cleaned_data["subjects"],
    )
    return render(
        request,
        "services/counter_review.html",
        {
            "service": service,
            "state": state,
            "desk": desk,
            "answers": _answer_rows(service, answers),
            "relation": Relation(form.cleaned_data["relation"]).label,
            "applicant_name": form.cleaned_data["applicant_name"],
            "applicant_phone": form.cleaned_data["applicant_phone"],
            "ticket": form.cleaned_data["ticket"],
            "attached": attached,
        },
    )


def _answer_rows(service, answers: dict) -> list[tuple[str, Any]]:
    """The answers as the officer reads them back: field titles, choice labels."""
    props = service.form_schema.get("properties", {})
    rows = []
    for key, value in answers.items():
        spec = props.get(key, {})
        labels = spec.get("x-enum-labels", {})
        shown = labels.get(value, value) if isinstance(value, str) else value
        rows.append((spec.get("title", key), shown))
    return rows


COUNTER_STATE = (
    "idempotency_key",
    "applicant",
    "relation",
    "applicant_name",
    "applicant_phone",
    "ticket",
)


@staff_required(*selectors.COUNTER_FILING_ROLES)
@require_POST
def counter_submit(request: HttpRequest, code: str) -> HttpResponse:
    """File the checked answers (one application even on a double click)."""
    actor = request_actor(request)
    service = selectors.counter_service(actor=actor, code=code)
    form = CounterForm(request.POST)
    valid = form.is_valid()
    attached = dict(form.cleaned_data.get("attached") or {})
    answers = form.cleaned_data.get("answers") or {}
    data_form = SchemaForm(schema=service.form_schema, initial=answers, prefix="f")
    if not valid:
        return _counter_page(
            request, actor, service, form, data_form, attached=attached
        )
    data = form.cleaned_data
    try:
        application = actions.file_at_counter(
            actor=actor,
            service=service,
            form_data=answers,
            relation=data["relation"],
            applicant_id=str(data["applicant"] or ""),
            applicant_name=data["applicant_name"],
            applicant_phone=data["applicant_phone"],
            subject_ids=data["subjects"],
            attachments=[a["id"] for a in attached.values()],
            ticket_number=data["ticket"],
            idempotency_key=data["idempotency_key"],
        )
    except BalaiError as exc:
        if exc.code == "form_invalid":
            data_form = SchemaForm(
                {f"f-{k}": v for k, v in answers.items()},
                schema=service.form_schema,
                prefix="f",
            )
            data_form.is_valid()
            data_form.add_schema_errors(exc)
        return _counter_page(
            request, actor, service, form, data_form, attached=attached, error=exc
        )
    messages.success(
        request,
        _("Permohonan %(number)s tercatat. Cetak tanda terimanya untuk pemohon.")
        % {"number": application.number},
    )
    return redirect("services:officer-application", pk=application.pk)


# --- Catalogue administration -------------------------------------------------


@staff_required(Role.SERVICE_ADMIN)
@require_GET
def admin_catalogue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "services/admin_catalogue.html",
        {"services": selectors.catalogue(include_inactive=True)},
    )


EDIT_FIELDS = [
    "name",
    "name_en",
    "description",
    "description_en",
    "time_limit_days",
    "time_limit_to_confirm",
    "fee_rupiah",
    "availability",
    "responsible_kind",
    "responsible_office_code",
    "legal_basis",
    "is_active",
    "requirements",
    "form_schema",
]


@staff_required(Role.SERVICE_ADMIN)
@require_http_methods(["GET", "POST"])
def admin_service(request: HttpRequest, code: str) -> HttpResponse:
    actor = request_actor(request)
    service = selectors.service_by_code(code, include_inactive=True)
    initial = {f: getattr(service, f) for f in EDIT_FIELDS}
    initial["expected_revision"] = service.revision
    form = ServiceEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in EDIT_FIELDS}
        try:
            actions.update_service(
                actor=actor,
                service=service,
                changes=changes,
                expected_revision=form.cleaned_data["expected_revision"],
                note=form.cleaned_data.get("note", ""),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BalaiError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Perubahan disimpan dan dicatat di riwayat."))
            return redirect("services:admin-service", code=service.code)
    return render(
        request,
        "services/admin_service.html",
        {
            "service": service,
            "form": form,
            "history": selectors.service_history(actor=actor, service=service),
        },
    )


@staff_required(Role.SERVICE_ADMIN)
@require_http_methods(["GET", "POST"])
def admin_holidays(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = HolidayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_local_holiday(
                actor=actor,
                date=form.cleaned_data["date"],
                name=form.cleaned_data["name"],
                decree=form.cleaned_data.get("decree", ""),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BalaiError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Libur daerah dicatat."))
            return redirect("services:admin-holidays")
    year = timezone.localdate().year
    return render(
        request,
        "services/admin_holidays.html",
        {
            "form": form,
            "holidays": selectors.local_holidays(),
            "years": sorted(cal.national_calendar().covered_years),
            "year": year,
        },
    )


@staff_required(Role.SERVICE_ADMIN)
@require_POST
def admin_holiday_withdraw(request: HttpRequest, pk) -> HttpResponse:
    holiday = LocalHoliday.objects.filter(pk=pk).first()
    if holiday is None:
        raise NotFound()
    actions.withdraw_local_holiday(actor=request_actor(request), holiday=holiday)
    messages.success(request, _("Libur daerah dicabut."))
    return redirect("services:admin-holidays")


# --- Files --------------------------------------------------------------------


@require_GET
def attachment(request: HttpRequest, pk) -> HttpResponse:
    """Serve a stored file to someone who may read its application."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = request_actor(request)
    item = selectors.attachment_for(actor, pk)
    if item.kind == AttachmentKind.SIAK_DOCUMENT and item.application_id:
        # A SIAK-issued PDF: delivered (and access-logged) by the documents app.
        document = siak.document_of_attachment(item)
        if document is not None:
            return redirect(
                "documents:siak-pdf", document_id=str(document.pk), what="download"
            )
        siak.log_attachment_download(actor=actor, attachment=item)
    blob = item.blob
    ext = files.EXTENSIONS.get(blob.content_type, "bin")
    response = FileResponse(
        files.open_blob(blob.storage_name),
        content_type=blob.content_type,
        as_attachment=blob.content_type == files.PDF,
        filename=f"lampiran-{str(item.pk)[:8]}.{ext}",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
