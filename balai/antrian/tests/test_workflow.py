import pytest

from balai.antrian.workflow import (
    TRANSITIONS,
    TicketEventKind,
    TicketStatus,
    next_status,
    project,
)
from balai.core.errors import BalaiError

S, E = TicketStatus, TicketEventKind


def test_every_event_kind_has_one_rule():
    assert set(TRANSITIONS) == set(E.values)


@pytest.mark.parametrize(
    ("kind", "frm", "to"),
    [
        (E.ISSUED, None, S.WAITING),
        (E.CALLED, S.WAITING, S.CALLED),
        (E.CALLED, S.TRANSFERRED, S.CALLED),
        (E.RECALLED, S.CALLED, S.CALLED),
        (E.STARTED, S.CALLED, S.SERVING),
        (E.FINISHED, S.SERVING, S.DONE),
        (E.SKIPPED, S.CALLED, S.SKIPPED),
        (E.TRANSFERRED, S.CALLED, S.TRANSFERRED),
        (E.TRANSFERRED, S.SERVING, S.TRANSFERRED),
        (E.LINKED, S.SERVING, S.SERVING),
        (E.LINKED, S.DONE, S.DONE),
    ],
)
def test_allowed_transitions(kind, frm, to):
    assert next_status(kind, frm) == to


@pytest.mark.parametrize(
    ("kind", "frm"),
    [
        (E.ISSUED, S.WAITING),
        (E.CALLED, S.CALLED),
        (E.CALLED, S.DONE),
        (E.CALLED, S.SKIPPED),
        (E.STARTED, S.WAITING),
        (E.FINISHED, S.CALLED),
        (E.FINISHED, S.DONE),
        (E.SKIPPED, S.SERVING),
        (E.RECALLED, S.WAITING),
        (E.TRANSFERRED, S.WAITING),
        (E.TRANSFERRED, S.DONE),
        (E.LINKED, S.SKIPPED),
        (E.CALLED, None),
    ],
)
def test_refused_transitions_say_why_in_indonesian(kind, frm):
    with pytest.raises(BalaiError) as exc:
        next_status(kind, frm, number="A-015")
    err = exc.value
    assert err.code == "ticket_transition_refused"
    assert err.status_code == 409
    assert err.message.startswith("Nomor A-015 berstatus")
    assert "tidak dapat" in err.message
    assert err.extra["from"] == frm
    assert err.extra["event"] == kind


def test_status_is_the_projection_of_events():
    assert project([E.ISSUED]) == S.WAITING
    assert (
        project([E.ISSUED, E.CALLED, E.RECALLED, E.STARTED, E.TRANSFERRED, E.CALLED])
        == S.CALLED
    )
    assert project([E.ISSUED, E.CALLED, E.STARTED, E.LINKED, E.FINISHED]) == S.DONE
    with pytest.raises(BalaiError):
        project([E.ISSUED, E.FINISHED])


# --- Appointments -------------------------------------------------------------


def test_every_appointment_step_has_one_rule():
    from balai.antrian.workflow import APPOINTMENT_TRANSITIONS, AppointmentStep

    assert set(APPOINTMENT_TRANSITIONS) == set(AppointmentStep.values)


def test_the_model_uses_the_workflows_statuses():
    from balai.antrian.models import Appointment
    from balai.antrian.workflow import AppointmentStatus

    field = Appointment._meta.get_field("status")
    assert dict(field.choices) == dict(AppointmentStatus.choices)
    assert AppointmentStatus.MISSED.label == "tidak datang"


@pytest.mark.parametrize(
    ("step", "to"),
    [
        ("check_in", "checked_in"),
        ("cancel", "cancelled"),
        ("office_cancel", "cancelled"),
        ("miss", "missed"),
    ],
)
def test_a_booked_appointment_may_take_every_step(step, to):
    from balai.antrian.workflow import next_appointment_status

    assert next_appointment_status(step, "booked") == to


@pytest.mark.parametrize(
    ("step", "frm", "words"),
    [
        ("cancel", "checked_in", "sudah dicatat hadir dan masuk antrean"),
        ("office_cancel", "checked_in", "sudah dicatat hadir dan masuk antrean"),
        ("office_cancel", "missed", "sudah ditandai tidak datang"),
        ("cancel", "missed", "sudah ditandai tidak datang"),
        ("miss", "checked_in", "sudah dicatat hadir dan masuk antrean"),
        ("miss", "cancelled", "sudah dibatalkan"),
        ("check_in", "cancelled", "sudah dibatalkan"),
        ("check_in", "missed", "sudah ditandai tidak datang"),
    ],
)
def test_refused_appointment_steps_say_why_in_indonesian(step, frm, words):
    from balai.antrian.workflow import AppointmentStep, next_appointment_status

    with pytest.raises(BalaiError) as exc:
        next_appointment_status(step, frm, code="K7MP3Q")
    err = exc.value
    assert err.status_code == 409
    assert err.code == f"appointment_{frm}"
    assert err.message.startswith(
        f"Janji temu K7MP3Q {words}, sehingga tidak dapat "
        f"{AppointmentStep(step).label}."
    )
    assert err.extra == {"from": frm, "step": step, "allowed_from": ["booked"]}
