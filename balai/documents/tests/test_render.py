"""Real PDFs: read their text back, rasterise them, decode the printed QR."""

import datetime as dt
import io
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from balai.documents import extract, payload, storage
from balai.documents.actions import issue_document
from balai.documents.models import DocumentKind
from balai.documents.render import format_nip, tanggal
from balai.documents.selectors import verify
from balai.documents.tests.conftest import DESA
from balai.regions.models import Office

pytestmark = pytest.mark.django_db

FACTS = {
    "receipt": {"service": "Surat Keterangan Domisili", "items": ["KTP-el", "KK"]},
    "sktm": {"purpose": "Pendaftaran beasiswa", "income": "Rp 900.000"},
    "domisili": {"purpose": "Melamar pekerjaan", "since": "2019-05-01"},
    "usaha": {"business_name": "Warung Makan Berkah", "business_type": "Kuliner"},
    "pengantar": {"purpose": "Pembuatan SKCK", "destination": "Polsek Tabang"},
    "completion": {"service": "Perubahan KK", "completed_on": "2026-11-12"},
}


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def rasterise(pdf: bytes, tmp_path, dpi: int = 150) -> Image.Image:
    assert shutil.which("pdftoppm"), "poppler-utils missing: scripts/test_tools.py"
    source = tmp_path / "letter.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(source),
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=60,
    )
    return Image.open(next(tmp_path.glob("page*.png")))


@pytest.fixture
def office():
    return Office.objects.get(code=DESA)


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_every_letter_renders_an_a4_pdf_with_its_facts(
    kind, root_key, desa_head, desa_clerk, actor_of, office, subject
):
    doc = issue_document(
        actor=actor_of(desa_clerk),
        kind=kind,
        office=office,
        subject=subject,
        facts=FACTS[kind],
        application_ref="APL-2026-000042",
    )
    pdf = storage.get(doc.pdf_sha256)
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (
        round(float(box.width) / 72 * 25.4),
        round(float(box.height) / 72 * 25.4),
    ) == (
        210,
        297,
    )
    text = " ".join(text_of(pdf).split())
    assert "PEMERINTAH KABUPATEN KUTAI KARTANEGARA" in text
    assert "KECAMATAN TABANG" in text
    assert "DESA GUNUNG SARI" in text
    assert f"Nomor: {doc.number}" in text
    assert f"Gunung Sari, {tanggal(doc.signed_on)}" in text
    assert "SITI AMINAH" in text
    assert doc.signer_name in text
    assert str(DocumentKind(kind).label).upper() in text.upper()
    for value in FACTS[kind].values():
        if isinstance(value, str) and not value[:4].isdigit():
            assert value in text, f"{value!r} missing from the {kind} letter"
    meta = reader.metadata
    assert f"balai-qr:{doc.qr_text}" in str(meta.get("/Keywords"))


def test_the_printed_qr_scans_back_to_a_valid_signed_text(
    root_key, desa_head, desa_clerk, actor_of, office, subject, tmp_path
):
    doc = issue_document(
        actor=actor_of(desa_clerk),
        kind="domisili",
        office=office,
        subject=subject,
        facts=FACTS["domisili"],
    )
    image = rasterise(storage.get(doc.pdf_sha256), tmp_path, dpi=150)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in found] == [doc.qr_text]
    assert found[0].ec_level == "M"
    version = payload.make_qr(found[0].text).version
    assert version <= 10
    verdict = verify(text=found[0].text)
    assert verdict.status == "valid"
    assert verdict.facts["name"] == "SITI AMINAH"
    assert verdict.facts["number"] == doc.number


def test_a_rough_photocopy_still_scans(
    root_key, desa_head, desa_clerk, actor_of, office, subject, tmp_path
):
    """Low resolution, grey, blurred, a little rotated: still one QR, still valid."""
    from PIL import ImageFilter

    doc = issue_document(
        actor=actor_of(desa_clerk),
        kind="sktm",
        office=office,
        subject=subject,
        facts={},
    )
    image = rasterise(storage.get(doc.pdf_sha256), tmp_path, dpi=110).convert("L")
    copy = image.filter(ImageFilter.GaussianBlur(0.8)).rotate(3, fillcolor=255)
    copy = copy.point(lambda v: 60 if v < 128 else 200)  # a grey photocopy
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=60)
    texts = extract.qr_texts_from_image(out.getvalue())
    assert texts == [doc.qr_text]


def test_the_pdf_gives_its_qr_text_from_metadata_and_from_rendering(
    root_key, desa_head, desa_clerk, actor_of, office, subject
):
    doc = issue_document(
        actor=actor_of(desa_clerk),
        kind="usaha",
        office=office,
        subject=subject,
        facts=FACTS["usaha"],
    )
    pdf = storage.get(doc.pdf_sha256)
    assert extract.qr_texts_from_pdf(pdf) == [doc.qr_text]
    # Without the metadata (e.g. a PDF re-saved by another program) the QR
    # image is rendered and decoded.
    assert extract._from_rendering(pdf) == [doc.qr_text]


def test_an_administrators_template_is_used_first(
    root_key, desa_head, desa_clerk, actor_of, office, subject, settings, tmp_path
):
    folder = tmp_path / "surat"
    folder.mkdir()
    (folder / "sktm.html").write_text(
        '{% extends "_base.html" %}{% block body %}<p>TEMPLAT KHUSUS DESA '
        "{{ subject.name }} untuk {{ facts.purpose }}</p>{% endblock %}",
        encoding="utf-8",
    )
    settings.BALAI_LETTER_TEMPLATE_DIR = str(folder)
    doc = issue_document(
        actor=actor_of(desa_clerk),
        kind="sktm",
        office=office,
        subject=subject,
        facts={"purpose": "Bantuan sosial"},
    )
    text = " ".join(text_of(storage.get(doc.pdf_sha256)).split())
    assert "TEMPLAT KHUSUS DESA SITI AMINAH untuk Bantuan sosial" in text
    assert doc.template == "custom:sktm.html"
    other = issue_document(
        actor=actor_of(desa_clerk),
        kind="domisili",
        office=office,
        subject=subject,
        facts={},
    )
    assert other.template == "builtin:domisili.html"


def test_letters_cannot_fetch_files_outside_their_folders(
    root_key,
    desa_head,
    desa_clerk,
    actor_of,
    office,
    subject,
    settings,
    tmp_path,
    monkeypatch,
):
    from weasyprint.urls import URLFetcher

    secret = tmp_path / "rahasia.css"
    secret.write_text("body { background: red }", encoding="utf-8")
    folder = tmp_path / "surat"
    folder.mkdir()
    (folder / "logo.css").write_text("h1 { color: navy }", encoding="utf-8")
    (folder / "sktm.html").write_text(
        '{% extends "_base.html" %}{% block style %}'
        f'<link rel="stylesheet" href="file://{secret}">'
        '<link rel="stylesheet" href="http://example.org/x.css">'
        '<link rel="stylesheet" href="logo.css">'
        "{% endblock %}",
        encoding="utf-8",
    )
    settings.BALAI_LETTER_TEMPLATE_DIR = str(folder)
    fetched = []
    original = URLFetcher.fetch

    def spy(self, url, headers=None):
        response = original(self, url, headers)
        fetched.append(url)
        return response

    monkeypatch.setattr(URLFetcher, "fetch", spy)
    issue_document(
        actor=actor_of(desa_clerk),
        kind="sktm",
        office=office,
        subject=subject,
        facts={},
    )
    assert any(u.endswith("/surat/logo.css") for u in fetched), "own folder allowed"
    assert any(u.startswith("data:") for u in fetched), "the QR image is a data: URI"
    assert not any("rahasia" in u or "example.org" in u for u in fetched)


def test_subject_text_is_escaped_not_markup(
    root_key, desa_head, desa_clerk, actor_of, office, subject
):
    doc = issue_document(
        actor=actor_of(desa_clerk),
        kind="pengantar",
        office=office,
        subject={
            **subject,
            "address": '<img src="http://example.org/x">Jl. <b>Mawar</b>',
        },
        facts={"purpose": "<script>alert(1)</script>"},
    )
    text = text_of(storage.get(doc.pdf_sha256))
    assert "<b>Mawar</b>" in text
    assert "<script>alert(1)</script>" in text


def test_helpers_print_dates_and_nip_the_indonesian_way():
    assert tanggal(dt.date(2026, 11, 12)) == "12 November 2026"
    assert tanggal("1990-01-10") == "10 Januari 1990"
    assert format_nip("197001012000031001") == "19700101 200003 1 001"
    assert format_nip("12") == "12"


def test_compiled_letter_templates_are_kept_until_a_file_changes(settings, tmp_path):
    """Parsed once per batch, not per letter; an edit still counts at once."""
    from balai.documents import render

    folder = tmp_path / "surat"
    folder.mkdir()
    settings.BALAI_LETTER_TEMPLATE_DIR = str(folder)
    first = render.engine()
    assert render.engine() is first
    context = {"subject": {"name": "SITI AMINAH"}, "facts": {}}
    builtin = render.render_html("pengantar", context)
    assert "SITI AMINAH" in builtin
    # A new file in the administrator's folder is used for the next letter.
    (folder / "pengantar.html").write_text("VERSI SATU {{ subject.name }}")
    assert render.engine() is not first
    assert render.render_html("pengantar", context) == "VERSI SATU SITI AMINAH"
    # So is an edit of it...
    (folder / "pengantar.html").write_text(
        "VERSI KEDUA, LEBIH PANJANG {{ subject.name }}"
    )
    assert render.render_html("pengantar", context) == (
        "VERSI KEDUA, LEBIH PANJANG SITI AMINAH"
    )
    # ...and its removal.
    (folder / "pengantar.html").unlink()
    assert render.render_html("pengantar", context) == builtin
