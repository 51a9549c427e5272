"""Appointments (janji temu): slots on working days, booking with a capacity
that holds under a race, one a day, cancel, check-in into the queue."""

import datetime

import pytest
from django.utils import timezone

from balai.antrian import actions, selectors, slots
from balai.antrian.models import (
    Appointment,
    AppointmentSettings,
    AppointmentStatus,
    Ticket,
    TicketEvent,
)
from balai.antrian.tests.conftest import MONDAY_9, at
from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError, Conflict, NotFound, PermissionDenied

MPP = "MPP-64.02.06"


def book(actor, mpp, lane, start, **kwargs):
    return actions.book_appointment(
        actor=actor, office=mpp, lane=lane, starts_at=start, **kwargs
    )


def set_capacity(system_actor, office, capacity, *, slot_minutes=30, days_ahead=14):
    return actions.configure_appointments(
        actor=system_actor,
        office=office,
        is_enabled=True,
        slot_minutes=slot_minutes,
        capacity=capacity,
        days_ahead=days_ahead,
    )


# --- Slots ------------------------------------------------------------------------


def test_slots_follow_office_hours_and_the_defaults(clock, mpp, lane):
    # Tuesday 08:00–16:00, 30 minutes: 16 slots, 4 places each.
    result = selectors.free_slots(mpp, lane("A"), datetime.date(2026, 3, 3))
    assert result.working_day
    assert result.in_window
    assert len(result.slots) == 16
    assert result.slots[0].starts_at == at("2026-03-03", "08:00")
    assert result.slots[-1].ends_at == at("2026-03-03", "16:00")
    assert {s.left for s in result.slots} == {4}
    # Friday keeps the prayer break: 08:00–11:30 and 13:30–16:30.
    friday = selectors.free_slots(mpp, lane("A"), datetime.date(2026, 3, 6))
    starts = [timezone.localtime(s.starts_at).strftime("%H:%M") for s in friday.slots]
    assert "11:00" in starts
    assert "11:30" not in starts
    assert "13:00" not in starts
    assert starts[-1] == "16:00"
    assert len(starts) == 7 + 6


def test_today_shows_only_slots_still_to_come(clock, mpp, lane):
    result = selectors.free_slots(mpp, lane("A"), MONDAY_9.date())
    assert result.slots[0].starts_at == at("2026-03-02", "09:30")


def test_weekends_and_holidays_have_no_slots(clock, mpp, lane, system_actor):
    from balai.services.actions import add_local_holiday

    clock.now = at("2026-03-16", "09:00")  # a Monday
    add_local_holiday(
        actor=system_actor, date=datetime.date(2026, 3, 17), name="Hari jadi Kukar"
    )
    lane_a = lane("A")
    for day, why in (
        (datetime.date(2026, 3, 17), "local holiday"),
        (datetime.date(2026, 3, 18), "cuti bersama"),
        (datetime.date(2026, 3, 19), "Nyepi"),
        (datetime.date(2026, 3, 28), "Saturday"),
        (datetime.date(2026, 3, 29), "Sunday"),
    ):
        result = selectors.free_slots(mpp, lane_a, day)
        assert not result.working_day, why
        assert result.slots == [], why
    assert selectors.free_slots(mpp, lane_a, datetime.date(2026, 3, 25)).slots
    days = slots.bookable_days(mpp)
    assert datetime.date(2026, 3, 16) in days
    assert not {datetime.date(2026, 3, d) for d in (17, 18, 19, 20, 21, 22)} & set(days)


def test_a_weekend_or_holiday_cannot_be_booked(clock, mpp, lane, warga):
    with pytest.raises(BalaiError) as exc:
        book(warga, mpp, lane("A"), at("2026-03-07", "09:00"))  # Saturday
    assert exc.value.code == "not_working_day"
    assert "bukan hari kerja" in exc.value.message
    assert not Appointment.objects.exists()


def test_the_priority_lane_and_days_beyond_the_window_are_not_bookable(
    clock, mpp, lane, warga
):
    assert "P" not in {x.prefix for x in slots.bookable_lanes(mpp)}
    with pytest.raises(BalaiError) as exc:
        book(warga, mpp, lane("P"), at("2026-03-03", "09:00"))
    assert exc.value.code == "lane_not_bookable"
    with pytest.raises(BalaiError) as exc:
        book(warga, mpp, lane("A"), at("2026-03-30", "09:00"))
    assert exc.value.code == "day_out_of_window"
    assert not Appointment.objects.exists()


# --- Booking ----------------------------------------------------------------------


def test_a_verified_citizen_books_a_slot_and_gets_a_code_by_message(
    clock, mpp, lane, make_citizen, system_actor
):
    from balai.notify.actions import seed_templates
    from balai.notify.models import OutboxMessage

    seed_templates(actor=system_actor)
    user, actor = make_citizen(phone="081234567890", email="warga@contoh.id")
    appt = book(actor, mpp, lane("A"), at("2026-03-03", "10:00"))
    assert appt.status == AppointmentStatus.BOOKED
    assert appt.place == 1
    assert appt.day == datetime.date(2026, 3, 3)
    assert appt.ends_at == at("2026-03-03", "10:30")
    assert len(appt.code) == 6
    assert set(appt.code) <= set(actions.CODE_ALPHABET)
    assert appt.citizen_id == user.pk
    messages = OutboxMessage.objects.filter(template_code="janji_temu_dibuat")
    assert {m.channel for m in messages} == {"sms", "email"}
    for message in messages:
        assert appt.code in message.body
        assert "Selasa, 3 Maret 2026 pukul 10.00" in message.body
    assert AuditEntry.objects.filter(action="antrian.appointment.book").count() == 1
    left = selectors.free_slots(mpp, lane("A"), datetime.date(2026, 3, 3)).slots
    assert next(s for s in left if s.starts_at == appt.starts_at).left == 3


def test_an_unverified_citizen_or_staff_cannot_book(
    clock, mpp, lane, make_citizen, officer
):
    _user, unverified = make_citizen(verified=False)
    with pytest.raises(PermissionDenied) as exc:
        book(unverified, mpp, lane("A"), at("2026-03-03", "10:00"))
    assert exc.value.code == "citizen_unverified"
    assert "belum terverifikasi" in exc.value.message
    with pytest.raises(PermissionDenied):
        book(officer, mpp, lane("A"), at("2026-03-03", "10:00"))
    assert not Appointment.objects.exists()


def test_a_time_that_is_not_a_slot_or_has_passed_is_refused(clock, mpp, lane, warga):
    for start, code in (
        (at("2026-03-03", "10:10"), "slot_invalid"),
        (at("2026-03-03", "07:30"), "slot_invalid"),
        (at("2026-03-02", "08:30"), "slot_past"),
    ):
        with pytest.raises(BalaiError) as exc:
            book(warga, mpp, lane("A"), start)
        assert exc.value.code == code
    assert not Appointment.objects.exists()


def test_capacity_is_enforced(clock, mpp, lane, make_citizen, system_actor):
    set_capacity(system_actor, mpp, 2)
    start = at("2026-03-03", "10:00")
    first = book(make_citizen()[1], mpp, lane("A"), start)
    second = book(make_citizen()[1], mpp, lane("A"), start)
    assert {first.place, second.place} == {1, 2}
    with pytest.raises(Conflict) as exc:
        book(make_citizen()[1], mpp, lane("A"), start)
    assert exc.value.code == "slot_full"
    assert exc.value.message == "Slot pukul 10.00 sudah penuh. Pilih jam lain."
    # Another lane of the same slot has its own places.
    assert book(make_citizen()[1], mpp, lane("B"), start).place == 1
    assert Appointment.objects.filter(lane=lane("A")).count() == 2


def test_two_citizens_racing_for_the_last_place_one_is_refused(
    clock, mpp, lane, make_citizen, system_actor, monkeypatch
):
    """Both read the slot while it still had its last place (a stale read):
    the unique place per slot lets only the first write through."""
    set_capacity(system_actor, mpp, 1)
    start = at("2026-03-03", "10:00")
    winner = book(make_citizen()[1], mpp, lane("A"), start)
    monkeypatch.setattr(actions, "_taken_places", lambda lane, starts_at: set())
    _user, loser = make_citizen()
    with pytest.raises(Conflict) as exc:
        book(loser, mpp, lane("A"), start)
    assert exc.value.code == "slot_full"
    assert "sudah penuh" in exc.value.message
    assert list(Appointment.objects.values_list("pk", flat=True)) == [winner.pk]
    assert AuditEntry.objects.filter(action="antrian.appointment.book").count() == 1


def test_one_active_booking_per_citizen_per_day(clock, mpp, lane, warga):
    first = book(warga, mpp, lane("A"), at("2026-03-03", "10:00"))
    with pytest.raises(Conflict) as exc:
        book(warga, mpp, lane("B"), at("2026-03-03", "13:00"))
    assert exc.value.code == "appointment_one_per_day"
    assert first.code in exc.value.message
    # Another day is fine; after cancelling, the same day is free again.
    book(warga, mpp, lane("A"), at("2026-03-04", "10:00"))
    actions.cancel_appointment(actor=warga, appointment=first)
    again = book(warga, mpp, lane("B"), at("2026-03-03", "13:00"))
    assert again.status == AppointmentStatus.BOOKED


def test_the_database_keeps_one_booking_a_day_even_past_the_check(
    clock, mpp, lane, warga, monkeypatch
):
    book(warga, mpp, lane("A"), at("2026-03-03", "10:00"))
    monkeypatch.setattr(actions, "_active_of_day", lambda citizen_id, day: None)
    with pytest.raises(Conflict):  # the constraint itself refuses
        book(warga, mpp, lane("B"), at("2026-03-03", "13:00"))
    assert Appointment.objects.count() == 1


def test_a_replayed_booking_gives_the_same_appointment(clock, mpp, lane, warga):
    start = at("2026-03-03", "10:00")
    one = book(warga, mpp, lane("A"), start, idempotency_key="k-1")
    two = book(warga, mpp, lane("A"), start, idempotency_key="k-1")
    assert one.pk == two.pk
    assert Appointment.objects.count() == 1


def test_someone_elses_application_cannot_be_named(clock, mpp, lane, warga):
    import uuid

    with pytest.raises(BalaiError) as exc:
        book(
            warga,
            mpp,
            lane("A"),
            at("2026-03-03", "10:00"),
            application_id=uuid.uuid4(),
        )
    assert exc.value.code == "application_not_found"
    assert not Appointment.objects.exists()


# --- Cancel -----------------------------------------------------------------------


def test_the_citizen_cancels_before_the_slot_and_the_place_is_free(
    clock, mpp, lane, make_citizen, system_actor
):
    set_capacity(system_actor, mpp, 1)
    start = at("2026-03-03", "10:00")
    _u, first = make_citizen()
    appt = book(first, mpp, lane("A"), start)
    # Someone else may not cancel it.
    _u, other = make_citizen()
    with pytest.raises(NotFound):
        actions.cancel_appointment(actor=other, appointment=appt.pk)
    done = actions.cancel_appointment(actor=first, appointment=appt.pk)
    assert done.status == AppointmentStatus.CANCELLED
    assert done.cancelled_at
    # Twice: nothing more is written.
    entries = AuditEntry.objects.count()
    actions.cancel_appointment(actor=first, appointment=appt.pk)
    assert AuditEntry.objects.count() == entries
    assert book(other, mpp, lane("A"), start).place == 1


def test_a_booking_cannot_be_cancelled_once_its_time_has_come(clock, mpp, lane, warga):
    appt = book(warga, mpp, lane("A"), at("2026-03-02", "10:00"))
    clock.now = at("2026-03-02", "10:00")
    with pytest.raises(BalaiError) as exc:
        actions.cancel_appointment(actor=warga, appointment=appt)
    assert exc.value.code == "appointment_started"
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.BOOKED


# --- Check-in ---------------------------------------------------------------------


@pytest.fixture
def booked(clock, mpp, lane, warga):
    return book(warga, mpp, lane("B"), at("2026-03-02", "10:00"))


def test_check_in_at_the_kiosk_makes_a_ticket_in_the_lane(clock, booked, kiosk):
    clock.now = at("2026-03-02", "09:35")
    appt = actions.check_in_appointment(
        actor=kiosk, office=booked.office, code=booked.code.lower()
    )
    ticket = appt.ticket
    assert appt.status == AppointmentStatus.CHECKED_IN
    assert ticket.lane_id == booked.lane_id
    assert ticket.number == "B-001"
    assert ticket.source == "booking"
    event = TicketEvent.objects.get(ticket=ticket)
    assert event.note == f"janji temu {booked.code}"


def test_check_in_twice_gives_the_same_ticket(clock, booked, officer, kiosk):
    clock.now = at("2026-03-02", "09:50")
    one = actions.check_in_appointment(
        actor=officer, office=booked.office, code=booked.code
    )
    two = actions.check_in_appointment(
        actor=kiosk, office=booked.office, code=booked.code
    )
    assert one.ticket_id == two.ticket_id
    assert Ticket.objects.count() == 1


def test_check_in_window(clock, booked, officer):
    clock.now = at("2026-03-02", "09:29")
    with pytest.raises(BalaiError) as exc:
        actions.check_in_appointment(
            actor=officer, office=booked.office, code=booked.code
        )
    assert exc.value.code == "checkin_too_early"
    assert "mulai pukul 09.30" in exc.value.message
    clock.now = at("2026-03-02", "10:16")
    with pytest.raises(BalaiError) as exc:
        actions.check_in_appointment(
            actor=officer, office=booked.office, code=booked.code
        )
    assert exc.value.code == "checkin_too_late"
    assert "pukul 10.15" in exc.value.message
    assert not Ticket.objects.exists()
    clock.now = at("2026-03-02", "10:15")
    assert actions.check_in_appointment(
        actor=officer, office=booked.office, code=booked.code
    ).ticket


def test_check_in_links_the_application(clock, mpp, lane, warga, monkeypatch, kiosk):
    import uuid

    app_id = uuid.uuid4()
    monkeypatch.setattr(
        actions,
        "_citizen_application",
        lambda actor, application_id: (app_id, "Surat keterangan (S-1)"),
    )
    appt = book(warga, mpp, lane("A"), at("2026-03-02", "10:00"), application_id=app_id)
    assert appt.purpose == "Surat keterangan (S-1)"
    clock.now = at("2026-03-02", "10:00")
    ticket = actions.check_in_appointment(
        actor=kiosk, office=mpp, code=appt.code
    ).ticket
    assert ticket.application_id == app_id


def test_check_in_refusals_write_nothing(
    clock, booked, officer, other_mpp, make_staff, actor_of, warga
):
    clock.now = at("2026-03-02", "09:50")
    with pytest.raises(BalaiError) as exc:
        actions.check_in_appointment(actor=officer, office=booked.office, code="12")
    assert exc.value.code == "appointment_code_invalid"
    with pytest.raises(NotFound) as exc:
        actions.check_in_appointment(actor=officer, office=booked.office, code="AAAAAA")
    assert "tidak ditemukan" in exc.value.message
    # An officer of another MPP, or the other MPP's kiosk, does not find it.
    elsewhere = actor_of(make_staff(office="MPP-64.02.12", role="counter_officer"))
    with pytest.raises(NotFound):
        actions.check_in_appointment(
            actor=elsewhere, office=booked.office, code=booked.code
        )
    with pytest.raises(NotFound):
        actions.check_in_appointment(
            actor=actions.kiosk_actor(other_mpp), office=booked.office, code=booked.code
        )
    # A leader of the office is not a queue officer.
    leader = actor_of(make_staff(office=MPP, role="leader"))
    with pytest.raises(PermissionDenied):
        actions.check_in_appointment(
            actor=leader, office=booked.office, code=booked.code
        )
    actions.cancel_appointment(actor=warga, appointment=booked)
    with pytest.raises(Conflict) as exc:
        actions.check_in_appointment(
            actor=officer, office=booked.office, code=booked.code
        )
    assert exc.value.code == "appointment_cancelled"
    assert not Ticket.objects.exists()


# --- Settings ---------------------------------------------------------------------


def test_settings_are_set_by_a_service_admin_within_limits(
    clock, mpp, make_staff, actor_of, officer, lane
):
    admin = actor_of(make_staff(office="DISKOMINFO", role="service_admin"))
    with pytest.raises(PermissionDenied):
        actions.configure_appointments(
            actor=officer,
            office=mpp,
            is_enabled=True,
            slot_minutes=20,
            capacity=2,
            days_ahead=7,
        )
    with pytest.raises(BalaiError) as exc:
        actions.configure_appointments(
            actor=admin,
            office=mpp,
            is_enabled=True,
            slot_minutes=2,
            capacity=2,
            days_ahead=7,
        )
    assert exc.value.code == "settings_out_of_range"
    assert "antara 5 dan 240" in exc.value.message
    assert not AppointmentSettings.objects.exists()
    actions.configure_appointments(
        actor=admin,
        office=mpp,
        is_enabled=True,
        slot_minutes=20,
        capacity=2,
        days_ahead=7,
    )
    result = selectors.free_slots(mpp, lane("A"), datetime.date(2026, 3, 3))
    assert len(result.slots) == 24
    assert {s.capacity for s in result.slots} == {2}
    actions.configure_appointments(
        actor=admin,
        office=mpp,
        is_enabled=False,
        slot_minutes=20,
        capacity=2,
        days_ahead=7,
    )
    assert mpp not in selectors.appointment_offices()
    assert slots.bookable_days(mpp) == []


@pytest.mark.django_db(transaction=True)
def test_citizens_booking_the_last_place_at_once_only_one_gets_it(
    regions, system_actor, make_citizen, clock
):
    """For real, with threads on the test database (SQLite serialises the
    writers; PostgreSQL waits on the lane's row lock)."""
    import threading
    import time

    from django.db import OperationalError, close_old_connections, connection

    from balai.antrian.models import QueueLane
    from balai.regions.models import Office

    office = Office.objects.get(code=MPP)
    actions.ensure_queue_setup(actor=system_actor, offices=[office])
    set_capacity(system_actor, office, 1)
    lane_a = QueueLane.objects.get(office=office, prefix="A")
    start = at("2026-03-03", "10:00")
    citizens = [make_citizen()[1] for _ in range(4)]
    won: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(citizens))

    def work(actor) -> None:
        try:
            barrier.wait()
            for _retry in range(300):
                try:
                    won.append(book(actor, office, lane_a, start).code)
                    return
                except Conflict as exc:
                    refused.append(exc.code)
                    return
                except OperationalError:  # SQLite: "database is locked"
                    time.sleep(0.01)
            raise RuntimeError("never got the write lock")
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in citizens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(won) == 1
    assert refused == ["slot_full"] * 3
    assert Appointment.objects.count() == 1


def test_bookings_and_settings_are_logged_for_sync_as_the_mpps(
    clock, mpp, lane, warga, system_actor, kiosk
):
    from balai.core.models import ChangeRecord

    set_capacity(system_actor, mpp, 3)
    appt = book(warga, mpp, lane("A"), at("2026-03-02", "10:00"))
    clock.now = at("2026-03-02", "09:50")
    actions.check_in_appointment(actor=kiosk, office=mpp, code=appt.code)
    rows = ChangeRecord.objects.filter(
        model__in=["antrian.appointment", "antrian.appointmentsettings"]
    )
    assert {(r.model, r.office_code, r.region_code) for r in rows} == {
        ("antrian.appointmentsettings", MPP, "64.02.06"),
        ("antrian.appointment", MPP, "64.02.06"),
    }
    last = rows.filter(model="antrian.appointment").order_by("seq").last()
    assert last.payload["status"] == "checked_in"
    assert last.payload["ticket_id"] == str(Ticket.objects.get().pk)
