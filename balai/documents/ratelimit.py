"""A per-IP request limit kept in Django's cache (fixed window)."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

from balai.core.errors import BalaiError
from balai.documents import conf


def client_ip(request: HttpRequest) -> str:
    # The reverse proxy sets REMOTE_ADDR (e.g. uwsgi/gunicorn behind nginx with
    # real_ip); a client-supplied X-Forwarded-For is not trusted here.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(request: HttpRequest, scope: str = "verify") -> bool:
    """Count one request; return False when the caller is over the limit."""
    limit, window = conf.verify_rate()
    bucket = int(time.time() // window)
    ip = hashlib.sha256(client_ip(request).encode()).hexdigest()[:24]
    key = f"balai:rl:{scope}:{ip}:{bucket}"
    if cache.add(key, 1, timeout=window + 5):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 5)
        return True
    return count <= limit


def check(request: HttpRequest, scope: str = "verify") -> None:
    if not hit(request, scope):
        raise BalaiError(
            "Terlalu banyak permintaan verifikasi. Coba lagi sebentar lagi.",
            code="rate_limited",
            status_code=429,
        )
