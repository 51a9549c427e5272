"""The register's pages: access, office scope, masked and whole NIKs, the
access log, life-event forms (idempotent, all-or-nothing, Indonesian errors)
and the four-eyes rule on corrections."""

import datetime
import re

import pytest
from django.test import override_settings
from django.urls import reverse

from balai.audit.models import AccessLog
from balai.registry.models import (
    CorrectionRequest,
    CorrectionStatus,
    EventKind,
    LifeEvent,
    Resident,
    ResidentStatus,
)
from balai.registry.reference import Shdk

pytestmark = pytest.mark.django_db

TENGGARONG = "64.02.06.1001"
TABANG = "64.02.12.2001"
KK_NUMBER = "6402061501200001"
SIXTEEN_DIGITS = re.compile(r"(?<![\dA-Fa-f-])\d{16}(?!\d)")


@pytest.fixture
def client_as(client):
    """Log a user in through the model backend (the root fixture picks the
    first backend that has get_user, which need not be the one holding users)."""

    def login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return login


@pytest.fixture
def officer(make_staff):
    return make_staff(office="MPP-64.02.06", role="registry_officer")


@pytest.fixture
def person(make_resident):
    return make_resident(
        village=TENGGARONG, name="Muhammad Rizky Pratama", kk_number=KK_NUMBER
    )


def url(name, *args):
    return reverse(f"registry:{name}", args=args)


def event_count():
    return LifeEvent.objects.count()


# --- Access ------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, person):
    for target in (
        url("search"),
        url("resident", person.pk),
        url("family", person.family_id),
        url("resident-event", person.pk, "kematian"),
        url("birth", person.family_id),
        url("arrival"),
        url("corrections"),
    ):
        response = client.get(target)
        assert response.status_code == 302, target
        assert response["Location"].startswith(reverse("accounts:login")), target


@pytest.mark.parametrize("role", ["network_operator", "service_admin"])
def test_wrong_role_is_refused(client_as, make_staff, person, role):
    client = client_as(make_staff(office="MPP-64.02.06", role=role))
    assert client.get(url("search"), {"q": "rizky"}).status_code == 403
    assert client.get(url("resident", person.pk)).status_code == 403
    assert client.get(url("family", person.family_id)).status_code == 403
    assert AccessLog.objects.count() == 0


def test_citizen_is_refused(client, person, system_actor):
    from balai.accounts.actions import create_citizen_account

    user = create_citizen_account(
        actor=system_actor,
        username="warga-uji",
        password="kata-sandi-warga-123",
        resident_id=person.pk,
        check_password=False,
    )
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(url("search")).status_code == 403
    assert client.get(url("resident", person.pk)).status_code == 403


def test_helpdesk_reads_but_may_not_record(client_as, make_staff, person):
    client = client_as(make_staff(office="MPP-64.02.06", role="helpdesk_officer"))
    assert client.get(url("resident", person.pk)).status_code == 200
    assert client.get(url("resident-event", person.pk, "kematian")).status_code == 403


# --- Search ------------------------------------------------------------------------


def test_search_finds_a_name_with_a_typo_and_masks_the_nik(client_as, officer, person):
    response = client_as(officer).get(url("search"), {"q": "muhamad riski"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Muhammad Rizky Pratama" in html
    assert person.nik not in html
    assert person.nik[:4] + "********" + person.nik[-4:] in html
    assert not SIXTEEN_DIGITS.search(html)
    assert AccessLog.objects.count() == 0


def test_search_by_nik_shows_the_resident_masked(client_as, officer, person):
    html = client_as(officer).get(url("search"), {"q": person.nik}).content.decode()
    assert "Muhammad Rizky Pratama" in html
    # base.html's language switch echoes the address the officer typed; the
    # page's own content (search box, results, pager) never holds the number.
    html = re.sub(r'<input name="next" type="hidden" value="[^"]*">', "", html)
    assert not SIXTEEN_DIGITS.search(html)


def test_search_refuses_bad_filters_in_indonesian(client_as, officer, person):
    client = client_as(officer)
    html = client.get(
        url("search"), {"q": "rizky", "age_min": "40", "age_max": "20"}
    ).content.decode()
    assert "Umur sampai harus sama atau lebih dari umur dari." in html
    assert 'id="ringkasan-kesalahan"' in html
    html = client.get(url("search"), {"q": "12345"}).content.decode()
    assert "NIK dan nomor KK terdiri atas 16 angka." in html


def test_search_stays_in_the_officers_kecamatan(client_as, officer, make_resident):
    make_resident(village=TABANG, name="Rizky Tabang Saputra")
    html = client_as(officer).get(url("search"), {"q": "rizky tabang"}).content
    assert "Rizky Tabang Saputra" not in html.decode()


def test_search_filters_by_sex(client_as, officer, person, make_resident):
    make_resident(village=TENGGARONG, name="Rizky Amelia Putri", sex="P")
    html = (
        client_as(officer)
        .get(url("search"), {"q": "rizky", "sex": "P"})
        .content.decode()
    )
    assert "Rizky Amelia Putri" in html
    assert "Muhammad Rizky Pratama" not in html


# --- Resident and family pages -----------------------------------------------------


def test_resident_page_shows_whole_nik_timeline_and_logs_the_read(
    client_as, officer, person
):
    response = client_as(officer).get(url("resident", person.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert person.nik in html
    assert "Pendataan (data awal)" in html
    log = AccessLog.objects.get()
    assert log.subject_id == str(person.pk)
    assert log.actor_id == str(officer.pk)
    assert log.office_code == "MPP-64.02.06"
    assert log.purpose == "layanan"
    assert log.what == "record_nik"


def test_resident_page_asks_the_purpose(client_as, officer, person):
    client = client_as(officer)
    html = client.get(url("resident", person.pk)).content.decode()
    assert 'name="keperluan"' in html
    client.get(url("resident", person.pk), {"keperluan": "verifikasi"})
    assert AccessLog.objects.filter(purpose="verifikasi").count() == 1


def test_auditor_sees_the_nik_masked(client_as, make_staff, person):
    client = client_as(make_staff(office="MPP-64.02.06", role="auditor"))
    html = client.get(url("resident", person.pk)).content.decode()
    assert person.nik not in html
    assert AccessLog.objects.get().what == "record"


def test_family_page_is_laid_out_like_a_kk(client_as, officer, person, make_resident):
    child = make_resident(
        family=person.family,
        shdk=Shdk.ANAK,
        name="Siti Aisyah",
        sex="P",
        birth_date=datetime.date(2015, 5, 5),
    )
    person.refresh_from_db()
    html = client_as(officer).get(url("family", person.family_id)).content.decode()
    assert "Kartu Keluarga" in html
    assert person.family.kk_number in html
    assert "Kepala Keluarga" in html
    assert "Siti Aisyah" in html
    for heading in ("Golongan darah", "Pendidikan", "Kewarganegaraan", "Nama ibu"):
        assert heading in html
    assert child.nik not in html
    assert person.nik not in html


def test_another_kecamatan_is_not_found_through_the_pages(
    client_as, officer, make_resident
):
    far = make_resident(village=TABANG, name="Warga Tabang")
    client = client_as(officer)
    assert client.get(url("resident", far.pk)).status_code == 404
    assert client.get(url("family", far.family_id)).status_code == 404
    before = event_count()
    response = client.post(
        url("resident-event", far.pk, "kematian"),
        {"idempotency_key": "k1", "occurred_on": "2024-03-01"},
    )
    assert response.status_code == 404
    assert event_count() == before
    assert AccessLog.objects.count() == 0


@override_settings(BALAI_REQUIRE_OTP=True)
def test_resident_page_needs_the_second_factor(client_as, officer, person):
    response = client_as(officer).get(url("resident", person.pk))
    assert response.status_code == 302
    assert "/otp" in response["Location"] or "dua" in response["Location"]
    assert person.nik not in response.content.decode()
    assert AccessLog.objects.count() == 0


# --- Life events -------------------------------------------------------------------


def test_death_form_records_once_even_when_posted_twice(client_as, officer, person):
    client = client_as(officer)
    form = client.get(url("resident-event", person.pk, "kematian"))
    assert form.status_code == 200
    key = form.context["form"]["idempotency_key"].value()
    data = {"idempotency_key": key, "occurred_on": "01-03-2024", "place": "Rumah"}
    before = event_count()
    for _ in range(2):
        response = client.post(url("resident-event", person.pk, "kematian"), data)
        assert response.status_code == 302
    assert event_count() == before + 1
    person.refresh_from_db()
    assert person.status == ResidentStatus.DEAD
    assert person.status_date == datetime.date(2024, 3, 1)


def test_impossible_date_gives_a_clear_message_and_changes_nothing(
    client_as, officer, person
):
    before = event_count()
    response = client_as(officer).post(
        url("resident-event", person.pk, "kematian"),
        {"idempotency_key": "k-bad", "occurred_on": "30-02-2024"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bukan tanggal yang ada" in html
    assert 'href="#id_occurred_on"' in html  # the summary links to the field
    assert event_count() == before


def test_future_date_is_refused_by_the_register(client_as, officer, person):
    before = event_count()
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    response = client_as(officer).post(
        url("resident-event", person.pk, "kematian"),
        {"idempotency_key": "k-future", "occurred_on": future},
    )
    assert response.status_code == 400
    assert "masa depan" in response.content.decode()
    assert event_count() == before


def test_event_not_allowed_by_the_state_is_refused(client_as, officer, person):
    client = client_as(officer)
    ok = {"idempotency_key": "k-a", "occurred_on": "2024-03-01"}
    client.post(url("resident-event", person.pk, "kematian"), ok)
    before = event_count()
    response = client.post(
        url("resident-event", person.pk, "pindah-keluar"),
        {"idempotency_key": "k-b", "occurred_on": "2024-04-01", "destination": "Bali"},
    )
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert event_count() == before


def test_invalid_nik_of_spouse_gets_an_indonesian_message(client_as, officer, person):
    before = event_count()
    response = client_as(officer).post(
        url("resident-event", person.pk, "perkawinan"),
        {
            "idempotency_key": "k-m",
            "occurred_on": "2024-01-01",
            "spouse_nik": "12345",
        },
    )
    assert response.status_code == 400
    assert "NIK harus 16 angka." in response.content.decode()
    assert event_count() == before


def test_marriage_by_spouse_nik(client_as, officer, person, make_resident):
    wife = make_resident(village=TENGGARONG, name="Nur Aini", sex="P")
    response = client_as(officer).post(
        url("resident-event", person.pk, "perkawinan"),
        {
            "idempotency_key": "k-m2",
            "occurred_on": "2024-01-01",
            "spouse_nik": wife.nik,
        },
    )
    assert response.status_code == 302
    assert LifeEvent.objects.filter(kind=EventKind.MARRIAGE).count() == 2


def test_birth_form_registers_a_baby(client_as, officer, person):
    before = Resident.objects.count()
    response = client_as(officer).post(
        url("birth", person.family_id),
        {
            "idempotency_key": "k-birth",
            "name": "Bayi Pratama",
            "sex": "L",
            "birth_place": "Tenggarong",
            "birth_date": "2024-02-02",
            "religion": "1",
            "education": "1",
            "occupation": "1",
            "blood_type": "13",
            "citizenship": "1",
            "shdk": str(Shdk.ANAK),
            "father_nik": person.nik,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    baby = Resident.objects.get(name="Bayi Pratama")
    assert baby.family_id == person.family_id
    assert baby.father_name == person.name
    assert Resident.objects.count() == before + 1


def test_arrival_into_a_kk_with_a_head_as_second_head_is_refused(
    client_as, officer, person
):
    before = (Resident.objects.count(), event_count())
    response = client_as(officer).post(
        url("arrival"),
        {
            "idempotency_key": "k-arr",
            "name": "Kepala Kedua",
            "sex": "L",
            "birth_place": "Samarinda",
            "birth_date": "1980-01-01",
            "religion": "1",
            "education": "5",
            "occupation": "15",
            "blood_type": "13",
            "citizenship": "1",
            "occurred_on": "2024-01-10",
            "origin": "Kota Samarinda",
            "to_kk_number": person.family.kk_number,
            "shdk": str(Shdk.KEPALA_KELUARGA),
        },
    )
    assert response.status_code == 400
    assert "kepala keluarga" in response.content.decode()
    assert (Resident.objects.count(), event_count()) == before


# --- Corrections: four eyes --------------------------------------------------------


def test_correction_needs_a_second_person(client_as, make_staff, person):
    proposer = make_staff(office="DISDUKCAPIL", role="registrar")
    client = client_as(proposer)
    response = client.post(
        url("resident-event", person.pk, "koreksi"),
        {
            "idempotency_key": "k-c",
            "field": "name",
            "new_value": "Muhammad Rizki Pratama",
            "reason": "Salah ketik",
            "evidence": "Akta kelahiran",
        },
    )
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    queue = client.get(url("corrections")).content.decode()
    assert "Anda yang mengusulkan koreksi ini" in queue

    before = event_count()
    response = client.post(
        url("correction-decide", correction.pk, "setujui"), {"idempotency_key": "k-d"}
    )
    assert response.status_code == 403
    assert "tidak boleh memutuskannya sendiri" in response.content.decode()
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING
    assert event_count() == before

    other = client_as(make_staff(office="DISDUKCAPIL", role="registrar"))
    response = other.post(
        url("correction-decide", correction.pk, "setujui"), {"idempotency_key": "k-e"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.name == "Muhammad Rizki Pratama"
    assert LifeEvent.objects.filter(kind=EventKind.CORRECTION).count() == 1


def test_a_kecamatan_officer_sees_only_his_kecamatans_corrections(
    client_as, officer, person, make_resident, make_staff, actor_of
):
    from balai.registry.actions import propose_correction

    far = make_resident(village=TABANG, name="Warga Tabang")
    registrar = actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))
    for who, new_name in (
        (person, "Muhammad Rizki Pratama"),
        (far, "Warga Tabang Baru"),
    ):
        propose_correction(
            actor=registrar,
            resident=who,
            field="name",
            new_value=new_name,
            reason="Salah ketik",
            evidence="Akta kelahiran",
        )
    response = client_as(officer).get(url("corrections"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Muhammad Rizky Pratama" in html
    assert "Warga Tabang" not in html


def test_only_a_registrar_decides(client_as, officer, person, make_staff):
    from balai.accounts.selectors import actor_for
    from balai.registry.actions import propose_correction

    correction = propose_correction(
        actor=actor_for(user=make_staff(office="MPP-64.02.06", role="counter_officer")),
        resident=person,
        field="birth_place",
        new_value="Tenggarong",
        reason="Salah ketik",
        evidence="Akta",
    )
    response = client_as(officer).post(
        url("correction-decide", correction.pk, "setujui"), {"idempotency_key": "k"}
    )
    assert response.status_code == 403
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING


# --- Numbers issued by SIAK ----------------------------------------------------------


@pytest.fixture
def waiting(make_resident):
    """A resident registered awaiting a NIK, heading a KK awaiting a number."""
    return make_resident(village=TENGGARONG, name="Siti Aminah Bayi", nik=None)


@pytest.fixture
def disdukcapil(make_staff):
    return make_staff(office="DISDUKCAPIL", role="registry_officer")


def issued_nik(resident):
    from balai.registry.testing import made_up_nik

    return made_up_nik(resident.village_id, resident.birth_date, resident.sex)


def test_numbers_pages_send_the_anonymous_to_login(client, waiting):
    responses = [
        client.get(url("awaiting-numbers")),
        client.get(url("record-nik", waiting.pk)),
        client.post(url("record-nik", waiting.pk), {"nik": issued_nik(waiting)}),
        client.get(url("record-kk", waiting.family_id)),
        client.post(url("record-kk", waiting.family_id), {"kk_number": KK_NUMBER}),
    ]
    for response in responses:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    waiting.refresh_from_db()
    assert waiting.nik is None


@pytest.mark.parametrize("role", ["counter_officer", "helpdesk_officer"])
def test_numbers_pages_refuse_a_role_that_does_not_record_them(
    client_as, make_staff, waiting, role
):
    client = client_as(make_staff(office="MPP-64.02.06", role=role))
    before = event_count()
    assert client.get(url("awaiting-numbers")).status_code == 403
    assert client.get(url("record-nik", waiting.pk)).status_code == 403
    response = client.post(
        url("record-nik", waiting.pk),
        {"idempotency_key": "k-n", "nik": issued_nik(waiting)},
    )
    assert response.status_code == 403
    response = client.post(
        url("record-kk", waiting.family_id),
        {"idempotency_key": "k-k", "kk_number": KK_NUMBER},
    )
    assert response.status_code == 403
    assert event_count() == before
    # Nor does the resident page offer the form.
    html = client.get(url("resident", waiting.pk)).content.decode()
    assert url("record-nik", waiting.pk) not in html


def test_awaiting_list_is_oldest_first_and_scoped_to_the_office(
    client_as, officer, disdukcapil, make_resident
):
    first = make_resident(village=TENGGARONG, name="Bayi Pertama", nik=None)
    second = make_resident(village=TENGGARONG, name="Bayi Kedua", nik=None)
    far = make_resident(village=TABANG, name="Bayi Tabang", nik=None)
    has_nik = make_resident(
        village=TENGGARONG, name="Sudah Punya NIK", kk_number="6402061501200002"
    )

    html = client_as(officer).get(url("awaiting-numbers")).content.decode()
    assert "Menunggu NIK / Nomor KK dari SIAK" in html
    assert html.index("Bayi Pertama") < html.index("Bayi Kedua")
    assert "Bayi Tabang" not in html
    assert "Sudah Punya NIK" not in html
    assert url("record-nik", first.pk) in html
    assert url("record-kk", second.family_id) in html
    assert url("record-kk", has_nik.family_id) not in html

    html = client_as(disdukcapil).get(url("awaiting-numbers")).content.decode()
    assert "Bayi Tabang" in html
    assert url("record-kk", far.family_id) in html


def test_resident_page_offers_the_nik_form_to_a_registry_officer(
    client_as, officer, waiting, person
):
    client = client_as(officer)
    html = client.get(url("resident", waiting.pk)).content.decode()
    assert f'action="{url("record-nik", waiting.pk)}"' in html
    assert 'name="idempotency_key"' in html
    html = client.get(url("resident", person.pk)).content.decode()
    assert url("record-nik", person.pk) not in html


def test_bad_nik_shows_every_finding_in_indonesian_and_changes_nothing(
    client_as, officer, waiting
):
    before = event_count()
    response = client_as(officer).post(
        url("record-nik", waiting.pk),
        {"idempotency_key": "k-bad-nik", "nik": "9902063201900000"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Kode provinsi 99 pada NIK bukan kode provinsi Indonesia." in html
    assert "Bagian tanggal lahir NIK (320190) bukan tanggal yang ada" in html
    assert "Nomor urut NIK (4 angka terakhir) tidak boleh 0000." in html
    response = client_as(officer).post(
        url("record-nik", waiting.pk), {"idempotency_key": "k-short", "nik": "64a"}
    )
    html = response.content.decode()
    assert "NIK harus 16 angka; yang diisi 3 karakter." in html
    assert "NIK hanya boleh berisi angka 0-9." in html
    assert event_count() == before
    waiting.refresh_from_db()
    assert waiting.nik is None


def test_a_nik_another_resident_holds_is_refused_with_the_reason(
    client_as, officer, waiting, person
):
    before = event_count()
    response = client_as(officer).post(
        url("record-nik", waiting.pk),
        {"idempotency_key": "k-taken", "nik": person.nik},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f"NIK {person.nik} sudah terdaftar." in html
    assert "Nomor ini sudah dipakai data lain di register." in html
    assert event_count() == before
    waiting.refresh_from_db()
    assert waiting.nik is None


def test_recorded_nik_shows_on_the_page_in_the_timeline_and_the_audit(
    client_as, officer, waiting
):
    from balai.audit.models import AuditEntry

    client = client_as(officer)
    nik = issued_nik(waiting)
    data = {"idempotency_key": "k-nik", "nik": nik[:4] + " " + nik[4:]}
    response = client.post(url("record-nik", waiting.pk), data)
    assert response.status_code == 302
    assert response["Location"] == url("resident", waiting.pk)
    # Posted twice (a double click): recorded once.
    assert client.post(url("record-nik", waiting.pk), data).status_code == 302
    assert LifeEvent.objects.filter(kind=EventKind.NIK_ISSUED).count() == 1

    waiting.refresh_from_db()
    assert waiting.nik == nik
    assert "menunggu_nik" not in waiting.flags
    html = client.get(url("resident", waiting.pk)).content.decode()
    assert "NIK dari SIAK dicatat." in html
    assert f'<dd class="nik">{nik}</dd>' in html
    assert "NIK terbit dari SIAK" in html
    assert url("record-nik", waiting.pk) not in html
    entry = AuditEntry.objects.get(
        action="registry.nik.record_issued", object_id=str(waiting.pk)
    )
    assert entry.actor_name == officer.username
    assert entry.details["nik_terbit"] == {"nik": nik}

    # A second officer, later, with a fresh form: refused with the reason.
    response = client.post(
        url("record-nik", waiting.pk), {"idempotency_key": "k-nik-2", "nik": nik}
    )
    assert response.status_code == 400
    assert "Penduduk ini sudah memiliki NIK." in response.content.decode()


def test_a_nik_disagreeing_with_the_birth_date_is_kept_with_a_warning(
    client_as, officer, waiting
):
    from balai.registry.testing import made_up_nik

    nik = made_up_nik(TENGGARONG, datetime.date(1991, 2, 3), waiting.sex)
    response = client_as(officer).post(
        url("record-nik", waiting.pk),
        {"idempotency_key": "k-check", "nik": nik},
        follow=True,
    )
    html = response.content.decode()
    assert "berbeda dengan tanggal lahir pada data" in html
    waiting.refresh_from_db()
    assert waiting.nik == nik
    assert "nik_periksa" in waiting.flags


def test_recorded_kk_number_shows_on_the_card_and_the_timeline(
    client_as, officer, waiting
):
    from balai.audit.models import AuditEntry

    client = client_as(officer)
    html = client.get(url("family", waiting.family_id)).content.decode()
    assert f'action="{url("record-kk", waiting.family_id)}"' in html
    response = client.post(
        url("record-kk", waiting.family_id),
        {"idempotency_key": "k-kk-bad", "kk_number": "6402063213240000"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bagian tanggal terbit nomor KK (321324) bukan tanggal yang ada." in html
    assert "Nomor urut KK (4 angka terakhir) tidak boleh 0000." in html

    response = client.post(
        url("record-kk", waiting.family_id),
        {"idempotency_key": "k-kk", "kk_number": KK_NUMBER},
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.family.kk_number == KK_NUMBER
    html = client.get(url("family", waiting.family_id), {"keperluan": "layanan"})
    assert KK_NUMBER in html.content.decode()
    html = client.get(url("resident", waiting.pk)).content.decode()
    assert "Nomor KK terbit dari SIAK" in html
    assert AuditEntry.objects.filter(
        action="registry.kk.record_issued", object_id=str(waiting.family_id)
    ).exists()


def test_a_kk_number_another_kk_holds_is_refused(client_as, officer, waiting, person):
    response = client_as(officer).post(
        url("record-kk", waiting.family_id),
        {"idempotency_key": "k-kk-taken", "kk_number": KK_NUMBER},
    )
    assert response.status_code == 400
    assert f"Nomor KK {KK_NUMBER} sudah terdaftar." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.family.kk_number is None


# --- Search as you type: the results fragment -------------------------------------


def test_results_fragment_sends_the_anonymous_to_login(client, person):
    response = client.get(url("search-results"), {"q": "rizky"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["network_operator", "service_admin"])
def test_results_fragment_refuses_a_wrong_role(client_as, make_staff, person, role):
    client = client_as(make_staff(office="MPP-64.02.06", role=role))
    response = client.get(url("search-results"), {"q": "rizky"})
    assert response.status_code == 403
    assert "Muhammad Rizky Pratama" not in response.content.decode()


def test_results_fragment_is_the_results_alone_with_niks_masked(
    client_as, officer, person, make_resident
):
    make_resident(village=TABANG, name="Muhammad Rizky Tabang")
    client = client_as(officer)
    response = client.get(url("search-results"), {"q": "muhamad riski", "page": "1"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "<html" not in html
    assert "<form" not in html
    assert "Muhammad Rizky Pratama" in html
    assert "Muhammad Rizky Tabang" not in html
    assert person.nik[:4] + "********" + person.nik[-4:] in html
    assert not SIXTEEN_DIGITS.search(html)
    # By NIK: found, still masked, and the number is not in the pager links.
    html = client.get(url("search-results"), {"q": person.nik}).content.decode()
    assert "Muhammad Rizky Pratama" in html
    assert not SIXTEEN_DIGITS.search(html)
    assert AccessLog.objects.count() == 0


def test_results_fragment_says_why_a_query_is_refused(client_as, officer, person):
    html = (
        client_as(officer)
        .get(url("search-results"), {"q": "6402 0615"})
        .content.decode()
    )
    assert "NIK dan nomor KK terdiri atas 16 angka." in html
    assert "Muhammad Rizky Pratama" not in html


def test_search_page_works_without_javascript_and_offers_it(client_as, officer, person):
    html = client_as(officer).get(url("search"), {"q": "rizky"}).content.decode()
    assert f'action="{url("search")}"' in html
    assert f'data-live-search="{url("search-results")}"' in html
    assert "registry/live-search.js" in html
    assert "Muhammad Rizky Pratama" in html
