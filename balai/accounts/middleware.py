"""Send staff who read personal data through the second factor before any page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_otp import devices_for_user

from balai.accounts.auth import second_factor_missing

# Paths a half-logged-in staff user may still reach.
OPEN_PREFIXES = ("/akun/", "/static/", "/healthz", "/i18n/", "/api/", "/v/")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path != "/"
            and not request.path.startswith(OPEN_PREFIXES)
            and second_factor_missing(request, user)
        ):
            has_device = any(devices_for_user(user, confirmed=True))
            target = "accounts:otp-verify" if has_device else "accounts:otp-setup"
            return redirect(target)
        return self.get_response(request)
