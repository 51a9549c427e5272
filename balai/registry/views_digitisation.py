"""Digitisation pages for staff: import (upload, progress, report, the
template), reconciliation with SIAK (upload, review) and possible duplicates
(list, the pair side by side, merge). Each view parses input, checks access,
calls one action or selector and renders."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from balai.accounts.auth import request_actor, staff_required
from balai.core.errors import BalaiError, NotFound
from balai.registry import digitisation, duplicates, reconcile
from balai.registry.imports import layouts, pipeline, report
from balai.registry.imports.samples import BALAI_TEMPLATE_HEADER
from balai.registry.models import Resident
from balai.registry.models_digitisation import (
    ImportLayout,
    ItemKind,
    ItemStatus,
    JobStatus,
    PairStatus,
)
from balai.registry.selectors import mask_nik

ROLES = ("registry_officer", "registrar")
PER_PAGE = 50
POLL_SECONDS = 2


class ImportForm(forms.Form):
    berkas = forms.FileField(label=gettext_lazy("Berkas (csv, xlsx atau xls)"))
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[
            ("auto", gettext_lazy("Kenali dari judul kolom")),
            *ImportLayout.choices,
        ],
        initial="auto",
    )
    desa = forms.CharField(
        label=gettext_lazy("Kode desa/kelurahan (wajib untuk berkas OpenSID)"),
        required=False,
        max_length=13,
    )
    uji = forms.BooleanField(
        label=gettext_lazy("Uji saja: periksa tanpa menulis ke register"),
        required=False,
    )


class UploadForm(forms.Form):
    berkas = forms.FileField(label=gettext_lazy("Ekspor SIAK (csv, xlsx atau xls)"))


class NoteForm(forms.Form):
    catatan = forms.CharField(required=False, max_length=2000)


def _refuse_oversized(request: HttpRequest) -> None:
    """Refuse a request body over the page limit before it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = pipeline.max_upload_bytes()
    if length > limit + 64 * 1024:
        raise BalaiError(
            _("Berkas terlalu besar: %(size)s MB, batasnya %(limit)s MB.")
            % {"size": f"{length / 1e6:.1f}", "limit": f"{limit / 1e6:.0f}"},
            code="file_too_large",
            status_code=413,
        )


def _page(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PER_PAGE).get_page(request.GET.get("hal") or 1)


def _csv_response(name: str, header: tuple, rows: Any) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        report.stream_csv(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Imports ------------------------------------------------------------------


@never_cache
@staff_required(*ROLES)
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = ImportForm()
    if request.method == "POST":
        _refuse_oversized(request)
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = digitisation.start_import(
                    actor=actor,
                    upload=data["berkas"],
                    layout=data["format"],
                    village=data["desa"].strip(),
                    dry_run=data["uji"],
                )
            except BalaiError as exc:
                form.add_error("berkas", exc.message)
            else:
                if job.status == JobStatus.DONE and not job.dry_run:
                    messages.info(
                        request,
                        _("Berkas ini sudah pernah diimpor; tidak ada yang diubah."),
                    )
                return redirect("registry:import-job", job.pk)
    jobs = digitisation.jobs_for(actor).order_by("-created_at")[:50]
    return render(
        request,
        "registry/digitisation/import_list.html",
        {
            "form": form,
            "jobs": jobs,
            "limit_mb": pipeline.max_upload_bytes() // 1_000_000,
        },
    )


@never_cache
@staff_required(*ROLES)
@require_GET
def import_job(request: HttpRequest, job_id: str) -> HttpResponse:
    job = digitisation.get_job(request_actor(request), job_id)
    context = {
        "job": job,
        "running": job.status in (JobStatus.PENDING, JobStatus.RUNNING),
        "poll": POLL_SECONDS,
        "issues": job.issues.all()[:20],
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "registry/digitisation/_job_progress.html", context)
    return render(request, "registry/digitisation/import_job.html", context)


@staff_required(*ROLES)
@require_POST
def import_resume(request: HttpRequest, job_id: str) -> HttpResponse:
    actor = request_actor(request)
    job = digitisation.get_job(actor, job_id)
    digitisation.resume_import(actor=actor, job=job)
    messages.success(request, _("Impor dilanjutkan."))
    return redirect("registry:import-job", job.pk)


@staff_required(*ROLES)
@require_GET
def import_report(request: HttpRequest, job_id: str) -> StreamingHttpResponse:
    job = digitisation.get_job(request_actor(request), job_id)
    return _csv_response(
        f"laporan-impor-{str(job.pk)[:8]}.csv", report.HEADER, report.job_rows(job)
    )


@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """Balai's import template: the header row and one example row."""
    example = {
        "nomor_kk": "6402061501200001",
        "nik": "6402061203850001",
        "nama": "Contoh Nama Lengkap",
        "jenis_kelamin": "L",
        "tempat_lahir": "Tenggarong",
        "tanggal_lahir": "12-03-1985",
        "agama": "Islam",
        "status_perkawinan": "Kawin",
        "shdk": "Kepala Keluarga",
        "pendidikan": "SLTA/Sederajat",
        "pekerjaan": "Wiraswasta",
        "golongan_darah": "O",
        "disabilitas": "Tidak Cacat",
        "kewarganegaraan": "WNI",
        "nik_ayah": "",
        "nama_ayah": "Nama Ayah",
        "nik_ibu": "",
        "nama_ibu": "Nama Ibu",
        "kode_desa": "64.02.06.1001",
        "dusun": "",
        "rt": "001",
        "rw": "002",
        "alamat": "Jl. Contoh No. 1",
        "nomor_paspor": "",
        "nomor_akta_lahir": "",
        "nomor_akta_kawin": "",
        "tanggal_kawin": "",
        "nomor_akta_cerai": "",
        "tanggal_cerai": "",
        "rekam_ktp_el": "ya",
        "telepon": "",
    }
    response = HttpResponse(
        "".join(
            report.stream_csv(
                BALAI_TEMPLATE_HEADER, [[example[h] for h in BALAI_TEMPLATE_HEADER]]
            )
        ),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        'attachment; filename="templat-impor-penduduk.csv"'
    )
    return response


@staff_required(*ROLES)
@require_GET
def import_help(request: HttpRequest) -> HttpResponse:
    columns = [
        (
            header,
            column.field,
            column.field in layouts.BALAI_LAYOUT.required,
        )
        for header, column in zip(
            BALAI_TEMPLATE_HEADER, layouts.BALAI_LAYOUT.columns, strict=True
        )
    ]
    return render(
        request,
        "registry/digitisation/import_help.html",
        {
            "columns": columns,
            "limit_mb": pipeline.max_upload_bytes() // 1_000_000,
            "regency": settings.BALAI_REGENCY,
        },
    )


# --- Reconciliation -------------------------------------------------------------


@never_cache
@staff_required(*ROLES)
@require_http_methods(["GET", "POST"])
def reconcile_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = UploadForm()
    if request.method == "POST":
        _refuse_oversized(request)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                run = digitisation.start_reconciliation(
                    actor=actor, upload=form.cleaned_data["berkas"]
                )
            except BalaiError as exc:
                form.add_error("berkas", exc.message)
            else:
                return redirect("registry:reconcile-run", run.pk)
    runs = reconcile.runs_for(actor)[:50]
    return render(
        request,
        "registry/digitisation/reconcile_list.html",
        {
            "form": form,
            "runs": runs,
            "limit_mb": pipeline.max_upload_bytes() // 1_000_000,
        },
    )


@never_cache
@staff_required(*ROLES)
@require_GET
def reconcile_run(request: HttpRequest, run_id: str) -> HttpResponse:
    actor = request_actor(request)
    run = reconcile.get_run(actor, run_id)
    kind = request.GET.get("jenis", "")
    status = request.GET.get("status", ItemStatus.OPEN)
    if kind not in ItemKind.values:
        kind = ""
    if status not in ItemStatus.values:
        status = ""
    page = _page(request, reconcile.items_for(actor, run, kind=kind, status=status))
    for item in page:
        item.label = reconcile.field_label(item.field) if item.field else ""
    return render(
        request,
        "registry/digitisation/reconcile_run.html",
        {
            "run": run,
            "page": page,
            "kind": kind,
            "status": status,
            "kinds": ItemKind.choices,
            "statuses": ItemStatus.choices,
            "running": run.status in (JobStatus.PENDING, JobStatus.RUNNING),
            "poll": POLL_SECONDS,
            "can_approve": actor.has_role("registrar"),
        },
    )


_ITEM_VERBS = {
    "terima": reconcile.accept_item,
    "abaikan": reconcile.dismiss_item,
    "setujui": reconcile.approve_item,
    "tolak": reconcile.reject_item,
}


@staff_required(*ROLES)
@require_POST
def reconcile_item(request: HttpRequest, item_id: int, verb: str) -> HttpResponse:
    actor = request_actor(request)
    run_action = _ITEM_VERBS.get(verb)
    if run_action is None:
        raise NotFound()
    item = (
        reconcile.ReconcileItem.objects.filter(pk=item_id).select_related("run").first()
    )
    if item is None or not actor.covers(item.village_code):
        raise NotFound()
    reconcile.get_run(actor, item.run_id)
    form = NoteForm(request.POST)
    note = form.cleaned_data["catatan"] if form.is_valid() else ""
    try:
        run_action(actor=actor, item=item, note=note)
    except BalaiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Tersimpan."))
    back = request.POST.get("kembali") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("registry:reconcile-run", args=[item.run_id])
    return redirect(back)


@staff_required(*ROLES)
@require_GET
def reconcile_export(request: HttpRequest, run_id: str) -> StreamingHttpResponse:
    actor = request_actor(request)
    run = reconcile.get_run(actor, run_id)
    rows = (
        (
            item.get_kind_display(),
            item.nik,
            item.village_code,
            reconcile.field_label(item.field) if item.field else "",
            "" if item.siak_value is None else item.siak_value,
            "" if item.balai_value is None else item.balai_value,
            item.line or "",
            item.get_status_display(),
        )
        for item in reconcile.items_for(actor, run).iterator(chunk_size=2000)
    )
    return _csv_response(
        f"rekonsiliasi-{str(run.pk)[:8]}.csv",
        ("jenis", "nik", "desa", "kolom", "siak", "balai", "baris", "status"),
        rows,
    )


# --- Duplicates -----------------------------------------------------------------


@never_cache
@staff_required(*ROLES)
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    status = request.GET.get("status", PairStatus.OPEN)
    if status not in PairStatus.values:
        status = PairStatus.OPEN
    page = _page(request, duplicates.pairs_for(actor, status=status))
    return render(
        request,
        "registry/digitisation/duplicate_list.html",
        {"page": page, "status": status, "statuses": PairStatus.choices},
    )


_SIDE_FIELDS = (
    ("nik", gettext_lazy("NIK")),
    ("name", gettext_lazy("Nama")),
    ("sex", gettext_lazy("Jenis kelamin")),
    ("birth_place", gettext_lazy("Tempat lahir")),
    ("birth_date", gettext_lazy("Tanggal lahir")),
    ("father_name", gettext_lazy("Nama ayah")),
    ("mother_name", gettext_lazy("Nama ibu")),
    ("village", gettext_lazy("Desa/kelurahan")),
    ("rt", gettext_lazy("RT")),
    ("street", gettext_lazy("Alamat")),
    ("kk", gettext_lazy("Nomor KK")),
    ("status", gettext_lazy("Status")),
)


def _side(resident: Resident) -> dict[str, Any]:
    return {
        "nik": resident.nik or "—",
        "name": resident.name,
        "sex": resident.get_sex_display(),
        "birth_place": resident.birth_place,
        "birth_date": resident.birth_date.strftime("%d-%m-%Y"),
        "father_name": resident.father_name,
        "mother_name": resident.mother_name,
        "village": f"{resident.village_id} {resident.village.name}",
        "rt": resident.rt,
        "street": resident.street,
        "kk": mask_nik(resident.family.kk_number) if resident.family_id else "—",
        "status": resident.get_status_display(),
    }


@never_cache
@staff_required(*ROLES)
@require_GET
def duplicate_pair(request: HttpRequest, pair_id: str) -> HttpResponse:
    actor = request_actor(request)
    pair = duplicates.get_pair(actor, pair_id)
    first = Resident.objects.select_related("village", "family").get(pk=pair.first_id)
    second = Resident.objects.select_related("village", "family").get(pk=pair.second_id)
    a, b = _side(first), _side(second)
    rows = [(label, a[key], b[key], a[key] != b[key]) for key, label in _SIDE_FIELDS]
    return render(
        request,
        "registry/digitisation/duplicate_pair.html",
        {
            "pair": pair,
            "first": first,
            "second": second,
            "rows": rows,
            "can_approve": actor.has_role("registrar"),
        },
    )


@staff_required(*ROLES)
@require_POST
def duplicate_decide(request: HttpRequest, pair_id: str, verb: str) -> HttpResponse:
    actor = request_actor(request)
    pair = duplicates.get_pair(actor, pair_id)
    form = NoteForm(request.POST)
    note = form.cleaned_data["catatan"] if form.is_valid() else ""
    try:
        if verb == "gabung":
            keep = request.POST.get("pertahankan", "")
            if keep not in (str(pair.first_id), str(pair.second_id)):
                raise BalaiError(
                    _("Pilih data yang dipertahankan."), code="keep_invalid"
                )
            duplicates.propose_merge(actor=actor, pair=pair, keep=keep, note=note)
        elif verb == "berbeda":
            duplicates.mark_distinct(actor=actor, pair=pair, note=note)
        elif verb == "setujui":
            duplicates.approve_merge(actor=actor, pair=pair, note=note)
        elif verb == "tolak":
            duplicates.reject_merge(actor=actor, pair=pair, note=note)
        else:
            raise NotFound()
    except NotFound:
        raise
    except BalaiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Tersimpan."))
    return redirect("registry:duplicate-pair", pair.pk)
