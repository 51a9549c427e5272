"""Queue pages: the kiosk, a ticket's page, the hall display (public, per MPP),
the officer's console (htmx, works without it) and the daily statistics;
appointments: the citizen books and cancels, the kiosk and the officer check
a booking code in, the officers list their office's bookings of a day and
cancel one with a reason, the service admin sets the slots."""

from __future__ import annotations

import datetime
import uuid
from functools import wraps
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from balai.accounts.auth import request_actor, staff_required
from balai.accounts.models import AccountKind
from balai.antrian import actions, selectors
from balai.antrian import slots as slot_rules
from balai.antrian.forms import (
    ActForm,
    AppointmentSettingsForm,
    BookForm,
    CheckInForm,
    DayForm,
    KioskForm,
    LinkForm,
    OfficeCancelDayForm,
    OfficeCancelForm,
    OfficeMissForm,
    StatsForm,
    TransferForm,
)
from balai.antrian.models import AppointmentStatus, Counter, QueueLane
from balai.antrian.ratelimit import check_kiosk_rate
from balai.core.errors import BalaiError, NotFound, PermissionDenied

SESSION_COUNTER = "antrian_loket"
DISPLAY_REFRESH_SECONDS = 5


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Public ---------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The MPPs with a queue, each with its kiosk and display."""
    return render(request, "antrian/index.html", {"offices": selectors.queue_offices()})


@never_cache
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest, office_code: str) -> HttpResponse:
    """Big buttons, one per lane; pressing one takes a number."""
    office = selectors.public_office(office_code)
    if request.method == "POST":
        form = KioskForm(request.POST)
        if form.is_valid():
            check_kiosk_rate(request)
            lane = QueueLane.objects.filter(
                pk=form.cleaned_data["lane"], office=office
            ).first()
            if lane is None:
                raise NotFound("Jalur antrean tidak ditemukan.")
            ticket = actions.take_ticket(
                actor=actions.kiosk_actor(office),
                lane=lane,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
            return redirect(
                reverse("antrian:ticket", args=[ticket.pk]) + "?dari=anjungan"
            )
        messages.error(request, _("Permintaan tidak lengkap. Silakan tekan lagi."))
    buttons = [
        (lane, KioskForm(initial={"lane": lane.pk})) for lane in selectors.lanes(office)
    ]
    return render(
        request,
        "antrian/kiosk.html",
        {
            "office": office,
            "buttons": buttons,
            "open": actions.kiosk_open(office)
            or not getattr(settings, "BALAI_ANTRIAN_ENFORCE_HOURS", True),
        },
    )


@never_cache
@require_GET
def ticket(request: HttpRequest, ticket_id) -> HttpResponse:
    """A ticket's page: the number, people ahead, the wait; printable."""
    place = selectors.ticket_place(ticket_id)
    url = request.build_absolute_uri(reverse("antrian:ticket", args=[ticket_id]))
    qr = segno.make(url, error="m").svg_inline(scale=3, dark="#1b1f23")
    return render(
        request,
        "antrian/ticket.html",
        {
            "place": place,
            "ticket": place.ticket,
            "qr_svg": qr,
            "from_kiosk": request.GET.get("dari") == "anjungan",
        },
    )


@never_cache
@require_GET
def display(request: HttpRequest, office_code: str) -> HttpResponse:
    """The hall screen: large type, refreshes itself (htmx, or a meta refresh)."""
    office = selectors.public_office(office_code)
    template = (
        "antrian/_display_body.html" if _is_htmx(request) else "antrian/display.html"
    )
    return render(
        request,
        template,
        {
            "screen": selectors.display(office),
            "refresh": DISPLAY_REFRESH_SECONDS,
        },
    )


# --- Officer console ----------------------------------------------------------------


def _console_context(request: HttpRequest, counter_id: str | None = None) -> dict:
    actor = request_actor(request)
    office = selectors.office_for_actor(actor)
    if counter_id is None:
        counter_id = request.session.get(SESSION_COUNTER)
    view = selectors.console(actor=actor, office=office, counter_id=counter_id)
    if view.counter is not None:
        request.session[SESSION_COUNTER] = str(view.counter.pk)
    targets = [
        (f"loket:{c.pk}", c.name) for c in view.counters if c != view.counter
    ] + [
        (f"jalur:{lane.pk}", _("Jalur %(name)s") % {"name": lane})
        for lane in view.lanes
    ]
    return {
        "view": view,
        "act_form": ActForm(),
        "transfer_form": TransferForm(),
        "link_form": LinkForm(),
        "targets": targets,
    }


def _console_response(request: HttpRequest) -> HttpResponse:
    if _is_htmx(request):
        return render(request, "antrian/_console.html", _console_context(request))
    return redirect("antrian:console")


def staff_links(actor) -> list[tuple[str, str]]:
    """Return (address, label) of the queue pages this actor may open."""
    links: list[tuple[str, str]] = []
    if actor.has_role(*actions.QUEUE_ROLES):
        links.append((reverse("antrian:console"), _("Konsol antrean loket")))
        links.append(
            (reverse("antrian:office-appointments"), _("Janji temu di kantor"))
        )
    if actor.has_role(*selectors.STATS_ROLES):
        links.append((reverse("antrian:stats"), _("Statistik antrean")))
    if actor.has_role(*selectors.SETUP_ROLES):
        links.append(
            (reverse("antrian:appointment-settings"), _("Pengaturan janji temu"))
        )
    return links


@never_cache
@staff_required(*actions.QUEUE_ROLES)
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    """The counter officer's console: call, recall, start, finish, skip, transfer."""
    context = _console_context(request, counter_id=request.GET.get("loket"))
    if _is_htmx(request):
        return render(request, "antrian/_console.html", context)
    context["checkin_form"] = CheckInForm()
    context["appointments"] = selectors.office_appointments(
        actor=request_actor(request), office=context["view"].office
    )
    return render(request, "antrian/console.html", context)


def _run(request: HttpRequest, form, fn, **kwargs) -> None:
    """Run one action for a console button; a refusal becomes a message."""
    if not form.is_valid():
        messages.error(request, _("Permintaan tidak lengkap. Muat ulang halaman."))
        return
    try:
        result = fn(
            actor=request_actor(request),
            idempotency_key=form.cleaned_data["idempotency_key"],
            **kwargs,
        )
    except BalaiError as exc:
        messages.error(request, exc.message)
        return
    if fn is actions.call_next and result is None:
        messages.info(request, _("Tidak ada nomor yang menunggu untuk loket ini."))
    elif result is not None:
        messages.success(
            request,
            _("%(number)s: %(status)s.")
            % {"number": result.number, "status": result.get_status_display()},
        )


@staff_required(*actions.QUEUE_ROLES)
@require_POST
def call_next(request: HttpRequest, counter_id) -> HttpResponse:
    counter = Counter.objects.filter(pk=counter_id).first()
    if counter is None:
        raise NotFound("Loket tidak ditemukan.")
    _run(request, ActForm(request.POST), actions.call_next, counter=counter)
    return _console_response(request)


TICKET_ACTIONS = {
    "panggil-ulang": actions.recall,
    "mulai": actions.start_service,
    "selesai": actions.finish,
    "lewati": actions.skip,
}


@staff_required(*actions.QUEUE_ROLES)
@require_POST
def ticket_action(request: HttpRequest, ticket_id, verb: str) -> HttpResponse:
    fn = TICKET_ACTIONS.get(verb)
    if fn is None:
        raise NotFound()
    _run(request, ActForm(request.POST), fn, ticket=ticket_id)
    return _console_response(request)


@staff_required(*actions.QUEUE_ROLES)
@require_POST
def transfer(request: HttpRequest, ticket_id) -> HttpResponse:
    form = TransferForm(request.POST)
    kwargs: dict = {"ticket": ticket_id}
    if form.is_valid():
        kind, _sep, raw = form.cleaned_data["target"].partition(":")
        try:
            pk = uuid.UUID(raw)
        except ValueError:
            pk = None
        if kind == "loket" and pk:
            kwargs["to_counter"] = Counter.objects.filter(pk=pk).first()
        elif kind == "jalur" and pk:
            kwargs["to_lane"] = QueueLane.objects.filter(pk=pk).first()
        kwargs["note"] = form.cleaned_data["note"]
    _run(request, form, actions.transfer, **kwargs)
    return _console_response(request)


@staff_required(*actions.QUEUE_ROLES)
@require_POST
def link(request: HttpRequest, ticket_id) -> HttpResponse:
    form = LinkForm(request.POST)
    app_id = form.cleaned_data["application_id"] if form.is_valid() else None
    _run(
        request, form, actions.link_application, ticket=ticket_id, application_id=app_id
    )
    return _console_response(request)


# --- Statistics -------------------------------------------------------------------


@staff_required(*selectors.STATS_ROLES)
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """Waiting and service times of a day, per office, lane and counter."""
    actor = request_actor(request)
    offices = list(selectors.stats_offices(actor))
    form = StatsForm(request.GET or None)
    day = timezone.localdate()
    code = actor.office_code
    if form.is_valid():
        day = form.cleaned_data["tanggal"] or day
        code = form.cleaned_data["kantor"] or code
    office = next((o for o in offices if o.code == code), None)
    if office is None and offices:
        office = offices[0]
    result = (
        selectors.daily_stats(actor=actor, office=office, day=day) if office else None
    )
    return render(
        request,
        "antrian/stats.html",
        {
            "offices": offices,
            "office": office,
            "day": day,
            "stats": result,
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
        },
    )


# --- Appointments (janji temu) -------------------------------------------------------


def citizen_required(view):
    """A page for a logged-in citizen account."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.user.kind != AccountKind.CITIZEN:
            raise PermissionDenied(_("Halaman ini untuk akun warga."))
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@citizen_required
@require_GET
def my_appointments(request: HttpRequest) -> HttpResponse:
    """Janji temu saya: bookings, with a cancel button while still possible."""
    actor = request_actor(request)
    now = timezone.now()
    rows = [
        (a, a.status == AppointmentStatus.BOOKED and a.starts_at > now, ActForm())
        for a in selectors.my_appointments(actor=actor)[:100]
    ]
    return render(
        request,
        "antrian/my_appointments.html",
        {"rows": rows, "verified": request.user.is_verified_citizen},
    )


def _choice(request: HttpRequest, offices: list) -> dict:
    """The office, lane, day and application picked so far (GET parameters)."""
    chosen: dict = {"office": None, "lane": None, "day": None, "error": None}
    code = request.GET.get("kantor", "")
    chosen["office"] = next((o for o in offices if o.code == code), None)
    if code and chosen["office"] is None:
        chosen["error"] = _(
            "Mal Pelayanan Publik yang dipilih tidak menerima janji temu."
        )
    office = chosen["office"]
    if office is None:
        return chosen
    chosen["lanes"] = list(slot_rules.bookable_lanes(office))
    chosen["days"] = slot_rules.bookable_days(office)
    ref = request.GET.get("jalur", "")
    chosen["lane"] = next((x for x in chosen["lanes"] if str(x.pk) == ref), None)
    raw_day = request.GET.get("tanggal", "")
    if raw_day:
        try:
            chosen["day"] = selectors.parse_day(raw_day)
        except BalaiError as exc:
            chosen["error"] = exc.message
    return chosen


@never_cache
@citizen_required
@require_GET
def new_appointment(request: HttpRequest) -> HttpResponse:
    """Buat janji temu: pick an MPP, a service group and a day; the free
    slots are shown with the places left; a slot leads to the confirmation."""
    actor = request_actor(request)
    offices = selectors.appointment_offices()
    chosen = _choice(request, offices)
    day_slots = None
    if chosen["office"] and chosen["lane"] and chosen["day"]:
        day_slots = selectors.free_slots(
            chosen["office"], chosen["lane"], chosen["day"]
        )
    application = request.GET.get("permohonan", "")
    return render(
        request,
        "antrian/new_appointment.html",
        {
            "offices": offices,
            "chosen": chosen,
            "day_slots": day_slots,
            "applications": selectors.citizen_applications(actor=actor),
            "application": application,
            "verified": request.user.is_verified_citizen,
        },
        status=400 if chosen["error"] else 200,
    )


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
def confirm_appointment(request: HttpRequest) -> HttpResponse:
    """Check the chosen slot, then book it (one booking even on a double click)."""
    actor = request_actor(request)
    form = BookForm(request.POST or None, initial=request.GET.dict())
    data = request.POST if request.method == "POST" else request.GET
    error = None
    status = 200
    office = lane = start = None
    try:
        office = selectors.public_office(data.get("kantor", ""))
        lane = selectors.bookable_lane(office, data.get("jalur", ""))
        start = slot_rules.parse_start(data.get("mulai", ""))
        if start is None:
            raise BalaiError(_("Waktu janji temu tidak valid."), code="slot_invalid")
    except BalaiError as exc:
        error, status = exc.message, exc.status_code
    if error is None and request.method == "POST":
        if not form.is_valid():
            error, status = _("Permintaan tidak lengkap. Silakan pilih slot lagi."), 400
        else:
            try:
                booked = actions.book_appointment(
                    actor=actor,
                    office=office,
                    lane=lane,
                    starts_at=start,
                    application_id=form.cleaned_data["permohonan"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except BalaiError as exc:
                error, status = exc.message, exc.status_code
            else:
                messages.success(
                    request,
                    _(
                        "Janji temu tercatat. Kode janji temu Anda: %(code)s. "
                        "Masukkan kode ini di anjungan atau sebutkan di loket "
                        "mulai 30 menit sebelum jadwal."
                    )
                    % {"code": booked.code},
                )
                return redirect("antrian:my-appointments")
    return render(
        request,
        "antrian/confirm_appointment.html",
        {
            "form": form,
            "office": office,
            "lane": lane,
            "start": start,
            "when": slot_rules.fmt_when(start) if start else "",
            "error": error,
            "application": data.get("permohonan", ""),
        },
        status=status,
    )


@citizen_required
@require_POST
def cancel_appointment(request: HttpRequest, appointment_id) -> HttpResponse:
    form = ActForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Permintaan tidak lengkap. Muat ulang halaman."))
        return redirect("antrian:my-appointments")
    try:
        done = actions.cancel_appointment(
            actor=request_actor(request),
            appointment=appointment_id,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except BalaiError as exc:
        if exc.status_code == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Janji temu %(code)s dibatalkan.") % {"code": done.code}
        )
    return redirect("antrian:my-appointments")


@staff_required(*actions.QUEUE_ROLES)
@require_POST
def officer_check_in(request: HttpRequest) -> HttpResponse:
    """The officer enters a booking code at the console: it joins the queue."""
    actor = request_actor(request)
    office = selectors.office_for_actor(actor)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Isi kode janji temu."))
        return redirect("antrian:console")
    try:
        appointment = actions.check_in_appointment(
            actor=actor,
            office=office,
            code=form.cleaned_data["kode"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except BalaiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Janji temu %(code)s (%(name)s): nomor antrean %(number)s, %(lane)s.")
            % {
                "code": appointment.code,
                "name": appointment.citizen_name,
                "number": appointment.ticket.number,
                "lane": appointment.lane.name,
            },
        )
    return redirect("antrian:console")


def _office_appointments_url(day: datetime.date | None) -> str:
    url = reverse("antrian:office-appointments")
    return f"{url}?tanggal={day.isoformat()}" if day else url


@never_cache
@staff_required(*actions.QUEUE_ROLES)
@require_GET
def office_appointments(request: HttpRequest) -> HttpResponse:
    """The office's bookings of a day, each booked one with a cancel form
    (the officer writes the reason the citizen is sent)."""
    actor = request_actor(request)
    office = selectors.office_for_actor(actor)
    form = DayForm(request.GET or None)
    day = timezone.localdate()
    status = 200
    if form.is_bound:
        if form.is_valid():
            day = form.cleaned_data["tanggal"] or day
        else:
            messages.error(
                request,
                _(
                    "Tanggal tidak valid; tulis sebagai TTTT-BB-HH, misalnya "
                    "2026-03-02."
                ),
            )
            status = 400
    now = timezone.now()
    rows = [
        (
            a,
            OfficeCancelForm(initial={"tanggal": day})
            if a.status == AppointmentStatus.BOOKED
            else None,
            # Over and nobody came: the officer may say so before the job does.
            OfficeMissForm(initial={"tanggal": day})
            if a.status == AppointmentStatus.BOOKED
            and now > slot_rules.missed_after(a.starts_at, a.ends_at)
            else None,
        )
        for a in selectors.office_appointments(actor=actor, office=office, day=day)
    ]
    booked = sum(1 for _a, form, _miss in rows if form is not None)
    return render(
        request,
        "antrian/office_appointments.html",
        {
            "office": office,
            "day": day,
            "rows": rows,
            "booked": booked,
            "day_form": OfficeCancelDayForm(initial={"tanggal": day})
            if booked and day >= timezone.localdate()
            else None,
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
        },
        status=status,
    )


def _office_booking_step(
    request: HttpRequest,
    form: OfficeCancelForm | OfficeMissForm,
    step: Any,
    success: str,
) -> HttpResponse:
    """Run an officer's `step` on one booking from the day's list (`step`
    takes the form's cleaned data, returns the booking); back to that day
    with `success` (its code and name filled in) or the refusal."""
    if not form.is_valid():
        messages.error(request, _("Permintaan tidak lengkap. Muat ulang halaman."))
        return redirect(_office_appointments_url(None))
    try:
        done = step(form.cleaned_data)
    except BalaiError as exc:
        if exc.status_code == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request, success % {"code": done.code, "name": done.citizen_name}
        )
    return redirect(_office_appointments_url(form.cleaned_data["tanggal"]))


@staff_required(*actions.QUEUE_ROLES)
@require_POST
def office_cancel_appointment(request: HttpRequest, appointment_id) -> HttpResponse:
    """An officer cancels a booking of his office with a reason."""
    return _office_booking_step(
        request,
        OfficeCancelForm(request.POST),
        lambda data: actions.cancel_appointment_for_office(
            actor=request_actor(request),
            appointment=appointment_id,
            reason=data["alasan"],
            idempotency_key=data["idempotency_key"],
        ),
        _("Janji temu %(code)s (%(name)s) dibatalkan; warga diberi tahu lewat pesan."),
    )


@staff_required(*actions.QUEUE_ROLES)
@require_POST
def office_mark_missed(request: HttpRequest, appointment_id) -> HttpResponse:
    """An officer marks a booking of his office missed: its slot is over."""
    return _office_booking_step(
        request,
        OfficeMissForm(request.POST),
        lambda data: actions.mark_appointment_missed(
            actor=request_actor(request),
            appointment=appointment_id,
            idempotency_key=data["idempotency_key"],
        ),
        _("Janji temu %(code)s (%(name)s) ditandai tidak datang."),
    )


@staff_required(*actions.QUEUE_ROLES)
@require_POST
def office_cancel_day(request: HttpRequest) -> HttpResponse:
    """An officer cancels every booking of a day nobody has come for yet."""
    form = OfficeCancelDayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Permintaan tidak lengkap. Muat ulang halaman."))
        return redirect(_office_appointments_url(None))
    day = form.cleaned_data["tanggal"]
    if not form.cleaned_data["yakin"]:
        messages.error(
            request,
            _(
                "Centang kotak persetujuan untuk membatalkan semua janji temu "
                "pada tanggal ini. Tidak ada yang dibatalkan."
            ),
        )
        return redirect(_office_appointments_url(day))
    actor = request_actor(request)
    try:
        done = actions.cancel_office_day(
            actor=actor,
            office=selectors.office_for_actor(actor),
            day=day,
            reason=form.cleaned_data["alasan"],
        )
    except BalaiError as exc:
        if exc.status_code == 404:
            raise
        messages.error(request, exc.message)
        return redirect(_office_appointments_url(day))
    # Sent twice, the form finds nothing left the second time.
    if done.codes:
        messages.success(
            request,
            _(
                "%(n)d janji temu dibatalkan (%(codes)s); warga diberi tahu "
                "lewat %(messages)d pesan."
            )
            % {
                "n": len(done.codes),
                "codes": ", ".join(done.codes),
                "messages": done.messages,
            },
        )
    else:
        messages.info(
            request, _("Tidak ada janji temu yang belum hadir pada tanggal ini.")
        )
    return redirect(_office_appointments_url(day))


@never_cache
@require_http_methods(["GET", "POST"])
def kiosk_check_in(request: HttpRequest, office_code: str) -> HttpResponse:
    """At the kiosk: type the booking code, get the queue number."""
    office = selectors.public_office(office_code)
    form = CheckInForm(request.POST or None)
    error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            check_kiosk_rate(request)
            try:
                appointment = actions.check_in_appointment(
                    actor=actions.kiosk_actor(office),
                    office=office,
                    code=form.cleaned_data["kode"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except BalaiError as exc:
                error, status = exc.message, exc.status_code
            else:
                return redirect(
                    reverse("antrian:ticket", args=[appointment.ticket_id])
                    + "?dari=anjungan"
                )
        else:
            error, status = _("Isi kode janji temu."), 400
        # A fresh key for the next try (the refused one is not replayed).
        form = CheckInForm(initial={"kode": request.POST.get("kode", "")})
    return render(
        request,
        "antrian/kiosk_checkin.html",
        {"office": office, "form": form, "error": error},
        status=status,
    )


@never_cache
@staff_required(*selectors.SETUP_ROLES)
@require_http_methods(["GET", "POST"])
def appointment_settings(request: HttpRequest) -> HttpResponse:
    """The service admin sets slot length, places and days ahead per MPP."""
    actor = request_actor(request)
    offices = list(selectors.settings_offices(actor))
    code = request.POST.get("kantor") or request.GET.get("kantor", "")
    office = next((o for o in offices if o.code == code), None)
    if office is None and offices and not code:
        office = offices[0]
    if office is None and code:
        raise NotFound(_("Mal Pelayanan Publik ini tidak ditemukan."))
    conf = slot_rules.settings_for(office) if office else None
    initial = (
        {
            "is_enabled": conf.is_enabled,
            "slot_minutes": conf.slot_minutes,
            "capacity": conf.capacity,
            "days_ahead": conf.days_ahead,
        }
        if conf
        else {}
    )
    form = AppointmentSettingsForm(request.POST or None, initial=initial)
    error = None
    status = 200
    if request.method == "POST" and office is not None:
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.configure_appointments(
                    actor=actor,
                    office=office,
                    is_enabled=data["is_enabled"],
                    slot_minutes=data["slot_minutes"],
                    capacity=data["capacity"],
                    days_ahead=data["days_ahead"],
                    idempotency_key=data["idempotency_key"],
                )
            except BalaiError as exc:
                error, status = exc.message, exc.status_code
            else:
                messages.success(
                    request,
                    _("Pengaturan janji temu %(office)s disimpan.")
                    % {"office": office.name},
                )
                return redirect(
                    reverse("antrian:appointment-settings") + f"?kantor={office.code}"
                )
        else:
            status = 400
    return render(
        request,
        "antrian/appointment_settings.html",
        {
            "offices": offices,
            "office": office,
            "form": form,
            "error": error,
        },
        status=status,
    )
