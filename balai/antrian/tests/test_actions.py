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
