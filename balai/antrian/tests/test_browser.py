"""The MPP's day of bookings in headless Chromium: the office closes (a
flood), an officer cancels every booking of the day at once, after saying
yes to it, and sees them cancelled with the reason."""

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("regions"),
]


def test_an_officer_cancels_the_whole_day_in_the_browser(
    page, make_staff, make_citizen, mpp, lane, clock
):
    from balai.antrian.actions import book_appointment
    from balai.antrian.models import Appointment

    from .conftest import at

    codes = [
        book_appointment(
            actor=make_citizen()[1],
            office=mpp,
            lane=lane(prefix),
            starts_at=at("2026-03-03", hm),
        ).code
        for prefix, hm in (("A", "10:00"), ("B", "11:00"))
    ]
    make_staff(office="MPP-64.02.06", role="counter_officer", username="loket.uji")

    page.staff_log_in("loket.uji")

    page.goto(page.balai_url("/antrian/loket/janji-temu/daftar/?tanggal=2026-03-03"))
    section = page.get_by_role("region", name="Kantor tutup pada tanggal ini?")
    assert "2 janji temu belum hadir" in section.inner_text()
    section.get_by_label("Alasan pembatalan").fill("Kantor tutup karena banjir")
    # The box must be ticked: the browser itself holds the form back.
    button = section.get_by_role("button", name="Batalkan semua janji temu tanggal ini")
    button.click()
    box = section.get_by_role("checkbox")
    assert box.evaluate("e => e.validity.valueMissing")
    assert page.locator(".msg-success").count() == 0
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}
    box.check()
    button.click()
    page.wait_for_selector(".msg-success")
    message = page.locator(".msg-success").inner_text()
    assert f"2 janji temu dibatalkan ({codes[0]}, {codes[1]})" in message
    assert (
        page.get_by_role("region", name="Kantor tutup pada tanggal ini?").count() == 0
    )
    assert (
        page.locator("tbody").inner_text().count("Alasan: Kantor tutup karena banjir")
        == 2
    )
    assert set(Appointment.objects.values_list("status", flat=True)) == {"cancelled"}
    assert page.console_errors == []
