"""Rate limits on guessing (tracking codes, sign-up matches), per client IP.

Counted in Django's cache (locmem on one process; a shared cache such as the
database cache when several app processes serve the same site).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from balai.core.errors import BalaiError

DEFAULTS = {
    # scope: (attempts, window in seconds)
    "track": (10, 15 * 60),
    "sign_up": (5, 60 * 60),
    "otp": (10, 60 * 60),
}


def client_ip(request: HttpRequest) -> str:
    """The peer address (a proxy in front must set REMOTE_ADDR correctly)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _limits(scope: str) -> tuple[int, int]:
    custom = getattr(settings, "BALAI_RATE_LIMITS", {}) or {}
    return tuple(custom.get(scope, DEFAULTS[scope]))  # type: ignore[return-value]


def _key(scope: str, ip: str) -> str:
    return f"balai:throttle:{scope}:{ip}"


def refuse_if_blocked(scope: str, ip: str) -> None:
    """Refuse (429) when this IP has used up its failed attempts."""
    limit, _window = _limits(scope)
    if (cache.get(_key(scope, ip)) or 0) >= limit:
        raise BalaiError(
            "Terlalu banyak percobaan. Coba lagi nanti.",
            code="rate_limited",
            status_code=429,
        )


def count_failure(scope: str, ip: str) -> None:
    """Count one failed attempt of this IP within the window."""
    _limit, window = _limits(scope)
    key = _key(scope, ip)
    if cache.add(key, 1, timeout=window):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
