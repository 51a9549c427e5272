"""Helpers shared by the apps' API routers."""

from django.http import HttpRequest

from balai.core.errors import BalaiError

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128


def idempotency_key(request: HttpRequest) -> str | None:
    """Return the caller's `Idempotency-Key` header, or None when absent.

    The key comes from the caller, never from the server: a client that retries
    a write sends the same key again, and the action replays its first result.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise BalaiError(
            "Header Idempotency-Key harus berupa teks ASCII paling panjang "
            f"{MAX_KEY_LENGTH} karakter.",
            code="idempotency_key_invalid",
            status_code=422,
        )
    return key
