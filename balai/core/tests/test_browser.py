"""The pages in headless Chromium: language, login, keyboard, weight, CSP.

The live server runs in a thread of this process; the tests are transactional
so it sees the data they make, and load the regions themselves (`regions`, see
conftest.py), since an earlier transactional test may have emptied the tables.
"""

from urllib.parse import urlsplit

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("regions"),
]

PAGE_BUDGET = 100 * 1024


def test_home_renders_in_indonesian_light_and_local(page):
    requests = []
    page.on("requestfinished", lambda request: requests.append(request))
    page.goto(page.balai_url("/"))
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").inner_text() == (
        "Layanan publik Kutai Kartanegara, dekat dan daring"
    )
    assert page.get_by_role("heading", name="Bagian-bagian Balai").is_visible()
    assert page.locator(".figures strong").all_inner_texts() == ["20", "193", "44"]
    page.wait_for_load_state("networkidle")

    host = urlsplit(page.balai_url()).netloc
    assert {urlsplit(r.url).netloc for r in requests} == {host}
    assert len(requests) <= 4, [r.url for r in requests]  # page, CSS, 2 JS
    weight = sum(r.sizes()["responseBodySize"] for r in requests)
    assert 0 < weight < PAGE_BUDGET, weight
    assert page.console_errors == []  # a CSP violation would show here


def test_language_switch_gives_english_and_back(page):
    page.goto(page.balai_url("/wilayah/"))
    page.get_by_role("button", name="English").click()
    page.wait_for_url(page.balai_url("/wilayah/"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Kecamatan, desa and kelurahan"
    page.goto(page.balai_url("/"))
    assert page.locator("h1").inner_text() == (
        "Public services of Kutai Kartanegara, close by and online"
    )
    page.get_by_role("button", name="Bahasa Indonesia").click()
    page.wait_for_url(page.balai_url("/"))
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.console_errors == []


def test_staff_login_lands_on_the_staff_area(page, make_staff):
    make_staff(username="loket.uji")
    page.staff_log_in("loket.uji")
    assert page.locator("h1").inner_text() == "Ruang petugas"
    assert page.get_by_text("Selamat datang, Pegawai loket.uji.").is_visible()
    assert page.get_by_role("button", name="Keluar").is_visible()
    assert page.console_errors == []


def test_staff_area_sends_an_anonymous_visitor_to_login(page):
    page.goto(page.balai_url("/akun/petugas/"))
    assert urlsplit(page.url).path == "/akun/masuk/"
    assert page.locator("h1").inner_text() == "Masuk ke Balai"


def test_wrong_login_focuses_the_error_summary_and_links_the_fields(page):
    page.goto(page.balai_url("/akun/masuk/"))
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.wait_for_load_state()
    summary = page.locator("#ringkasan-kesalahan")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "ringkasan-kesalahan"
    assert page.title().startswith("Kesalahan: ")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_username"


def test_keyboard_reaches_the_skip_link_first(page):
    page.goto(page.balai_url("/"))
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Langsung ke isi utama"
    assert page.locator(".skip").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "isi"


def test_pages_fit_a_phone_screen_without_sideways_scrolling(page):
    for path in ("/", "/wilayah/", "/akun/masuk/"):
        page.goto(page.balai_url(path))
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, (path, overflow)


def test_api_docs_work_under_the_csp(page):
    page.goto(page.balai_url("/api/v1/docs"))
    # 1.5 MB of Swagger UI and the whole schema: slow on a busy test machine.
    page.locator(".opblock").first.wait_for(timeout=60_000)
    assert page.locator(".opblock").count() > 3
    assert page.console_errors == []  # Swagger UI breaks no CSP rule
