"""Send staff who read personal data through the second factor before any page."""

from django.http import HttpRequest, HttpResponse

from balai.accounts.auth import second_factor_missing, second_factor_redirect

# Paths a half-logged-in staff user may still reach. Pages under /akun/ that
# need the second factor check it themselves (`staff_required`); the API checks
# it in its auth classes.
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
            return second_factor_redirect(request, user)
        return self.get_response(request)
