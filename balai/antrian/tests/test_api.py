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
