"""Two officers calling at once never get the same ticket.

First the locking logic, deterministically: officer B reads the same candidate
as officer A (as he would without row locks), A claims it, and B's
compare-and-set claim fails, so B takes the next ticket. Then for real, with
threads on the test database (SQLite serialises them with IMMEDIATE
transactions; PostgreSQL with FOR UPDATE SKIP LOCKED).
"""

import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection

from balai.antrian import actions
from balai.antrian.actions import call_next, finish, start_service, take_ticket
from balai.antrian.models import Ticket


@pytest.mark.django_db
def test_a_stale_candidate_is_not_claimed_twice(
    kiosk, make_staff, actor_of, lane, counter, clock, monkeypatch
):
    a = actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))
    b = actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))
    first = take_ticket(actor=kiosk, lane=lane("A"))
    second = take_ticket(actor=kiosk, lane=lane("A"))

    # B read the candidate before A's claim committed: a stale copy of A-001.
    stale = Ticket.objects.get(pk=first.pk)
    got_a = call_next(actor=a, counter=counter(1))
    assert got_a.pk == first.pk

    real = actions.next_candidate
    handed = []

    def racing(counter_, day):
        if not handed:
            handed.append(stale)
            return stale
        return real(counter_, day)

    monkeypatch.setattr(actions, "next_candidate", racing)
    got_b = call_next(actor=b, counter=counter(2))
    assert handed == [stale], "B was handed the ticket A had just taken"
    assert got_b.pk == second.pk
    first.refresh_from_db()
    assert first.counter == counter(1), "A keeps his ticket"
    assert [e.kind for e in first.events.all()] == ["issued", "called"]


@pytest.mark.django_db
def test_candidate_query_locks_rows_where_the_database_can(lane, counter, kiosk, clock):
    take_ticket(actor=kiosk, lane=lane("A"))
    qs = actions._candidates(counter(1), actions.today()).select_for_update(
        skip_locked=True, of=("self",)
    )
    compiled = qs.query.get_compiler(using="default").as_sql()[0]
    if connection.features.has_select_for_update_skip_locked:
        assert "SKIP LOCKED" in compiled
    else:
        # SQLite has no row locks: its IMMEDIATE transactions serialise writers.
        assert connection.vendor == "sqlite"
        assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_never_share_a_ticket(
    regions, system_actor, make_staff, actor_of, clock
):
    from balai.antrian.actions import ensure_queue_setup, kiosk_actor
    from balai.antrian.models import Counter, QueueLane
    from balai.regions.models import Office

    office = Office.objects.get(code="MPP-64.02.06")
    ensure_queue_setup(actor=system_actor, offices=[office])
    kiosk = kiosk_actor(office)
    lane_a = QueueLane.objects.get(office=office, prefix="A")
    for _ in range(12):
        take_ticket(actor=kiosk, lane=lane_a)
    officers = [
        actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))
        for _ in range(2)
    ]
    desks = [Counter.objects.get(office=office, number=n) for n in (1, 2)]
    got: dict[int, list[str]] = {0: [], 1: []}
    errors: list[BaseException] = []
    seen_errors: list[str] = []
    start = threading.Barrier(2)

    def work(i: int) -> None:
        try:
            start.wait()
            while True:
                for _retry in range(200):
                    try:
                        ticket = call_next(actor=officers[i], counter=desks[i])
                        break
                    except OperationalError as exc:  # SQLite: "database is locked"
                        seen_errors.append(str(exc))
                        time.sleep(0.01)
                        continue
                else:
                    raise RuntimeError("never got the write lock")
                if ticket is None:
                    return
                got[i].append(ticket.number)
                for step in (start_service, finish):
                    for _retry in range(200):
                        try:
                            step(actor=officers[i], ticket=ticket)
                            break
                        except OperationalError as exc:
                            seen_errors.append(str(exc))
                            time.sleep(0.01)
                            continue
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, (errors, set(seen_errors))
    numbers = got[0] + got[1]
    assert len(numbers) == 12
    assert len(set(numbers)) == 12, f"a ticket was called twice: {got}"
    assert Ticket.objects.filter(status="done").count() == 12
