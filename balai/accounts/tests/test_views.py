import datetime
import re

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from balai.accounts.actions import create_citizen_account
from balai.accounts.models import Posting
from balai.accounts.tests.conftest import current_code
from balai.audit.models import AuditEntry
from balai.core.models import ChangeRecord
from balai.regions.models import Office

pytestmark = pytest.mark.django_db

TENGGARONG = "MPP-64.02.06"
TABANG = "MPP-64.02.12"
PASSWORD = "kata-sandi-uji-123"


def roster_url(code: str) -> str:
    return f"/akun/kantor/{code}/petugas/"


@pytest.fixture
def citizen(system_actor):
    return create_citizen_account(
        actor=system_actor,
        username="warga.tenggarong",
        password=PASSWORD,
        check_password=False,
    )


# --- the office staff roster page: who may see it --------------------------------


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(roster_url(TENGGARONG))
    assert response.status_code == 302
    assert response["Location"].startswith("/akun/masuk/?next=")


def test_citizens_never_get_staff_pages(client, citizen):
    client.force_login(citizen)
    for url in (roster_url(TENGGARONG), "/akun/petugas/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "hanya untuk petugas" in response.content.decode()


def test_a_role_without_roster_access_gets_403(client, make_staff):
    client.force_login(make_staff(office=TENGGARONG, role="counter_officer"))
    response = client.get(roster_url(TENGGARONG))
    assert response.status_code == 403
    assert "tidak berwenang" in response.content.decode()


def test_the_camat_reads_his_own_offices(client, make_staff):
    make_staff(office=TENGGARONG, role="counter_officer", username="rina.loket")
    client.force_login(make_staff(office=TENGGARONG, role="leader"))
    response = client.get(roster_url(TENGGARONG))
    assert response.status_code == 200
    assert "Pegawai rina.loket" in response.content.decode()
    village = Office.objects.filter(region__parent_id="64.02.06").first()
    assert client.get(roster_url(village.code)).status_code == 200


def test_a_tenggarong_officer_gets_404_for_tabang(client, make_staff):
    make_staff(office=TABANG, role="counter_officer", username="yohanes.loket")
    client.force_login(make_staff(office=TENGGARONG, role="helpdesk_officer"))
    response = client.get(roster_url(TABANG))
    assert response.status_code == 404
    body = response.content.decode()
    assert "Kantor tidak ditemukan." in body
    assert "yohanes" not in body
    assert client.get(roster_url("TIDAK-ADA")).status_code == 404


def test_regency_staff_read_tabang(client, make_staff):
    make_staff(office=TABANG, role="counter_officer", username="yohanes.loket")
    client.force_login(make_staff(office="INSPEKTORAT", role="auditor"))
    response = client.get(roster_url(TABANG))
    assert response.status_code == 200
    assert "Pegawai yohanes.loket" in response.content.decode()
    assert 'name="idempotency_key"' not in response.content.decode(), "no form"


def test_history_shows_ended_postings_only_when_asked(client, make_staff):
    make_staff(
        office=TABANG,
        role="counter_officer",
        username="pensiun",
        end_date=datetime.date(2024, 6, 30),
    )
    client.force_login(make_staff(office="DPMPTSP", role="service_admin"))
    assert "Pegawai pensiun" not in client.get(roster_url(TABANG)).content.decode()
    history = client.get(roster_url(TABANG) + "?riwayat=1").content.decode()
    assert "Pegawai pensiun" in history
    on_day = client.get(roster_url(TABANG) + "?tanggal=2024-03-01").content.decode()
    assert "Pegawai pensiun" in on_day
    response = client.get(roster_url(TABANG) + "?tanggal=kemarin")
    assert response.status_code == 400
    assert "TTTT-BB-HH" in response.content.decode()


# --- the second factor on pages ---------------------------------------------------


def other_than(device) -> str:
    """Return a wrong code for `device`."""
    return "000000" if current_code(device) != "000000" else "111111"


def wait_out_throttle(device) -> None:
    """Move the device's last failure into the past (as if the user waited)."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - datetime.timedelta(minutes=5)
    )


def test_staff_without_a_device_are_sent_to_set_one_up(
    client, make_staff, otp_required
):
    client.force_login(make_staff(office=TENGGARONG, role="helpdesk_officer"))
    for url in (roster_url(TENGGARONG), "/akun/petugas/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/akun/otp/siapkan/?next=")


def test_totp_setup_then_access(client, make_staff, otp_required):
    user = make_staff(office=TENGGARONG, role="helpdesk_officer")
    client.force_login(user)
    url = roster_url(TENGGARONG)
    page = client.get("/akun/otp/siapkan/?next=" + url)
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(
        "/akun/otp/siapkan/", {"token": other_than(device), "next": url}
    )
    assert wrong.status_code == 200
    assert client.get(url).status_code == 302, "still not verified"
    wait_out_throttle(device)
    response = client.post(
        "/akun/otp/siapkan/", {"token": current_code(device), "next": url}
    )
    assert response.status_code == 302
    assert response["Location"] == url
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(url).status_code == 200


def test_totp_verification_unlocks_staff_pages(
    client, make_staff, otp_required, totp_device, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a throttle no slow run outlasts
    user = make_staff(office=TENGGARONG, role="helpdesk_officer")
    device = totp_device(user)
    client.force_login(user)
    url = roster_url(TENGGARONG)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/akun/otp/?next=")
    # Pages outside /akun/ are guarded by the middleware the same way.
    assert client.get("/admin/").status_code == 302
    code = current_code(device)
    wrong = client.post("/akun/otp/", {"token": other_than(device), "next": url})
    assert wrong.status_code == 200
    assert "Kode tidak cocok" in wrong.content.decode()
    # django-otp throttles after a failure: even the right code waits a moment.
    throttled = client.post("/akun/otp/", {"token": code, "next": url})
    assert throttled.status_code == 200
    wait_out_throttle(device)
    response = client.post("/akun/otp/", {"token": code, "next": url})
    assert (response.status_code, response["Location"]) == (302, url)
    assert client.get(url).status_code == 200
    assert client.get("/akun/petugas/").status_code == 200


def test_otp_next_never_leaves_the_site(client, make_staff, otp_required, totp_device):
    user = make_staff(office=TENGGARONG, role="helpdesk_officer")
    device = totp_device(user)
    client.force_login(user)
    response = client.post(
        "/akun/otp/", {"token": current_code(device), "next": "https://jahat.example/"}
    )
    assert response["Location"] == "/akun/petugas/"


def test_staff_who_read_no_personal_data_need_no_second_factor(
    client, make_staff, otp_required
):
    client.force_login(make_staff(office=TENGGARONG, role="leader"))
    assert client.get(roster_url(TENGGARONG)).status_code == 200


def test_demo_mode_lets_staff_in_without_second_factor(client, make_staff, settings):
    settings.BALAI_REQUIRE_OTP = False
    client.force_login(make_staff(office=TENGGARONG, role="helpdesk_officer"))
    assert client.get(roster_url(TENGGARONG)).status_code == 200


# --- posting form: idempotent by a key minted into the form -------------------------


def minted_key(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert match, "the form carries an idempotency key"
    return match.group(1)


def test_a_double_submitted_posting_form_changes_nothing(client, make_staff):
    admin = make_staff(office="DISKOMINFO", role="sysadmin")
    newcomer = make_staff(office=TENGGARONG, role="counter_officer")
    client.force_login(admin)
    page = client.get(roster_url(TABANG)).content.decode()
    key = minted_key(page)
    assert minted_key(client.get(roster_url(TABANG)).content.decode()) != key
    form = {
        "idempotency_key": key,
        "username": newcomer.username,
        "position": "Petugas Loket",
        "role": "counter_officer",
        "start_date": "2025-03-03",
    }
    response = client.post(roster_url(TABANG), form)
    assert (response.status_code, response["Location"]) == (302, roster_url(TABANG))
    posting = Posting.objects.get(user=newcomer, office__code=TABANG)
    counts = (
        Posting.objects.count(),
        AuditEntry.objects.count(),
        ChangeRecord.objects.count(),
    )
    again = client.post(roster_url(TABANG), form)
    assert again.status_code == 302
    assert (
        Posting.objects.count(),
        AuditEntry.objects.count(),
        ChangeRecord.objects.count(),
    ) == counts
    assert Posting.objects.get(user=newcomer, office__code=TABANG) == posting
    changed = client.post(roster_url(TABANG), {**form, "position": "Camat"})
    assert changed.status_code == 422
    assert "Kunci idempotensi" in changed.content.decode()
    assert Posting.objects.count() == counts[0]


def test_posting_form_errors_are_shown_in_indonesian(client, make_staff):
    client.force_login(make_staff(office="DISKOMINFO", role="sysadmin"))
    key = minted_key(client.get(roster_url(TABANG)).content.decode())
    response = client.post(
        roster_url(TABANG),
        {
            "idempotency_key": key,
            "username": "tidak.ada",
            "position": "Petugas",
            "role": "counter_officer",
            "start_date": "2025-03-03",
        },
    )
    assert response.status_code == 200
    assert "Akun petugas tidak ditemukan." in response.content.decode()


def test_a_leader_cannot_post_staff(client, make_staff):
    client.force_login(make_staff(office=TENGGARONG, role="leader"))
    response = client.post(roster_url(TENGGARONG), {"username": "x"})
    assert response.status_code == 403


# --- one login page for staff and citizens ----------------------------------------


def test_staff_land_on_the_staff_home(client, make_staff):
    user = make_staff(office=TENGGARONG, role="leader")
    response = client.post(
        "/akun/masuk/", {"username": user.username, "password": PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, "/akun/petugas/")


def test_citizens_log_in_on_the_same_page_and_land_on_their_home(client, citizen):
    response = client.post(
        "/akun/masuk/", {"username": citizen.username, "password": PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, "/akun/warga/")
    home = client.get("/akun/warga/")
    assert home.status_code == 200
    assert "Akun warga" in home.content.decode()
    assert client.get("/akun/petugas/").status_code == 403


def test_staff_visiting_the_citizen_home_go_to_theirs(client, make_staff):
    client.force_login(make_staff(role="leader"))
    response = client.get("/akun/warga/")
    assert response["Location"] == "/akun/petugas/"


def test_a_wrong_password_is_refused_in_indonesian(client, citizen):
    response = client.post(
        "/akun/masuk/", {"username": citizen.username, "password": "salah"}
    )
    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah" in response.content.decode()


# --- lockout (django-axes) -----------------------------------------------------------


def test_repeated_failures_lock_the_login_even_with_the_right_password(
    client, make_staff
):
    user = make_staff(role="leader")
    limit = django_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = client.post(
            "/akun/masuk/", {"username": user.username, "password": "salah"}
        )
        assert response.status_code == 200
    last = client.post("/akun/masuk/", {"username": user.username, "password": "salah"})
    assert last.status_code == 429
    response = client.post(
        "/akun/masuk/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Akun dikunci sementara" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_fewer_failures_than_the_limit_do_not_lock(client, make_staff):
    user = make_staff(role="leader")
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        client.post("/akun/masuk/", {"username": user.username, "password": "salah"})
    response = client.post(
        "/akun/masuk/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302


# --- the staff home links each role to the pages it may open -----------------------

REGISTRY_PAGES = {
    "search": "/penduduk/",
    "awaiting": "/penduduk/menunggu-nomor/",
    "corrections": "/penduduk/koreksi/",
    "imports": "/penduduk/impor/",
    "reconcile": "/penduduk/rekonsiliasi/",
    "duplicates": "/penduduk/ganda/",
}


def _home_links(client, user) -> set[str]:
    client.force_login(user)
    html = client.get("/akun/petugas/").content.decode()
    return {name for name, path in REGISTRY_PAGES.items() if f'href="{path}"' in html}


@pytest.mark.parametrize(
    ("role", "office", "expected"),
    [
        ("registry_officer", "DISDUKCAPIL", set(REGISTRY_PAGES)),
        ("registrar", "DISDUKCAPIL", set(REGISTRY_PAGES)),
        ("counter_officer", TENGGARONG, {"search", "corrections"}),
        ("helpdesk_officer", TENGGARONG, {"search"}),
        ("leader", TENGGARONG, set()),
    ],
)
def test_the_staff_home_links_only_the_pages_the_role_may_open(
    client, make_staff, role, office, expected
):
    user = make_staff(office=office, role=role)
    links = _home_links(client, user)
    assert links == expected
    # Every link shown opens; every page not shown is refused.
    for name, path in REGISTRY_PAGES.items():
        status = client.get(path).status_code
        assert (status == 200) == (name in expected), (role, path, status)


WORK_PAGES = {
    "inbox": "/layanan/petugas/",
    "counter": "/layanan/petugas/loket/",
    "verify": "/layanan/petugas/verifikasi-warga/",
    "overdue": "/layanan/petugas/terlambat/",
    "catalogue": "/layanan/kelola/",
    "holidays": "/layanan/kelola/libur/",
    "console": "/antrian/loket/",
    "stats": "/antrian/statistik/",
}


@pytest.mark.parametrize(
    ("role", "office", "must_see"),
    [
        ("counter_officer", TENGGARONG, {"inbox", "counter", "verify", "console"}),
        ("service_admin", "DISKOMINFO", {"catalogue", "holidays", "overdue"}),
        ("leader", TENGGARONG, {"overdue"}),
        ("auditor", "INSPEKTORAT", {"overdue"}),
    ],
)
def test_the_staff_home_links_service_and_queue_pages_the_role_may_open(
    client, make_staff, role, office, must_see
):
    user = make_staff(office=office, role=role)
    client.force_login(user)
    html = client.get("/akun/petugas/").content.decode()
    shown = {name for name, path in WORK_PAGES.items() if f'href="{path}"' in html}
    assert must_see <= shown
    for name, path in WORK_PAGES.items():
        status = client.get(path).status_code
        assert (status == 200) == (name in shown), (role, path, status)


# --- acting for one of several offices ---------------------------------------------

SWITCH_URL = "/akun/petugas/kantor/"


@pytest.fixture
def two_office_officer(make_staff, system_actor):
    from balai.accounts.actions import create_posting

    user = make_staff(office=TENGGARONG, role="counter_officer")
    create_posting(
        actor=system_actor,
        user=user,
        office=Office.objects.get(code=TABANG),
        position="Petugas loket (perbantuan)",
        role="counter_officer",
        start_date=datetime.date(2024, 1, 1),
    )
    return user


def _acting_office(client) -> str:
    from balai.accounts.auth import SESSION_OFFICE_KEY

    return client.session.get(SESSION_OFFICE_KEY, "")


def test_switching_office_needs_a_logged_in_officer(client, citizen):
    response = client.post(SWITCH_URL, {"office": TABANG})
    assert response.status_code == 302
    assert response["Location"].startswith("/akun/masuk/")
    client.force_login(citizen)
    assert client.post(SWITCH_URL, {"office": TABANG}).status_code == 403
    assert _acting_office(client) == ""


def test_an_officer_of_two_offices_acts_for_the_one_he_picks(
    client, two_office_officer
):
    from balai.accounts.auth import request_actor

    client.force_login(two_office_officer)
    home = client.get("/akun/petugas/").content.decode()
    assert 'name="office"' in home
    assert f'value="{TABANG}"' in home
    assert f'value="{TENGGARONG}"' in home

    response = client.post(SWITCH_URL, {"office": TABANG}, follow=True)
    assert _acting_office(client) == TABANG
    assert "Anda sekarang bertindak untuk" in response.content.decode()
    request = response.wsgi_request
    request._balai_actor = None
    assert request_actor(request).office_code == TABANG


def test_an_office_he_is_not_posted_at_changes_nothing(client, two_office_officer):
    client.force_login(two_office_officer)
    client.post(SWITCH_URL, {"office": TABANG})
    response = client.post(SWITCH_URL, {"office": "DISDUKCAPIL"}, follow=True)
    assert "Anda tidak bertugas di kantor itu hari ini." in response.content.decode()
    assert _acting_office(client) == TABANG


def test_an_officer_of_one_office_sees_no_switch(client, make_staff):
    client.force_login(make_staff(office=TENGGARONG, role="counter_officer"))
    assert 'name="office"' not in client.get("/akun/petugas/").content.decode()


# --- the citizen home: his start page -------------------------------------------


def test_citizen_home_links_his_service_pages(client, system_actor, make_resident):
    from balai.accounts.models import User

    person = make_resident(name="Warga Beranda")
    user = create_citizen_account(
        actor=system_actor,
        username="warga.beranda",
        password=PASSWORD,
        phone="081234567890",
        resident_id=person.pk,
        check_password=False,
    )
    anonymous = client.get("/akun/warga/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/akun/masuk/")

    client.force_login(user)
    text = client.get("/akun/warga/").content.decode()
    assert "segera hadir" not in text
    for address in (
        'href="/layanan/"',
        'href="/layanan/saya/"',
        'href="/layanan/lacak/"',
        'href="/layanan/saya/akses/"',
        'href="/antrian/janji-temu/"',
    ):
        assert address in text
    # Not yet verified: told to bring his KTP-el to a counter, with his
    # username, and (he has a phone) offered the SMS code page.
    assert 'data-verification="unverified"' in text
    assert "KTP-el" in text
    assert "warga.beranda" in text
    assert 'href="/layanan/daftar/verifikasi/"' in text

    User.objects.filter(pk=user.pk).update(is_verified_citizen=True)
    text = client.get("/akun/warga/").content.decode()
    assert 'data-verification="verified"' in text
    assert 'data-verification="unverified"' not in text
    assert 'href="/layanan/daftar/verifikasi/"' not in text


def test_citizen_home_without_a_phone_or_record(client, citizen):
    # An account not linked to a record has no access-log page, and one
    # without a phone is sent to the counter only.
    client.force_login(citizen)
    text = client.get("/akun/warga/").content.decode()
    assert 'href="/layanan/saya/"' in text
    assert "/layanan/saya/akses/" not in text
    assert 'data-verification="unverified"' in text
    assert "/layanan/daftar/verifikasi/" not in text
