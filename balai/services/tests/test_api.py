"""The JSON API: for each endpoint, anonymous / wrong role / right role, plus
the double submit, the stale step, tracking that says nothing, rate limits."""

import datetime
import json

import pytest
from django.test import Client, override_settings

from balai.services.models import Application, LocalHoliday, SurveyResponse
from balai.services.tests.conftest import MPP, pdf_bytes

pytestmark = pytest.mark.django_db

SKTM = {"purpose": "Beasiswa", "monthly_income": 1000000}
SCORES = dict.fromkeys(
    (
        "persyaratan",
        "prosedur",
        "waktu",
        "biaya",
        "produk",
        "kompetensi",
        "perilaku",
        "pengaduan",
        "sarana",
    ),
    3,
)


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, url, body=None, **headers):
    return client.post(
        url, json.dumps(body or {}), content_type="application/json", headers=headers
    )


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    if code:
        assert body["code"] == code
    return body


@pytest.fixture
def people(resident, citizen, officer_at, catalogue):
    """A verified citizen, a stranger citizen, staff of various roles."""
    person = resident(phone="081234567890")
    user, _ = citizen(person)
    stranger, _ = citizen(resident())
    return {
        "resident": person,
        "citizen": user,
        "stranger": stranger,
        "counter": officer_at(MPP, "counter_officer")[0],
        "helpdesk": officer_at(MPP, "helpdesk_officer")[0],
        "admin": officer_at("DPMPTSP", "service_admin")[0],
        "leader": officer_at("DPMPTSP", "leader")[0],
        "auditor": officer_at("INSPEKTORAT", "auditor")[0],
        "tabang": officer_at("MPP-64.02.12", "counter_officer")[0],
    }


def upload_via_api(client, code="kk", content=None, kind="requirement"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/applications/uploads",
        {
            "file": SimpleUploadedFile("berkas.pdf", content or pdf_bytes(code)),
            "kind": kind,
            "requirement_code": code,
        },
    )
    return response


def submit_sktm(client, key=None):
    upload = upload_via_api(client)
    assert upload.status_code == 201, upload.content
    headers = {"Idempotency-Key": key} if key else {}
    return post(
        client,
        "/api/v1/applications",
        {
            "service": "sktm",
            "form_data": SKTM,
            "attachments": [upload.json()["id"]],
        },
        **headers,
    )


# --- Catalogue ----------------------------------------------------------------


def test_catalogue_is_public(client, catalogue):
    response = client.get("/api/v1/services")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "items"}
    assert body["count"] == len(body["items"]) == len(catalogue)
    akta = next(s for s in body["items"] if s["code"] == "akta-kelahiran")
    assert akta["fee_rupiah"] == 0
    assert akta["workflow"] == "siak"
    assert akta["time_limit_to_confirm"] is True
    assert akta["form_schema"]["$schema"].endswith("2020-12/schema")
    assert client.get("/api/v1/services/sktm").json()["name"].startswith("Surat")
    error(client.get("/api/v1/services/tidak-ada"), 404)


def test_inactive_services_are_not_listed(client, catalogue, system_actor):
    from balai.services.actions import update_service

    update_service(
        actor=system_actor,
        service=catalogue["sku"],
        changes={"is_active": False},
        expected_revision=1,
    )
    codes = {s["code"] for s in client.get("/api/v1/services").json()["items"]}
    assert "sku" not in codes


def test_create_service_roles(client, people):
    body = {
        "code": "izin-keramaian",
        "name": "Surat Izin Keramaian",
        "name_en": "Crowd permit",
        "workflow": "office_letter",
        "responsible_kind": "regency",
        "responsible_office_code": "DPMPTSP",
        "time_limit_days": 5,
        "fee_rupiah": 0,
        "form_schema": {"type": "object", "properties": {}},
        "availability": "both",
    }
    error(post(client, "/api/v1/services", body), 401, "unauthenticated")
    error(post(as_user(people["counter"]), "/api/v1/services", body), 403)
    response = post(as_user(people["admin"]), "/api/v1/services", body)
    assert response.status_code == 201, response.content
    assert response.json()["revision"] == 1
    siak = {**body, "code": "siak-berbayar", "workflow": "siak", "fee_rupiah": 5000}
    error(
        post(as_user(people["admin"]), "/api/v1/services", siak),
        400,
        "siak_fee_forbidden",
    )


def test_update_service_roles_and_stale_revision(client, people):
    url = "/api/v1/services/sktm"
    body = {"expected_revision": 1, "changes": {"time_limit_days": 2}}
    error(patch(client, url, body), 401)
    error(patch(as_user(people["counter"]), url, body), 403)
    admin = as_user(people["admin"])
    response = patch(admin, url, body)
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    error(patch(admin, url, body), 409, "conflict")
    history = admin.get(f"{url}/history").json()
    assert [v["revision"] for v in history] == [2, 1]
    assert history[0]["diff"] == {"time_limit_days": [1, 2]}
    error(client.get(f"{url}/history"), 401)
    error(as_user(people["counter"]).get(f"{url}/history"), 403)


def test_local_holidays_roles(client, people):
    url = "/api/v1/services/calendar/holidays"
    body = {"date": "2026-09-28", "name": "HUT Kota Tenggarong (uji)"}
    error(post(client, url, body), 401)
    error(post(as_user(people["counter"]), url, body), 403)
    response = post(as_user(people["admin"]), url, body)
    assert response.status_code == 201
    assert client.get(url).json()[0]["date"] == "2026-09-28"
    holiday = LocalHoliday.objects.get()
    withdraw = f"{url}/{holiday.pk}/withdraw"
    error(post(as_user(people["counter"]), withdraw), 403)
    assert post(as_user(people["admin"]), withdraw).json()["is_active"] is False


def test_figures_roles(client, people):
    for url in (
        "/api/v1/services/figures/online-share?start=2026-01-01&end=2026-12-31",
        "/api/v1/services/figures/sla?start=2026-01-01&end=2026-12-31",
    ):
        error(client.get(url), 401)
        error(as_user(people["counter"]).get(url), 403)
        assert as_user(people["leader"]).get(url).status_code == 200
    share = as_user(people["leader"]).get(
        "/api/v1/services/figures/online-share?start=2026-01-01&end=2026-12-31"
    )
    assert len(share.json()) == 20  # every kecamatan


# --- Applications -------------------------------------------------------------


def test_upload_needs_a_login_and_refuses_forgeries(client, people):
    response = upload_via_api(client)
    error(response, 401)
    forged = upload_via_api(
        as_user(people["citizen"]), content=b"<html><body>bukan PDF</body></html>"
    )
    error(forged, 415, "file_type_refused")
    ok = upload_via_api(as_user(people["citizen"]))
    assert ok.status_code == 201
    assert len(ok.json()["sha256"]) == 64


def test_submit_roles(client, people):
    error(post(client, "/api/v1/applications", {"service": "sktm"}), 401)
    # An auditor is staff but files nothing.
    auditor = as_user(people["auditor"])
    body = {"service": "kia", "channel": "counter", "form_data": {}}
    error(post(auditor, "/api/v1/applications", body), 403)
    response = submit_sktm(as_user(people["citizen"]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted"
    assert body["tracking_code"]
    assert body["subjects"][0]["nik"].count("*") == 6  # masked


def test_counter_officer_submits_at_the_counter(people):
    counter = as_user(people["counter"])
    response = post(
        counter,
        "/api/v1/applications",
        {
            "service": "ktp-el-baru",
            "channel": "counter",
            "relation": "self",
            "subjects": [{"nik": people["resident"].nik}],
            "applicant": {"nik": people["resident"].nik},
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "counter"
    # Another kecamatan's officer cannot reach this resident.
    far = post(
        as_user(people["tabang"]),
        "/api/v1/applications",
        {
            "service": "ktp-el-baru",
            "channel": "counter",
            "subjects": [{"nik": people["resident"].nik}],
            "applicant": {"name": "X"},
            "relation": "family_member",
        },
    )
    error(far, 404)


def test_the_submit_answer_is_the_application_as_read_back(people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(people["citizen"])
    upload = upload_via_api(client).json()["id"]
    body = {"service": "sktm", "form_data": SKTM, "attachments": [upload]}
    with CaptureQueriesContext(connection) as queries:
        answer = post(client, "/api/v1/applications", body)
    assert answer.status_code == 201, answer.content
    filed = answer.json()
    assert len(filed["attachments"]) == 1
    assert len(filed["subjects"]) == 1
    assert [e["transition"] for e in filed["events"]] == ["submit"]
    assert filed == client.get(f"/api/v1/applications/{filed['id']}").json()
    # What was just filed is answered as filed, not read back.
    read_back = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and any(
            f'FROM "services_{t}"' in q["sql"]
            for t in ("applicationevent", "applicationsubject")
        )
    ]
    assert read_back == []


def test_double_submit_with_the_same_key_files_one(people):
    client = as_user(people["citizen"])
    upload = upload_via_api(client).json()["id"]
    body = {"service": "sktm", "form_data": SKTM, "attachments": [upload]}
    first = post(client, "/api/v1/applications", body, **{"Idempotency-Key": "k-1"})
    second = post(client, "/api/v1/applications", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Application.objects.count() == 1


def test_read_an_application_roles(client, people):
    app_id = submit_sktm(as_user(people["citizen"])).json()["id"]
    url = f"/api/v1/applications/{app_id}"
    error(client.get(url), 401)
    error(as_user(people["stranger"]).get(url), 404)
    error(as_user(people["tabang"]).get(url), 404)
    assert as_user(people["citizen"]).get(url).status_code == 200
    assert as_user(people["leader"]).get(url).status_code == 200  # regency scope
    listing = as_user(people["citizen"]).get("/api/v1/applications").json()
    assert listing["count"] == 1
    assert as_user(people["stranger"]).get("/api/v1/applications").json()["count"] == 0


def test_transition_roles_and_stale_version(client, people, officer_at):
    app_id = submit_sktm(as_user(people["citizen"])).json()["id"]
    app = Application.objects.get(pk=app_id)
    clerk = as_user(officer_at(app.owner_office.code, "counter_officer")[0])
    url = f"/api/v1/applications/{app_id}/transitions"
    body = {"name": "start_verification", "expected_version": 1}
    error(post(client, url, body), 401)
    error(post(as_user(people["tabang"]), url, body), 404)
    # The applicant may not start verification; a village letter is not the
    # MPP's work (least access: it does not even see it).
    error(post(as_user(people["citizen"]), url, body), 403)
    error(post(as_user(people["counter"]), url, body), 404)
    response = post(clerk, url, body)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "verification"
    assert response.json()["version"] == 2
    error(post(clerk, url, {"name": "reject", "expected_version": 1, "note": "x"}), 409)
    error(
        post(clerk, url, {"name": "reject", "expected_version": 2}),
        400,
        "note_required",
    )


def test_overdue_roles(client, people):
    error(client.get("/api/v1/applications/overdue"), 401)
    error(as_user(people["counter"]).get("/api/v1/applications/overdue"), 403)
    assert as_user(people["leader"]).get("/api/v1/applications/overdue").json() == {
        "count": 0,
        "items": [],
    }


def test_inbox_lists_the_office_work_by_deadline(people, officer_at):
    for _ in range(2):
        submit_sktm(as_user(people["citizen"]))
    office = Application.objects.first().owner_office
    clerk = as_user(officer_at(office.code, "counter_officer")[0])
    inbox = clerk.get("/api/v1/applications").json()
    assert inbox["count"] == 2
    assert as_user(people["counter"]).get("/api/v1/applications").json()["count"] == 0


ROW_KEYS = (
    "id",
    "number",
    "service",
    "status",
    "status_label",
    "channel",
    "owner_office",
    "submitted_at",
    "due_date",
    "deadline_flagged",
    "held_for_identity",
    "version",
)


def test_list_rows_say_what_the_application_page_says(people, officer_at):
    filed = submit_sktm(as_user(people["citizen"])).json()
    office = Application.objects.get(pk=filed["id"]).owner_office
    clerk = as_user(officer_at(office.code, "counter_officer")[0])
    detail = clerk.get(f"/api/v1/applications/{filed['id']}").json()
    expected = {k: detail[k] for k in ROW_KEYS}
    (row,) = clerk.get("/api/v1/applications").json()["items"]
    assert row == expected
    (own,) = as_user(people["citizen"]).get("/api/v1/applications").json()["items"]
    assert own == expected
    # Once past its deadline it is on the regency's overdue list, the same row.
    Application.objects.filter(pk=filed["id"]).update(
        due_date=datetime.date(2020, 1, 6)
    )
    overdue = as_user(people["leader"]).get("/api/v1/applications/overdue").json()
    assert overdue["items"] == [{**expected, "due_date": "2020-01-06"}]


def test_survey_roles(client, people, officer_at):
    app_id = submit_sktm(as_user(people["citizen"])).json()["id"]
    app = Application.objects.get(pk=app_id)
    clerk = as_user(officer_at(app.owner_office.code, "counter_officer")[0])
    post(
        clerk,
        f"/api/v1/applications/{app_id}/transitions",
        {"name": "reject", "expected_version": 1, "note": "Bukan warga"},
    )
    url = f"/api/v1/applications/{app_id}/survey"
    body = {"scores": SCORES, "comment": "baik"}
    error(post(client, url, body), 401)
    error(post(clerk, url, body), 404)
    error(post(as_user(people["stranger"]), url, body), 404)
    response = post(as_user(people["citizen"]), url, body)
    assert response.status_code == 201, response.content
    assert response.json()["scores"]["sarana"] == 3
    error(post(as_user(people["citizen"]), url, body), 409)
    assert SurveyResponse.objects.count() == 1


# --- Tracking -----------------------------------------------------------------


def test_tracking_shows_the_timeline_without_personal_data(client, people):
    body = submit_sktm(as_user(people["citizen"])).json()
    response = client.get(
        f"/api/v1/track/{body['number']}?code={body['tracking_code']}"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "submitted"
    assert [s["status"] for s in data["steps"]] == ["submitted"]
    text = response.content.decode()
    person = people["resident"]
    for secret in (person.nik, person.name, "Beasiswa", "081234567890"):
        assert secret not in text
    # The number as printed with slashes and a lower-case code also work.
    slashed = body["number"][::-1].replace("-", "/", 2)[::-1]
    again = client.get(f"/api/v1/track/{slashed}?code={body['tracking_code'].lower()}")
    assert again.status_code == 200


def test_wrong_code_says_nothing_more_than_an_unknown_number(client, people):
    body = submit_sktm(as_user(people["citizen"])).json()
    wrong = client.get(f"/api/v1/track/{body['number']}?code=ZZZZZZZZ")
    unknown = client.get("/api/v1/track/MPP-64.02.06-2026-999999?code=ZZZZZZZZ")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    no_code = client.get(f"/api/v1/track/{body['number']}")
    assert no_code.json() == unknown.json()


@override_settings(BALAI_RATE_LIMITS={"track": (3, 60)})
def test_repeated_guessing_is_rate_limited_per_ip(people):
    body = submit_sktm(as_user(people["citizen"])).json()
    guesser = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(3):
        assert (
            guesser.get(f"/api/v1/track/{body['number']}?code=AAAAAAAA").status_code
            == 404
        )
    url = f"/api/v1/track/{body['number']}?code={body['tracking_code']}"
    error(guesser.get(url), 429, "rate_limited")  # even the right code now
    assert Client(REMOTE_ADDR="10.0.0.10").get(url).status_code == 200


# --- Citizens -----------------------------------------------------------------


def test_sign_up_is_open_and_says_only_does_not_match(client, resident, sent):
    person = resident(phone="081298765432")
    body = {
        "nik": person.nik,
        "kk_number": person.family.kk_number,
        "mother_name": "Ratna",
        "password": "kata-sandi-warga-123",
    }
    bad = error(post(client, "/api/v1/citizens/sign-up", body), 400, "no_match")
    assert bad["message"] == "Data tidak cocok dengan data kependudukan."
    body["mother_name"] = "Siti Aminah"
    response = post(client, "/api/v1/citizens/sign-up", body)
    assert response.status_code == 201, response.content
    assert response.json()["code_sent"] is True
    assert response.json()["verified"] is False
    assert sent[-1]["template"] == "otp_pendaftaran"


@override_settings(BALAI_RATE_LIMITS={"sign_up": (2, 60)})
def test_sign_up_guessing_is_rate_limited(resident):
    person = resident()
    guesser = Client(REMOTE_ADDR="10.1.1.1")
    body = {
        "nik": person.nik,
        "kk_number": person.family.kk_number,
        "mother_name": "Salah",
        "password": "kata-sandi-warga-123",
    }
    for _ in range(2):
        error(post(guesser, "/api/v1/citizens/sign-up", body), 400)
    body["mother_name"] = "Siti Aminah"
    error(post(guesser, "/api/v1/citizens/sign-up", body), 429)


def test_verify_code_roles(client, resident, sent, people):
    person = resident(phone="081298765432")
    post(
        client,
        "/api/v1/citizens/sign-up",
        {
            "nik": person.nik,
            "kk_number": person.family.kk_number,
            "mother_name": "Siti Aminah",
            "password": "kata-sandi-warga-123",
        },
    )
    from balai.accounts.models import User

    user = User.objects.get(resident_id=person.pk)
    code = sent[-1]["context"]["kode"]
    error(post(Client(), "/api/v1/citizens/verify", {"code": code}), 401)
    error(
        post(as_user(people["counter"]), "/api/v1/citizens/verify", {"code": code}), 401
    )
    citizen = as_user(user)
    error(post(citizen, "/api/v1/citizens/verify", {"code": "000001"}), 400)
    response = post(citizen, "/api/v1/citizens/verify", {"code": code})
    assert response.json() == {"verified": True}


def test_verify_at_counter_roles(client, resident, citizen, people):
    person = resident()
    user, _ = citizen(person, verified=False)
    url = "/api/v1/citizens/verify-at-counter"
    body = {"username": user.username, "nik_seen": person.nik}
    error(post(client, url, body), 401)
    error(post(as_user(people["helpdesk"]), url, body), 403)
    error(post(as_user(people["tabang"]), url, body), 404)  # outside his kecamatan
    bad = {"username": user.username, "nik_seen": "6402060101900001"}
    error(post(as_user(people["counter"]), url, bad), 400, "nik_mismatch")
    assert post(as_user(people["counter"]), url, body).json() == {"verified": True}


def test_openapi_schema_lists_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/services",
        "/api/v1/applications",
        "/api/v1/applications/{application_id}/transitions",
        "/api/v1/track/{number}",
        "/api/v1/citizens/sign-up",
    ):
        assert path in paths, path


def test_my_access_log_roles_and_scope(client, people, officer_at, actor_of):
    from balai.registry.selectors import get_resident_detail

    url = "/api/v1/citizens/me/access-log"
    error(client.get(url), 401)
    error(as_user(people["counter"]).get(url), 401)

    counter = actor_of(people["counter"])
    _, registrar = officer_at(
        "DISDUKCAPIL", "registrar", position="Kepala Seksi Pencatatan Sipil"
    )
    get_resident_detail(counter, people["resident"].pk, "layanan")
    get_resident_detail(counter, people["resident"].pk, "verifikasi")
    get_resident_detail(registrar, people["stranger"].resident_id, "koreksi")

    body = as_user(people["citizen"]).get(url).json()
    assert body["page"] == 1
    assert body["has_next"] is False
    assert [i["purpose"] for i in body["items"]] == ["verifikasi", "layanan"]
    first = body["items"][0]
    assert first["office_code"] == MPP
    assert first["office_name"] == "Mal Pelayanan Publik Kecamatan Tenggarong"
    assert first["position"] == "Petugas"
    assert first["purpose_label"] == "verifikasi data"
    assert set(first) == {
        "at",
        "reader",
        "position",
        "office_code",
        "office_name",
        "purpose",
        "purpose_label",
        "what",
    }
    theirs = as_user(people["stranger"]).get(url).json()["items"]
    assert [(i["office_code"], i["purpose"]) for i in theirs] == [
        ("DISDUKCAPIL", "koreksi")
    ]
    assert theirs[0]["position"] == "Kepala Seksi Pencatatan Sipil"
    assert as_user(people["citizen"]).get(f"{url}?page=2").json()["items"] == []
