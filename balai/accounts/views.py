"""Login (staff and citizens), second factor, staff home, office staff roster."""

import base64
import datetime

import segno
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from balai.accounts.actions import STAFF_ADMIN_ROLES, create_posting
from balai.accounts.auth import SESSION_OFFICE_KEY, request_actor, staff_required
from balai.accounts.forms import LoginForm, OtpForm, PostingForm
from balai.accounts.models import AccountKind, User
from balai.accounts.selectors import (
    ROSTER_ROLES,
    active_postings,
    office_staff,
    staff_user,
    today,
)
from balai.antrian.views import staff_links as queue_links
from balai.core.errors import BalaiError
from balai.registry.views import staff_links as registry_links
from balai.services.views import citizen_links
from balai.services.views import staff_links as service_links


class LoginView(auth_views.LoginView):
    """One login page for staff and citizens; each lands on his own home."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        if self.request.user.kind == AccountKind.CITIZEN:
            return reverse("accounts:citizen-home")
        return reverse("accounts:staff-home")

    def form_invalid(self, form):
        # A kecamatan node too long without sync refuses staff (balai.sync):
        # say so instead of "wrong password".
        from balai.sync.auth import stale_reason

        reason = stale_reason()
        username = form.data.get("username") or ""
        if (
            reason
            and User.objects.filter(username=username, kind=AccountKind.STAFF).exists()
        ):
            form.errors.pop("__all__", None)
            form.add_error(None, reason)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    pass


LOCKED_OUT_MESSAGE = (
    "Terlalu banyak percobaan masuk yang gagal. Akun ini dikunci sementara; "
    "coba lagi nanti atau hubungi helpdesk kecamatan Anda."
)


def locked_out(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Tell a locked-out user what happened and when to try again (axes)."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": LOCKED_OUT_MESSAGE, "code": "locked_out", "extra": {}},
            status=429,
        )
    return render(request, "accounts/locked_out.html", status=429)


@require_http_methods(["GET", "POST"])
def _next_url(request: HttpRequest) -> str:
    """Return the safe page to go to after the second factor."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(
        REDIRECT_FIELD_NAME, ""
    )
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("accounts:staff-home")


def otp_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the TOTP code of a confirmed device."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if not any(devices_for_user(request.user, confirmed=True)):
        return redirect("accounts:otp-setup")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        for device in devices_for_user(request.user, confirmed=True):
            if device.verify_token(token):
                otp_login(request, device)
                return redirect(_next_url(request))
        form.add_error("token", _("Kode tidak cocok atau sudah kedaluwarsa."))
    return render(
        request,
        "accounts/otp_verify.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next")},
    )


@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Pair an authenticator app: show the secret as a QR code, confirm one code."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if any(devices_for_user(request.user, confirmed=True)):
        return redirect("accounts:otp-verify")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "autentikator"}
    )
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("Verifikasi dua langkah aktif."))
            return redirect(_next_url(request))
        form.add_error("token", _("Kode tidak cocok. Periksa jam di ponsel Anda."))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "secret": secret,
            "qr_svg": qr_svg,
            "next": request.POST.get("next") or request.GET.get("next"),
        },
    )


@staff_required()
def staff_home(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    postings = list(active_postings(user=request.user))
    offices = list({p.office.code: p.office for p in postings}.values())
    return render(
        request,
        "accounts/staff_home.html",
        {
            "actor": actor,
            "postings": postings,
            "offices": offices if len(offices) > 1 else [],
            "can_read_roster": actor.has_role(*ROSTER_ROLES),
            "work_links": (
                service_links(actor) + queue_links(actor) + registry_links(actor)
            ),
        },
    )


@staff_required()
@require_http_methods(["POST"])
def switch_office(request: HttpRequest) -> HttpResponse:
    """Act for another of the offices the officer is posted at today."""
    code = request.POST.get("office", "")
    offices = {p.office.code: p.office for p in active_postings(user=request.user)}
    if code not in offices:
        messages.error(request, _("Anda tidak bertugas di kantor itu hari ini."))
    else:
        request.session[SESSION_OFFICE_KEY] = code
        messages.success(
            request,
            _("Anda sekarang bertindak untuk %(office)s.")
            % {"office": offices[code].name},
        )
    return redirect("accounts:staff-home")


@login_required
@require_GET
def citizen_home(request: HttpRequest) -> HttpResponse:
    """A citizen's start page: his service pages and his verification state."""
    if request.user.kind != AccountKind.CITIZEN:
        return redirect("accounts:staff-home")
    user = request.user
    return render(
        request,
        "accounts/citizen_home.html",
        {
            "links": citizen_links(user),
            "verified": user.is_verified_citizen,
            "can_verify_by_code": bool(user.phone),
        },
    )


def _parse_day(raw: str | None) -> datetime.date | None:
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError as exc:
        raise BalaiError(
            "Tanggal harus berformat TTTT-BB-HH.", code="date_invalid"
        ) from exc


@staff_required(*ROSTER_ROLES)
@require_http_methods(["GET", "POST"])
def office_staff_roster(request: HttpRequest, code: str) -> HttpResponse:
    """The staff roster of one office, in the actor's scope; sysadmins add posts."""
    actor = request_actor(request)
    history = request.GET.get("riwayat") == "1"
    day = _parse_day(request.GET.get("tanggal"))
    office, postings = office_staff(actor=actor, code=code, on=day, history=history)
    can_post = actor.has_role(*STAFF_ADMIN_ROLES)
    form = None
    if can_post:
        form = PostingForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                posting = create_posting(
                    actor=actor,
                    user=staff_user(username=data["username"]),
                    office=office,
                    position=data["position"],
                    role=data["role"],
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                    is_head=data["is_head"],
                    is_acting=data["is_acting"],
                    idempotency_key=data["idempotency_key"],
                )
            except BalaiError as exc:
                if exc.code == "idempotency_mismatch":
                    raise
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("%(name)s ditugaskan sebagai %(title)s.")
                    % {"name": posting.user.display_name, "title": posting.title},
                )
                return redirect(request.path)
    elif request.method == "POST":
        actor.require_role(*STAFF_ADMIN_ROLES)
    return render(
        request,
        "accounts/office_staff.html",
        {
            "office": office,
            "postings": postings,
            "history": history,
            "day": day or today(),
            "form": form,
        },
    )
