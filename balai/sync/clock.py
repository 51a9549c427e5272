"""A node's clock, shifted on purpose for tests and the fault bench.

`BALAI_CLOCK_OFFSET_SECONDS` (unset in production) moves every "now" this
process reads (`django.utils.timezone.now` and the model defaults bound to
it) by that many seconds, as a node whose clock is set wrong would. Sync
orders nothing by these times; it only measures and shows the skew.
"""

from __future__ import annotations

import datetime as dt
import os

from django.utils import timezone

_real_now = timezone.now


def offset_seconds() -> float:
    try:
        return float(os.environ.get("BALAI_CLOCK_OFFSET_SECONDS") or 0)
    except ValueError:
        return 0.0


def install_offset_from_env() -> None:
    """Shift this process's clock by BALAI_CLOCK_OFFSET_SECONDS, if set."""
    seconds = offset_seconds()
    if not seconds:
        return
    from django.apps import apps

    delta = dt.timedelta(seconds=seconds)

    def shifted() -> dt.datetime:
        return _real_now() + delta

    timezone.now = shifted
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if getattr(field, "default", None) is _real_now:
                field.default = shifted


def true_utc() -> dt.datetime:
    """The machine's unshifted time (for measuring, never for records)."""
    return _real_now()
