"""Login, second factor, and the staff home page."""

import base64

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from balai.accounts.auth import request_actor, staff_required
from balai.accounts.forms import LoginForm, OtpForm
from balai.accounts.selectors import active_postings


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def locked_out(request: HttpRequest, credentials=None, *args, **kwargs) -> HttpResponse:
    """Tell a locked-out user what happened and when to try again."""
    return render(request, "accounts/locked_out.html", status=429)


@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the TOTP code of a confirmed device."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        for device in devices_for_user(request.user, confirmed=True):
            if device.verify_token(token):
                otp_login(request, device)
                return redirect("accounts:staff-home")
        form.add_error("token", _("Kode tidak cocok atau sudah kedaluwarsa."))
    return render(request, "accounts/otp_verify.html", {"form": form})


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
            return redirect("accounts:staff-home")
        form.add_error("token", _("Kode tidak cocok. Periksa jam di ponsel Anda."))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(
        request,
        "accounts/otp_setup.html",
        {"form": form, "secret": secret, "qr_svg": qr_svg},
    )


@staff_required()
def staff_home(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    postings = active_postings(user=request.user)
    return render(
        request, "accounts/staff_home.html", {"actor": actor, "postings": postings}
    )
