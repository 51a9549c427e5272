"""Pages: /verifikasi (text, photo, PDF), the QR target, staff document pages."""

import io
import subprocess

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from balai.audit.models import AccessLog
from balai.documents import storage
from balai.documents.actions import issue_document
from balai.documents.models import DocumentRevocation
from balai.documents.tests.conftest import DESA
from balai.regions.models import Office

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    settings.BALAI_VERIFY_RATE = "1000/60"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def document(root_key, desa_head, desa_clerk, actor_of, subject):
    return issue_document(
        actor=actor_of(desa_clerk),
        kind="sktm",
        office=Office.objects.get(code=DESA),
        subject=subject,
        facts={"purpose": "Beasiswa"},
    )


def photo_of(document, tmp_path) -> bytes:
    pdf = tmp_path / "surat.pdf"
    pdf.write_bytes(storage.get(document.pdf_sha256))
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "120",
            "-jpeg",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(tmp_path / "foto"),
        ],
        check=True,
        timeout=60,
    )
    return next(tmp_path.glob("foto*.jpg")).read_bytes()


def test_the_page_is_public_and_asks_for_text_or_file(client):
    response = client.get("/verifikasi")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="qr_text"' in html
    assert 'name="berkas"' in html
    assert 'enctype="multipart/form-data"' in html


def test_pasted_text_is_verified(client, document):
    response = client.post("/verifikasi", {"qr_text": document.qr_text})
    html = response.content.decode()
    assert response.status_code == 200
    assert "verdict-valid" in html
    assert document.number in html
    assert "6402********0012" in html
    assert "6402125001900012" not in html


def test_garbage_text_is_invalid_not_an_error(client, root_key):
    response = client.post("/verifikasi", {"qr_text": "<script>alert(1)</script>"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "verdict-invalid" in html
    assert "<script>alert(1)</script>" not in html


def test_a_photo_of_the_letter_is_decoded_and_verified(client, document, tmp_path):
    upload = SimpleUploadedFile("foto.jpg", photo_of(document, tmp_path), "image/jpeg")
    response = client.post("/verifikasi", {"berkas": upload})
    html = response.content.decode()
    assert "verdict-valid" in html, html[
        html.find("verdict") : html.find("verdict") + 300
    ]
    assert document.number in html


def test_the_pdf_itself_can_be_uploaded(client, document):
    upload = SimpleUploadedFile(
        "surat.pdf", storage.get(document.pdf_sha256), "application/pdf"
    )
    html = client.post("/verifikasi", {"berkas": upload}).content.decode()
    assert "verdict-valid" in html
    assert document.number in html


@pytest.mark.parametrize(
    "content",
    [
        b"bukan gambar",
        b"%PDF-1.7\n" + b"\x00" * 500,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
    ],
)
def test_unreadable_uploads_say_no_qr_found(client, root_key, content):
    upload = SimpleUploadedFile("x.bin", content, "application/octet-stream")
    response = client.post("/verifikasi", {"berkas": upload})
    assert response.status_code == 200
    assert "no_qr" in response.content.decode()


def test_a_pixel_bomb_is_refused_quietly(client, root_key):
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, format="PNG")  # 144 Mpx, tiny file
    upload = SimpleUploadedFile("bom.png", out.getvalue(), "image/png")
    response = client.post("/verifikasi", {"berkas": upload})
    assert response.status_code == 200
    assert "no_qr" in response.content.decode()


def test_the_qr_link_opens_the_verdict(client, document):
    path = document.qr_text.split("BALAI.KUKARKAB.GO.ID", 1)[1]
    assert path.startswith("/V/")
    response = client.get(path)
    assert response.status_code == 200
    assert "verdict-valid" in response.content.decode()
    lower = client.get("/v/" + path[3:].lower())
    assert "verdict-valid" in lower.content.decode()


def test_a_revoked_document_shows_as_revoked_with_reason(client, document):
    DocumentRevocation.objects.create(
        document=document,
        digest=document.digest,
        reason="Dibatalkan desa",
        revoked_by="uji",
    )
    html = client.get("/V/" + document.qr_text.split("/V/")[1]).content.decode()
    assert "verdict-revoked" in html
    assert "Dibatalkan desa" in html


def test_the_page_is_rate_limited(client, settings, root_key):
    settings.BALAI_VERIFY_RATE = "2/60"
    cache.clear()
    statuses = [
        client.post("/verifikasi", {"qr_text": "x"}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert client.get("/V/ABCDEFGH").status_code == 429


# --- staff pages: the document, its PDF, revoking ---------------------------------


def test_document_pdf_anonymous_wrong_scope_right_staff(
    client, document, make_staff, desa_clerk
):
    url = f"/dokumen/{document.pk}/download"
    assert client.get(url).status_code == 302  # to the login page
    outsider = make_staff(office="MPP-64.02.01", role="counter_officer")
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(desa_clerk)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == storage.get(document.pdf_sha256)
    printed = client.get(f"/dokumen/{document.pk}/print")
    assert printed["Content-Disposition"].startswith("inline;")
    logged = list(
        AccessLog.objects.filter(subject_id=str(document.pk)).values_list(
            "what", "actor_name"
        )
    )
    assert logged == [("download", desa_clerk.username), ("print", desa_clerk.username)]


def test_the_head_revokes_from_the_document_page(
    client, document, desa_head, desa_clerk
):
    client.force_login(desa_clerk)
    page = client.get(f"/dokumen/{document.pk}/").content.decode()
    assert document.number in page
    assert 'name="reason"' not in page, "a clerk gets no revoke form"
    client.force_login(desa_head)
    page = client.get(f"/dokumen/{document.pk}/").content.decode()
    assert 'name="reason"' in page
    response = client.post(
        f"/dokumen/{document.pk}/",
        {"reason": "Permohonan dibatalkan", "idempotency_key": "k-1"},
    )
    assert response.status_code == 302
    assert DocumentRevocation.objects.get(document=document).reason == (
        "Permohonan dibatalkan"
    )
