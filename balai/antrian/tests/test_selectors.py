import datetime

import pytest

from balai.antrian import selectors
from balai.antrian.actions import (
    call_next,
    finish,
    skip,
    start_service,
    take_ticket,
    transfer,
)
from balai.antrian.selectors import (
    daily_stats,
    display,
    estimate_minutes,
    lane_loads,
    p90,
    stats_offices,
    ticket_place,
)
from balai.core.errors import BalaiError

pytestmark = pytest.mark.django_db


def serve(actor, counter, clock, *, wait=0, minutes):
    """After `wait` minutes call the next ticket; serve it for `minutes`."""
    clock.advance(minutes=wait)
    ticket = call_next(actor=actor, counter=counter)
    start_service(actor=actor, ticket=ticket)
    clock.advance(minutes=minutes)
    return finish(actor=actor, ticket=ticket)


def test_p90_nearest_rank():
    assert p90([]) is None
    assert p90([5]) == 5
    assert p90(list(range(1, 11))) == 9
    assert p90(list(range(1, 21))) == 18
    assert p90([1, 2, 100]) == 100


def test_estimate_formula():
    assert estimate_minutes(ahead=0, mean_service=8, counters=2) == 0
    assert estimate_minutes(ahead=3, mean_service=8, counters=2) == 12
    assert estimate_minutes(ahead=3, mean_service=8, counters=0) == 24
    assert estimate_minutes(ahead=1, mean_service=2.5, counters=2) == 2


def test_estimate_uses_the_lanes_usual_time_before_any_service(kiosk, lane, clock):
    for _ in range(3):
        take_ticket(actor=kiosk, lane=lane("A"))
    load = next(x for x in lane_loads(lane("A").office) if x.lane == lane("A"))
    # Lane A: usual 12 minutes, 3 waiting, Loket 1 and 2 call it.
    assert (load.waiting, load.counters, load.from_today) == (3, 2, False)
    assert load.mean_service_minutes == 12
    assert load.estimate_minutes == 18


def test_estimate_uses_todays_mean_service_time(kiosk, officer, lane, counter, clock):
    for _ in range(5):
        take_ticket(actor=kiosk, lane=lane("A"))
    serve(officer, counter(1), clock, minutes=6)
    serve(officer, counter(1), clock, minutes=10)
    load = next(x for x in lane_loads(lane("A").office) if x.lane == lane("A"))
    assert load.from_today
    assert load.mean_service_minutes == 8
    assert load.waiting == 3
    assert load.estimate_minutes == 12  # 8 × 3 ÷ 2 counters


def test_ticket_place_counts_people_ahead(kiosk, lane, clock):
    first = take_ticket(actor=kiosk, lane=lane("A"))
    clock.advance(minutes=1)
    mine = take_ticket(actor=kiosk, lane=lane("A"))
    place = ticket_place(mine.pk)
    assert place.ahead == 1
    assert place.estimate_minutes == 6  # 12 × 1 ÷ 2
    assert ticket_place(first.pk).ahead == 0
    with pytest.raises(BalaiError):
        ticket_place("bukan-uuid")


def test_display_shows_latest_calls_first(
    kiosk, make_staff, actor_of, lane, counter, clock
):
    one = actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))
    two = actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))
    take_ticket(actor=kiosk, lane=lane("A"))
    take_ticket(actor=kiosk, lane=lane("B"))
    clock.advance(minutes=1)
    call_next(actor=one, counter=counter(1))
    clock.advance(minutes=1)
    call_next(actor=two, counter=counter(3))
    screen = display(lane("A").office)
    assert [(t.number, t.counter.name) for t in screen.calls] == [
        ("B-001", "Loket 3"),
        ("A-001", "Loket 1"),
    ]
    assert [x.lane.prefix for x in screen.loads] == ["A", "B", "C", "P"]


def test_daily_stats(kiosk, make_staff, actor_of, lane, counter, clock):
    officer = actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))
    day = clock.now.date()
    a1 = take_ticket(actor=kiosk, lane=lane("A"))
    take_ticket(actor=kiosk, lane=lane("A"))
    take_ticket(actor=kiosk, lane=lane("A"))
    take_ticket(actor=kiosk, lane=lane("B"))
    # A-001 waits 4 min, served 10 at Loket 1; A-002 waits 14, served 6 at Loket 2
    # and so on; B-001 waits 20, then is transferred after 5 min of service.
    serve(officer, counter(1), clock, wait=4, minutes=10)
    serve(officer, counter(2), clock, minutes=6)
    clock.advance(minutes=0)
    a3 = call_next(actor=officer, counter=counter(1))
    skip(actor=officer, ticket=a3)
    b1 = call_next(actor=officer, counter=counter(3))
    start_service(actor=officer, ticket=b1)
    clock.advance(minutes=5)
    transfer(actor=officer, ticket=b1, to_counter=counter(4))

    camat = actor_of(make_staff(office="MPP-64.02.06", role="leader"))
    stats = daily_stats(actor=camat, office=a1.office, day=day)
    assert (stats.issued, stats.done, stats.skipped) == (4, 2, 1)
    # Waits (taken → first call): 4, 14, 20, 20 minutes.
    assert stats.wait.count == 4
    assert stats.wait.mean == 14.5
    assert stats.wait.p90 == 20
    # Service stretches: 10, 6, 5.
    assert stats.service.count == 3
    assert stats.service.mean == 7
    assert stats.service.p90 == 10
    lanes = {row.lane.prefix: row for row in stats.lanes}
    assert (lanes["A"].issued, lanes["A"].done, lanes["A"].skipped) == (3, 2, 1)
    assert (lanes["B"].issued, lanes["B"].waiting_now) == (1, 1)
    assert lanes["P"].issued == 0
    desks = {row.counter.number: row for row in stats.counters}
    assert (desks[1].served, desks[1].service.mean) == (1, 10)
    assert (desks[2].served, desks[2].service.mean) == (1, 6)
    assert desks[3].served == 1
    assert desks[4].served == 0
    assert desks[1].wait.count == 2  # were first called there


def test_stats_are_scoped(make_staff, actor_of, mpp, other_mpp, clock):
    kec = actor_of(make_staff(office="MPP-64.02.12", role="leader"))
    assert list(stats_offices(kec)) == [other_mpp]
    with pytest.raises(BalaiError) as exc:
        daily_stats(actor=kec, office=mpp, day=clock.now.date())
    assert exc.value.status_code == 404
    regency = actor_of(make_staff(office="DPMPTSP", role="leader"))
    assert stats_offices(regency).count() == 20
    helpdesk = actor_of(make_staff(office="MPP-64.02.12", role="helpdesk_officer"))
    with pytest.raises(BalaiError) as exc:
        stats_offices(helpdesk)
    assert exc.value.code == "forbidden"


def test_public_office_must_be_an_active_mpp(db):
    assert selectors.public_office("MPP-64.02.12").code == "MPP-64.02.12"
    for code in ("DISDUKCAPIL", "MPP-99", ""):
        with pytest.raises(BalaiError):
            selectors.public_office(code)


def test_yesterday_is_not_today(kiosk, lane, clock):
    take_ticket(actor=kiosk, lane=lane("A"))
    clock.advance(days=1)
    assert all(x.waiting == 0 for x in lane_loads(lane("A").office))
    assert display(lane("A").office).calls == []
    assert clock.now.date() == datetime.date(2026, 3, 3)


# --- Appointments in the daily figures ------------------------------------------------


def test_daily_stats_count_the_days_bookings_by_where_they_ended(
    clock, mpp, other_mpp, lane, make_citizen, kiosk, officer, make_staff, actor_of
):
    from balai.antrian.actions import (
        book_appointment,
        cancel_appointment,
        cancel_appointment_for_office,
        check_in_appointment,
        mark_missed_appointments,
    )
    from balai.core.actors import Actor

    from .conftest import at

    def book(citizen, hm, prefix="A", office=mpp, day="2026-03-02"):
        return book_appointment(
            actor=citizen,
            office=office,
            lane=lane(prefix, office=office.code),
            starts_at=at(day, hm),
        )

    came = book(make_citizen()[1], "10:00")
    book(make_citizen()[1], "10:00", "B")  # stays away: missed
    _u, changed_mind = make_citizen()
    cancel_appointment(actor=changed_mind, appointment=book(changed_mind, "11:00"))
    cancel_appointment_for_office(
        actor=officer, appointment=book(make_citizen()[1], "13:00"), reason="banjir"
    )
    book(make_citizen()[1], "14:00")  # still to come
    # Not counted: another day, another office.
    book(make_citizen()[1], "10:00", day="2026-03-03")
    book(make_citizen()[1], "10:00", office=other_mpp)
    clock.now = at("2026-03-02", "09:50")
    check_in_appointment(actor=kiosk, office=mpp, code=came.code)
    clock.now = at("2026-03-02", "10:40")
    mark_missed_appointments(actor=Actor.system())
    leader = actor_of(make_staff(office="MPP-64.02.06", role="leader"))
    stats = daily_stats(actor=leader, office=mpp, day=clock.now.date())
    figures = stats.appointments
    assert (
        figures.total,
        figures.booked,
        figures.checked_in,
        figures.missed,
        figures.cancelled,
        figures.cancelled_by_office,
    ) == (5, 1, 1, 1, 2, 1)
    # The check-in's ticket counts among the queue's numbers as well.
    assert stats.issued == 1
    empty = daily_stats(actor=leader, office=mpp, day=clock.now.date().replace(day=4))
    assert empty.appointments.total == 0


def test_office_appointments_of_a_day_are_the_officers_own_office(
    clock, mpp, other_mpp, lane, make_citizen, officer, make_staff, actor_of
):
    import datetime

    from balai.antrian.actions import book_appointment
    from balai.antrian.selectors import office_appointments

    from .conftest import at

    today = book_appointment(
        actor=make_citizen()[1],
        office=mpp,
        lane=lane("A"),
        starts_at=at("2026-03-02", "10:00"),
    )
    tomorrow = book_appointment(
        actor=make_citizen()[1],
        office=mpp,
        lane=lane("A"),
        starts_at=at("2026-03-03", "10:00"),
    )
    assert list(office_appointments(actor=officer, office=mpp)) == [today]
    assert list(
        office_appointments(actor=officer, office=mpp, day=datetime.date(2026, 3, 3))
    ) == [tomorrow]
    elsewhere = actor_of(make_staff(office="MPP-64.02.12", role="counter_officer"))
    with pytest.raises(BalaiError) as exc:
        office_appointments(actor=elsewhere, office=mpp)
    assert exc.value.status_code == 404
