"""A kecamatan node that has not synced for too long refuses staff logins.

Revocations (an account deactivated, a posting ended) travel by sync; a node
cut off for longer than BALAI_NODE_MAX_DAYS_OFFLINE days cannot know of them,
so it stops letting staff in until a sync succeeds (by link or USB bundle).
Citizens' accounts live at the regency and are not concerned.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from balai.core.nodes import REGENCY_NODE


def stale_reason(now: dt.datetime | None = None) -> str | None:
    """Why this node refuses staff logins now, or None."""
    if settings.BALAI_NODE == REGENCY_NODE:
        return None
    from balai.sync.models import SyncState

    state = SyncState.objects.filter(pk=1).first()
    if state is None:
        return None  # not a sync node yet (a first run, a demo)
    days = int(getattr(settings, "BALAI_NODE_MAX_DAYS_OFFLINE", 7))
    last = state.last_success_at or state.initialized_at
    now = now or timezone.now()
    if last is not None and now - last <= dt.timedelta(days=days):
        return None
    when = (
        timezone.localtime(last).strftime("%d-%m-%Y %H:%M") if last else "belum pernah"
    )
    return (
        f"Node ini belum tersinkron dengan kabupaten lebih dari {days} hari "
        f"(terakhir: {when}). Demi keamanan, petugas tidak dapat masuk sampai "
        "sinkron berhasil (lewat jaringan, atau berkas USB: balai sync --export "
        "lalu --import-answer). Hubungi helpdesk kecamatan."
    )


class StaleNodeGuard:
    """An authentication backend that only ever refuses (never lets in; it has
    no get_user, so no session is ever bound to it)."""

    def authenticate(self, request: Any, username: str | None = None, **kwargs: Any):
        if not username or stale_reason() is None:
            return None
        from balai.accounts.models import AccountKind, User

        if User.objects.filter(username=username, kind=AccountKind.STAFF).exists():
            raise PermissionDenied(stale_reason())
        return None
