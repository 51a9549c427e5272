"""The ticket workflow: statuses, events, and the one transitions table.

A ticket's status is the projection of its events: every change appends a
`TicketEvent` whose kind must be allowed from the current status by
`TRANSITIONS`; `next_status` is the only place that decides.

    waiting ──called──▶ called ──started──▶ serving ──finished──▶ done
       ▲                  │  ▲ recalled        │
       │                  │  └─────────        │
       │                  ├──skipped──▶ skipped│
       │                  └──transferred──▶ transferred ◀──┘
       │                                          │
       └──────────── (called again from) ─────────┘

`transferred` is a waiting state at another counter or lane: the citizen keeps
his number and is called again there, ahead of those who have not been served.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _

from balai.core.errors import Conflict


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("menunggu")
    CALLED = "called", _("dipanggil")
    SERVING = "serving", _("dilayani")
    DONE = "done", _("selesai")
    SKIPPED = "skipped", _("dilewati")
    TRANSFERRED = "transferred", _("dialihkan")


class TicketEventKind(models.TextChoices):
    ISSUED = "issued", _("ambil nomor")
    CALLED = "called", _("panggil")
    RECALLED = "recalled", _("panggil ulang")
    STARTED = "started", _("mulai layani")
    FINISHED = "finished", _("selesai layani")
    SKIPPED = "skipped", _("lewati")
    TRANSFERRED = "transferred", _("alihkan")
    LINKED = "linked", _("tautkan permohonan")


S = TicketStatus
E = TicketEventKind

# kind -> (statuses it may follow, status it leads to; None = unchanged).
TRANSITIONS: dict[str, tuple[frozenset[str | None], str | None]] = {
    E.ISSUED: (frozenset({None}), S.WAITING),
    E.CALLED: (frozenset({S.WAITING, S.TRANSFERRED}), S.CALLED),
    E.RECALLED: (frozenset({S.CALLED}), S.CALLED),
    E.STARTED: (frozenset({S.CALLED}), S.SERVING),
    E.FINISHED: (frozenset({S.SERVING}), S.DONE),
    E.SKIPPED: (frozenset({S.CALLED}), S.SKIPPED),
    E.TRANSFERRED: (frozenset({S.CALLED, S.SERVING}), S.TRANSFERRED),
    E.LINKED: (
        frozenset({S.WAITING, S.CALLED, S.SERVING, S.TRANSFERRED, S.DONE}),
        None,
    ),
}

# Statuses in which a ticket waits to be called.
WAITING_STATUSES = frozenset({S.WAITING, S.TRANSFERRED})
# Statuses in which a ticket occupies a counter.
ACTIVE_STATUSES = frozenset({S.CALLED, S.SERVING})
FINAL_STATUSES = frozenset({S.DONE, S.SKIPPED})


def _label(status: str | None) -> str:
    if status is None:
        return str(_("belum ada"))
    return str(S(status).label)


def next_status(kind: str, current: str | None, *, number: str = "") -> str:
    """Return the status after event `kind`, or refuse with a clear message."""
    if kind not in TRANSITIONS:
        raise ValueError(f"unknown ticket event {kind!r}")
    allowed, target = TRANSITIONS[kind]
    if current not in allowed:
        what = f"Nomor {number}" if number else "Nomor antrean ini"
        raise Conflict(
            f"{what} berstatus «{_label(current)}», sehingga tidak dapat "
            f"«{E(kind).label}». Boleh dari status: "
            + ", ".join(sorted(_label(s) for s in allowed))
            + ".",
            code="ticket_transition_refused",
            extra={
                "from": current,
                "event": str(kind),
                "allowed_from": sorted(str(s) for s in allowed if s),
            },
        )
    return current if target is None else target  # type: ignore[return-value]


def project(kinds: Iterable[str]) -> str | None:
    """Replay event kinds from the start; return the status they lead to."""
    status: str | None = None
    for kind in kinds:
        status = next_status(kind, status)
    return status
