"""The register in headless Chromium: an officer logs in, finds a resident by
a name typed with a typo, opens him and sees the whole NIK and the timeline."""

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("regions"),
]


def test_officer_finds_a_resident_with_a_typo_and_opens_him(
    page, make_staff, make_resident
):
    make_staff(office="MPP-64.02.06", role="registry_officer", username="reg.uji")
    person = make_resident(village="64.02.06.1001", name="Muhammad Rizky Pratama")
    masked = person.nik[:4] + "********" + person.nik[-4:]

    page.staff_log_in("reg.uji")

    page.goto(page.balai_url("/penduduk/"))
    page.get_by_label("Nama, NIK atau nomor KK").fill("muhamad riski")
    page.get_by_role("button", name="Cari", exact=True).click()
    row = page.get_by_role("row", name="Muhammad Rizky Pratama")
    assert masked in row.inner_text()
    assert person.nik not in page.locator("#hasil").inner_html()

    page.get_by_role("link", name="Muhammad Rizky Pratama").click()
    page.wait_for_url(page.balai_url(f"/penduduk/warga/{person.pk}/"))
    assert page.locator("h1").inner_text() == "Muhammad Rizky Pratama"
    assert page.locator("dd.nik").inner_text() == person.nik
    timeline = page.locator("ol.timeline")
    assert "Pendataan (data awal)" in timeline.inner_text()
    assert page.console_errors == []


def test_results_appear_while_typing_after_a_pause(page, make_staff, make_resident):
    make_staff(office="MPP-64.02.06", role="registry_officer", username="reg.ketik")
    person = make_resident(village="64.02.06.1001", name="Muhammad Rizky Pratama")
    masked = person.nik[:4] + "********" + person.nik[-4:]

    page.staff_log_in("reg.ketik")

    page.goto(page.balai_url("/penduduk/"))
    asked = []
    page.on(
        "request",
        lambda request: (
            asked.append(request.url) if "/cari/hasil/" in request.url else None
        ),
    )
    box = page.get_by_label("Nama, NIK atau nomor KK")
    box.press_sequentially("mu", delay=30)
    page.wait_for_timeout(700)
    assert asked == []  # fewer than 3 characters: nothing asked

    box.press_sequentially("hamad riski", delay=30)  # no Cari, no Enter
    row = page.get_by_role("row", name="Muhammad Rizky Pratama")
    row.wait_for()
    assert masked in row.inner_text()
    assert person.nik not in page.locator("#hasil").inner_html()
    # Asked after the pause, not once per key (two at most if a loaded
    # machine stalls the typing past the pause once).
    assert 1 <= len(asked) <= 2
    assert page.url.startswith(page.balai_url("/penduduk/?q=muhamad+riski"))
    assert page.console_errors == []
