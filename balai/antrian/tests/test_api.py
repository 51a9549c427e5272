import json

import pytest
from django.test import Client

from balai.antrian.actions import call_next, take_ticket
from balai.antrian.models import Ticket
from balai.antrian.workflow import TicketStatus as S

pytestmark = pytest.mark.django_db

BASE = "/api/v1/antrian"


def post(client, url, body=None, **headers):
    return client.post(
        url, data=json.dumps(body or {}), content_type="application/json", **headers
    )


@pytest.fixture
def staff(client_as, make_staff, mpp):
    """An API client logged in as a counter officer of MPP Tenggarong."""
    return client_as(make_staff(office="MPP-64.02.06", role="counter_officer"))


# --- Public -----------------------------------------------------------------------


def test_anonymous_takes_a_number_as_the_kiosk(client, mpp, clock):
    response = post(client, f"{BASE}/offices/MPP-64.02.06/tickets", {"lane": "p"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == "P-001"
    assert body["is_priority"] is True
    assert body["status"] == "waiting"
    assert body["office"] == "MPP-64.02.06"
    assert Ticket.objects.get().source == "kiosk"


def test_anonymous_kiosk_client_needs_no_csrf_token(mpp, clock):
    """A kiosk client has no session: the staff session's CSRF check must not
    refuse it (the test client skips CSRF unless told)."""
    strict = Client(enforce_csrf_checks=True)
    response = post(strict, f"{BASE}/offices/MPP-64.02.06/tickets", {"lane": "A"})
    assert response.status_code == 201, response.content


def test_a_staff_session_still_needs_csrf(make_staff, mpp, clock):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_staff(office="MPP-64.02.06", role="counter_officer"))
    response = post(strict, f"{BASE}/offices/MPP-64.02.06/tickets", {"lane": "A"})
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_take_with_idempotency_key_replays(client, mpp, clock):
    url = f"{BASE}/offices/MPP-64.02.06/tickets"
    first = post(client, url, {"lane": "A"}, HTTP_IDEMPOTENCY_KEY="abc")
    again = post(client, url, {"lane": "A"}, HTTP_IDEMPOTENCY_KEY="abc")
    assert first.json()["id"] == again.json()["id"]
    other = post(client, url, {"lane": "B"}, HTTP_IDEMPOTENCY_KEY="abc")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_mismatch"


def test_take_errors(client, mpp, settings, clock):
    assert (
        post(client, f"{BASE}/offices/NOPE/tickets", {"lane": "A"}).status_code == 404
    )
    unknown = post(client, f"{BASE}/offices/MPP-64.02.06/tickets", {"lane": "Z"})
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Jalur antrean tidak ditemukan."
    settings.BALAI_KIOSK_RATE_PER_MINUTE = 1
    post(client, f"{BASE}/offices/MPP-64.02.06/tickets", {"lane": "A"})
    limited = post(client, f"{BASE}/offices/MPP-64.02.06/tickets", {"lane": "A"})
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"


def test_staff_takes_a_number_as_officer(staff, clock):
    response = post(staff, f"{BASE}/offices/MPP-64.02.06/tickets", {"lane": "A"})
    assert response.status_code == 201
    assert Ticket.objects.get().source == "officer"


def test_staff_of_another_office_cannot_take_here(client_as, make_staff, mpp, clock):
    stranger = client_as(make_staff(office="MPP-64.02.12", role="counter_officer"))
    response = post(stranger, f"{BASE}/offices/MPP-64.02.06/tickets", {"lane": "A"})
    assert response.status_code == 404


def test_ticket_status_is_public(client, kiosk, lane, clock):
    take_ticket(actor=kiosk, lane=lane("A"))
    mine = take_ticket(actor=kiosk, lane=lane("A"))
    response = client.get(f"{BASE}/tickets/{mine.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["ahead"], body["estimate_minutes"]) == ("A-002", 1, 6)
    assert client.get(f"{BASE}/tickets/bukan-uuid").status_code == 404


def test_display_data_is_public(client, kiosk, officer, lane, counter, clock):
    take_ticket(actor=kiosk, lane=lane("A"))
    take_ticket(actor=kiosk, lane=lane("A"))
    call_next(actor=officer, counter=counter(2))
    response = client.get(f"{BASE}/offices/MPP-64.02.06/display")
    assert response.status_code == 200
    body = response.json()
    assert body["calls"][0]["number"] == "A-001"
    assert body["calls"][0]["counter"] == "Loket 2"
    lanes = {x["lane"]: x for x in body["lanes"]}
    assert lanes["A"]["waiting"] == 1
    assert lanes["A"]["estimate_minutes"] == 6
    assert lanes["P"]["is_priority"] is True


# --- Staff --------------------------------------------------------------------------


def test_call_next_access(
    client, client_as, make_staff, kiosk, lane, counter, other_mpp, clock
):
    take_ticket(actor=kiosk, lane=lane("A"))
    url = f"{BASE}/counters/{counter(1).pk}/call-next"
    assert post(client, url).status_code == 401
    camat = client_as(make_staff(office="MPP-64.02.06", role="leader"))
    assert post(camat, url).status_code == 403
    stranger = client_as(make_staff(office="MPP-64.02.12", role="counter_officer"))
    assert post(stranger, url).status_code == 404
    assert Ticket.objects.get().status == S.WAITING
    officer = client_as(make_staff(office="MPP-64.02.06", role="counter_officer"))
    called = post(officer, url)
    assert called.status_code == 200
    assert called.json()["ticket"]["number"] == "A-001"
    assert called.json()["ticket"]["counter"] == "Loket 1"
    busy = post(officer, url)
    assert busy.status_code == 409
    assert busy.json()["code"] == "counter_busy"


def test_call_next_with_nobody_waiting(staff, counter, clock):
    response = post(staff, f"{BASE}/counters/{counter(1).pk}/call-next")
    assert response.status_code == 200
    assert response.json() == {"ticket": None}


def test_ticket_verbs(
    client, client_as, make_staff, staff, kiosk, lane, counter, clock
):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    post(staff, f"{BASE}/counters/{counter(1).pk}/call-next")
    url = f"{BASE}/tickets/{ticket.pk}"
    refused = post(staff, f"{url}/finish")
    assert refused.status_code == 409
    assert refused.json()["code"] == "ticket_transition_refused"
    assert "berstatus «dipanggil»" in refused.json()["message"]
    assert post(staff, f"{url}/recall").json()["status"] == "called"
    assert post(staff, f"{url}/start").json()["status"] == "serving"
    assert post(staff, f"{url}/unknown").status_code == 404
    linked = post(
        staff, f"{url}/link", {"application_id": "0190f5a3-1c2b-7def-8abc-123456789abc"}
    )
    assert linked.json()["application_id"] == "0190f5a3-1c2b-7def-8abc-123456789abc"
    moved = post(staff, f"{url}/transfer", {"to_lane": "C"})
    assert moved.status_code == 200
    assert (moved.json()["status"], moved.json()["lane"]) == ("transferred", "C")
    # Anonymous and wrong role.
    staff.logout()
    assert post(client, f"{url}/skip").status_code == 401
    helpdesk = client_as(make_staff(office="MPP-64.02.06", role="helpdesk_officer"))
    assert post(helpdesk, f"{url}/skip").status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == S.TRANSFERRED


def test_transfer_to_a_counter_and_finish(staff, kiosk, lane, counter, clock):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    post(staff, f"{BASE}/counters/{counter(1).pk}/call-next")
    url = f"{BASE}/tickets/{ticket.pk}"
    moved = post(staff, f"{url}/transfer", {"to_counter": str(counter(3).pk)})
    assert moved.json()["counter"] == "Loket 3"
    again = post(staff, f"{BASE}/counters/{counter(3).pk}/call-next")
    assert again.json()["ticket"]["id"] == str(ticket.pk)
    post(staff, f"{url}/start")
    assert post(staff, f"{url}/finish").json()["status"] == "done"


def test_stats_access(client, client_as, make_staff, kiosk, lane, clock):
    take_ticket(actor=kiosk, lane=lane("A"))
    url = f"{BASE}/offices/MPP-64.02.06/stats?date=2026-03-02"
    assert client.get(url).status_code == 401
    helpdesk = client_as(make_staff(office="MPP-64.02.06", role="helpdesk_officer"))
    assert helpdesk.get(url).status_code == 403
    kec = client_as(make_staff(office="MPP-64.02.12", role="leader"))
    assert kec.get(url).status_code == 404
    camat = client_as(make_staff(office="MPP-64.02.06", role="leader"))
    response = camat.get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["issued"] == 1
    assert body["lanes"][0] == {
        "lane": "A",
        "issued": 1,
        "done": 0,
        "skipped": 0,
        "waiting_now": 1,
        "wait": {"count": 0, "mean": None, "p90": None},
    }


# --- Appointments: the office's list, cancelled by the office ---------------------


def _book(citizen, mpp, lane, day, hm):
    from balai.antrian.actions import book_appointment

    from .conftest import at

    return book_appointment(actor=citizen, office=mpp, lane=lane, starts_at=at(day, hm))


def _client(make_staff, office, role):
    client = Client()
    client.force_login(make_staff(office=office, role=role))
    return client


def test_the_office_lists_its_bookings_of_a_day(
    staff, make_staff, make_citizen, mpp, other_mpp, lane, clock
):
    client = Client()  # `staff` is the logged-in `client` fixture
    appt = _book(make_citizen()[1], mpp, lane("B"), "2026-03-03", "10:00")
    _book(make_citizen()[1], mpp, lane("A"), "2026-03-02", "10:00")
    url = f"{BASE}/offices/MPP-64.02.06/appointments"
    assert client.get(url).status_code == 401
    assert _client(make_staff, "MPP-64.02.06", "leader").get(url).status_code == 403
    elsewhere = _client(make_staff, "MPP-64.02.12", "counter_officer")
    assert elsewhere.get(url).status_code == 404
    response = staff.get(url, {"date": "2026-03-03"})
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [r["code"] for r in rows] == [appt.code]
    assert rows[0]["citizen_name"] == appt.citizen_name
    assert rows[0]["lane"] == "B"
    assert rows[0]["status"] == "booked"
    assert rows[0]["ticket_number"] is None
    assert len(staff.get(url).json()) == 1  # today (2 March) by default
    bad = staff.get(url, {"date": "besok"})
    assert bad.status_code == 422
    assert bad.json()["message"].startswith("Data yang dikirim tidak valid.")


def test_office_cancel_anonymous_wrong_role_wrong_office_right_role(
    staff, make_staff, make_citizen, mpp, other_mpp, lane, clock
):
    client = Client()  # `staff` is the logged-in `client` fixture
    from balai.antrian.models import Appointment

    _user, citizen = make_citizen()
    appt = _book(citizen, mpp, lane("A"), "2026-03-03", "10:00")
    url = f"{BASE}/appointments/{appt.pk}/office-cancel"
    body = {"reason": "Kantor tutup karena banjir"}
    assert post(client, url, body).status_code == 401
    leader = _client(make_staff, "MPP-64.02.06", "leader")
    assert post(leader, url, body).status_code == 403
    elsewhere = _client(make_staff, "MPP-64.02.12", "counter_officer")
    missing = post(elsewhere, url, body)
    assert missing.status_code == 404
    assert missing.json()["message"] == "Janji temu tidak ditemukan."
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    done = post(staff, url, body, HTTP_IDEMPOTENCY_KEY="oc-1")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "cancelled"
    assert done.json()["cancel_reason"] == "Kantor tutup karena banjir"
    assert done.json()["cancelled_at"]
    # The citizen sees the reason in his own list.
    citizen_client = Client()
    from balai.accounts.models import User

    citizen_client.force_login(User.objects.get(pk=citizen.user_id))
    mine = citizen_client.get(f"{BASE}/appointments").json()
    assert mine[0]["cancel_reason"] == "Kantor tutup karena banjir"


def test_office_cancel_bad_input_and_refused_steps_change_nothing(
    staff, make_citizen, mpp, lane, clock, kiosk
):
    from balai.antrian.actions import check_in_appointment
    from balai.antrian.models import Appointment

    appt = _book(make_citizen()[1], mpp, lane("A"), "2026-03-02", "10:00")
    url = f"{BASE}/appointments/{appt.pk}/office-cancel"
    for body in ({}, {"reason": "   "}):
        empty = post(staff, url, body)
        assert empty.status_code == 400
        assert empty.json()["code"] == "cancel_reason_required"
        assert "Tulis alasan pembatalan" in empty.json()["message"]
    too_long = post(staff, url, {"reason": "x" * 300})
    assert too_long.status_code == 400
    assert "paling panjang 255 karakter" in too_long.json()["message"]
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    clock.now = clock.now.replace(hour=9, minute=45)
    check_in_appointment(actor=kiosk, office=mpp, code=appt.code)
    refused = post(staff, url, {"reason": "kantor tutup"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "appointment_checked_in"
    assert "tidak dapat dibatalkan oleh kantor" in refused.json()["message"]
    current = Appointment.objects.get(pk=appt.pk)
    assert (current.status, current.cancel_reason) == ("checked_in", "")


def test_stats_carry_the_days_appointment_figures(
    staff, make_citizen, mpp, lane, clock
):
    from balai.antrian.actions import mark_missed_appointments
    from balai.core.actors import Actor

    _book(make_citizen()[1], mpp, lane("A"), "2026-03-02", "10:00")
    _book(make_citizen()[1], mpp, lane("A"), "2026-03-02", "13:00")
    clock.now = clock.now.replace(hour=11)
    mark_missed_appointments(actor=Actor.system())
    body = staff.get(f"{BASE}/offices/MPP-64.02.06/stats").json()
    assert body["appointments"] == {
        "total": 2,
        "booked": 1,
        "checked_in": 0,
        "missed": 1,
        "cancelled": 0,
        "cancelled_by_office": 0,
    }


def test_office_cancel_day_anonymous_wrong_role_wrong_office_right_role(
    staff, make_staff, make_citizen, mpp, other_mpp, lane, clock
):
    from balai.antrian.models import Appointment

    appt = _book(make_citizen()[1], mpp, lane("A"), "2026-03-03", "10:00")
    url = f"{BASE}/offices/MPP-64.02.06/appointments/cancel-day"
    body = {"date": "2026-03-03", "reason": "Kantor tutup karena banjir"}
    assert post(Client(), url, body).status_code == 401
    assert (
        post(_client(make_staff, "MPP-64.02.06", "leader"), url, body).status_code
        == 403
    )
    elsewhere = post(_client(make_staff, "MPP-64.02.12", "counter_officer"), url, body)
    assert elsewhere.status_code == 404
    for bad, code in (
        ({"date": "2026-03-03"}, "cancel_reason_required"),
        ({**body, "date": "2026-03-01"}, "cancel_day_past"),
    ):
        refused = post(staff, url, bad)
        assert refused.status_code == 400
        assert refused.json()["code"] == code
    assert post(staff, url, {"reason": "x"}).status_code == 422
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    done = post(staff, url, body)
    assert done.status_code == 200, done.content
    assert done.json() == {
        "date": "2026-03-03",
        "cancelled": [appt.code],
        "messages": 0,
    }
    assert Appointment.objects.get(pk=appt.pk).status == "cancelled"
    assert post(staff, url, body).json()["cancelled"] == []


def test_office_mark_missed_anonymous_wrong_role_wrong_office_right_role(
    staff, make_staff, make_citizen, mpp, other_mpp, lane, clock
):
    from balai.antrian.models import Appointment

    appt = _book(make_citizen()[1], mpp, lane("A"), "2026-03-02", "10:00")
    url = f"{BASE}/appointments/{appt.pk}/missed"
    assert post(Client(), url).status_code == 401
    assert post(_client(make_staff, "MPP-64.02.06", "leader"), url).status_code == 403
    elsewhere = post(_client(make_staff, "MPP-64.02.12", "counter_officer"), url)
    assert elsewhere.status_code == 404
    early = post(staff, url)
    assert early.status_code == 400
    assert early.json()["code"] == "appointment_not_over"
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    clock.now = clock.now.replace(hour=11)
    done = post(staff, url, HTTP_IDEMPOTENCY_KEY="om-1")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "missed"
    assert Appointment.objects.get(pk=appt.pk).status == "missed"
