"""The register's JSON API: access, office scope, masked NIKs, the access log,
idempotent events, all-or-nothing refusals and the four-eyes rule."""

import re

import pytest

from balai.audit.models import AccessLog
from balai.registry.models import CorrectionRequest, EventKind, LifeEvent, Resident

pytestmark = pytest.mark.django_db

BASE = "/api/v1/registry"
TENGGARONG = "64.02.06.1001"
TABANG = "64.02.12.2001"
SIXTEEN_DIGITS = re.compile(r"(?<![\dA-Fa-f-])\d{16}(?!\d)")


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return login


@pytest.fixture
def officer(make_staff):
    return make_staff(office="MPP-64.02.06", role="registry_officer")


@pytest.fixture
def person(make_resident):
    return make_resident(village=TENGGARONG, name="Muhammad Rizky Pratama")


def error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    return body


def test_anonymous_gets_401(client, person):
    error(client.get(f"{BASE}/residents", {"q": "rizky"}), 401)
    error(client.get(f"{BASE}/residents/{person.pk}"), 401)
    error(client.get(f"{BASE}/families/{person.family_id}"), 401)
    error(
        client.post(
            f"{BASE}/residents/{person.pk}/death",
            {"occurred_on": "2024-01-01"},
            content_type="application/json",
        ),
        401,
    )


def test_wrong_role_gets_403(client_as, make_staff, person):
    client = client_as(make_staff(office="MPP-64.02.06", role="network_operator"))
    error(client.get(f"{BASE}/residents", {"q": "rizky"}), 403)
    error(client.get(f"{BASE}/residents/{person.pk}"), 403)
    before = LifeEvent.objects.count()
    error(
        client.post(
            f"{BASE}/residents/{person.pk}/death",
            {"occurred_on": "2024-01-01"},
            content_type="application/json",
        ),
        403,
    )
    assert LifeEvent.objects.count() == before
    assert AccessLog.objects.count() == 0


def test_search_masks_every_nik(client_as, officer, person):
    response = client_as(officer).get(f"{BASE}/residents", {"q": "muhamad riski"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["items"][0]["name"] == "Muhammad Rizky Pratama"
    assert body["items"][0]["nik"] == person.nik[:4] + "********" + person.nik[-4:]
    assert not SIXTEEN_DIGITS.search(response.content.decode())


def test_search_refuses_bad_filters(client_as, officer, person):
    body = error(
        client_as(officer).get(f"{BASE}/residents", {"q": "rizky", "sex": "X"}), 400
    )
    assert body["message"] == "Jenis kelamin harus L atau P."


def test_detail_is_whole_and_logged(client_as, officer, person):
    response = client_as(officer).get(
        f"{BASE}/residents/{person.pk}", {"purpose": "verifikasi"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["nik"] == person.nik
    assert body["events"][0]["kind"] == EventKind.REGISTRATION
    log = AccessLog.objects.get()
    assert (log.subject_id, log.purpose, log.actor_id) == (
        str(person.pk),
        "verifikasi",
        str(officer.pk),
    )


def test_detail_without_a_known_purpose_is_refused(client_as, officer, person):
    body = error(
        client_as(officer).get(f"{BASE}/residents/{person.pk}", {"purpose": "iseng"}),
        400,
    )
    assert body["code"] == "purpose_required"
    assert AccessLog.objects.count() == 0


def test_another_kecamatan_is_404(client_as, officer, make_resident):
    far = make_resident(village=TABANG)
    client = client_as(officer)
    error(client.get(f"{BASE}/residents/{far.pk}"), 404)
    error(client.get(f"{BASE}/families/{far.family_id}"), 404)
    before = LifeEvent.objects.count()
    error(
        client.post(
            f"{BASE}/residents/{far.pk}/death",
            {"occurred_on": "2024-01-01"},
            content_type="application/json",
        ),
        404,
    )
    assert LifeEvent.objects.count() == before
    assert AccessLog.objects.count() == 0


def test_family_masks_member_niks(client_as, officer, person):
    response = client_as(officer).get(f"{BASE}/families/{person.family_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["members"][0]["name"] == person.name
    assert person.nik not in response.content.decode()


def test_death_replayed_with_the_same_key_is_recorded_once(client_as, officer, person):
    client = client_as(officer)
    before = LifeEvent.objects.count()
    for _ in range(2):
        response = client.post(
            f"{BASE}/residents/{person.pk}/death",
            {"occurred_on": "2024-03-01", "place": "Rumah"},
            content_type="application/json",
            headers={"Idempotency-Key": "kematian-1"},
        )
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "mati"
    assert LifeEvent.objects.count() == before + 1


def test_impossible_date_is_refused_and_changes_nothing(client_as, officer, person):
    before = (LifeEvent.objects.count(), Resident.objects.count())
    body = error(
        client_as(officer).post(
            f"{BASE}/residents/{person.pk}/death",
            {"occurred_on": "2024-02-30"},
            content_type="application/json",
        ),
        400,
    )
    assert "bukan tanggal yang ada" in body["message"]
    assert (LifeEvent.objects.count(), Resident.objects.count()) == before


def test_a_second_head_is_refused(client_as, officer, person):
    before = (LifeEvent.objects.count(), Resident.objects.count())
    body = error(
        client_as(officer).post(
            f"{BASE}/arrivals",
            {
                "person": {
                    "name": "Kepala Kedua",
                    "sex": "L",
                    "birth_date": "1980-01-01",
                    "religion": 1,
                },
                "occurred_on": "2024-01-10",
                "origin": "Kota Samarinda",
                "to_family_id": str(person.family_id),
                "shdk": 1,
            },
            content_type="application/json",
        ),
        400,
    )
    assert "kepala keluarga" in body["message"]
    assert (LifeEvent.objects.count(), Resident.objects.count()) == before


def test_marriage_and_event_not_allowed(client_as, officer, person, make_resident):
    wife = make_resident(village=TENGGARONG, name="Nur Aini", sex="P")
    client = client_as(officer)
    payload = {
        "husband_id": str(person.pk),
        "wife_id": str(wife.pk),
        "occurred_on": "2024-01-01",
    }
    response = client.post(
        f"{BASE}/marriages", payload, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    before = LifeEvent.objects.count()
    body = error(
        client.post(f"{BASE}/marriages", payload, content_type="application/json"),
        400,
    )
    assert body["code"] == "event_not_allowed"
    assert LifeEvent.objects.count() == before


def test_correction_four_eyes(client_as, make_staff, person):
    proposer = make_staff(office="DISDUKCAPIL", role="registrar")
    client = client_as(proposer)
    response = client.post(
        f"{BASE}/corrections",
        {
            "resident_id": str(person.pk),
            "field": "birth_place",
            "new_value": "Tenggarong",
            "reason": "Salah ketik",
            "evidence": "Akta kelahiran",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    correction_id = response.json()["id"]
    assert [c["id"] for c in client.get(f"{BASE}/corrections").json()] == [
        correction_id
    ]
    body = error(
        client.post(
            f"{BASE}/corrections/{correction_id}/approve",
            {},
            content_type="application/json",
        ),
        403,
    )
    assert body["code"] == "same_person"
    assert not LifeEvent.objects.filter(kind=EventKind.CORRECTION).exists()

    other = client_as(make_staff(office="DISDUKCAPIL", role="registrar"))
    response = other.post(
        f"{BASE}/corrections/{correction_id}/approve",
        {"note": "Sesuai akta"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "disetujui"
    person.refresh_from_db()
    assert person.birth_place == "Tenggarong"


def test_officer_may_not_approve(client_as, officer, person, make_staff):
    client = client_as(officer)
    response = client.post(
        f"{BASE}/corrections",
        {
            "resident_id": str(person.pk),
            "field": "birth_place",
            "new_value": "Tenggarong",
            "reason": "Salah ketik",
            "evidence": "Akta",
        },
        content_type="application/json",
    )
    correction_id = response.json()["id"]
    client = client_as(make_staff(office="MPP-64.02.06", role="counter_officer"))
    error(
        client.post(
            f"{BASE}/corrections/{correction_id}/approve",
            {},
            content_type="application/json",
        ),
        403,
    )
    assert CorrectionRequest.objects.get().status == "menunggu"


# --- Numbers issued by SIAK ----------------------------------------------------------


@pytest.fixture
def waiting(make_resident):
    return make_resident(village=TENGGARONG, name="Siti Aminah Bayi", nik=None)


def issued_nik(resident):
    from balai.registry.testing import made_up_nik

    return made_up_nik(resident.village_id, resident.birth_date, resident.sex)


def post(client, path, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, body, content_type="application/json", **headers)


def test_issued_numbers_need_a_login_and_the_role(
    client, client_as, make_staff, waiting
):
    nik_url = f"{BASE}/residents/{waiting.pk}/nik"
    kk_url = f"{BASE}/families/{waiting.family_id}/kk-number"
    error(client.get(f"{BASE}/awaiting-numbers"), 401)
    error(post(client, nik_url, {"nik": issued_nik(waiting)}), 401)
    counter = client_as(make_staff(office="MPP-64.02.06", role="counter_officer"))
    error(counter.get(f"{BASE}/awaiting-numbers"), 403)
    error(post(counter, nik_url, {"nik": issued_nik(waiting)}), 403)
    error(post(counter, kk_url, {"kk_number": "6402061501200001"}), 403)
    waiting.refresh_from_db()
    assert waiting.nik is None
    assert waiting.family.kk_number is None


def test_awaiting_numbers_lists_what_waits_in_scope(
    client_as, officer, waiting, make_resident
):
    make_resident(village=TABANG, name="Bayi Tabang", nik=None)
    body = client_as(officer).get(f"{BASE}/awaiting-numbers").json()
    assert [r["name"] for r in body["residents"]] == ["Siti Aminah Bayi"]
    assert body["residents_total"] == 1
    assert [f["id"] for f in body["families"]] == [str(waiting.family_id)]
    assert body["families"][0]["head_name"] == "Siti Aminah Bayi"


def test_issued_nik_is_recorded_once_and_refused_when_bad_or_taken(
    client_as, officer, waiting, person
):
    client = client_as(officer)
    nik_url = f"{BASE}/residents/{waiting.pk}/nik"
    body = error(post(client, nik_url, {"nik": "9902063201900000"}), 400)
    assert body["code"] == "nik_invalid"
    assert set(body["extra"]["findings"]) == {"nik_province", "nik_date", "nik_serial"}
    body = error(post(client, nik_url, {"nik": person.nik}), 409)
    assert body["message"] == f"NIK {person.nik} sudah terdaftar."

    nik = issued_nik(waiting)
    first = post(client, nik_url, {"nik": nik}, key="nik-1")
    again = post(client, nik_url, {"nik": nik}, key="nik-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()
    assert first.json()["nik"] == nik[:4] + "********" + nik[-4:]
    assert LifeEvent.objects.filter(kind=EventKind.NIK_ISSUED).count() == 1
    waiting.refresh_from_db()
    assert waiting.nik == nik


def test_issued_kk_number_is_recorded(client_as, officer, waiting):
    client = client_as(officer)
    response = post(
        client,
        f"{BASE}/families/{waiting.family_id}/kk-number",
        {"kk_number": "6402061501200001"},
        key="kk-1",
    )
    assert response.status_code == 200, response.content
    assert response.json()["kk_number"] == "6402********0001"
    waiting.refresh_from_db()
    assert waiting.family.kk_number == "6402061501200001"
