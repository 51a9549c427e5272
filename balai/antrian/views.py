"""Queue pages: the kiosk, a ticket's page, the hall display (public, per MPP),
the officer's console (htmx, works without it) and the daily statistics."""

from __future__ import annotations

import datetime
import uuid

import segno
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from balai.accounts.auth import request_actor, staff_required
from balai.antrian import actions, selectors
from balai.antrian.forms import ActForm, KioskForm, LinkForm, StatsForm, TransferForm
from balai.antrian.models import Counter, QueueLane
from balai.antrian.ratelimit import check_kiosk_rate
from balai.core.errors import BalaiError, NotFound

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
    if actor.has_role(*selectors.STATS_ROLES):
        links.append((reverse("antrian:stats"), _("Statistik antrean")))
    return links


@never_cache
@staff_required(*actions.QUEUE_ROLES)
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    """The counter officer's console: call, recall, start, finish, skip, transfer."""
    context = _console_context(request, counter_id=request.GET.get("loket"))
    template = "antrian/_console.html" if _is_htmx(request) else "antrian/console.html"
    return render(request, template, context)


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
