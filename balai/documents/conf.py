"""The documents app's settings, with their defaults in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULT_NUMBER_FORMAT = "{code}/{serial:04d}/{office}/{month_roman}/{year}"

# Classification codes printed in front of letter numbers; an administrator
# changes them per series (set_sequence_start) or for all with the setting
# BALAI_DOCUMENT_CLASSIFICATION = {"sktm": "400.9", ...}.
DEFAULT_CLASSIFICATION = {
    "receipt": "TT",
    "sktm": "400.9",
    "domisili": "470",
    "usaha": "500",
    "pengantar": "470",
    "completion": "BPL",
}


def _get(name: str, default: Any) -> Any:
    value = getattr(settings, name, None)
    return default if value in (None, "") else value


def public_url() -> str:
    """The public address verifiers reach (`https://host`, no trailing slash)."""
    return str(_get("BALAI_PUBLIC_URL", "http://localhost:8000")).rstrip("/")


def key_dir() -> Path:
    """Where this app's keys live: BALAI_KEY_DIR/documents (outside the repo)."""
    return Path(settings.BALAI_KEY_DIR) / "documents"


def store_dir() -> Path:
    """Content-addressed PDF store, outside the web root."""
    return Path(_get("BALAI_DOCUMENT_STORE", Path(settings.DATA_DIR) / "dokumen"))


def letter_template_dir() -> Path | None:
    """An administrator's folder of letter templates, searched first."""
    value = _get("BALAI_LETTER_TEMPLATE_DIR", None)
    return Path(value) if value else None


def number_format() -> str:
    return str(_get("BALAI_DOCUMENT_NUMBER_FORMAT", DEFAULT_NUMBER_FORMAT))


def classification(kind: str) -> str:
    custom = _get("BALAI_DOCUMENT_CLASSIFICATION", {}) or {}
    return str(custom.get(kind, DEFAULT_CLASSIFICATION.get(kind, "")))


def regency_seat() -> str:
    """The town regency letters are dated from."""
    return str(_get("BALAI_REGENCY_SEAT", "Tenggarong"))


def verify_rate() -> tuple[int, int]:
    """Verification requests allowed per IP: (count, seconds)."""
    raw = str(_get("BALAI_VERIFY_RATE", "30/60"))
    count, _, seconds = raw.partition("/")
    return int(count), int(seconds or 60)


def node_key_days() -> int:
    return int(_get("BALAI_NODE_KEY_DAYS", 730))


def max_upload_bytes() -> int:
    return int(_get("BALAI_VERIFY_MAX_UPLOAD", 8 * 1024 * 1024))


def max_siak_bytes() -> int:
    return int(_get("BALAI_SIAK_MAX_BYTES", 20 * 1024 * 1024))


def revocation_list_check_minutes() -> int:
    """How often the scheduler checks whether the revocation list is due."""
    return int(_get("BALAI_REVOCATION_LIST_CHECK_MINUTES", 15))


def revocation_list_max_hours() -> int:
    """A list older than this is signed again even when nothing changed."""
    return int(_get("BALAI_REVOCATION_LIST_MAX_HOURS", 24))
