"""A small fixed-window rate limit for the public kiosk, per client address.

Counts live in Django's cache (per process with the default local-memory
cache; shared when a shared cache is configured). A kiosk is one device: the
default of 30 numbers a minute is far above a real queue and far below a
script emptying the number range.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from balai.core.errors import BalaiError

WINDOW_SECONDS = 60


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def check_kiosk_rate(request: HttpRequest) -> None:
    """Refuse when this address took too many numbers in the last minute."""
    limit = int(getattr(settings, "BALAI_KIOSK_RATE_PER_MINUTE", 30))
    key = f"antrian:kiosk:{client_address(request)}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    if count > limit:
        raise BalaiError(
            "Terlalu banyak permintaan nomor antrean dari perangkat ini. "
            "Tunggu sebentar lalu coba lagi.",
            code="rate_limited",
            status_code=429,
        )
