"""Uploads: type by content, size cap, images re-encoded without metadata,
content-addressed storage outside the web root."""

import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from balai.core.errors import BalaiError
from balai.services import files
from balai.services.models import Attachment, Blob
from balai.services.tests.conftest import jpeg_bytes, pdf_bytes


def png_bytes() -> bytes:
    image = Image.new("P", (4, 4))
    image.putpalette([0, 0, 0, 255, 255, 255] * 128)
    out = io.BytesIO()
    info = PngInfo()
    info.add_text("Author", "rahasia")
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_a_pdf_that_is_really_html_is_refused():
    forged = b"<!doctype html><script>alert(1)</script>%PDF-1.4 %%EOF"
    with pytest.raises(BalaiError) as exc:
        files.clean_upload(io.BytesIO(forged))
    assert exc.value.code == "file_type_refused"
    assert exc.value.status_code == 415


def test_a_jpeg_name_on_a_text_file_is_refused():
    with pytest.raises(BalaiError) as exc:
        files.clean_upload(b"hello, not a picture")
    assert exc.value.code == "file_type_refused"


def test_a_jpeg_header_on_garbage_is_refused():
    with pytest.raises(BalaiError) as exc:
        files.clean_upload(b"\xff\xd8\xff\xe0" + b"garbage" * 50)
    assert exc.value.code == "file_image_broken"


def test_a_png_claiming_to_be_jpeg_content_is_judged_by_content():
    clean = files.clean_upload(png_bytes())
    assert clean.content_type == files.PNG


def test_pdf_with_script_is_refused():
    data = pdf_bytes().replace(
        b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>"
    )
    with pytest.raises(BalaiError) as exc:
        files.clean_upload(data)
    assert exc.value.code == "file_pdf_active"


def test_truncated_pdf_is_refused():
    with pytest.raises(BalaiError) as exc:
        files.clean_upload(b"%PDF-1.4\n1 0 obj<<>>endobj\n")
    assert exc.value.code == "file_pdf_broken"


@override_settings(BALAI_UPLOAD_MAX_BYTES=1024)
def test_oversized_upload_is_refused_without_reading_it_all():
    class Huge(io.RawIOBase):
        read_sizes = []

        def read(self, size=-1):
            self.read_sizes.append(size)
            return b"%PDF-" + b"0" * (size - 5)

    stream = Huge()
    with pytest.raises(BalaiError) as exc:
        files.clean_upload(stream)
    assert exc.value.code == "file_too_large"
    assert exc.value.status_code == 413
    assert stream.read_sizes == [1025]


def test_default_limit_is_five_megabytes():
    assert files.max_bytes() == 5 * 1024 * 1024
    with pytest.raises(BalaiError):
        files.clean_upload(b"%PDF-" + b"0" * (5 * 1024 * 1024))


def test_jpeg_is_re_encoded_without_exif():
    original = jpeg_bytes(exif=True)
    assert b"KameraRahasia" in original
    clean = files.clean_upload(original)
    assert clean.content_type == files.JPEG
    assert b"KameraRahasia" not in clean.content
    with Image.open(io.BytesIO(clean.content)) as image:
        assert not image.getexif()
        assert image.size == (8, 8)
    assert clean.sha256 == hashlib.sha256(clean.content).hexdigest()


def test_png_text_chunks_are_dropped():
    original = png_bytes()
    assert b"rahasia" in original
    clean = files.clean_upload(original)
    assert b"rahasia" not in clean.content


def test_empty_file_is_refused():
    with pytest.raises(BalaiError) as exc:
        files.clean_upload(b"")
    assert exc.value.code == "file_empty"


@pytest.mark.django_db
def test_same_content_is_stored_once_by_hash(counter, upload, settings):
    first = upload(counter, "kk", content=pdf_bytes("sama"))
    second = upload(counter, "kk", content=pdf_bytes("sama"))
    assert first.pk != second.pk
    assert first.blob_id == second.blob_id
    assert Blob.objects.count() == 1
    blob = first.blob
    assert blob.sha256 == hashlib.sha256(pdf_bytes("sama")).hexdigest()
    assert (
        blob.storage_name == f"blobs/{blob.sha256[:2]}/{blob.sha256[2:4]}/{blob.sha256}"
    )
    with default_storage.open(blob.storage_name, "rb") as fh:
        assert fh.read() == pdf_bytes("sama")
    # Stored under the data directory, not under static files.
    location = str(default_storage.location)
    assert location.endswith("media")
    assert not location.startswith(str(settings.STATIC_ROOT))


@pytest.mark.django_db
def test_forged_upload_writes_nothing(counter, upload):
    with pytest.raises(BalaiError):
        upload(counter, "kk", content=b"<html>bukan pdf</html>", name="kk.pdf")
    assert Attachment.objects.count() == 0
    assert Blob.objects.count() == 0
