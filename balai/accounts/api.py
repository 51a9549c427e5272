"""API: exchange username, password and TOTP code for a bearer token."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_otp import devices_for_user
from ninja import Router, Schema

from balai.accounts.actions import issue_api_token
from balai.accounts.models import AccountKind
from balai.accounts.selectors import actor_for, needs_second_factor
from balai.core.errors import BalaiError

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    otp: str = ""


class TokenOut(Schema):
    token: str
    expires_at: str


class ErrorOut(Schema):
    message: str
    code: str
    extra: dict


@router.post(
    "/token", response={200: TokenOut, 401: ErrorOut, 403: ErrorOut}, auth=None
)
def create_token(request: HttpRequest, body: TokenIn):
    """Issue a bearer token for a staff user (second factor required)."""
    user = authenticate(request, username=body.username, password=body.password)
    if user is None or user.kind != AccountKind.STAFF:
        raise BalaiError(
            "Nama pengguna atau kata sandi salah.",
            code="bad_credentials",
            status_code=401,
        )
    verified = False
    if body.otp:
        verified = any(
            d.verify_token(body.otp) for d in devices_for_user(user, confirmed=True)
        )
        if not verified:
            raise BalaiError("Kode OTP salah.", code="otp_invalid", status_code=401)
    if settings.BALAI_REQUIRE_OTP and not verified and needs_second_factor(user=user):
        raise BalaiError(
            "Kode OTP wajib untuk petugas yang membaca data pribadi.",
            code="otp_required",
            status_code=403,
        )
    token, secret = issue_api_token(
        actor=actor_for(user=user), user=user, otp_verified=verified, name="api"
    )
    return {"token": secret, "expires_at": token.expires_at.isoformat()}
