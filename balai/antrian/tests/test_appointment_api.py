"""Appointment API: free slots (public), book/list/cancel (citizen), check-in
(staff). Anonymous, wrong role, right role; refusals in Indonesian."""

import json

import pytest
from django.test import Client

from balai.antrian import actions
from balai.antrian.models import Appointment, Ticket
from balai.antrian.tests.conftest import at

pytestmark = pytest.mark.django_db

BASE = "/api/v1/antrian"
MPP = "MPP-64.02.06"


def post(client, url, body=None, **headers):
    return client.post(
        url, data=json.dumps(body or {}), content_type="application/json", **headers
    )


@pytest.fixture
def citizen_api(make_citizen):
    user, actor = make_citizen()
    client = Client()
    client.force_login(user)
    client.actor = actor
    return client


@pytest.fixture
def officer_api(make_staff, mpp):
    client = Client()
    client.force_login(make_staff(office=MPP, role="counter_officer"))
    return client


def test_free_slots_are_public(client, clock, mpp, make_citizen, lane):
    actions.book_appointment(
        actor=make_citizen()[1],
        office=mpp,
        lane=lane("A"),
        starts_at=at("2026-03-03", "08:00"),
    )
    response = client.get(
        f"{BASE}/offices/{MPP}/appointment-slots", {"lane": "a", "date": "2026-03-03"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["working_day"] is True
    assert body["bookable"] is True
    assert len(body["slots"]) == 16
    assert body["slots"][0]["left"] == 3
    assert body["slots"][1]["left"] == 4
    sunday = client.get(
        f"{BASE}/offices/{MPP}/appointment-slots", {"lane": "A", "date": "2026-03-08"}
    ).json()
    assert sunday["working_day"] is False
    assert sunday["slots"] == []


def test_free_slots_bad_input(client, clock, mpp):
    bad = client.get(
        f"{BASE}/offices/{MPP}/appointment-slots", {"lane": "A", "date": "3 Maret"}
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "date_invalid"
    assert "Tanggal tidak valid" in bad.json()["message"]
    priority = client.get(
        f"{BASE}/offices/{MPP}/appointment-slots", {"lane": "P", "date": "2026-03-03"}
    )
    assert priority.status_code == 404
    assert "tidak tersedia untuk janji temu" in priority.json()["message"]


def test_booking_needs_a_citizen(client, officer_api, clock, mpp):
    body = {"office": MPP, "lane": "A", "start": "2026-03-03T10:00+08:00"}
    assert post(client, f"{BASE}/appointments", body).status_code == 401
    assert post(officer_api, f"{BASE}/appointments", body).status_code == 401
    assert client.get(f"{BASE}/appointments").status_code == 401
    assert not Appointment.objects.exists()


def test_a_citizen_books_lists_and_cancels(citizen_api, clock, mpp):
    body = {"office": MPP, "lane": "A", "start": "2026-03-03T10:00"}
    response = post(
        citizen_api, f"{BASE}/appointments", body, HTTP_IDEMPOTENCY_KEY="b-1"
    )
    assert response.status_code == 201, response.content
    booked = response.json()
    assert booked["status"] == "booked"
    assert booked["lane"] == "A"
    assert len(booked["code"]) == 6
    replay = post(citizen_api, f"{BASE}/appointments", body, HTTP_IDEMPOTENCY_KEY="b-1")
    assert replay.json()["id"] == booked["id"]
    listed = citizen_api.get(f"{BASE}/appointments").json()
    assert [a["code"] for a in listed] == [booked["code"]]
    cancelled = post(citizen_api, f"{BASE}/appointments/{booked['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_booking_refusals_in_indonesian(citizen_api, clock, mpp):
    bad = post(
        citizen_api,
        f"{BASE}/appointments",
        {"office": MPP, "lane": "A", "start": "besok"},
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "slot_invalid"
    weekend = post(
        citizen_api,
        f"{BASE}/appointments",
        {"office": MPP, "lane": "A", "start": "2026-03-07T10:00"},
    )
    assert weekend.status_code == 400
    assert "bukan hari kerja" in weekend.json()["message"]
    post(
        citizen_api,
        f"{BASE}/appointments",
        {"office": MPP, "lane": "A", "start": "2026-03-03T10:00"},
    )
    second = post(
        citizen_api,
        f"{BASE}/appointments",
        {"office": MPP, "lane": "B", "start": "2026-03-03T11:00"},
    )
    assert second.status_code == 409
    assert second.json()["code"] == "appointment_one_per_day"
    assert Appointment.objects.count() == 1


def test_cancel_someone_elses_booking_is_not_found(
    citizen_api, clock, mpp, lane, warga, officer_api
):
    other = actions.book_appointment(
        actor=warga, office=mpp, lane=lane("A"), starts_at=at("2026-03-03", "10:00")
    )
    url = f"{BASE}/appointments/{other.pk}/cancel"
    assert post(Client(), url).status_code == 401
    assert post(officer_api, url).status_code == 401
    assert post(citizen_api, url).status_code == 404
    other.refresh_from_db()
    assert other.status == "booked"


def test_check_in_is_for_the_office_queue_officers(
    client, citizen_api, officer_api, clock, mpp, lane, warga, make_staff
):
    appt = actions.book_appointment(
        actor=warga, office=mpp, lane=lane("B"), starts_at=at("2026-03-02", "10:00")
    )
    clock.now = at("2026-03-02", "09:40")
    url = f"{BASE}/offices/{MPP}/appointment-check-in"
    body = {"code": appt.code}
    assert post(client, url, body).status_code == 401
    assert post(citizen_api, url, body).status_code == 403
    leader = Client()
    leader.force_login(make_staff(office=MPP, role="leader"))
    assert post(leader, url, body).status_code == 403
    elsewhere = Client()
    elsewhere.force_login(make_staff(office="MPP-64.02.12", role="counter_officer"))
    assert post(elsewhere, url, body).status_code == 404
    assert not Ticket.objects.exists()
    first = post(officer_api, url, body)
    assert first.status_code == 200, first.content
    checked = first.json()
    assert checked["status"] == "checked_in"
    assert checked["ticket"]["number"] == "B-001"
    again = post(officer_api, url, {"code": appt.code.lower()})
    assert again.json()["ticket"]["id"] == checked["ticket"]["id"]
    assert Ticket.objects.count() == 1


def test_check_in_refusals(officer_api, clock, mpp, lane, warga):
    appt = actions.book_appointment(
        actor=warga, office=mpp, lane=lane("B"), starts_at=at("2026-03-02", "10:00")
    )
    url = f"{BASE}/offices/{MPP}/appointment-check-in"
    invalid = post(officer_api, url, {"code": "0"})
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "appointment_code_invalid"
    early = post(officer_api, url, {"code": appt.code})
    assert early.status_code == 400
    assert early.json()["code"] == "checkin_too_early"
    assert "Terlalu awal" in early.json()["message"]
    assert not Ticket.objects.exists()
