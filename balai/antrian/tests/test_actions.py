import datetime
import uuid

import pytest

from balai.antrian import actions
from balai.antrian.actions import (
    call_next,
    ensure_queue_setup,
    finish,
    kiosk_actor,
    link_application,
    recall,
    skip,
    start_service,
    status_from_events,
    take_ticket,
    transfer,
)
from balai.antrian.models import Counter, QueueLane, Ticket, TicketEvent
from balai.antrian.workflow import TicketStatus as S
from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError
from balai.core.models import ChangeRecord
from balai.regions.models import Office

from .conftest import WITA

pytestmark = pytest.mark.django_db


# --- Setup ------------------------------------------------------------------------


def test_setup_gives_every_mpp_lanes_and_counters_once(system_actor):
    result = ensure_queue_setup(actor=system_actor)
    assert len(result.offices) == 20
    assert (result.lanes, result.counters) == (80, 80)
    tabang = Office.objects.get(code="MPP-64.02.12")
    assert sorted(
        QueueLane.objects.filter(office=tabang).values_list("prefix", flat=True)
    ) == [
        "A",
        "B",
        "C",
        "P",
    ]
    priority = QueueLane.objects.get(office=tabang, prefix="P")
    assert priority.is_priority
    assert all(
        priority in c.lanes.all() for c in Counter.objects.filter(office=tabang)
    ), "every counter calls the priority lane"
    again = ensure_queue_setup(actor=system_actor)
    assert (again.lanes, again.counters) == (0, 0)
    assert QueueLane.objects.count() == 80


def test_setup_needs_an_administrator(officer, mpp):
    with pytest.raises(BalaiError) as exc:
        ensure_queue_setup(actor=officer, offices=[mpp])
    assert exc.value.code == "forbidden"


def test_setup_refuses_a_bad_layout(system_actor, mpp):
    bad = actions.Layout(lanes=(actions.LaneSpec("x", "X", "a1"),), counters=())
    with pytest.raises(BalaiError) as exc:
        ensure_queue_setup(actor=system_actor, offices=[mpp], layout=bad)
    assert exc.value.code == "lane_prefix_invalid"


# --- Numbers ----------------------------------------------------------------------


def test_numbers_count_per_lane(kiosk, lane, clock):
    a1 = take_ticket(actor=kiosk, lane=lane("A"))
    a2 = take_ticket(actor=kiosk, lane=lane("A"))
    b1 = take_ticket(actor=kiosk, lane=lane("B"))
    assert [a1.number, a2.number, b1.number] == ["A-001", "A-002", "B-001"]
    assert a1.status == S.WAITING
    assert a1.day == datetime.date(2026, 3, 2)
    assert [e.kind for e in a1.events.all()] == ["issued"]
    # Audited, and shipped to the regency through the change log.
    assert AuditEntry.objects.filter(object_id=str(a1.pk)).exists()
    assert ChangeRecord.objects.filter(object_id=str(a1.pk)).exists()
    assert AuditEntry.objects.get(object_id=str(a1.pk)).chain == "MPP-64.02.06"


def test_numbering_restarts_at_midnight_wita_not_utc(kiosk, lane, clock):
    clock.now = datetime.datetime(2026, 3, 2, 23, 59, tzinfo=WITA)  # 15:59 UTC
    late = take_ticket(actor=kiosk, lane=lane("A"))
    clock.now = datetime.datetime(2026, 3, 3, 0, 1, tzinfo=WITA)  # 16:01 UTC, 2 March
    early = take_ticket(actor=kiosk, lane=lane("A"))
    assert late.number == early.number == "A-001"
    assert (late.day, early.day) == (
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 3),
    )
    again = take_ticket(actor=kiosk, lane=lane("A"))
    assert again.number == "A-002"


def test_yesterdays_waiting_tickets_are_not_called_today(
    kiosk, officer, lane, counter, clock
):
    take_ticket(actor=kiosk, lane=lane("A"))
    clock.advance(days=1)
    assert call_next(actor=officer, counter=counter(1)) is None


def test_kiosk_replay_with_the_same_key_gives_the_same_number(kiosk, lane, clock):
    key = str(uuid.uuid4())
    first = take_ticket(actor=kiosk, lane=lane("A"), idempotency_key=key)
    again = take_ticket(actor=kiosk, lane=lane("A"), idempotency_key=key)
    assert first.pk == again.pk
    assert Ticket.objects.count() == 1


def test_kiosk_of_another_office_cannot_issue_here(other_mpp, mpp, lane, clock):
    with pytest.raises(BalaiError) as exc:
        take_ticket(actor=kiosk_actor(other_mpp), lane=lane("A"))
    assert exc.value.status_code == 404


def test_inactive_lane_refuses(kiosk, lane, clock):
    QueueLane.objects.filter(pk=lane("B").pk).update(is_active=False)
    with pytest.raises(BalaiError) as exc:
        take_ticket(actor=kiosk, lane=lane("B"))
    assert exc.value.code == "lane_inactive"


@pytest.mark.parametrize(
    ("when", "open_"),
    [
        (datetime.datetime(2026, 3, 2, 7, 40, tzinfo=WITA), True),  # Mon, 20 min early
        (datetime.datetime(2026, 3, 2, 7, 20, tzinfo=WITA), False),
        (datetime.datetime(2026, 3, 2, 16, 1, tzinfo=WITA), False),
        (datetime.datetime(2026, 3, 6, 12, 0, tzinfo=WITA), True),  # Friday break
        (datetime.datetime(2026, 3, 6, 16, 20, tzinfo=WITA), True),  # Fri to 16:30
        (datetime.datetime(2026, 3, 7, 10, 0, tzinfo=WITA), False),  # Saturday
    ],
)
def test_kiosk_follows_office_hours(kiosk, lane, clock, settings, when, open_):
    settings.BALAI_ANTRIAN_ENFORCE_HOURS = True
    clock.now = when
    if open_:
        assert take_ticket(actor=kiosk, lane=lane("A")).number == "A-001"
    else:
        with pytest.raises(BalaiError) as exc:
            take_ticket(actor=kiosk, lane=lane("A"))
        assert exc.value.code == "office_closed"


def test_an_officer_may_issue_outside_hours(officer, lane, clock, settings):
    settings.BALAI_ANTRIAN_ENFORCE_HOURS = True
    clock.now = datetime.datetime(2026, 3, 7, 10, 0, tzinfo=WITA)
    ticket = take_ticket(actor=officer, lane=lane("A"))
    assert ticket.source == "officer"


# --- Calling ----------------------------------------------------------------------


def test_priority_lane_is_called_first(kiosk, officer, lane, counter, clock):
    a1 = take_ticket(actor=kiosk, lane=lane("A"))
    clock.advance(minutes=5)
    p1 = take_ticket(actor=kiosk, lane=lane("P"))
    first = call_next(actor=officer, counter=counter(1))
    assert first.pk == p1.pk
    assert first.status == S.CALLED
    assert first.counter == counter(1)
    assert first.call_count == 1
    finish_now(officer, first)
    assert call_next(actor=officer, counter=counter(1)).pk == a1.pk


def test_oldest_waiting_across_the_counters_lanes(kiosk, officer, lane, counter, clock):
    b1 = take_ticket(actor=kiosk, lane=lane("B"))
    clock.advance(minutes=1)
    c1 = take_ticket(actor=kiosk, lane=lane("C"))
    clock.advance(minutes=1)
    a1 = take_ticket(actor=kiosk, lane=lane("A"))
    # Loket 4 calls from C and B (and P): B-001 is the oldest of those.
    got = call_next(actor=officer, counter=counter(4))
    assert got.pk == b1.pk
    finish_now(officer, got)
    assert call_next(actor=officer, counter=counter(4)).pk == c1.pk
    # Loket 1 never calls from B or C.
    assert call_next(actor=officer, counter=counter(1)).pk == a1.pk


def test_empty_queue_gives_none(officer, counter, clock):
    assert call_next(actor=officer, counter=counter(1)) is None


def test_a_busy_counter_must_finish_first(kiosk, officer, lane, counter, clock):
    take_ticket(actor=kiosk, lane=lane("A"))
    take_ticket(actor=kiosk, lane=lane("A"))
    first = call_next(actor=officer, counter=counter(1))
    with pytest.raises(BalaiError) as exc:
        call_next(actor=officer, counter=counter(1))
    assert exc.value.code == "counter_busy"
    assert first.number in exc.value.message


def finish_now(actor, ticket):
    start_service(actor=actor, ticket=ticket)
    return finish(actor=actor, ticket=ticket)


def test_full_service_records_every_step(kiosk, officer, lane, counter, clock):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    clock.advance(minutes=7)
    call_next(actor=officer, counter=counter(2))
    clock.advance(minutes=1)
    recall(actor=officer, ticket=ticket)
    clock.advance(minutes=1)
    start_service(actor=officer, ticket=ticket)
    clock.advance(minutes=9)
    done = finish(actor=officer, ticket=ticket)
    assert done.status == S.DONE
    assert done.call_count == 2
    assert done.called_by_name == officer.username
    assert done.called_at == ticket.issued_at + datetime.timedelta(minutes=7)
    assert done.last_called_at == done.called_at + datetime.timedelta(minutes=1)
    assert done.served_at == done.last_called_at + datetime.timedelta(minutes=1)
    assert done.done_at == done.served_at + datetime.timedelta(minutes=9)
    events = list(done.events.order_by("seq"))
    assert [(e.seq, e.kind, e.from_status, e.to_status) for e in events] == [
        (1, "issued", "", "waiting"),
        (2, "called", "waiting", "called"),
        (3, "recalled", "called", "called"),
        (4, "started", "called", "serving"),
        (5, "finished", "serving", "done"),
    ]
    assert all(e.actor_name == officer.username for e in events[1:])
    assert status_from_events(done) == done.status


def test_refused_transition_changes_nothing(kiosk, officer, lane, clock):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    audit = AuditEntry.objects.count()
    with pytest.raises(BalaiError) as exc:
        finish(actor=officer, ticket=ticket)
    assert exc.value.code == "ticket_transition_refused"
    assert "Nomor A-001 berstatus «menunggu»" in exc.value.message
    ticket.refresh_from_db()
    assert ticket.status == S.WAITING
    assert ticket.events.count() == 1
    assert AuditEntry.objects.count() == audit


def test_skip_a_no_show(kiosk, officer, lane, counter, clock):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    call_next(actor=officer, counter=counter(1))
    skipped = skip(actor=officer, ticket=ticket, note="tidak hadir")
    assert skipped.status == S.SKIPPED
    assert skipped.events.last().note == "tidak hadir"
    with pytest.raises(BalaiError):
        recall(actor=officer, ticket=ticket)
    # The counter is free again.
    assert call_next(actor=officer, counter=counter(1)) is None


def test_transfer_to_a_counter_is_called_there_first(
    kiosk, officer, lane, counter, clock
):
    moving = take_ticket(actor=kiosk, lane=lane("A"))
    clock.advance(minutes=1)
    take_ticket(actor=kiosk, lane=lane("B"))  # waiting at Loket 3 already
    call_next(actor=officer, counter=counter(1))
    start_service(actor=officer, ticket=moving)
    moved = transfer(actor=officer, ticket=moving, to_counter=counter(3))
    assert (moved.status, moved.counter, moved.number) == (
        S.TRANSFERRED,
        counter(3),
        "A-001",
    )
    # Loket 1 is free; Loket 2 (same lanes) does not take a ticket sent to Loket 3.
    assert call_next(actor=officer, counter=counter(2)) is None
    got = call_next(actor=officer, counter=counter(3))
    assert got.pk == moving.pk, "a transferred citizen goes before fresh numbers"
    assert status_from_events(got) == S.CALLED


def test_transfer_to_a_lane(kiosk, officer, lane, counter, clock):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    call_next(actor=officer, counter=counter(1))
    moved = transfer(actor=officer, ticket=ticket, to_lane=lane("C"))
    assert (moved.lane, moved.issued_lane, moved.counter) == (
        lane("C"),
        lane("A"),
        None,
    )
    assert call_next(actor=officer, counter=counter(4)).pk == ticket.pk


def test_transfer_needs_one_valid_target(
    kiosk, officer, lane, counter, other_mpp, clock
):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    call_next(actor=officer, counter=counter(1))
    with pytest.raises(BalaiError) as exc:
        transfer(actor=officer, ticket=ticket)
    assert exc.value.code == "transfer_target_required"
    with pytest.raises(BalaiError) as exc:
        transfer(actor=officer, ticket=ticket, to_counter=counter(1, "MPP-64.02.12"))
    assert exc.value.code == "transfer_target_invalid"
    with pytest.raises(BalaiError) as exc:
        transfer(actor=officer, ticket=ticket, to_counter=counter(1))
    assert exc.value.code == "transfer_same_counter"


def test_link_application(kiosk, officer, lane, counter, clock):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    call_next(actor=officer, counter=counter(1))
    app_id = uuid.uuid4()
    linked = link_application(actor=officer, ticket=ticket, application_id=app_id)
    assert linked.application_id == app_id
    assert linked.status == S.CALLED
    assert linked.events.last().kind == "linked"
    with pytest.raises(BalaiError) as exc:
        link_application(actor=officer, ticket=ticket, application_id="bukan-uuid")
    assert exc.value.code == "application_id_invalid"


# --- Who may act ------------------------------------------------------------------


def test_officer_of_another_office_sees_nothing(
    kiosk, lane, counter, make_staff, actor_of, other_mpp, clock
):
    stranger = actor_of(make_staff(office="MPP-64.02.12", role="counter_officer"))
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    with pytest.raises(BalaiError) as exc:
        call_next(actor=stranger, counter=counter(1))
    assert exc.value.status_code == 404
    with pytest.raises(BalaiError) as exc:
        skip(actor=stranger, ticket=ticket)
    assert exc.value.status_code == 404
    with pytest.raises(BalaiError) as exc:
        take_ticket(actor=stranger, lane=lane("A"))
    assert exc.value.status_code == 404


def test_a_leader_does_not_work_the_counter(
    kiosk, lane, counter, make_staff, actor_of, clock
):
    camat = actor_of(make_staff(office="MPP-64.02.06", role="leader"))
    take_ticket(actor=kiosk, lane=lane("A"))
    with pytest.raises(BalaiError) as exc:
        call_next(actor=camat, counter=counter(1))
    assert exc.value.code == "forbidden"


def test_kiosk_cannot_call(kiosk, lane, counter, clock):
    take_ticket(actor=kiosk, lane=lane("A"))
    with pytest.raises(BalaiError) as exc:
        call_next(actor=kiosk, counter=counter(1))
    assert exc.value.code == "forbidden"


def test_events_are_append_only(kiosk, lane, clock):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    event = TicketEvent.objects.get(ticket=ticket)
    event.note = "diubah"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


# --- Appointments: the office cancels, the job marks missed ------------------------

MPP = "MPP-64.02.06"


def _book(citizen, mpp, lane, start):
    from balai.antrian.actions import book_appointment

    return book_appointment(actor=citizen, office=mpp, lane=lane, starts_at=start)


def _audits(code):
    return AuditEntry.objects.filter(action=code).count()


@pytest.fixture
def outbox(system_actor):
    """The shipped message templates; returns the outbox rows of a template."""
    from balai.notify.actions import seed_templates
    from balai.notify.models import OutboxMessage

    seed_templates(actor=system_actor)
    return lambda code: OutboxMessage.objects.filter(template_code=code)


def test_an_officer_cancels_a_booking_with_a_reason_and_the_citizen_is_told(
    clock, mpp, lane, make_citizen, officer, outbox, system_actor
):
    from balai.antrian.actions import (
        book_appointment,
        cancel_appointment_for_office,
        configure_appointments,
    )
    from balai.antrian.models import Appointment, AppointmentStatus

    from .conftest import at

    configure_appointments(
        actor=system_actor,
        office=mpp,
        is_enabled=True,
        slot_minutes=30,
        capacity=1,
        days_ahead=14,
    )
    _user, citizen = make_citizen(phone="081234567890", email="warga@contoh.id")
    start = at("2026-03-03", "10:00")
    appt = _book(citizen, mpp, lane("A"), start)
    done = cancel_appointment_for_office(
        actor=officer,
        appointment=appt.pk,
        reason="  Kantor tutup:\n listrik padam  ",
    )
    assert done.status == AppointmentStatus.CANCELLED
    assert done.cancel_reason == "Kantor tutup: listrik padam"
    assert done.cancelled_by == officer.username
    assert done.cancelled_at == clock.now
    entry = AuditEntry.objects.get(action="antrian.appointment.office_cancel")
    assert entry.object_id == str(appt.pk)
    assert entry.details["reason"] == "Kantor tutup: listrik padam"
    messages = outbox(actions.OFFICE_CANCEL_TEMPLATE)
    assert {m.channel for m in messages} == {"sms", "email"}
    for message in messages:
        assert appt.code in message.body
        assert "Kantor tutup: listrik padam" in message.body
        assert "Selasa, 3 Maret 2026 pukul 10.00" in message.body
    # The place is free again for someone else.
    again = book_appointment(
        actor=make_citizen()[1], office=mpp, lane=lane("A"), starts_at=start
    )
    assert again.place == 1
    # Cancelling it again writes nothing and sends nothing; the first reason stands.
    cancel_appointment_for_office(
        actor=officer, appointment=appt.pk, reason="alasan lain"
    )
    assert _audits("antrian.appointment.office_cancel") == 1
    assert outbox(actions.OFFICE_CANCEL_TEMPLATE).count() == 2
    assert Appointment.objects.get(pk=appt.pk).cancel_reason == (
        "Kantor tutup: listrik padam"
    )


def test_office_cancel_is_for_the_queue_officers_of_that_office(
    clock, mpp, other_mpp, lane, warga, make_staff, actor_of
):
    from balai.antrian.actions import cancel_appointment_for_office
    from balai.core.errors import NotFound, PermissionDenied

    from .conftest import at

    appt = _book(warga, mpp, lane("A"), at("2026-03-03", "10:00"))
    elsewhere = actor_of(make_staff(office="MPP-64.02.12", role="counter_officer"))
    with pytest.raises(NotFound) as exc:
        cancel_appointment_for_office(actor=elsewhere, appointment=appt, reason="x")
    assert exc.value.message == "Janji temu tidak ditemukan."
    leader = actor_of(make_staff(office=MPP, role="leader"))
    with pytest.raises(PermissionDenied):
        cancel_appointment_for_office(actor=leader, appointment=appt, reason="x")
    with pytest.raises(NotFound):  # the citizen cancels through his own action
        cancel_appointment_for_office(actor=warga, appointment=appt, reason="x")
    with pytest.raises(NotFound):
        cancel_appointment_for_office(
            actor=actor_of(make_staff(office=MPP, role="registry_officer")),
            appointment=uuid.uuid4(),
            reason="x",
        )
    registry = actor_of(make_staff(office=MPP, role="registry_officer"))
    assert (
        cancel_appointment_for_office(actor=registry, appointment=appt, reason="banjir")
    ).status == "cancelled"


@pytest.mark.parametrize(
    ("reason", "code", "words"),
    [
        ("", "cancel_reason_required", "Tulis alasan pembatalan"),
        (" \n\t ", "cancel_reason_required", "Tulis alasan pembatalan"),
        ("x" * 256, "cancel_reason_too_long", "paling panjang 255 karakter"),
    ],
)
def test_office_cancel_without_a_usable_reason_changes_nothing(
    clock, mpp, lane, warga, officer, outbox, reason, code, words
):
    from balai.antrian.actions import cancel_appointment_for_office
    from balai.antrian.models import Appointment

    from .conftest import at

    appt = _book(warga, mpp, lane("A"), at("2026-03-03", "10:00"))
    with pytest.raises(BalaiError) as exc:
        cancel_appointment_for_office(actor=officer, appointment=appt, reason=reason)
    assert exc.value.code == code
    assert words in exc.value.message
    current = Appointment.objects.get(pk=appt.pk)
    assert (current.status, current.cancel_reason, current.cancelled_at) == (
        "booked",
        "",
        None,
    )
    assert _audits("antrian.appointment.office_cancel") == 0
    assert not outbox(actions.OFFICE_CANCEL_TEMPLATE).exists()


def test_office_cancel_refuses_a_checked_in_or_missed_booking(
    clock, mpp, lane, make_citizen, officer, kiosk, outbox
):
    from balai.antrian.actions import (
        cancel_appointment_for_office,
        check_in_appointment,
        mark_missed_appointments,
    )
    from balai.antrian.models import Appointment
    from balai.core.actors import Actor
    from balai.core.errors import Conflict

    from .conftest import at

    came = _book(make_citizen()[1], mpp, lane("A"), at("2026-03-02", "10:00"))
    stayed_away = _book(make_citizen()[1], mpp, lane("B"), at("2026-03-02", "10:00"))
    clock.now = at("2026-03-02", "09:45")
    check_in_appointment(actor=kiosk, office=mpp, code=came.code)
    clock.now = at("2026-03-02", "10:31")
    mark_missed_appointments(actor=Actor.system())
    for appt, status, words in (
        (came, "checked_in", "sudah dicatat hadir dan masuk antrean"),
        (stayed_away, "missed", "sudah ditandai tidak datang"),
    ):
        with pytest.raises(Conflict) as exc:
            cancel_appointment_for_office(
                actor=officer, appointment=appt, reason="kantor tutup"
            )
        assert exc.value.code == f"appointment_{status}"
        assert exc.value.message == (
            f"Janji temu {appt.code} {words}, sehingga tidak dapat dibatalkan "
            "oleh kantor."
        )
        current = Appointment.objects.get(pk=appt.pk)
        assert (current.status, current.cancel_reason) == (status, "")
    assert _audits("antrian.appointment.office_cancel") == 0
    assert not outbox(actions.OFFICE_CANCEL_TEMPLATE).exists()


def test_office_cancel_replayed_by_key_gives_the_first_result(
    clock, mpp, lane, warga, officer
):
    from balai.antrian.actions import cancel_appointment_for_office

    from .conftest import at

    appt = _book(warga, mpp, lane("A"), at("2026-03-03", "10:00"))
    one = cancel_appointment_for_office(
        actor=officer, appointment=appt.pk, reason="banjir", idempotency_key="oc-1"
    )
    two = cancel_appointment_for_office(
        actor=officer, appointment=appt.pk, reason="banjir", idempotency_key="oc-1"
    )
    assert one.pk == two.pk
    assert _audits("antrian.appointment.office_cancel") == 1


def test_the_job_marks_bookings_whose_slot_is_over_as_missed_once(
    clock, mpp, lane, make_citizen, kiosk, system_actor, outbox
):
    from balai.antrian.actions import (
        cancel_appointment,
        check_in_appointment,
        mark_missed_appointments,
    )
    from balai.antrian.models import Appointment
    from balai.core.actors import Actor

    from .conftest import at

    job = Actor.system(name="janji-temu")
    gone = _book(
        make_citizen(phone="081234567890", email="warga@contoh.id")[1],
        mpp,
        lane("A"),
        at("2026-03-02", "09:30"),
    )
    came = _book(make_citizen()[1], mpp, lane("B"), at("2026-03-02", "09:30"))
    _u, canceller = make_citizen()
    called_off = _book(canceller, mpp, lane("C"), at("2026-03-02", "09:30"))
    later = _book(make_citizen()[1], mpp, lane("A"), at("2026-03-02", "10:00"))
    cancel_appointment(actor=canceller, appointment=called_off)
    clock.now = at("2026-03-02", "09:40")
    check_in_appointment(actor=kiosk, office=mpp, code=came.code)
    # 09:59: the 09:30 slot runs to 10.00: nothing is over yet.
    clock.now = at("2026-03-02", "09:59")
    assert mark_missed_appointments(actor=job).missed == 0
    clock.now = at("2026-03-02", "10:01")
    run = mark_missed_appointments(actor=job)
    assert (run.missed, run.offices) == (1, [MPP])
    status = dict(Appointment.objects.values_list("code", "status"))
    assert status == {
        gone.code: "missed",
        came.code: "checked_in",
        called_off.code: "cancelled",
        later.code: "booked",
    }
    assert Appointment.objects.get(pk=gone.pk).missed_at == clock.now
    entry = AuditEntry.objects.get(action="antrian.appointment.mark_missed")
    assert entry.object_id == str(gone.pk)
    assert entry.details["messages"] == 2
    # The citizen is told his place is released, on each channel he has.
    told = outbox(actions.MISSED_TEMPLATE)
    assert {m.channel for m in told} == {"sms", "email"}
    for message in told:
        assert gone.code in message.body
        assert "Senin, 2 Maret 2026 pukul 09.30" in message.body
    # Run again: nothing more is written, nothing more sent.
    assert mark_missed_appointments(actor=job).missed == 0
    assert _audits("antrian.appointment.mark_missed") == 1
    assert outbox(actions.MISSED_TEMPLATE).count() == 2
    # The change travels to the regency as the MPP's.
    last = (
        ChangeRecord.objects.filter(model="antrian.appointment", object_id=str(gone.pk))
        .order_by("seq")
        .last()
    )
    assert last.payload["status"] == "missed"
    assert last.office_code == MPP


def test_a_short_slot_is_missed_only_once_check_in_has_closed(
    clock, mpp, lane, warga, system_actor
):
    from balai.antrian.actions import configure_appointments, mark_missed_appointments
    from balai.antrian.models import Appointment

    from .conftest import at

    configure_appointments(
        actor=system_actor,
        office=mpp,
        is_enabled=True,
        slot_minutes=10,
        capacity=4,
        days_ahead=14,
    )
    appt = _book(warga, mpp, lane("A"), at("2026-03-02", "10:00"))
    # The slot ends at 10.10 but the citizen may still check in until 10.15.
    clock.now = at("2026-03-02", "10:12")
    assert mark_missed_appointments(actor=system_actor).missed == 0
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    clock.now = at("2026-03-02", "10:16")
    assert mark_missed_appointments(actor=system_actor).missed == 1


def test_the_job_leaves_the_bookings_of_an_office_another_node_serves(
    clock, mpp, lane, warga, system_actor, settings
):
    from balai.antrian.actions import mark_missed_appointments
    from balai.antrian.models import Appointment

    from .conftest import at

    appt = _book(warga, mpp, lane("A"), at("2026-03-02", "10:00"))
    clock.now = at("2026-03-03", "08:00")
    settings.BALAI_KECAMATAN_NODES = "64.02.06"  # Tenggarong runs its own node
    assert mark_missed_appointments(actor=system_actor).missed == 0
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    settings.BALAI_NODE = "64.02.06"
    assert mark_missed_appointments(actor=system_actor).missed == 1


def test_only_the_system_or_a_service_admin_runs_the_job(clock, officer):
    from balai.antrian.actions import mark_missed_appointments
    from balai.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        mark_missed_appointments(actor=officer)


def test_marking_one_booking_missed_refuses_what_the_table_does_not_allow(
    clock, mpp, lane, make_citizen, officer, kiosk, outbox
):
    from balai.antrian.actions import check_in_appointment, mark_appointment_missed
    from balai.antrian.models import Appointment
    from balai.core.errors import Conflict

    from .conftest import at

    came = _book(make_citizen()[1], mpp, lane("A"), at("2026-03-02", "10:00"))
    away = _book(
        make_citizen(phone="081234567890")[1], mpp, lane("B"), at("2026-03-02", "10:00")
    )
    clock.now = at("2026-03-02", "09:50")
    check_in_appointment(actor=kiosk, office=mpp, code=came.code)
    with pytest.raises(BalaiError) as exc:
        mark_appointment_missed(actor=officer, appointment=away)
    assert exc.value.code == "appointment_not_over"
    assert "belum lewat" in exc.value.message
    assert "pukul 10.30" in exc.value.message
    clock.now = at("2026-03-02", "11:00")
    with pytest.raises(Conflict) as exc:
        mark_appointment_missed(actor=officer, appointment=came)
    assert exc.value.code == "appointment_checked_in"
    assert "tidak dapat ditandai tidak datang" in exc.value.message
    assert Appointment.objects.get(pk=came.pk).status == "checked_in"
    assert Appointment.objects.get(pk=came.pk).missed_at is None
    assert not outbox(actions.MISSED_TEMPLATE).exists()
    missed = mark_appointment_missed(actor=officer, appointment=away)
    assert missed.status == "missed"
    mark_appointment_missed(actor=officer, appointment=away)
    assert _audits("antrian.appointment.miss") == 1
    (told,) = outbox(actions.MISSED_TEMPLATE)
    assert (told.channel, told.recipient) == ("sms", "+6281234567890")
    assert away.code in told.body


def test_a_missed_booking_cannot_be_checked_in_or_cancelled_by_the_citizen(
    clock, mpp, lane, make_citizen, officer, system_actor
):
    from balai.antrian.actions import (
        cancel_appointment,
        check_in_appointment,
        mark_missed_appointments,
    )
    from balai.core.errors import Conflict

    from .conftest import at

    _u, citizen = make_citizen()
    appt = _book(citizen, mpp, lane("A"), at("2026-03-02", "10:00"))
    clock.now = at("2026-03-02", "10:31")
    mark_missed_appointments(actor=system_actor)
    with pytest.raises(Conflict) as exc:
        check_in_appointment(actor=officer, office=mpp, code=appt.code)
    assert exc.value.code == "appointment_missed"
    assert "Silakan ambil nomor antrean biasa" in exc.value.message
    with pytest.raises(Conflict) as exc:
        cancel_appointment(actor=citizen, appointment=appt)
    assert exc.value.code == "appointment_missed"
    assert not Ticket.objects.exists()
    # Missed holds no place: the citizen may book a later slot of that day.
    later = _book(citizen, mpp, lane("A"), at("2026-03-02", "13:00"))
    assert later.status == "booked"


# --- Appointments: the office cancels a whole day ---------------------------------


def test_an_office_cancels_its_day_and_every_citizen_is_told(
    clock, mpp, other_mpp, lane, make_citizen, officer, kiosk, outbox
):
    import datetime

    from balai.antrian.actions import cancel_office_day, check_in_appointment
    from balai.antrian.models import Appointment

    from .conftest import at

    def citizen():
        return make_citizen(phone="081234567890")[1]

    first = _book(citizen(), mpp, lane("A"), at("2026-03-02", "10:00"))
    came = _book(citizen(), mpp, lane("B"), at("2026-03-02", "10:00"))
    later = _book(citizen(), mpp, lane("A"), at("2026-03-02", "14:00"))
    tomorrow = _book(citizen(), mpp, lane("A"), at("2026-03-03", "10:00"))
    elsewhere = _book(
        citizen(), other_mpp, lane("A", other_mpp.code), at("2026-03-02", "10:00")
    )
    clock.now = at("2026-03-02", "09:45")
    check_in_appointment(actor=kiosk, office=mpp, code=came.code)

    done = cancel_office_day(
        actor=officer, office=mpp, day=datetime.date(2026, 3, 2), reason=" Banjir "
    )
    assert done.codes == [first.code, later.code]
    assert done.messages == 2
    status = dict(Appointment.objects.values_list("code", "status"))
    assert status == {
        first.code: "cancelled",
        later.code: "cancelled",
        came.code: "checked_in",
        tomorrow.code: "booked",
        elsewhere.code: "booked",
    }
    assert set(
        Appointment.objects.filter(status="cancelled").values_list(
            "cancel_reason", "cancelled_by"
        )
    ) == {("Banjir", officer.username)}
    entries = AuditEntry.objects.filter(action="antrian.appointment.office_cancel_day")
    assert sorted(e.object_id for e in entries) == sorted(
        [str(first.pk), str(later.pk)]
    )
    assert {e.details["reason"] for e in entries} == {"Banjir"}
    bodies = [m.body for m in outbox(actions.OFFICE_CANCEL_TEMPLATE)]
    assert len(bodies) == 2
    assert all("Banjir" in b for b in bodies)
    assert {first.code, later.code} == {
        code for code in (first.code, later.code) for b in bodies if code in b
    }
    # A second run finds nothing left: nothing written, nothing sent.
    again = cancel_office_day(
        actor=officer, office=mpp, day=datetime.date(2026, 3, 2), reason="Banjir"
    )
    assert (again.codes, again.messages) == ([], 0)
    assert entries.count() == 2
    assert outbox(actions.OFFICE_CANCEL_TEMPLATE).count() == 2


def test_cancelling_a_day_is_refused_without_reason_for_a_past_day_or_another_role(
    clock, mpp, lane, warga, officer, make_staff, actor_of, outbox
):
    import datetime

    from balai.antrian.actions import cancel_office_day
    from balai.antrian.models import Appointment
    from balai.core.errors import NotFound, PermissionDenied

    from .conftest import at

    appt = _book(warga, mpp, lane("A"), at("2026-03-02", "14:00"))
    day = datetime.date(2026, 3, 2)
    with pytest.raises(BalaiError) as exc:
        cancel_office_day(actor=officer, office=mpp, day=day, reason="  ")
    assert exc.value.code == "cancel_reason_required"
    with pytest.raises(BalaiError) as exc:
        cancel_office_day(
            actor=officer, office=mpp, day=datetime.date(2026, 3, 1), reason="Banjir"
        )
    assert exc.value.code == "cancel_day_past"
    assert "01-03-2026 sudah lewat" in exc.value.message
    with pytest.raises(PermissionDenied):
        cancel_office_day(
            actor=actor_of(make_staff(office=MPP, role="leader")),
            office=mpp,
            day=day,
            reason="Banjir",
        )
    with pytest.raises(NotFound):
        cancel_office_day(
            actor=actor_of(make_staff(office="MPP-64.02.12", role="counter_officer")),
            office=mpp,
            day=day,
            reason="Banjir",
        )
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    assert _audits("antrian.appointment.office_cancel_day") == 0
    assert not outbox(actions.OFFICE_CANCEL_TEMPLATE).exists()


def test_a_day_cancelled_reads_its_citizens_accounts_in_one_query(
    clock, mpp, lane, make_citizen, officer
):
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from balai.accounts.models import User
    from balai.antrian.actions import cancel_office_day

    from .conftest import at

    for hm in ("10:00", "10:30", "11:00", "11:30"):
        _book(
            make_citizen(phone="081234567890")[1], mpp, lane("A"), at("2026-03-02", hm)
        )
    with CaptureQueriesContext(connection) as queries:
        done = cancel_office_day(
            actor=officer, office=mpp, day=datetime.date(2026, 3, 2), reason="Banjir"
        )
    assert len(done.codes) == 4
    table = User._meta.db_table
    reads = [
        q
        for q in queries
        if q["sql"].lstrip().startswith("SELECT") and f'FROM "{table}"' in q["sql"]
    ]
    assert len(reads) == 1
