import datetime

import pytest
from django.conf import settings as django_settings

from balai.accounts.actions import create_citizen_account, issue_api_token
from balai.accounts.models import ApiToken, Posting
from balai.accounts.tests.conftest import current_code
from balai.audit.models import AuditEntry
from balai.core.models import ChangeRecord, IdempotencyRecord

pytestmark = pytest.mark.django_db

TENGGARONG = "MPP-64.02.06"
TABANG = "MPP-64.02.12"
PASSWORD = "kata-sandi-uji-123"


def staff_url(code: str) -> str:
    return f"/api/v1/offices/{code}/staff"


@pytest.fixture
def bearer(actor_of):
    """Return headers with a bearer token for `user` (issued after the 2nd factor)."""

    def make(user, *, otp_verified: bool = True) -> dict:
        _, secret = issue_api_token(
            actor=actor_of(user), user=user, otp_verified=otp_verified
        )
        return {"Authorization": f"Bearer {secret}"}

    return make


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    assert body["code"] == code
    return body


# --- GET /api/v1/offices/{code}/staff: who may read --------------------------------


def test_anonymous_callers_get_401(client):
    body = assert_error(client.get(staff_url(TENGGARONG)), 401, "unauthenticated")
    assert body["message"] == "Silakan masuk terlebih dahulu."


def test_a_wrong_role_gets_403(client, make_staff, bearer):
    officer = make_staff(office=TENGGARONG, role="counter_officer")
    response = client.get(staff_url(TENGGARONG), headers=bearer(officer))
    assert_error(response, 403, "forbidden")
    client.force_login(officer)
    assert_error(client.get(staff_url(TENGGARONG)), 403, "forbidden")


def test_the_camat_reads_his_roster(client, make_staff, bearer):
    loket = make_staff(
        office=TENGGARONG,
        role="counter_officer",
        position="Petugas Loket",
        nip="198702142010012003",
    )
    camat = make_staff(
        office=TENGGARONG, role="leader", position="Camat Tenggarong", is_head=True
    )
    response = client.get(staff_url(TENGGARONG), headers=bearer(camat))
    assert response.status_code == 200
    body = response.json()
    assert body["office"] == {
        "code": TENGGARONG,
        "name": "Mal Pelayanan Publik Kecamatan Tenggarong",
        "kind": "mpp",
        "region": "64.02.06",
    }
    assert body["history"] is False
    assert body["count"] == 2
    first, second = body["items"]
    assert first["username"] == camat.username
    assert (first["title"], first["is_head"], first["role"]) == (
        "Camat Tenggarong",
        True,
        "leader",
    )
    assert second == {
        "id": str(loket.postings.get().pk),
        "username": loket.username,
        "name": f"Pegawai {loket.username}",
        "nip": "198702142010012003",
        "position": "Petugas Loket",
        "title": "Petugas Loket",
        "role": "counter_officer",
        "role_label": "Petugas loket",
        "is_head": False,
        "is_acting": False,
        "start_date": "2024-01-01",
        "end_date": None,
    }


def test_a_tenggarong_officer_gets_404_for_tabang(client, make_staff, bearer):
    make_staff(office=TABANG, role="counter_officer")
    officer = make_staff(office=TENGGARONG, role="helpdesk_officer")
    response = client.get(staff_url(TABANG), headers=bearer(officer))
    body = assert_error(response, 404, "office_not_found")
    assert body["message"] == "Kantor tidak ditemukan."
    client.force_login(officer)
    assert_error(client.get(staff_url(TABANG)), 404, "office_not_found")


def test_regency_staff_read_tabang(client, make_staff, bearer):
    make_staff(office=TABANG, role="counter_officer")
    registrar_admin = make_staff(office="DPMPTSP", role="service_admin")
    response = client.get(staff_url(TABANG), headers=bearer(registrar_admin))
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_history_and_day_filters(client, make_staff, bearer):
    make_staff(
        office=TABANG, role="counter_officer", end_date=datetime.date(2024, 6, 1)
    )
    auditor = make_staff(office="INSPEKTORAT", role="auditor")
    headers = bearer(auditor)
    assert client.get(staff_url(TABANG), headers=headers).json()["count"] == 0
    past = client.get(staff_url(TABANG) + "?on=2024-02-01", headers=headers).json()
    assert (past["count"], past["on"]) == (1, "2024-02-01")
    history = client.get(staff_url(TABANG) + "?history=true", headers=headers).json()
    assert (history["count"], history["on"], history["history"]) == (1, None, True)
    bad = client.get(staff_url(TABANG) + "?on=kemarin", headers=headers)
    body = assert_error(bad, 422, "validation_error")
    assert body["extra"]["fields"][0]["field"] == "on"


def test_citizens_are_refused_by_the_staff_api(client, system_actor):
    citizen = create_citizen_account(
        actor=system_actor,
        username="warga.api",
        password=PASSWORD,
        check_password=False,
    )
    client.force_login(citizen)
    assert_error(client.get(staff_url(TENGGARONG)), 403, "forbidden")


def test_revoked_and_expired_tokens_are_refused(client, make_staff, bearer):
    camat = make_staff(office=TENGGARONG, role="leader")
    headers = bearer(camat)
    assert client.get(staff_url(TENGGARONG), headers=headers).status_code == 200
    token = ApiToken.objects.get(user=camat)
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=token.created_at - datetime.timedelta(seconds=1)
    )
    assert_error(
        client.get(staff_url(TENGGARONG), headers=headers), 401, "unauthenticated"
    )
    headers = bearer(camat)
    ApiToken.objects.filter(user=camat).update(revoked_at=token.created_at)
    assert_error(
        client.get(staff_url(TENGGARONG), headers=headers), 401, "unauthenticated"
    )


def test_last_use_of_a_token_is_kept_to_the_minute(client, make_staff, bearer):
    camat = make_staff(office=TENGGARONG, role="leader")
    headers = bearer(camat)
    assert client.get(staff_url(TENGGARONG), headers=headers).status_code == 200
    first = ApiToken.objects.get(user=camat).last_used_at
    assert first is not None
    # A second call within the minute writes nothing (no commit of its own).
    assert client.get(staff_url(TENGGARONG), headers=headers).status_code == 200
    assert ApiToken.objects.get(user=camat).last_used_at == first
    # A call a minute later records the new time.
    earlier = first - datetime.timedelta(seconds=61)
    ApiToken.objects.filter(user=camat).update(last_used_at=earlier)
    assert client.get(staff_url(TENGGARONG), headers=headers).status_code == 200
    assert ApiToken.objects.get(user=camat).last_used_at > first


# --- the second factor on the API ----------------------------------------------------


def test_a_session_without_second_factor_is_refused(client, make_staff, otp_required):
    client.force_login(make_staff(office=TENGGARONG, role="helpdesk_officer"))
    body = assert_error(client.get(staff_url(TENGGARONG)), 403, "otp_required")
    assert "OTP" in body["message"]


def test_a_session_with_second_factor_is_served(
    make_staff, otp_required, verified_client
):
    client = verified_client(make_staff(office=TENGGARONG, role="helpdesk_officer"))
    assert client.get(staff_url(TENGGARONG)).status_code == 200


def test_a_token_issued_without_second_factor_is_refused(
    client, make_staff, bearer, otp_required
):
    officer = make_staff(office=TENGGARONG, role="helpdesk_officer")
    response = client.get(
        staff_url(TENGGARONG), headers=bearer(officer, otp_verified=False)
    )
    assert_error(response, 403, "otp_required")
    ok = client.get(staff_url(TENGGARONG), headers=bearer(officer, otp_verified=True))
    assert ok.status_code == 200


# --- POST /api/v1/auth/token ---------------------------------------------------------


def post_token(client, **body):
    return client.post("/api/v1/auth/token", body, content_type="application/json")


def test_token_without_otp_is_refused_when_the_second_factor_is_required(
    client, make_staff, otp_required, totp_device
):
    officer = make_staff(office=TENGGARONG, role="helpdesk_officer")
    totp_device(officer)
    response = post_token(client, username=officer.username, password=PASSWORD)
    assert_error(response, 403, "otp_required")
    assert not ApiToken.objects.filter(user=officer).exists()


def test_token_with_a_wrong_otp_is_refused(
    client, make_staff, otp_required, totp_device
):
    officer = make_staff(office=TENGGARONG, role="helpdesk_officer")
    device = totp_device(officer)
    wrong = "000000" if current_code(device) != "000000" else "111111"
    response = post_token(
        client, username=officer.username, password=PASSWORD, otp=wrong
    )
    assert_error(response, 401, "otp_invalid")


def test_token_with_a_valid_otp_opens_the_api(
    client, make_staff, otp_required, totp_device
):
    officer = make_staff(office=TENGGARONG, role="helpdesk_officer")
    device = totp_device(officer)
    response = post_token(
        client, username=officer.username, password=PASSWORD, otp=current_code(device)
    )
    assert response.status_code == 200
    body = response.json()
    token = ApiToken.objects.get(user=officer)
    assert token.otp_verified
    assert body["token"] not in token.digest, "stored hashed"
    roster = client.get(
        staff_url(TENGGARONG), headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert roster.status_code == 200


def test_token_without_otp_in_demo_mode(client, make_staff, settings):
    settings.BALAI_REQUIRE_OTP = False
    officer = make_staff(office=TENGGARONG, role="helpdesk_officer")
    response = post_token(client, username=officer.username, password=PASSWORD)
    assert response.status_code == 200
    assert not ApiToken.objects.get(user=officer).otp_verified


def test_token_for_bad_credentials_or_a_citizen_is_refused(
    client, system_actor, make_staff
):
    officer = make_staff(role="leader")
    assert_error(
        post_token(client, username=officer.username, password="salah"),
        401,
        "bad_credentials",
    )
    citizen = create_citizen_account(
        actor=system_actor,
        username="warga.token",
        password=PASSWORD,
        check_password=False,
    )
    assert_error(
        post_token(client, username=citizen.username, password=PASSWORD),
        401,
        "bad_credentials",
    )


def test_the_token_endpoint_locks_out_too(client, make_staff):
    officer = make_staff(role="leader")
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        post_token(client, username=officer.username, password="salah")
    response = post_token(client, username=officer.username, password=PASSWORD)
    assert_error(response, 429, "locked_out")
    assert not ApiToken.objects.filter(user=officer).exists()


# --- POST /api/v1/offices/{code}/staff: idempotent by header ----------------------


def posting_body(user, **extra):
    return {
        "username": user.username,
        "position": "Petugas Loket",
        "role": "counter_officer",
        "start_date": "2025-03-03",
        **extra,
    }


def post_posting(client, code, body, headers):
    return client.post(
        staff_url(code), body, content_type="application/json", headers=headers
    )


def counts():
    return (
        Posting.objects.count(),
        AuditEntry.objects.count(),
        ChangeRecord.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def test_a_replayed_posting_with_the_same_key_changes_nothing(
    client, make_staff, bearer
):
    admin = make_staff(office="DISKOMINFO", role="sysadmin")
    newcomer = make_staff(office=TENGGARONG)
    headers = {**bearer(admin), "Idempotency-Key": "pos-2025-03-03-001"}
    first = post_posting(client, TABANG, posting_body(newcomer), headers)
    assert first.status_code == 201, first.content
    assert first.json()["username"] == newcomer.username
    before = counts()
    replay = post_posting(client, TABANG, posting_body(newcomer), headers)
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert counts() == before
    other = post_posting(
        client, TABANG, posting_body(newcomer, position="Camat"), headers
    )
    body = assert_error(other, 422, "idempotency_mismatch")
    assert "Kunci idempotensi" in body["message"]
    assert counts() == before


def test_without_a_key_a_retry_writes_twice(client, make_staff, bearer):
    admin = make_staff(office="DISKOMINFO", role="sysadmin")
    newcomer = make_staff(office=TENGGARONG)
    headers = bearer(admin)
    a = post_posting(client, TABANG, posting_body(newcomer), headers)
    b = post_posting(client, TABANG, posting_body(newcomer), headers)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


def test_posting_api_refusals(client, make_staff, bearer):
    newcomer = make_staff(office=TENGGARONG)
    anonymous = post_posting(client, TABANG, posting_body(newcomer), {})
    assert_error(anonymous, 401, "unauthenticated")
    leader = make_staff(office="DPMPTSP", role="leader")
    assert_error(
        post_posting(client, TABANG, posting_body(newcomer), bearer(leader)),
        403,
        "forbidden",
    )
    local_admin = make_staff(office=TENGGARONG, role="sysadmin")
    assert_error(
        post_posting(client, TABANG, posting_body(newcomer), bearer(local_admin)),
        404,
        "office_not_found",
    )
    admin = bearer(make_staff(office="DISKOMINFO", role="sysadmin"))
    assert_error(
        post_posting(client, TABANG, posting_body(newcomer, role="raja"), admin),
        400,
        "role_unknown",
    )
    assert_error(
        post_posting(
            client,
            TABANG,
            posting_body(newcomer),
            {**admin, "Idempotency-Key": "x" * 129},
        ),
        422,
        "idempotency_key_invalid",
    )
    assert not Posting.objects.filter(office__code=TABANG).exists()
