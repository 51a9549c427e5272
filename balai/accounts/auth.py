"""Who is calling: the actor of a page request, and API authentication that
enforces the second factor for session and token alike."""

import datetime
import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp import devices_for_user
from ninja.security import HttpBearer, SessionAuth

from balai.accounts.models import AccountKind, ApiToken, User
from balai.accounts.selectors import actor_for, needs_second_factor
from balai.core.actors import Actor
from balai.core.errors import BalaiError, PermissionDenied
from balai.core.rows import db_value, select_rows

SESSION_OFFICE_KEY = "balai_office"
TOKEN_USE_STEP = datetime.timedelta(minutes=1)


def request_actor(request: HttpRequest) -> Actor:
    """Return (and cache on the request) the actor for the logged-in user."""
    actor = getattr(request, "_balai_actor", None)
    if actor is None:
        office_code = (
            request.session.get(SESSION_OFFICE_KEY)
            if hasattr(request, "session")
            else None
        )
        actor = actor_for(user=request.user, office_code=office_code)
        request._balai_actor = actor
    return actor


def second_factor_missing(request: HttpRequest, user: User) -> bool:
    if not settings.BALAI_REQUIRE_OTP:
        return False
    verified = getattr(user, "is_verified", None)
    if callable(verified) and verified():
        return False
    return needs_second_factor(user=user)


def second_factor_redirect(request: HttpRequest, user: User) -> HttpResponse:
    """Send a half-logged-in user to verify (or first set up) his second factor."""
    has_device = any(devices_for_user(user, confirmed=True))
    target = reverse("accounts:otp-verify" if has_device else "accounts:otp-setup")
    if request.method == "GET":
        target += "?" + urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
    return redirect(target)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffSession(SessionAuth):
    """A logged-in staff session (CSRF checked), second factor verified."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if not user:
            return None
        if user.kind != AccountKind.STAFF:
            raise PermissionDenied("Layanan ini hanya untuk petugas.")
        if second_factor_missing(request, user):
            raise BalaiError(
                "Verifikasi dua langkah (OTP) diperlukan.",
                code="otp_required",
                status_code=403,
            )
        request._balai_actor = actor_for(user=user)
        return user


class StaffToken(HttpBearer):
    """A bearer token issued after the second factor."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # Plain statements (every API call passes here); digest is unique.
        found = select_rows(
            ApiToken,
            where="digest = %s AND revoked_at IS NULL",
            params=[token_digest(token)],
        )
        record = found[0] if found else None
        if record is None or record.expires_at <= timezone.now():
            return None
        holders = select_rows(
            User, where="id = %s", params=[db_value(User, "id", record.user_id)]
        )
        if not holders:
            return None
        user = record.user = holders[0]
        if not user.is_active or user.kind != AccountKind.STAFF:
            return None
        if (
            settings.BALAI_REQUIRE_OTP
            and not record.otp_verified
            and needs_second_factor(user=user)
        ):
            raise BalaiError(
                "Token ini dibuat tanpa verifikasi dua langkah.",
                code="otp_required",
                status_code=403,
            )
        now = timezone.now()
        # "Last used" to the minute is all an administrator needs; writing it on
        # every request cost each API call a commit of its own.
        if record.last_used_at is None or now - record.last_used_at >= TOKEN_USE_STEP:
            ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        request.user = user
        request._balai_actor = actor_for(user=user)
        return user


class CitizenSession(SessionAuth):
    """A logged-in citizen."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if not user or user.kind != AccountKind.CITIZEN:
            return None
        request._balai_actor = actor_for(user=user)
        return user


STAFF_AUTH = [StaffToken(), StaffSession()]


def api_actor(request: HttpRequest) -> Actor:
    """Return the actor an API auth class attached to the request."""
    return request._balai_actor


def staff_required(*roles: str) -> Callable:
    """Guard a page view: login, second factor, and (if given) one of `roles`."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.kind != AccountKind.STAFF:
                raise PermissionDenied("Halaman ini hanya untuk petugas.")
            if second_factor_missing(request, user):
                return second_factor_redirect(request, user)
            actor = request_actor(request)
            if roles:
                actor.require_role(*roles)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
