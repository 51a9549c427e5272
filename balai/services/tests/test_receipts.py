"""The receipt (tanda terima) issued with every application: one per
submission (a replay issues none), signed, with the application number in
the PDF, and downloadable from the citizen's, the tracking and the officer's
pages by the applicant or staff only."""

import io

import pytest
from django.test import Client

from balai.services.receipts import receipt_of
from balai.services.tests.conftest import JAHAB, MPP

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def receipts_count() -> int:
    from balai.documents.models import IssuedDocument

    return IssuedDocument.objects.filter(kind="receipt").count()


def pdf_text(document) -> str:
    from pypdf import PdfReader

    from balai.documents import storage

    reader = PdfReader(io.BytesIO(storage.get(document.pdf_sha256)))
    return " ".join(page.extract_text() for page in reader.pages)


def test_online_submission_issues_one_receipt(
    receipts, resident, citizen, catalogue, upload
):
    from balai.services.actions import submit_application

    person = resident(village=JAHAB)
    _, actor = citizen(person)
    service = catalogue["sktm"]
    files = [
        upload(actor, r["code"]).pk
        for r in service.requirements
        if r["mode"] == "upload" and r["required"]
    ]

    def submit():
        return submit_application(
            actor=actor,
            service=service,
            channel="online",
            form_data={"purpose": "Beasiswa"},
            attachments=files,
            idempotency_key="k-1",
        )

    app = submit()
    assert receipts_count() == 1
    receipt = receipt_of(app)
    assert receipt is not None
    assert receipt.application_ref == app.number
    # The submit event keeps the receipt's id and number.
    event = app.events.get(seq=1)
    assert event.data["receipt"] == {"id": str(receipt.pk), "number": receipt.number}
    # The citizen may fetch it (documents' rule: his resident id on the subject).
    assert receipt.subject["resident_id"] == str(person.pk)
    assert receipt.nik_masked.startswith(person.nik[:4])
    assert person.nik not in receipt.nik_masked
    text = pdf_text(receipt)
    assert app.number in text
    assert app.tracking_code in text
    assert "Tanda Terima" in text or "TANDA TERIMA" in text
    # A replay of the same submission files nothing and issues nothing.
    again = submit()
    assert again.pk == app.pk
    assert receipts_count() == 1


def test_counter_submission_receipt_is_signed_by_the_officer(
    receipts, resident, officer_at, catalogue
):
    from balai.services.actions import submit_application

    person = resident(village=JAHAB, sex="P", name="Ibu Loket")
    user, counter = officer_at(MPP, "counter_officer", position="Petugas Loket")
    app = submit_application(
        actor=counter,
        service=catalogue["akta-kelahiran"],
        channel="counter",
        form_data={
            "child_name": "Bayi Uji",
            "sex": "L",
            "birth_date": "2026-11-01",
            "birth_place": "Tenggarong",
            "mother_nik": person.nik,
            "kk_number": person.family.kk_number,
        },
        relation="parent",
        applicant={"nik": person.nik},
    )
    receipt = receipt_of(app)
    assert receipts_count() == 1
    assert receipt.office.code == MPP
    assert receipt.signer_name == user.display_name
    assert app.number in pdf_text(receipt)


def test_no_signing_key_refuses_the_submission(
    resident, citizen, apply_online, settings, tmp_path, monkeypatch, make_staff
):
    """Without the receipt nothing is filed (the same transaction)."""
    from balai.core.errors import BalaiError
    from balai.documents import trust
    from balai.regions.models import Office
    from balai.services.models import Application

    monkeypatch.undo()  # the real receipt, with no key made
    settings.BALAI_KEY_DIR = tmp_path / "no-keys"
    trust.invalidate()
    desa = Office.objects.filter(region_id=JAHAB).first()
    make_staff(office=desa.code, role="leader", is_head=True)
    _, actor = citizen(resident(village=JAHAB))
    with pytest.raises(BalaiError) as error:
        apply_online(actor, "sktm", {"purpose": "X"})
    assert error.value.code == "no_signing_key"
    assert not Application.objects.exists()
    trust.invalidate()


def test_receipt_links_on_the_pages(
    receipts, resident, citizen, apply_online, officer_at, client
):
    person = resident(village=JAHAB)
    user, actor = citizen(person)
    stranger, _ = citizen(resident(village=JAHAB))
    app = apply_online(actor, "sktm", {"purpose": "Beasiswa"})
    receipt = receipt_of(app)
    link = f"/dokumen/{receipt.pk}/download"
    # The citizen's own page shows it, and he downloads the PDF.
    mine = as_user(user)
    page = mine.get(f"/layanan/permohonan/{app.pk}/")
    assert link in page.content.decode()
    pdf = mine.get(link)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    # The tracking page shows the link (no personal data on the page) ...
    tracked = client.get(
        "/layanan/lacak/", {"nomor": app.number, "kode": app.tracking_code}
    )
    body = tracked.content.decode()
    assert link in body
    assert person.name not in body
    assert person.nik not in body
    # ... but the file is for the applicant or staff only.
    assert client.get(link).status_code == 302  # anonymous: to the login
    assert as_user(stranger).get(link).status_code == 404
    # The officer's page of the owning office shows it; he prints it.
    desa = app.owner_office.code
    clerk, _ = officer_at(desa, "counter_officer")
    officer = as_user(clerk)
    page = officer.get(f"/layanan/petugas/permohonan/{app.pk}/")
    assert link in page.content.decode()
    assert officer.get(link).status_code == 200
