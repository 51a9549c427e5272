"""The ticket and appointment workflows: statuses, steps, and one transitions
table each (`TRANSITIONS` for tickets, `APPOINTMENT_TRANSITIONS` for bookings,
decided only by `next_status` and `next_appointment_status`).

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


# --- Appointments (janji temu) -------------------------------------------------
#
#   booked ──check_in──▶ checked_in
#     │
#     ├──cancel (the citizen, before the start)──▶ cancelled
#     ├──office_cancel (an officer of the MPP, with a reason)──▶ cancelled
#     └──miss (the slot passed without a check-in)──▶ missed
#
# Repeating a step that already led to the status a booking has (a second
# check-in, cancel or miss) changes nothing: the callers answer it before the
# table is asked. Everything else the table does not list is refused.


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("terjadwal")
    CHECKED_IN = "checked_in", _("sudah hadir")
    CANCELLED = "cancelled", _("dibatalkan")
    MISSED = "missed", _("tidak datang")


class AppointmentStep(models.TextChoices):
    # Labels complete "... sehingga tidak dapat <label>".
    CHECK_IN = "check_in", _("dicatat kedatangannya")
    CANCEL = "cancel", _("dibatalkan")
    OFFICE_CANCEL = "office_cancel", _("dibatalkan oleh kantor")
    MISS = "miss", _("ditandai tidak datang")


A = AppointmentStatus
AS = AppointmentStep

# step -> (statuses it may follow, status it leads to).
APPOINTMENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    AS.CHECK_IN: (frozenset({A.BOOKED}), A.CHECKED_IN),
    AS.CANCEL: (frozenset({A.BOOKED}), A.CANCELLED),
    AS.OFFICE_CANCEL: (frozenset({A.BOOKED}), A.CANCELLED),
    AS.MISS: (frozenset({A.BOOKED}), A.MISSED),
}

# Why a step is refused, by the status that stands in the way.
_REFUSED_BECAUSE = {
    A.CHECKED_IN: _("sudah dicatat hadir dan masuk antrean"),
    A.CANCELLED: _("sudah dibatalkan"),
    A.MISSED: _("sudah ditandai tidak datang"),
}
# What to do instead, by the step refused.
_INSTEAD = {
    AS.CHECK_IN: _("Silakan ambil nomor antrean biasa di anjungan."),
}


def next_appointment_status(step: str, current: str, *, code: str = "") -> str:
    """Return the status after `step`, or refuse with a clear message (409,
    `appointment_<status>`: the code names the status that stands in the way)."""
    if step not in APPOINTMENT_TRANSITIONS:
        raise ValueError(f"unknown appointment step {step!r}")
    allowed, target = APPOINTMENT_TRANSITIONS[step]
    if current not in allowed:
        what = f"Janji temu {code}" if code else "Janji temu ini"
        why = _REFUSED_BECAUSE.get(current, A(current).label)
        instead = _INSTEAD.get(step)
        raise Conflict(
            f"{what} {why}, sehingga tidak dapat {AS(step).label}."
            + (f" {instead}" if instead else ""),
            code=f"appointment_{current}",
            extra={
                "from": current,
                "step": str(step),
                "allowed_from": sorted(str(s) for s in allowed),
            },
        )
    return target
