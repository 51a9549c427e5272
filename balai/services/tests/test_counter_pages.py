"""The counter filing pages: a counter officer files a walk-in citizen's
application (channel counter): picks the service, finds the applicant in the
register (masked NIKs in the list), fills the service's fields, uploads the
scanned papers, links the queue ticket he serves, checks the answers and
submits, then lands on the application page with its receipt. Anonymous,
wrong role, right role; bad input changes nothing; a double submit files one."""

from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from balai.services.models import Application
from balai.services.tests.conftest import JAHAB, MPP, pdf_bytes

pytestmark = pytest.mark.django_db

START = "/layanan/petugas/loket/"
FILE = "/layanan/petugas/loket/ktp-el-ganti/"
SUBMIT = "/layanan/petugas/loket/ktp-el-ganti/kirim/"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class _Hidden(HTMLParser):
    """The hidden inputs of the form that posts to `action`."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.values = action, False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif tag == "input" and self.inside and attrs.get("type") == "hidden":
            self.values[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def hidden_state(page, action: str = SUBMIT) -> dict:
    parser = _Hidden(action)
    parser.feed(page.content.decode())
    return parser.values


@pytest.fixture
def desk(resident, officer_at, citizen, catalogue, system_actor):
    """A counter officer at MPP Tenggarong with its queue, a walk-in resident
    of Jahab holding ticket A-001 (called to counter 1), and other people."""
    from balai.antrian.actions import call_next, ensure_queue_setup, take_ticket
    from balai.antrian.models import Counter, QueueLane
    from balai.regions.models import Office

    ensure_queue_setup(actor=system_actor, offices=[Office.objects.get(code=MPP)])
    person = resident(village=JAHAB, name="Rahmawati Loket", phone="081355501234")
    officer, actor = officer_at(MPP, "counter_officer")
    ticket = take_ticket(
        actor=actor, lane=QueueLane.objects.get(office__code=MPP, prefix="A")
    )
    counter = Counter.objects.get(office__code=MPP, number=1)
    call_next(actor=actor, counter=counter)
    return {
        "person": person,
        "officer": officer,
        "actor": actor,
        "ticket": ticket,
        "counter": counter,
        "auditor": officer_at(MPP, "auditor")[0],
        "citizen": citizen(resident(village=JAHAB))[0],
    }


def fill(client, person, **extra):
    data = {
        "idempotency_key": "loket-1",
        "applicant": str(person.pk),
        "subjects": "",
        "attached": "{}",
        "relation": "self",
        "applicant_phone": "",
        "ticket": "a1",
        "f-reason": "hilang",
        "file_kk": SimpleUploadedFile("kk.pdf", pdf_bytes("kk"), "application/pdf"),
        "periksa": "1",
    }
    data.update(extra)
    return client.post(FILE, {k: v for k, v in data.items() if v is not None})


def test_anonymous_is_sent_to_the_login(client, desk):
    for url in (START, FILE):
        response = client.get(url)
        assert response.status_code == 302
        assert "/akun/masuk/" in response["Location"]
    assert client.post(SUBMIT, {"relation": "self"}).status_code == 302
    assert not Application.objects.exists()


@pytest.mark.parametrize("who", ["auditor", "citizen"])
def test_wrong_role_is_refused(desk, who):
    client = as_user(desk[who])
    assert client.get(START).status_code == 403
    assert client.get(FILE).status_code == 403
    response = client.post(
        SUBMIT,
        {
            "idempotency_key": "x",
            "applicant": str(desk["person"].pk),
            "relation": "self",
            "answers": '{"reason": "hilang"}',
        },
    )
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_counter_officer_files_an_application(desk, receipts):
    from balai.antrian.models import Ticket

    person = desk["person"]
    client = as_user(desk["officer"])
    # Pick the service (the counter services of an MPP, not the desa letters).
    start = client.get(START).content.decode()
    assert "KTP-el pengganti" in start
    assert "ktp-el-ganti" in start
    assert "/layanan/petugas/loket/sktm/" not in start
    # Find the applicant by name: masked NIK only in the list.
    found = client.get(FILE, {"cari": "rahmawati loket", "tiket": "A-001"})
    assert found.status_code == 200
    text = found.content.decode()
    assert "Rahmawati Loket" in text
    assert person.nik not in text
    assert person.nik[:4] + "********" + person.nik[-4:] in text
    assert f"pemohon={person.pk}" in text
    # Chosen: the page shows him (masked) and the service's own fields.
    chosen = client.get(FILE, {"pemohon": str(person.pk), "tiket": "A-001"})
    page = chosen.content.decode()
    assert 'name="f-reason"' in page
    assert 'name="file_kk"' in page
    assert person.nik not in page
    # Fill and upload: the check-your-answers page, nothing filed yet.
    review = fill(client, person)
    assert review.status_code == 200
    assert "Periksa jawaban" in review.content.decode()
    assert "kk.pdf" in review.content.decode()
    assert "<dd>Hilang</dd>" in review.content.decode()  # the choice's label
    assert not Application.objects.exists()
    state = hidden_state(review)
    assert state["ticket"] == "A-001"
    # Submit: filed at the counter, the ticket linked, the file claimed.
    done = client.post(SUBMIT, state)
    assert done.status_code == 302
    app = Application.objects.get()
    assert done["Location"] == f"/layanan/petugas/permohonan/{app.pk}/"
    assert app.channel == "counter"
    assert app.applicant_resident_id == person.pk
    assert app.filed_office.code == MPP
    assert app.form_data == {"reason": "hilang"}
    assert [a.requirement_code for a in app.attachments.all()] == ["kk"]
    assert list(app.subjects.values_list("resident_id", flat=True)) == [person.pk]
    ticket = Ticket.objects.get(pk=desk["ticket"].pk)
    assert ticket.application_id == app.pk
    assert ticket.events.filter(kind="linked").count() == 1
    # He lands on the application page with its receipt.
    landing = client.get(done["Location"]).content.decode()
    assert app.number in landing
    assert "data-receipt" in landing
    # A double submit (same form, same key) files nothing more.
    again = client.post(SUBMIT, state)
    assert again.status_code == 302
    assert again["Location"] == done["Location"]
    assert Application.objects.count() == 1
    assert Ticket.objects.get(pk=ticket.pk).events.filter(kind="linked").count() == 1


def test_missing_field_and_bad_file_show_indonesian_errors(desk):
    client = as_user(desk["officer"])
    person = desk["person"]
    response = fill(client, person, **{"f-reason": ""})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Ada yang perlu diperbaiki" in text
    assert 'name="f-reason"' in text  # back on the filling page
    bad = fill(
        client,
        person,
        file_kk=SimpleUploadedFile("kk.pdf", b"bukan pdf", "application/pdf"),
    )
    assert "Jenis berkas tidak diterima" in bad.content.decode()
    nobody = fill(client, person, applicant="")
    assert "Pilih pemohon dari data kependudukan" in nobody.content.decode()
    assert not Application.objects.exists()


def test_unknown_ticket_refuses_and_writes_nothing(desk):
    from balai.antrian.models import Ticket

    client = as_user(desk["officer"])
    state = hidden_state(fill(client, desk["person"], ticket="A-099"))
    response = client.post(SUBMIT, state)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Ada yang perlu diperbaiki" in text
    assert "Nomor antrean A-099 tidak ada hari ini di kantor Anda." in text
    assert not Application.objects.exists()
    assert Ticket.objects.get(pk=desk["ticket"].pk).application_id is None
    # Fixed on the page, the same form files once.
    state["ticket"] = "A-001"
    assert client.post(SUBMIT, state).status_code == 302
    assert Application.objects.count() == 1


def test_form_answers_are_checked_again_at_submit(desk):
    client = as_user(desk["officer"])
    state = hidden_state(fill(client, desk["person"]))
    state["answers"] = '{"reason": "dicuri"}'
    response = client.post(SUBMIT, state)
    assert response.status_code == 200
    assert "Alasan: pilihan tidak dikenal." in response.content.decode()
    assert not Application.objects.exists()


def test_links_from_the_inbox_and_the_queue_console(desk):
    client = as_user(desk["officer"])
    assert START in client.get("/layanan/petugas/").content.decode()
    console = client.get("/antrian/loket/", {"loket": str(desk["counter"].pk)})
    assert f"{START}?tiket=A-001" in console.content.decode()


def test_files_for_another_person_chosen_as_subject(desk, resident):
    child = resident(village=JAHAB, name="Anak Loket")
    person = desk["person"]
    client = as_user(desk["officer"])
    found = client.get(FILE, {"cari": child.nik, "pemohon": str(person.pk)})
    text = found.content.decode()
    assert child.nik not in text
    assert f"subjek={child.pk}" in text
    chosen = client.get(FILE, {"pemohon": str(person.pk), "subjek": str(child.pk)})
    assert "Anak Loket" in chosen.content.decode()
    review = fill(client, person, subjects=str(child.pk), relation="parent", ticket="")
    response = client.post(SUBMIT, hidden_state(review))
    assert response.status_code == 302
    app = Application.objects.get()
    assert app.relation == "parent"
    assert app.applicant_resident_id == person.pk
    assert list(app.subjects.values_list("resident_id", flat=True)) == [child.pk]


def test_a_resident_outside_the_office_scope_is_not_found(desk, resident):
    """An officer of Tenggarong cannot file for a resident of Tabang."""
    from balai.services.tests.conftest import TABANG_DESA

    stranger = resident(village=TABANG_DESA, name="Warga Tabang")
    client = as_user(desk["officer"])
    found = client.get(FILE, {"cari": "Warga Tabang"})
    assert "<td>Warga Tabang</td>" not in found.content.decode()
    assert f"pemohon={stranger.pk}" not in found.content.decode()
    picked = client.get(FILE, {"pemohon": str(stranger.pk)})
    assert picked.status_code == 200
    assert "Pemohon tidak ditemukan" in picked.content.decode()
    assert "Warga Tabang" not in picked.content.decode()
    state = hidden_state(fill(client, desk["person"]))
    state["applicant"] = str(stranger.pk)
    response = client.post(SUBMIT, state)
    assert response.status_code == 200
    assert "Pemohon tidak ditemukan dalam data kependudukan wilayah Anda." in (
        response.content.decode()
    )
    assert not Application.objects.exists()
