"""The register's pages: search, a resident (facts, flags, timeline), a KK laid
out like the card, life-event forms for officers, and the registrar's queue of
corrections. Each view parses input, checks access, calls one action or
selector (looking up the people a form names by NIK first) and renders."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from balai.accounts.auth import request_actor, staff_required
from balai.core.errors import BalaiError
from balai.registry import actions, selectors, selectors_pages
from balai.registry.forms import (
    ArrivalForm,
    BirthForm,
    CorrectionForm,
    DeathForm,
    DecisionForm,
    DivorceForm,
    IssuedKkForm,
    IssuedNikForm,
    MarriageForm,
    MoveForm,
    MoveOutForm,
    NewKkForm,
    PurposeForm,
    SearchForm,
    add_problems,
)
from balai.registry.models import Flag, Resident, ResidentStatus
from balai.registry.reference import Sex, Shdk
from balai.registry.search import search_residents

READ_ROLES = selectors.READ_ROLES
OFFICER_ROLES = actions.OFFICER_ROLES
APPROVER_ROLES = actions.APPROVER_ROLES
ISSUED_NUMBER_ROLES = actions.ISSUED_NUMBER_ROLES


# --- The staff home's links to the register ----------------------------------------


def staff_links(actor) -> list[tuple[str, str]]:
    """Return (address, label) of the register's pages this actor may open,
    each checked against the roles its view demands, for the staff home."""
    from balai.registry import views_digitisation

    links: list[tuple[str, str]] = []
    if actor.has_role(*READ_ROLES):
        links.append((reverse("registry:search"), _("Cari penduduk")))
    if actor.has_role(*ISSUED_NUMBER_ROLES):
        links.append(
            (
                reverse("registry:awaiting-numbers"),
                _("Menunggu NIK / Nomor KK dari SIAK"),
            )
        )
    if actor.has_role(*APPROVER_ROLES):
        links.append(
            (reverse("registry:corrections"), _("Usulan koreksi untuk disetujui"))
        )
    elif actor.has_role(*OFFICER_ROLES):
        links.append((reverse("registry:corrections"), _("Usulan koreksi")))
    if actor.has_role(*views_digitisation.ROLES):
        links += [
            (reverse("registry:import-list"), _("Impor data penduduk")),
            (reverse("registry:reconcile-list"), _("Rekonsiliasi dengan SIAK")),
            (reverse("registry:duplicate-list"), _("Mungkin data ganda")),
        ]
    return links


# --- Search, resident, family ------------------------------------------------------


def _search_context(request: HttpRequest) -> dict[str, Any]:
    actor = request_actor(request)
    form = SearchForm(request.GET or None, actor=actor)
    results = None
    if form.is_bound and form.is_valid() and form.cleaned_data.get("q"):
        try:
            results = search_residents(actor, form.cleaned_data["q"], **form.filters())
        except BalaiError as exc:
            form.add_error("q", exc.message)
    query = request.GET.copy()
    query.pop("page", None)
    if results is not None and results.kind in ("nik", "kk"):
        # A whole number is never written back into a list page.
        query.pop("q", None)
        form.data = form.data.copy()
        form.data["q"] = ""
    return {
        "form": form,
        "results": results,
        "query": query.urlencode(),
        "may_record": actor.has_role(*OFFICER_ROLES),
    }


@require_GET
@staff_required(*READ_ROLES)
def search(request: HttpRequest) -> HttpResponse:
    template = (
        "registry/_results.html"
        if request.headers.get("HX-Request")
        else "registry/search.html"
    )
    return render(request, template, _search_context(request))


@never_cache
@require_GET
@staff_required(*READ_ROLES)
def search_results(request: HttpRequest) -> HttpResponse:
    """The results of `search` alone (and why a query was refused), for the
    search page's search as you type (static registry/live-search.js)."""
    return render(request, "registry/_live_results.html", _search_context(request))


@require_GET
@staff_required(*READ_ROLES)
def resident(request: HttpRequest, pk) -> HttpResponse:
    actor = request_actor(request)
    purpose_form = PurposeForm(request.GET or None)
    detail = selectors.get_resident_detail(actor, pk, purpose_form.purpose())
    r = detail.resident
    awaits_nik = not r.nik and r.status == ResidentStatus.ALIVE
    return render(
        request,
        "registry/resident.html",
        {
            "d": detail,
            "r": r,
            "purpose_form": purpose_form,
            "may_record": actor.has_role(*OFFICER_ROLES),
            "nik_form": (
                IssuedNikForm(resident=r)
                if awaits_nik and actor.has_role(*ISSUED_NUMBER_ROLES)
                else None
            ),
            "event_links": EVENT_LINKS,
            "flags": [Flag(f).label for f in detail.resident.flags if f in Flag.values],
        },
    )


@require_GET
@staff_required(*READ_ROLES)
def family(request: HttpRequest, pk) -> HttpResponse:
    actor = request_actor(request)
    purpose_form = PurposeForm(request.GET or None)
    card = selectors_pages.kk_card(actor, pk, purpose_form.purpose())
    awaits_kk = not card.family.kk_number and card.family.is_active
    return render(
        request,
        "registry/family.html",
        {
            "card": card,
            "f": card.family,
            "purpose_form": purpose_form,
            "may_record": actor.has_role(*OFFICER_ROLES),
            "kk_form": (
                IssuedKkForm()
                if awaits_kk and actor.has_role(*ISSUED_NUMBER_ROLES)
                else None
            ),
        },
    )


# --- Life events on a resident -----------------------------------------------------


def _by_nik(actor, nik: str, label: str) -> Resident | None:
    return selectors_pages.resident_by_nik(actor, nik, label=label) if nik else None


def _death(actor, r: Resident, form, key: str) -> str:
    d = form.cleaned_data
    actions.register_death(
        actor=actor,
        resident=r,
        occurred_on=d["occurred_on"],
        place=d["place"],
        cause=d["cause"],
        death_cert_number=d["death_cert_number"],
        spouse=_by_nik(actor, d["spouse_nik"], _("NIK pasangan")),
        idempotency_key=key,
    )
    return reverse("registry:resident", args=[r.pk])


def _move(actor, r: Resident, form, key: str) -> str:
    d = form.cleaned_data
    address = form.address_values()
    common: dict[str, Any] = {
        "actor": actor,
        "mode": d["mode"],
        "occurred_on": d["occurred_on"],
        "reason": d["reason"],
        "idempotency_key": key,
    }
    if d["mode"] == "family":
        if r.family_id is None:
            raise BalaiError(_("Penduduk ini tidak tercatat dalam KK."))
        target = actions.move_within(
            **common, family=r.family, address=actions.Address(**address)
        )
    elif d["mode"] == "join":
        target = actions.move_within(
            **common,
            residents=[r],
            relations={r.pk: d["shdk"]},
            to_family=selectors_pages.family_by_kk(actor, d["to_kk_number"]),
        )
    else:
        target = actions.move_within(
            **common,
            residents=[r],
            relations={r.pk: Shdk.KEPALA_KELUARGA},
            address=actions.Address(**address),
        )
    return reverse("registry:family", args=[target.pk])


def _move_out(actor, r: Resident, form, key: str) -> str:
    d = form.cleaned_data
    actions.move_out(
        actor=actor,
        residents=[r],
        occurred_on=d["occurred_on"],
        destination=d["destination"],
        reason=d["reason"],
        idempotency_key=key,
    )
    return reverse("registry:resident", args=[r.pk])


def _marriage(actor, r: Resident, form, key: str) -> str:
    d = form.cleaned_data
    spouse = _by_nik(actor, d["spouse_nik"], _("NIK pasangan"))
    husband, wife = (r, spouse) if r.sex == Sex.MALE else (spouse, r)
    actions.register_marriage(
        actor=actor,
        husband=husband,
        wife=wife,
        occurred_on=d["occurred_on"],
        marriage_cert_number=d["marriage_cert_number"],
        dispensation=d["dispensation"],
        idempotency_key=key,
    )
    return reverse("registry:resident", args=[r.pk])


def _divorce(actor, r: Resident, form, key: str) -> str:
    d = form.cleaned_data
    actions.register_divorce(
        actor=actor,
        first=r,
        second=_by_nik(actor, d["spouse_nik"], _("NIK pasangan")),
        occurred_on=d["occurred_on"],
        divorce_cert_number=d["divorce_cert_number"],
        idempotency_key=key,
    )
    return reverse("registry:resident", args=[r.pk])


def _new_kk(actor, r: Resident, form, key: str) -> str:
    members = [(r, Shdk.KEPALA_KELUARGA)] + [
        (_by_nik(actor, nik, _("NIK anggota")), shdk)
        for nik, shdk in form.member_rows()
    ]
    family = actions.create_family(
        actor=actor,
        members=members,
        occurred_on=form.cleaned_data["occurred_on"],
        reason=form.cleaned_data["reason"],
        idempotency_key=key,
    )
    return reverse("registry:family", args=[family.pk])


def _correction(actor, r: Resident, form, key: str) -> str:
    d = form.cleaned_data
    actions.propose_correction(
        actor=actor,
        resident=r,
        field=d["field"],
        new_value=form.new_value_for_action(),
        reason=d["reason"],
        evidence=d["evidence"],
        idempotency_key=key,
    )
    return reverse("registry:resident", args=[r.pk])


EVENTS: dict[str, tuple[type, str, Callable[..., str]]] = {
    "kematian": (DeathForm, gettext_lazy("Catat kematian"), _death),
    "pindah": (MoveForm, gettext_lazy("Catat pindah dalam kabupaten"), _move),
    "pindah-keluar": (
        MoveOutForm,
        gettext_lazy("Catat pindah keluar kabupaten"),
        _move_out,
    ),
    "perkawinan": (MarriageForm, gettext_lazy("Catat perkawinan"), _marriage),
    "perceraian": (DivorceForm, gettext_lazy("Catat perceraian"), _divorce),
    "kk-baru": (
        NewKkForm,
        gettext_lazy("Buat KK baru (sebagai kepala keluarga)"),
        _new_kk,
    ),
    "koreksi": (CorrectionForm, gettext_lazy("Usulkan koreksi data"), _correction),
}
EVENT_LINKS = [(kind, title) for kind, (_f, title, _h) in EVENTS.items()]
SAVED = {
    "kematian": gettext_lazy("Kematian dicatat."),
    "pindah": gettext_lazy("Pindah dicatat."),
    "pindah-keluar": gettext_lazy("Pindah keluar dicatat."),
    "perkawinan": gettext_lazy("Perkawinan dicatat."),
    "perceraian": gettext_lazy("Perceraian dicatat."),
    "kk-baru": gettext_lazy("KK baru dibuat."),
    "koreksi": gettext_lazy(
        "Usulan koreksi dikirim; menunggu persetujuan petugas lain."
    ),
}


def _form_for(cls: type, data, actor):
    if cls is MoveForm:
        return cls(data, actor=actor)
    return cls(data)


@require_http_methods(["GET", "POST"])
@staff_required(*OFFICER_ROLES)
def resident_event(request: HttpRequest, pk, kind: str) -> HttpResponse:
    actor = request_actor(request)
    if kind not in EVENTS:
        raise BalaiError(
            _("Jenis peristiwa tidak dikenal."), code="not_found", status_code=404
        )
    form_class, title, handle = EVENTS[kind]
    subject = selectors.get_resident(actor, pk)
    form = _form_for(
        form_class, request.POST if request.method == "POST" else None, actor
    )
    if request.method == "POST" and form.is_valid():
        try:
            target = handle(actor, subject, form, form.cleaned_data["idempotency_key"])
        except BalaiError as exc:
            if exc.status_code in (403, 404) and exc.code in ("forbidden", "not_found"):
                raise
            add_problems(form, exc)
        else:
            messages.success(request, SAVED[kind])
            return redirect(target)
    return render(
        request,
        "registry/event_form.html",
        {
            "form": form,
            "title": title,
            "subject": subject,
            "kind": kind,
        },
        status=400 if form.errors else 200,
    )


# --- Birth, arrival ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required(*OFFICER_ROLES)
def birth(request: HttpRequest, pk) -> HttpResponse:
    actor = request_actor(request)
    fam = selectors.get_family(actor, pk)
    form = BirthForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            baby = actions.register_birth(
                actor=actor,
                family=fam,
                person=actions.Person(**form.person_values()),
                shdk=d["shdk"],
                mother=_by_nik(actor, d["mother_nik"], _("NIK ibu")),
                father=_by_nik(actor, d["father_nik"], _("NIK ayah")),
                idempotency_key=d["idempotency_key"],
            )
        except BalaiError as exc:
            if exc.code in ("forbidden", "not_found"):
                raise
            add_problems(form, exc)
        else:
            messages.success(request, _("Kelahiran dicatat."))
            return redirect("registry:resident", pk=baby.pk)
    return render(
        request,
        "registry/event_form.html",
        {"form": form, "title": _("Catat kelahiran"), "family": fam, "kind": "lahir"},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required(*OFFICER_ROLES)
def arrival(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = ArrivalForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        initial={"occurred_on": datetime.date.today()},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        address = form.address_values()
        try:
            to_family = (
                selectors_pages.family_by_kk(actor, d["to_kk_number"])
                if d["to_kk_number"]
                else None
            )
            person = actions.register_arrival(
                actor=actor,
                person=actions.Person(**form.person_values()),
                occurred_on=d["occurred_on"],
                origin=d["origin"],
                to_family=to_family,
                shdk=d["shdk"] if to_family else None,
                address=None if to_family else actions.Address(**address),
                idempotency_key=d["idempotency_key"],
            )
        except BalaiError as exc:
            if exc.code in ("forbidden", "not_found"):
                raise
            add_problems(form, exc)
        else:
            messages.success(request, _("Kedatangan dicatat."))
            return redirect("registry:resident", pk=person.pk)
    return render(
        request,
        "registry/event_form.html",
        {"form": form, "title": _("Catat kedatangan"), "kind": "datang"},
        status=400 if form.errors else 200,
    )


# --- Numbers issued by SIAK -------------------------------------------------------


@require_GET
@staff_required(*ISSUED_NUMBER_ROLES)
def awaiting_numbers(request: HttpRequest) -> HttpResponse:
    """Residents awaiting a NIK and KKs awaiting a number, oldest first."""
    actor = request_actor(request)
    return render(
        request,
        "registry/awaiting_numbers.html",
        {"w": selectors_pages.awaiting_numbers(actor)},
    )


def _refusal_on(form, field: str, exc: BalaiError) -> None:
    """Show an action's refusal beside the number; let 403/404 through."""
    if exc.code in ("forbidden", "not_found"):
        raise exc
    if exc.status_code == 409:
        form.add_error(field, exc.message)
        form.add_error(
            field,
            _(
                "Nomor ini sudah dipakai data lain di register. Periksa kembali "
                "nomor dari SIAK; bila keduanya orang yang sama, laporkan sebagai "
                "data ganda."
            ),
        )
    elif exc.code == "event_not_allowed":
        form.add_error(None, exc.message)
    else:
        add_problems(form, exc)


@require_http_methods(["GET", "POST"])
@staff_required(*ISSUED_NUMBER_ROLES)
def record_nik(request: HttpRequest, pk) -> HttpResponse:
    """Record the NIK SIAK issued to a resident awaiting one."""
    actor = request_actor(request)
    subject = selectors.get_resident(actor, pk)
    if request.method == "GET" and subject.nik:
        messages.info(request, _("Penduduk ini sudah memiliki NIK."))
        return redirect("registry:resident", pk=subject.pk)
    form = IssuedNikForm(
        request.POST if request.method == "POST" else None, resident=subject
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_issued_nik(
                actor=actor,
                resident=subject,
                nik=form.cleaned_data["nik"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BalaiError as exc:
            _refusal_on(form, "nik", exc)
        else:
            messages.success(request, _("NIK dari SIAK dicatat."))
            for note in form.notes:
                messages.warning(request, note)
            return redirect("registry:resident", pk=subject.pk)
    return render(
        request,
        "registry/event_form.html",
        {
            "form": form,
            "title": _("Catat NIK dari SIAK"),
            "subject": subject,
            "kind": "nik",
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required(*ISSUED_NUMBER_ROLES)
def record_kk(request: HttpRequest, pk) -> HttpResponse:
    """Record the KK number SIAK issued to a KK awaiting one."""
    actor = request_actor(request)
    fam = selectors.get_family(actor, pk)
    if request.method == "GET" and fam.kk_number:
        messages.info(request, _("KK ini sudah memiliki nomor."))
        return redirect("registry:family", pk=fam.pk)
    form = IssuedKkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_issued_kk(
                actor=actor,
                family=fam,
                kk_number=form.cleaned_data["kk_number"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BalaiError as exc:
            _refusal_on(form, "kk_number", exc)
        else:
            messages.success(request, _("Nomor KK dari SIAK dicatat."))
            for note in form.notes:
                messages.warning(request, note)
            return redirect("registry:family", pk=fam.pk)
    return render(
        request,
        "registry/event_form.html",
        {
            "form": form,
            "title": _("Catat nomor KK dari SIAK"),
            "family": fam,
            "kind": "kk",
        },
        status=400 if form.errors else 200,
    )


# --- Corrections: the registrar's queue --------------------------------------------


@require_GET
@staff_required(*OFFICER_ROLES)
def corrections(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    pending = list(selectors.pending_corrections(actor))
    return render(
        request,
        "registry/corrections.html",
        {
            "rows": [(c, DecisionForm()) for c in pending],
            "may_decide": actor.has_role(*APPROVER_ROLES),
            "me": str(actor.user_id),
        },
    )


@require_POST
@staff_required(*APPROVER_ROLES)
def correction_decide(request: HttpRequest, pk, verb: str) -> HttpResponse:
    actor = request_actor(request)
    if verb not in ("setujui", "tolak"):
        raise BalaiError(
            _("Keputusan tidak dikenal."), code="not_found", status_code=404
        )
    correction = selectors_pages.get_correction(actor, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        action = (
            actions.approve_correction
            if verb == "setujui"
            else actions.reject_correction
        )
        try:
            action(
                actor=actor,
                correction=correction,
                note=form.cleaned_data["note"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except BalaiError as exc:
            if exc.code == "not_found":
                raise
            messages.error(request, exc.message)
            return render(
                request,
                "registry/corrections.html",
                {
                    "rows": [
                        (c, DecisionForm())
                        for c in selectors.pending_corrections(actor)
                    ],
                    "may_decide": True,
                    "me": str(actor.user_id),
                    "error": exc.message,
                },
                status=exc.status_code,
            )
        if verb == "setujui":
            messages.success(request, _("Koreksi disetujui dan dicatat."))
        else:
            messages.success(request, _("Koreksi ditolak."))
    else:
        messages.error(request, _("Formulir tidak lengkap; muat ulang halaman."))
    return redirect("registry:corrections")
