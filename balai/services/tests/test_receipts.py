"""The receipt (tanda terima) issued with every application: one per
submission (a replay issues none), signed, with the application number in
the PDF, and downloadable from the citizen's, the tracking and the officer's
pages by the applicant or staff only. Numbered and signed in the submit
transaction; its PDF is rendered after commit (a task) or on first download."""

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
    """The receipt's PDF text (rendered now if the after-commit task has not run)."""
    from pypdf import PdfReader

    from balai.documents.actions import pdf_of
    from balai.documents.models import IssuedDocument

    data = pdf_of(IssuedDocument.objects.select_related("office").get(pk=document.pk))
    reader = PdfReader(io.BytesIO(data))
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


def test_submit_renders_no_pdf_in_its_transaction(
    receipts,
    resident,
    citizen,
    apply_online,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """Numbered and signed in the submit transaction; no PDF is rendered, in
    it or after it (no task queued): the first download renders it."""
    from django_tasks_db.models import DBTaskResult
    from pypdf import PdfReader

    from balai.documents import render, storage
    from balai.documents.actions import pdf_of
    from balai.documents.models import IssuedDocument

    rendered = []
    real_write_pdf = render.write_pdf

    def counting(*args, **kwargs):
        rendered.append(kwargs.get("title"))
        return real_write_pdf(*args, **kwargs)

    monkeypatch.setattr(render, "write_pdf", counting)
    _, actor = citizen(resident(village=JAHAB))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        app = apply_online(actor, "sktm", {"purpose": "Beasiswa"})
    receipt = IssuedDocument.objects.get(pk=receipt_of(app).pk)
    # In the transaction: the number and the signed QR, no PDF yet.
    assert rendered == []
    assert receipt.number
    assert receipt.qr_text
    assert receipt.digest
    assert receipt.pdf_sha256 == ""
    assert receipt.pdf_size == 0
    # Nothing waits for the commit either: no render task is queued.
    for callback in callbacks:
        callback()
    assert rendered == []
    assert not DBTaskResult.objects.exists()
    # The first download renders it and keeps it.
    pdf_of(receipt)
    assert rendered == ["Tanda Terima"]
    receipt.refresh_from_db()
    assert receipt.pdf_size > 0
    data = storage.get(receipt.pdf_sha256)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert app.number in text
    assert receipt.number in text
    # The rendered PDF carries the QR signed in the transaction.
    assert PdfReader(io.BytesIO(data)).metadata["/Keywords"] == (
        f"balai-qr:{receipt.qr_text}"
    )


def test_receipt_not_rendered_yet_is_rendered_on_download(
    receipts, resident, citizen, apply_online, tmp_path
):
    """If the task has not run, the first download renders and keeps the PDF."""
    from pypdf import PdfReader

    from balai.audit.models import AuditEntry
    from balai.documents import storage
    from balai.documents.models import IssuedDocument

    person = resident(village=JAHAB)
    user, actor = citizen(person)
    app = apply_online(actor, "sktm", {"purpose": "Beasiswa"})
    receipt = receipt_of(app)
    assert IssuedDocument.objects.get(pk=receipt.pk).pdf_sha256 == ""
    response = as_user(user).get(f"/dokumen/{receipt.pk}/download")
    assert response.status_code == 200
    text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages
    )
    assert app.number in text
    assert receipt.number in text
    stored = IssuedDocument.objects.get(pk=receipt.pk)
    assert storage.get(stored.pdf_sha256) == response.content
    assert AuditEntry.objects.filter(action="documents.pdf.store").count() == 1
    # The second download serves the kept PDF (no second render, no new entry).
    again = as_user(user).get(f"/dokumen/{receipt.pk}/download")
    assert again.content == response.content
    assert AuditEntry.objects.filter(action="documents.pdf.store").count() == 1
