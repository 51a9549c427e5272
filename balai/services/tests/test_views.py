"""The pages: the citizen's way (catalogue, apply with a draft, check your
answers, receipt, survey, tracking, sign-up) and the officer's (inbox,
application page with its steps, overdue list, catalogue and holidays),
each for anonymous / wrong role / right role; files only through the view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from balai.services.models import Application, ApplicationDraft, LocalHoliday, Status
from balai.services.tests.conftest import MPP, pdf_bytes

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(resident, citizen, officer_at, catalogue):
    person = resident(phone="081234567890")
    user, _ = citizen(person)
    return {
        "resident": person,
        "citizen": user,
        "stranger": citizen(resident())[0],
        "counter": officer_at(MPP, "counter_officer")[0],
        "helpdesk": officer_at(MPP, "helpdesk_officer")[0],
        "admin": officer_at("DPMPTSP", "service_admin")[0],
        "leader": officer_at("DPMPTSP", "leader")[0],
    }


def test_catalogue_and_service_pages_are_public(client, catalogue):
    page = client.get("/layanan/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Akta Kelahiran" in text
    assert "belum dikonfirmasi" in text
    detail = client.get("/layanan/akta-kelahiran/")
    assert detail.status_code == 200
    assert "Surat keterangan lahir" in detail.content.decode()
    assert client.get("/layanan/tidak-ada/").status_code == 404


def test_apply_needs_a_citizen(client, people):
    response = client.get("/layanan/sktm/ajukan/")
    assert response.status_code == 302
    assert "/akun/masuk/" in response["Location"]
    assert as_user(people["counter"]).get("/layanan/sktm/ajukan/").status_code == 403


def test_apply_draft_review_submit(people):
    client = as_user(people["citizen"])
    form = client.get("/layanan/sktm/ajukan/")
    assert form.status_code == 200
    assert 'name="f-purpose"' in form.content.decode()
    # An error summary when the schema says no; the draft keeps the file.
    bad = client.post(
        "/layanan/sktm/ajukan/",
        {
            "relation": "self",
            "f-monthly_income": "-3",
            "file_kk": SimpleUploadedFile("kk.pdf", pdf_bytes("kk")),
            "lanjut": "1",
        },
    )
    assert bad.status_code == 200
    assert "ringkasan-kesalahan" in bad.content.decode()
    draft = ApplicationDraft.objects.get()
    assert "kk" in draft.data["attachments"]
    ok = client.post(
        "/layanan/sktm/ajukan/",
        {"relation": "self", "f-purpose": "Beasiswa anak", "lanjut": "1"},
    )
    assert ok.status_code == 302
    assert ok["Location"].endswith("/layanan/sktm/periksa/")
    review = client.get("/layanan/sktm/periksa/")
    assert "Beasiswa anak" in review.content.decode()
    key = review.context["form"]["idempotency_key"].value()
    submitted = client.post(
        "/layanan/sktm/periksa/", {"idempotency_key": key, "confirm": "on"}
    )
    assert submitted.status_code == 302
    app = Application.objects.get()
    assert submitted["Location"] == f"/layanan/permohonan/{app.pk}/"
    assert not ApplicationDraft.objects.exists()
    receipt = client.get(submitted["Location"]).content.decode()
    assert app.number in receipt
    assert app.tracking_code in receipt


def test_double_click_on_submit_files_one(people):
    client = as_user(people["citizen"])
    client.post(
        "/layanan/sktm/ajukan/",
        {
            "relation": "self",
            "f-purpose": "Beasiswa",
            "file_kk": SimpleUploadedFile("kk.pdf", pdf_bytes("kk")),
            "lanjut": "1",
        },
    )
    key = client.get("/layanan/sktm/periksa/").context["form"]["idempotency_key"]
    body = {"idempotency_key": key.value(), "confirm": "on"}
    first = client.post("/layanan/sktm/periksa/", body)
    assert first.status_code == 302
    # The draft is gone after the first; the second lands back on the form
    # and files nothing more.
    client.post("/layanan/sktm/periksa/", body)
    assert Application.objects.count() == 1


def test_my_application_pages_are_the_applicants_only(people, apply_online, citizen):
    from balai.accounts.selectors import actor_for

    app = apply_online(actor_for(user=people["citizen"]), "sktm", {"purpose": "X"})
    url = f"/layanan/permohonan/{app.pk}/"
    assert Client().get(url).status_code == 302
    assert as_user(people["stranger"]).get(url).status_code == 404
    assert as_user(people["counter"]).get(url).status_code == 403
    mine = as_user(people["citizen"])
    assert mine.get(url).status_code == 200
    listing = mine.get("/layanan/saya/").content.decode()
    assert app.number in listing
    # The applicant cancels from his page.
    page = mine.get(url)
    forms = {step.name: form for step, form in page.context["steps"]}
    assert set(forms) == {"cancel"}
    key = forms["cancel"]["idempotency_key"].value()
    response = mine.post(
        url,
        {
            "step": "cancel",
            "cancel-idempotency_key": key,
            "cancel-name": "cancel",
            "cancel-expected_version": "1",
        },
    )
    assert response.status_code == 302
    assert Application.objects.get(pk=app.pk).status == Status.CANCELLED


def test_officer_takes_a_step_on_the_application_page(people, apply_online, officer_at):
    from balai.accounts.selectors import actor_for

    app = apply_online(actor_for(user=people["citizen"]), "sktm", {"purpose": "X"})
    clerk = officer_at(app.owner_office.code, "counter_officer")[0]
    url = f"/layanan/petugas/permohonan/{app.pk}/"
    assert Client().get(url).status_code == 302
    assert as_user(people["counter"]).get(url).status_code == 404  # not his office
    officer = as_user(clerk)
    page = officer.get(url)
    assert page.status_code == 200
    assert app.number in page.content.decode()
    inbox = officer.get("/layanan/petugas/").content.decode()
    assert app.number in inbox
    response = officer.post(
        url,
        {
            "step": "start_verification",
            "start_verification-idempotency_key": "kunci-1",
            "start_verification-name": "start_verification",
            "start_verification-expected_version": "1",
        },
    )
    assert response.status_code == 302
    assert Application.objects.get(pk=app.pk).status == Status.VERIFICATION
    # A second officer on the old version is told, and nothing changes.
    stale = officer.post(
        url,
        {
            "step": "reject",
            "reject-idempotency_key": "kunci-2",
            "reject-name": "reject",
            "reject-expected_version": "1",
            "reject-note": "x",
        },
        follow=True,
    )
    assert "sudah diubah" in stale.content.decode()
    assert Application.objects.get(pk=app.pk).status == Status.VERIFICATION


def test_inbox_roles(client, people):
    assert client.get("/layanan/petugas/").status_code == 302
    assert as_user(people["citizen"]).get("/layanan/petugas/").status_code == 403
    assert as_user(people["helpdesk"]).get("/layanan/petugas/").status_code == 403
    assert as_user(people["counter"]).get("/layanan/petugas/").status_code == 200


def test_overdue_page_roles(client, people):
    url = "/layanan/petugas/terlambat/"
    assert client.get(url).status_code == 302
    assert as_user(people["counter"]).get(url).status_code == 403
    page = as_user(people["leader"]).get(url)
    assert page.status_code == 200
    assert "tepat waktu" in page.content.decode()


def test_catalogue_admin_pages(client, people):
    assert client.get("/layanan/kelola/").status_code == 302
    assert as_user(people["counter"]).get("/layanan/kelola/").status_code == 403
    admin = as_user(people["admin"])
    assert admin.get("/layanan/kelola/").status_code == 200
    page = admin.get("/layanan/kelola/sktm/")
    assert page.status_code == 200
    form = page.context["form"]
    data = {
        name: field.value() if field.value() is not None else ""
        for name, field in ((n, form[n]) for n in form.fields)
    }
    for name in ("requirements", "form_schema"):
        data[name] = form[name].value()
    data.update({"time_limit_days": "2", "note": "SK Kades 2026"})
    data = {k: v for k, v in data.items() if v is not False}
    response = admin.post("/layanan/kelola/sktm/", data)
    assert response.status_code == 302, response.context["form"].errors
    history = admin.get("/layanan/kelola/sktm/").content.decode()
    assert "SK Kades 2026" in history
    from balai.services.models import Service

    sktm = Service.objects.get(code="sktm")
    assert sktm.time_limit_days == 2
    assert sktm.revision == 2
    assert set(sktm.versions.get(revision=2).diff) == {"time_limit_days"}


def test_local_holiday_page(client, people):
    url = "/layanan/kelola/libur/"
    assert as_user(people["counter"]).get(url).status_code == 403
    admin = as_user(people["admin"])
    page = admin.get(url)
    assert "2024, 2025, 2026, 2027" in page.content.decode()
    key = page.context["form"]["idempotency_key"].value()
    response = admin.post(
        url, {"idempotency_key": key, "date": "2026-09-28", "name": "HUT Tenggarong"}
    )
    assert response.status_code == 302
    holiday = LocalHoliday.objects.get()
    assert (
        as_user(people["counter"])
        .post(f"/layanan/kelola/libur/{holiday.pk}/cabut/")
        .status_code
        == 403
    )
    admin.post(f"/layanan/kelola/libur/{holiday.pk}/cabut/")
    holiday.refresh_from_db()
    assert not holiday.is_active


def test_track_page_says_nothing_on_a_wrong_code(client, people, apply_online):
    from balai.accounts.selectors import actor_for

    app = apply_online(actor_for(user=people["citizen"]), "sktm", {"purpose": "X"})
    right = client.get(f"/layanan/lacak/?nomor={app.number}&kode={app.tracking_code}")
    assert right.status_code == 200
    text = right.content.decode()
    assert "Diajukan" in text
    assert people["resident"].name not in text
    wrong = client.get(f"/layanan/lacak/?nomor={app.number}&kode=ZZZZZZZZ")
    unknown = client.get("/layanan/lacak/?nomor=MPP-64.02.06-2026-999999&kode=ZZZZZZZZ")
    assert wrong.context["result"] is None
    assert unknown.context["result"] is None
    assert wrong.context["form"].non_field_errors() == (
        unknown.context["form"].non_field_errors()
    )


def test_files_only_through_the_access_checked_view(people, apply_online):
    from balai.accounts.selectors import actor_for

    app = apply_online(actor_for(user=people["citizen"]), "sktm", {"purpose": "X"})
    attachment = app.attachments.get()
    url = f"/layanan/berkas/{attachment.pk}/"
    assert Client().get(url).status_code == 302
    assert as_user(people["stranger"]).get(url).status_code == 404
    response = as_user(people["citizen"]).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == pdf_bytes("kk")
    # Nothing under /media/ or /static/ serves it.
    assert Client().get(f"/media/{attachment.blob.storage_name}").status_code == 404


def test_sign_up_page(client, resident, sent):
    person = resident(phone="081212121212")
    page = client.get("/layanan/daftar/")
    assert page.status_code == 200
    bad = client.post(
        "/layanan/daftar/",
        {
            "nik": person.nik,
            "kk_number": person.family.kk_number,
            "mother_name": "Bukan Ibunya",
            "password": "kata-sandi-warga-123",
        },
    )
    assert "Data tidak cocok dengan data kependudukan." in bad.content.decode()
    good = client.post(
        "/layanan/daftar/",
        {
            "nik": person.nik,
            "kk_number": person.family.kk_number,
            "mother_name": "Siti Aminah",
            "password": "kata-sandi-warga-123",
        },
    )
    assert good.status_code == 302
    assert good["Location"] == "/layanan/daftar/verifikasi/"
    code = sent[-1]["context"]["kode"]
    done = client.post("/layanan/daftar/verifikasi/", {"code": code})
    assert done.status_code == 302
    from balai.accounts.models import User

    assert User.objects.get(resident_id=person.pk).is_verified_citizen


def test_counter_verification_page_roles(client, people, resident, citizen):
    person = resident()
    user, _ = citizen(person, verified=False)
    url = "/layanan/petugas/verifikasi-warga/"
    assert as_user(people["helpdesk"]).get(url).status_code == 403
    counter = as_user(people["counter"])
    key = counter.get(url).context["form"]["idempotency_key"].value()
    response = counter.post(
        url, {"idempotency_key": key, "username": user.username, "nik_seen": person.nik}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_verified_citizen


# --- "Siapa yang melihat data saya" -------------------------------------------


def test_who_read_my_record_page(people, officer_at, actor_of):
    import datetime as dt

    from balai.audit.models import AccessLog
    from balai.registry.selectors import get_resident_detail

    url = "/layanan/saya/akses/"
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/akun/masuk/")
    assert as_user(people["counter"]).get(url).status_code == 403

    counter = actor_of(people["counter"])
    registrar_user, registrar = officer_at(
        "DISDUKCAPIL", "registrar", position="Kepala Seksi Pencatatan Sipil"
    )
    mine, theirs = people["resident"], people["stranger"].resident_id
    get_resident_detail(counter, mine.pk, "layanan")
    get_resident_detail(registrar, theirs, "koreksi")  # the other citizen's record
    read = AccessLog.objects.get(subject_id=str(mine.pk))
    AccessLog.objects.filter(pk=read.pk).update(
        at=dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    )

    page = as_user(people["citizen"]).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Siapa yang melihat data saya" in text
    assert "02-03-2026 09:30" in text  # WITA
    assert "Mal Pelayanan Publik Kecamatan Tenggarong" in text
    assert "<td>Petugas</td><td>pelayanan</td>" in text
    assert "Data kependudukan dengan NIK lengkap" in text
    # The other citizen's reader, office, position and purpose do not show.
    assert "Kepala Seksi Pencatatan Sipil" not in text
    assert "koreksi data" not in text
    assert registrar_user.username not in text
    assert text.count("<tr><td>") == 1
    other = as_user(people["stranger"]).get(url).content.decode()
    assert "Kepala Seksi Pencatatan Sipil" in other
    assert "Mal Pelayanan Publik Kecamatan Tenggarong" not in other


def test_who_read_my_record_page_is_paged(people, actor_of):
    from balai.registry.selectors import get_resident_detail

    counter = actor_of(people["counter"])
    for _ in range(26):
        get_resident_detail(counter, people["resident"].pk, "layanan")
    client = as_user(people["citizen"])
    first = client.get("/layanan/saya/akses/").content.decode()
    assert first.count("<tr><td>") == 25
    assert 'href="?hal=2"' in first
    second = client.get("/layanan/saya/akses/?hal=2").content.decode()
    assert second.count("<tr><td>") == 1
    assert 'href="?hal=1"' in second
    assert 'href="?hal=3"' not in second
    assert client.get("/layanan/saya/akses/?hal=x").status_code == 200
