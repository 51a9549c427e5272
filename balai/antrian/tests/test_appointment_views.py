"""Appointment pages: the citizen books and cancels, the kiosk and the officer
check a code in, the service admin sets the slots. Each page: anonymous, wrong
role, right role; bad input answered in Indonesian with nothing written."""

import re

import pytest

from balai.antrian import actions
from balai.antrian.models import Appointment, AppointmentSettings, Ticket
from balai.antrian.tests.conftest import at

pytestmark = pytest.mark.django_db

MPP = "MPP-64.02.06"
LOGIN = "/akun/masuk/"


def key_of(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


@pytest.fixture
def citizen_client(client, make_citizen):
    user, actor = make_citizen()
    client.force_login(user)
    client.actor = actor
    return client


@pytest.fixture
def booked(clock, mpp, lane, warga):
    return actions.book_appointment(
        actor=warga, office=mpp, lane=lane("B"), starts_at=at("2026-03-02", "10:00")
    )


def _anonymous_and_staff_are_refused(client, make_staff, method, path, data=None):
    call = client.post if method == "post" else client.get
    response = call(path, data or {})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    client.force_login(make_staff(office=MPP, role="counter_officer"))
    assert call(path, data or {}).status_code == 403
    client.logout()


# --- Citizen pages ------------------------------------------------------------------


def test_my_appointments_page(client, make_staff, citizen_client, booked, clock):
    _anonymous_and_staff_are_refused(
        client.__class__(), make_staff, "get", "/antrian/janji-temu/"
    )
    page = citizen_client.get("/antrian/janji-temu/")
    assert page.status_code == 200
    assert "Belum ada janji temu" in page.content.decode()
    # The owner sees his booking, its code and a cancel button.
    from django.test import Client

    owner = Client()
    from balai.accounts.models import User

    owner.force_login(User.objects.get(pk=booked.citizen_id))
    html = owner.get("/antrian/janji-temu/").content.decode()
    assert booked.code in html
    assert f"/antrian/janji-temu/{booked.pk}/batal/" in html


def test_the_services_side_links_to_appointments(citizen_client):
    html = citizen_client.get("/layanan/saya/").content.decode()
    assert 'href="/antrian/janji-temu/baru/"' in html


def test_new_appointment_shows_free_slots_with_places_left(
    client, make_staff, citizen_client, clock, mpp, lane, make_citizen
):
    _anonymous_and_staff_are_refused(
        client.__class__(), make_staff, "get", "/antrian/janji-temu/baru/"
    )
    first = citizen_client.get("/antrian/janji-temu/baru/")
    assert first.status_code == 200
    assert MPP in first.content.decode()
    # One place of 10:00 taken by someone else.
    actions.book_appointment(
        actor=make_citizen()[1],
        office=mpp,
        lane=lane("A"),
        starts_at=at("2026-03-03", "10:00"),
    )
    page = citizen_client.get(
        "/antrian/janji-temu/baru/",
        {"kantor": MPP, "jalur": str(lane("A").pk), "tanggal": "2026-03-03"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "10.00–10.30 · 3 tempat tersisa" in html
    assert "10.30–11.00 · 4 tempat tersisa" in html
    # Weekends are not offered as days; asked for anyway, no slots.
    assert 'value="2026-03-07"' not in html
    saturday = citizen_client.get(
        "/antrian/janji-temu/baru/",
        {"kantor": MPP, "jalur": str(lane("A").pk), "tanggal": "2026-03-07"},
    ).content.decode()
    assert "bukan hari kerja" in saturday
    assert "tempat tersisa" not in saturday


def test_new_appointment_bad_input_is_told_in_indonesian(citizen_client, clock, mpp):
    page = citizen_client.get(
        "/antrian/janji-temu/baru/", {"kantor": MPP, "tanggal": "03/03/2026"}
    )
    assert page.status_code == 400
    assert "Tanggal tidak valid" in page.content.decode()
    page = citizen_client.get("/antrian/janji-temu/baru/", {"kantor": "MPP-99"})
    assert page.status_code == 400
    assert "tidak menerima janji temu" in page.content.decode()


def _confirm_data(client, mpp, lane, start: str) -> dict:
    query = {"kantor": MPP, "jalur": str(lane.pk), "mulai": start}
    page = client.get("/antrian/janji-temu/konfirmasi/", query)
    assert page.status_code == 200
    return {**query, "idempotency_key": key_of(page.content.decode())}


def test_confirm_books_the_slot_once_and_shows_the_code(
    client, make_staff, citizen_client, clock, mpp, lane
):
    _anonymous_and_staff_are_refused(
        client.__class__(), make_staff, "post", "/antrian/janji-temu/konfirmasi/"
    )
    data = _confirm_data(citizen_client, mpp, lane("A"), "2026-03-03T10:00+08:00")
    response = citizen_client.post("/antrian/janji-temu/konfirmasi/", data)
    assert response.status_code == 302
    assert response["Location"] == "/antrian/janji-temu/"
    appointment = Appointment.objects.get()
    assert appointment.starts_at == at("2026-03-03", "10:00")
    assert appointment.citizen_id == citizen_client.actor.user_id
    html = citizen_client.get(response["Location"]).content.decode()
    assert f"Kode janji temu Anda: {appointment.code}" in html
    # A double click books nothing more.
    again = citizen_client.post("/antrian/janji-temu/konfirmasi/", data)
    assert again.status_code == 302
    assert Appointment.objects.count() == 1


def test_confirm_bad_input_and_refusals_write_nothing(
    citizen_client, clock, mpp, lane, make_citizen, system_actor
):
    page = citizen_client.get(
        "/antrian/janji-temu/konfirmasi/",
        {"kantor": MPP, "jalur": str(lane("A").pk), "mulai": "besok pagi"},
    )
    assert page.status_code == 400
    assert "Waktu janji temu tidak valid." in page.content.decode()
    data = _confirm_data(citizen_client, mpp, lane("A"), "2026-03-07T10:00")
    refused = citizen_client.post("/antrian/janji-temu/konfirmasi/", data)
    assert refused.status_code == 400
    assert "bukan hari kerja" in refused.content.decode()
    # The last place goes to someone else first.
    actions.configure_appointments(
        actor=system_actor,
        office=mpp,
        is_enabled=True,
        slot_minutes=30,
        capacity=1,
        days_ahead=14,
    )
    data = _confirm_data(citizen_client, mpp, lane("A"), "2026-03-03T10:00")
    actions.book_appointment(
        actor=make_citizen()[1],
        office=mpp,
        lane=lane("A"),
        starts_at=at("2026-03-03", "10:00"),
    )
    full = citizen_client.post("/antrian/janji-temu/konfirmasi/", data)
    assert full.status_code == 409
    assert "Slot pukul 10.00 sudah penuh. Pilih jam lain." in full.content.decode()
    assert not Appointment.objects.filter(
        citizen_id=citizen_client.actor.user_id
    ).exists()


def test_an_unverified_citizen_is_told_to_verify(
    client, make_citizen, clock, mpp, lane
):
    user, _actor = make_citizen(verified=False)
    client.force_login(user)
    data = _confirm_data(client, mpp, lane("A"), "2026-03-03T10:00")
    refused = client.post("/antrian/janji-temu/konfirmasi/", data)
    assert refused.status_code == 403
    assert "belum terverifikasi" in refused.content.decode()
    assert not Appointment.objects.exists()


def test_cancel_page(client, make_staff, booked, make_citizen, clock):
    path = f"/antrian/janji-temu/{booked.pk}/batal/"
    _anonymous_and_staff_are_refused(
        client, make_staff, "post", path, {"idempotency_key": "k"}
    )
    # Another citizen: not found, nothing changes.
    client.force_login(make_citizen()[0])
    assert client.post(path, {"idempotency_key": "k"}).status_code == 404
    booked.refresh_from_db()
    assert booked.status == "booked"
    from balai.accounts.models import User

    client.force_login(User.objects.get(pk=booked.citizen_id))
    response = client.post(path, {"idempotency_key": "k2"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == "cancelled"
    html = client.get("/antrian/janji-temu/").content.decode()
    assert f"Janji temu {booked.code} dibatalkan." in html


# --- Check-in -------------------------------------------------------------------------


def test_officer_check_in_on_the_console(client, make_staff, booked, clock):
    clock.now = at("2026-03-02", "09:45")
    data = {"kode": booked.code, "idempotency_key": "c-1"}
    assert client.post("/antrian/loket/janji-temu/", data)["Location"].startswith(LOGIN)
    client.force_login(make_staff(office=MPP, role="leader"))
    assert client.post("/antrian/loket/janji-temu/", data).status_code == 403
    officer = make_staff(office=MPP, role="counter_officer")
    client.force_login(officer)
    console = client.get("/antrian/loket/").content.decode()
    assert "Janji temu hari ini" in console
    assert booked.citizen_name in console
    response = client.post("/antrian/loket/janji-temu/", data)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.source == "booking"
    html = client.get("/antrian/loket/").content.decode()
    assert f"nomor antrean {ticket.number}" in html
    # The same code again (another key): the same ticket.
    client.post("/antrian/loket/janji-temu/", {**data, "idempotency_key": "c-2"})
    assert Ticket.objects.count() == 1


def test_officer_check_in_refusal_is_shown(client, make_staff, booked, clock):
    clock.now = at("2026-03-02", "09:00")
    client.force_login(make_staff(office=MPP, role="counter_officer"))
    client.post(
        "/antrian/loket/janji-temu/", {"kode": booked.code, "idempotency_key": "x"}
    )
    html = client.get("/antrian/loket/").content.decode()
    assert "Terlalu awal" in html
    assert "mulai pukul 09.30" in html
    assert not Ticket.objects.exists()


def test_kiosk_check_in_by_code(client, booked, clock, mpp):
    clock.now = at("2026-03-02", "10:05")
    path = f"/antrian/{MPP}/anjungan/janji-temu/"
    assert f'href="{path}"' in client.get(f"/antrian/{MPP}/anjungan/").content.decode()
    page = client.get(path)
    assert page.status_code == 200
    key = key_of(page.content.decode())
    response = client.post(path, {"kode": booked.code.lower(), "idempotency_key": key})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/antrian/tiket/{ticket.pk}/?dari=anjungan"
    # Typed again at the kiosk: the same number.
    again = client.post(path, {"kode": booked.code, "idempotency_key": "other"})
    assert again["Location"] == response["Location"]
    assert Ticket.objects.count() == 1
    # Another MPP's kiosk does not know the code; an unknown office is 404.
    from balai.regions.models import Office

    other = Office.objects.get(code="MPP-64.02.12")
    actions.ensure_queue_setup(actor=actions.Actor.system(), offices=[other])
    elsewhere = client.post(
        "/antrian/MPP-64.02.12/anjungan/janji-temu/",
        {"kode": booked.code, "idempotency_key": "k-3"},
    )
    assert elsewhere.status_code == 404
    assert "tidak ditemukan di kantor ini" in elsewhere.content.decode()
    assert client.get("/antrian/MPP-99/anjungan/janji-temu/").status_code == 404


def test_kiosk_check_in_bad_input_writes_nothing(client, booked, clock):
    path = f"/antrian/{MPP}/anjungan/janji-temu/"
    clock.now = at("2026-03-02", "10:20")
    empty = client.post(path, {"kode": "", "idempotency_key": "k"})
    assert empty.status_code == 400
    assert "Isi kode janji temu." in empty.content.decode()
    short = client.post(path, {"kode": "AB", "idempotency_key": "k"})
    assert short.status_code == 400
    assert "terdiri dari 6 huruf dan angka" in short.content.decode()
    late = client.post(path, {"kode": booked.code, "idempotency_key": "k"})
    assert late.status_code == 400
    assert "Terlambat" in late.content.decode()
    assert not Ticket.objects.exists()
    booked.refresh_from_db()
    assert booked.status == "booked"


# --- Settings -------------------------------------------------------------------------


def test_settings_page(client, make_staff, mpp):
    path = "/antrian/janji-temu/pengaturan/"
    assert client.get(path)["Location"].startswith(LOGIN)
    client.force_login(make_staff(office=MPP, role="counter_officer"))
    assert client.get(path).status_code == 403
    client.force_login(make_staff(office="DISKOMINFO", role="service_admin"))
    page = client.get(path, {"kantor": MPP})
    assert page.status_code == 200
    key = key_of(page.content.decode())
    bad = client.post(
        path,
        {
            "kantor": MPP,
            "idempotency_key": key,
            "is_enabled": "on",
            "slot_minutes": "300",
            "capacity": "2",
            "days_ahead": "7",
        },
    )
    assert bad.status_code == 400
    assert "Lama satu slot (menit) harus antara 5 dan 240." in bad.content.decode()
    assert not AppointmentSettings.objects.exists()
    ok = client.post(
        path,
        {
            "kantor": MPP,
            "idempotency_key": key,
            "is_enabled": "on",
            "slot_minutes": "20",
            "capacity": "2",
            "days_ahead": "7",
        },
    )
    assert ok.status_code == 302
    conf = AppointmentSettings.objects.get(office=mpp)
    assert (conf.slot_minutes, conf.capacity, conf.days_ahead) == (20, 2, 7)
    # The staff home links to it.
    assert (
        'href="/antrian/janji-temu/pengaturan/"'
        in client.get("/akun/petugas/").content.decode()
    )
