"""Playwright fixtures for the page tests in headless Chromium.

Registered as a pytest plugin by the root conftest, so any app's tests can ask
for `page`. The browser is Debian's Chromium (`scripts/test_tools.py` installs
it where missing); Playwright never downloads one. Tests that drive the browser
are marked `@pytest.mark.browser` and `@pytest.mark.django_db(transaction=True)`
(the live server thread then sees the test's data) and ask for the `regions`
fixture when a page needs them (an earlier transactional test empties tables).

Without Chromium the browser tests are skipped, unless `BALAI_REQUIRE_BROWSER`
is set (CI sets it): then a missing browser is an error, not a silent skip.
"""

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("BALAI_CHROMIUM", "/usr/bin/chromium")
# The password `make_staff` (the root conftest) gives every test account.
STAFF_TEST_PASSWORD = "kata-sandi-uji-123"

# Flags for a headless Chromium run as root inside a container, with nothing
# phoning home: no sandbox (root), no GPU, no background or component traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def _require_browser() -> bool:
    return os.environ.get("BALAI_REQUIRE_BROWSER", "") not in ("", "0")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium per test worker."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium tidak ditemukan di {CHROMIUM} (scripts/test_tools.py)"
        if _require_browser():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread; Django
    # would then refuse every ORM call as "async unsafe". The ORM calls in these
    # tests run in the test thread between browser steps, never concurrently.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    """A fresh page (own cookies) on a phone-sized screen, in Indonesian.

    `page.balai_url(path)` gives the live server's address of a path;
    `page.staff_log_in(username)` logs a staff account (made by `make_staff`,
    with its test password) in through the login page;
    `page.console_errors` collects console errors (a CSP violation is one).
    """
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="id-ID",
        timezone_id="Asia/Makassar",
        service_workers="block",
    )
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.console_errors = []
    pg.on(
        "console",
        lambda msg: pg.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    pg.on("pageerror", lambda exc: pg.console_errors.append(str(exc)))
    pg.balai_url = lambda path="/": live_server.url + path

    def staff_log_in(username: str) -> None:
        pg.goto(pg.balai_url("/akun/masuk/"))
        pg.get_by_label("Nama pengguna").fill(username)
        pg.get_by_label("Kata sandi").fill(STAFF_TEST_PASSWORD)
        pg.get_by_role("button", name="Masuk", exact=True).click()
        pg.wait_for_url(pg.balai_url("/akun/petugas/"))

    pg.staff_log_in = staff_log_in
    try:
        yield pg
    finally:
        context.close()
