import re

import pytest

from balai.antrian.actions import call_next, start_service, take_ticket
from balai.antrian.models import Ticket
from balai.antrian.workflow import TicketStatus as S

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def key_for(html: str, lane_pk) -> str:
    """The idempotency key minted into a lane's kiosk form."""
    block = html[html.index(f'value="{lane_pk}"') :]
    return re.search(r'name="idempotency_key" value="([^"]+)"', block).group(1)


# --- Public pages -----------------------------------------------------------------


def test_index_lists_mpps_with_a_queue(client, mpp):
    page = client.get("/antrian/")
    assert page.status_code == 200
    assert "/antrian/MPP-64.02.06/anjungan/" in page.content.decode()
    assert "MPP-64.02.12" not in page.content.decode()


def test_kiosk_shows_a_button_per_lane(client, mpp):
    page = client.get("/antrian/MPP-64.02.06/anjungan/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("Administrasi Kependudukan", "Perizinan", "Informasi", "Prioritas"):
        assert name in html
    assert html.count('name="idempotency_key"') == 4


def test_kiosk_takes_a_number_and_shows_it(client, mpp, lane, clock):
    html = client.get("/antrian/MPP-64.02.06/anjungan/").content.decode()
    data = {"lane": lane("A").pk, "idempotency_key": key_for(html, lane("A").pk)}
    response = client.post("/antrian/MPP-64.02.06/anjungan/", data)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/antrian/tiket/{ticket.pk}/?dari=anjungan"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "A-001" in html
    assert "<svg" in html, "a QR code to follow the number from a phone"
    # A double tap on the same button gives the same number.
    again = client.post("/antrian/MPP-64.02.06/anjungan/", data)
    assert again["Location"] == response["Location"]
    assert Ticket.objects.count() == 1


def test_kiosk_is_rate_limited_per_address(client, mpp, lane, settings, clock):
    settings.BALAI_KIOSK_RATE_PER_MINUTE = 2
    for i in range(2):
        ok = client.post(
            "/antrian/MPP-64.02.06/anjungan/",
            {"lane": lane("A").pk, "idempotency_key": f"k{i}"},
        )
        assert ok.status_code == 302
    refused = client.post(
        "/antrian/MPP-64.02.06/anjungan/",
        {"lane": lane("A").pk, "idempotency_key": "k3"},
    )
    assert refused.status_code == 429
    assert "Terlalu banyak" in refused.content.decode()
    other = client.post(
        "/antrian/MPP-64.02.06/anjungan/",
        {"lane": lane("A").pk, "idempotency_key": "k4"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert other.status_code == 302
    assert Ticket.objects.count() == 3


def test_kiosk_refuses_a_lane_of_another_office(client, mpp, other_mpp, lane, clock):
    response = client.post(
        "/antrian/MPP-64.02.06/anjungan/",
        {"lane": lane("A", "MPP-64.02.12").pk, "idempotency_key": "x"},
    )
    assert response.status_code == 404
    assert not Ticket.objects.exists()


def test_unknown_office_is_404(client, db):
    assert client.get("/antrian/MPP-99.99.99/anjungan/").status_code == 404
    assert client.get("/antrian/DISDUKCAPIL/layar/").status_code == 404


def test_display_works_without_javascript(client, kiosk, officer, lane, counter, clock):
    take_ticket(actor=kiosk, lane=lane("A"))
    call_next(actor=officer, counter=counter(1))
    page = client.get("/antrian/MPP-64.02.06/layar/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<noscript><meta http-equiv="refresh"' in html
    assert 'hx-trigger="every 5s"' in html
    assert "A-001" in html
    assert "Loket 1" in html
    fragment = client.get("/antrian/MPP-64.02.06/layar/", **HTMX)
    assert "<html" not in fragment.content.decode()
    assert "A-001" in fragment.content.decode()


# --- Officer console --------------------------------------------------------------


def test_console_access(client, client_as, make_staff, mpp):
    anonymous = client.get("/antrian/loket/")
    assert anonymous.status_code == 302
    assert "/akun/masuk/" in anonymous["Location"]
    camat = client_as(make_staff(office="MPP-64.02.06", role="leader"))
    assert camat.get("/antrian/loket/").status_code == 403


def test_console_for_an_officer_outside_an_mpp(client_as, make_staff, db):
    officer = client_as(make_staff(office="DISDUKCAPIL", role="registry_officer"))
    response = officer.get("/antrian/loket/")
    assert response.status_code == 404


def test_console_calls_serves_and_finishes(
    client_as, make_staff, kiosk, lane, counter, clock
):
    web = client_as(make_staff(office="MPP-64.02.06", role="counter_officer"))
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    page = web.get(f"/antrian/loket/?loket={counter(1).pk}")
    assert page.status_code == 200
    assert "Panggil berikutnya" in page.content.decode()
    # The chosen counter is remembered.
    assert "Panggil berikutnya" in web.get("/antrian/loket/").content.decode()

    called = web.post(
        f"/antrian/loket/{counter(1).pk}/panggil/", {"idempotency_key": "c1"}, **HTMX
    )
    assert called.status_code == 200
    html = called.content.decode()
    assert 'id="konsol"' in html
    assert "<html" not in html
    assert "A-001" in html
    assert "Mulai layani" in html
    ticket.refresh_from_db()
    assert ticket.status == S.CALLED

    started = web.post(f"/antrian/tiket/{ticket.pk}/mulai/", {"idempotency_key": "s1"})
    assert started.status_code == 302, "without htmx: post, then redirect"
    ticket.refresh_from_db()
    assert ticket.status == S.SERVING
    web.post(f"/antrian/tiket/{ticket.pk}/selesai/", {"idempotency_key": "f1"})
    ticket.refresh_from_db()
    assert ticket.status == S.DONE


def test_console_shows_a_refusal_as_a_message(
    client_as, make_staff, kiosk, lane, clock
):
    web = client_as(make_staff(office="MPP-64.02.06", role="counter_officer"))
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    response = web.post(
        f"/antrian/tiket/{ticket.pk}/selesai/", {"idempotency_key": "x"}, **HTMX
    )
    assert response.status_code == 200
    assert "tidak dapat" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == S.WAITING


def test_console_transfer_and_link(
    client_as, make_staff, kiosk, officer, lane, counter, clock
):
    web = client_as(make_staff(office="MPP-64.02.06", role="counter_officer"))
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    call_next(actor=officer, counter=counter(1))
    link = web.post(
        f"/antrian/tiket/{ticket.pk}/tautkan/",
        {
            "idempotency_key": "l1",
            "application_id": "0190f5a3-1c2b-7def-8abc-123456789abc",
        },
    )
    assert link.status_code == 302
    web.post(
        f"/antrian/tiket/{ticket.pk}/alihkan/",
        {"idempotency_key": "t1", "target": f"loket:{counter(3).pk}", "note": ""},
    )
    ticket.refresh_from_db()
    assert str(ticket.application_id) == "0190f5a3-1c2b-7def-8abc-123456789abc"
    assert (ticket.status, ticket.counter) == (S.TRANSFERRED, counter(3))


def test_console_actions_need_the_right_role_and_office(
    client, client_as, make_staff, kiosk, lane, counter, other_mpp, clock
):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    url = f"/antrian/loket/{counter(1).pk}/panggil/"
    assert client.post(url, {"idempotency_key": "a"}).status_code == 302
    camat = client_as(make_staff(office="MPP-64.02.06", role="leader"))
    assert camat.post(url, {"idempotency_key": "b"}).status_code == 403
    camat.logout()
    stranger = client_as(make_staff(office="MPP-64.02.12", role="counter_officer"))
    response = stranger.post(url, {"idempotency_key": "c"}, **HTMX)
    assert response.status_code == 200
    assert "Antrean kantor ini tidak ditemukan" in response.content.decode()
    skipped = stranger.post(
        f"/antrian/tiket/{ticket.pk}/lewati/", {"idempotency_key": "d"}
    )
    assert skipped.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.WAITING, "another office's officer changed nothing"
    assert ticket.events.count() == 1


# --- Statistics -------------------------------------------------------------------


def test_stats_page(
    client, client_as, make_staff, kiosk, officer, lane, counter, clock
):
    ticket = take_ticket(actor=kiosk, lane=lane("A"))
    call_next(actor=officer, counter=counter(1))
    start_service(actor=officer, ticket=ticket)
    assert client.get("/antrian/statistik/").status_code == 302
    helpdesk = client_as(make_staff(office="MPP-64.02.06", role="helpdesk_officer"))
    assert helpdesk.get("/antrian/statistik/").status_code == 403
    helpdesk.logout()
    camat = client_as(make_staff(office="MPP-64.02.06", role="leader"))
    page = camat.get("/antrian/statistik/?tanggal=2026-03-02")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Administrasi Kependudukan" in html
    assert "Loket 1" in html


def test_kiosk_says_closed_only_when_hours_are_enforced(client, mpp, clock, settings):
    import datetime

    from .conftest import WITA

    clock.now = datetime.datetime(2026, 3, 7, 10, 0, tzinfo=WITA)  # Saturday
    settings.BALAI_ANTRIAN_ENFORCE_HOURS = False
    assert (
        "sedang tutup"
        not in client.get("/antrian/MPP-64.02.06/anjungan/").content.decode()
    )
    settings.BALAI_ANTRIAN_ENFORCE_HOURS = True
    assert (
        "sedang tutup" in client.get("/antrian/MPP-64.02.06/anjungan/").content.decode()
    )


# --- Appointments: the office's bookings, cancelled by an officer -----------------

LOGIN = "/akun/masuk/"
LIST = "/antrian/loket/janji-temu/daftar/"


def _book(citizen, mpp, lane, day, hm):
    from balai.antrian.actions import book_appointment

    from .conftest import at

    return book_appointment(actor=citizen, office=mpp, lane=lane, starts_at=at(day, hm))


def test_the_office_bookings_page(
    client, make_staff, make_citizen, mpp, other_mpp, lane, clock
):
    appt = _book(make_citizen()[1], mpp, lane("A"), "2026-03-03", "10:00")
    assert client.get(LIST)["Location"].startswith(LOGIN)
    client.force_login(make_staff(office="MPP-64.02.06", role="leader"))
    assert client.get(LIST).status_code == 403
    # An officer of another MPP sees his own office's (empty) list.
    client.force_login(make_staff(office="MPP-64.02.12", role="counter_officer"))
    other = client.get(LIST, {"tanggal": "2026-03-03"}).content.decode()
    assert "Tabang" in other
    assert appt.code not in other
    client.force_login(make_staff(office="MPP-64.02.06", role="counter_officer"))
    today = client.get(LIST).content.decode()
    assert "Tidak ada janji temu pada tanggal ini." in today
    page = client.get(LIST, {"tanggal": "2026-03-03"})
    assert page.status_code == 200
    html = page.content.decode()
    assert appt.code in html
    assert appt.citizen_name in html
    assert f'action="/antrian/loket/janji-temu/{appt.pk}/batal/"' in html
    bad = client.get(LIST, {"tanggal": "besok"})
    assert bad.status_code == 400
    assert "Tanggal tidak valid" in bad.content.decode()
    # The console links to it.
    assert f'href="{LIST}"' in client.get("/antrian/loket/").content.decode()


def test_an_officer_cancels_a_booking_on_the_page(
    client, make_staff, make_citizen, mpp, other_mpp, lane, clock
):
    from balai.antrian.models import Appointment

    appt = _book(make_citizen()[1], mpp, lane("A"), "2026-03-03", "10:00")
    path = f"/antrian/loket/janji-temu/{appt.pk}/batal/"
    data = {"idempotency_key": "oc-1", "tanggal": "2026-03-03", "alasan": "Banjir"}
    assert client.post(path, data)["Location"].startswith(LOGIN)
    client.force_login(make_staff(office="MPP-64.02.06", role="leader"))
    assert client.post(path, data).status_code == 403
    client.force_login(make_staff(office="MPP-64.02.12", role="counter_officer"))
    assert client.post(path, data).status_code == 404
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    client.force_login(make_staff(office="MPP-64.02.06", role="counter_officer"))
    # No reason: told in Indonesian, nothing changes.
    empty = client.post(path, {**data, "alasan": "  ", "idempotency_key": "oc-0"})
    assert empty["Location"] == f"{LIST}?tanggal=2026-03-03"
    html = client.get(empty["Location"]).content.decode()
    assert "Tulis alasan pembatalan" in html
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    done = client.post(path, data)
    assert done["Location"] == f"{LIST}?tanggal=2026-03-03"
    current = Appointment.objects.get(pk=appt.pk)
    assert (current.status, current.cancel_reason) == ("cancelled", "Banjir")
    html = client.get(done["Location"]).content.decode()
    assert f"Janji temu {appt.code} ({appt.citizen_name}) dibatalkan" in html
    assert "Alasan: Banjir" in html
    assert f'action="/antrian/loket/janji-temu/{appt.pk}/batal/"' not in html


def test_a_checked_in_booking_is_not_cancelled_from_the_page(
    client, make_staff, make_citizen, mpp, lane, clock, kiosk
):
    from balai.antrian.actions import check_in_appointment
    from balai.antrian.models import Appointment

    appt = _book(make_citizen()[1], mpp, lane("A"), "2026-03-02", "10:00")
    clock.now = clock.now.replace(hour=9, minute=45)
    check_in_appointment(actor=kiosk, office=mpp, code=appt.code)
    client.force_login(make_staff(office="MPP-64.02.06", role="counter_officer"))
    response = client.post(
        f"/antrian/loket/janji-temu/{appt.pk}/batal/",
        {"idempotency_key": "oc-1", "alasan": "kantor tutup"},
    )
    assert response["Location"] == LIST
    html = client.get(LIST).content.decode()
    assert "tidak dapat dibatalkan oleh kantor" in html
    assert Appointment.objects.get(pk=appt.pk).status == "checked_in"


def test_stats_page_shows_the_days_appointments(
    client, make_staff, make_citizen, mpp, lane, clock
):
    from balai.antrian.actions import cancel_appointment_for_office

    officer = make_staff(office="MPP-64.02.06", role="counter_officer")
    from balai.accounts.selectors import actor_for

    appt = _book(make_citizen()[1], mpp, lane("A"), "2026-03-02", "13:00")
    cancel_appointment_for_office(
        actor=actor_for(user=officer), appointment=appt, reason="banjir"
    )
    client.force_login(officer)
    html = client.get("/antrian/statistik/", {"tanggal": "2026-03-02"}).content
    html = html.decode()
    assert "Tidak datang" in html
    assert "(1 oleh kantor)" in html


def test_an_officer_cancels_the_whole_day_on_the_page(
    client, make_staff, make_citizen, mpp, lane, clock
):
    from balai.antrian.models import Appointment

    first = _book(make_citizen()[1], mpp, lane("A"), "2026-03-03", "10:00")
    second = _book(make_citizen()[1], mpp, lane("B"), "2026-03-03", "11:00")
    path = "/antrian/loket/janji-temu/batal-hari/"
    data = {"tanggal": "2026-03-03", "alasan": "Banjir", "yakin": "on"}
    assert client.post(path, data)["Location"].startswith(LOGIN)
    client.force_login(make_staff(office="MPP-64.02.06", role="leader"))
    assert client.post(path, data).status_code == 403
    client.force_login(make_staff(office="MPP-64.02.06", role="counter_officer"))
    page = client.get(LIST, {"tanggal": "2026-03-03"}).content.decode()
    assert f'action="{path}"' in page
    assert "2 janji temu belum hadir" in page
    # Without the confirmation, or without a reason: told, nothing changes.
    unsure = client.post(path, {**data, "yakin": ""})
    assert unsure["Location"] == f"{LIST}?tanggal=2026-03-03"
    assert (
        "Centang kotak persetujuan" in client.get(unsure["Location"]).content.decode()
    )
    empty = client.post(path, {**data, "alasan": " "})
    assert "Tulis alasan pembatalan" in client.get(empty["Location"]).content.decode()
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}
    done = client.post(path, data)
    assert done["Location"] == f"{LIST}?tanggal=2026-03-03"
    html = client.get(done["Location"]).content.decode()
    assert f"2 janji temu dibatalkan ({first.code}, {second.code})" in html
    assert set(Appointment.objects.values_list("status", flat=True)) == {"cancelled"}
    # Nothing left to cancel: the section is gone, a second post says so.
    assert f'action="{path}"' not in html
    again = client.post(path, data)
    assert "Tidak ada janji temu yang belum hadir" in (
        client.get(again["Location"]).content.decode()
    )
    # A past day offers no such form.
    clock.now = clock.now.replace(day=4)
    past = client.get(LIST, {"tanggal": "2026-03-03"}).content.decode()
    assert f'action="{path}"' not in past


def test_an_officer_marks_a_booking_missed_on_the_page(
    client, make_staff, make_citizen, mpp, lane, clock
):
    from balai.antrian.models import Appointment

    appt = _book(make_citizen()[1], mpp, lane("A"), "2026-03-02", "10:00")
    path = f"/antrian/loket/janji-temu/{appt.pk}/tidak-datang/"
    data = {"idempotency_key": "om-1", "tanggal": "2026-03-02"}
    assert client.post(path, data)["Location"].startswith(LOGIN)
    client.force_login(make_staff(office="MPP-64.02.06", role="leader"))
    assert client.post(path, data).status_code == 403
    client.force_login(make_staff(office="MPP-64.02.12", role="counter_officer"))
    assert client.post(path, data).status_code == 404
    client.force_login(make_staff(office="MPP-64.02.06", role="counter_officer"))
    # Before the slot is over: no button, and a post is refused in Indonesian.
    assert f'action="{path}"' not in client.get(LIST).content.decode()
    early = client.post(path, {**data, "idempotency_key": "om-0"})
    assert "belum lewat" in client.get(early["Location"]).content.decode()
    assert Appointment.objects.get(pk=appt.pk).status == "booked"
    clock.now = clock.now.replace(hour=11)
    assert f'action="{path}"' in client.get(LIST).content.decode()
    done = client.post(path, data)
    assert done["Location"] == f"{LIST}?tanggal=2026-03-02"
    html = client.get(done["Location"]).content.decode()
    assert f"Janji temu {appt.code} ({appt.citizen_name}) ditandai tidak datang" in html
    assert f'action="{path}"' not in html
    assert Appointment.objects.get(pk=appt.pk).status == "missed"
