"""Files on the move: content-addressed, resumable, checked on arrival."""

import hashlib

import pytest

from balai.sync import blobs


@pytest.fixture(autouse=True)
def _dirs(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.BALAI_DOCUMENT_STORE = tmp_path / "store"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


def test_a_cut_transfer_resumes_where_it_stopped():
    data = b"%PDF-1.4 " + bytes(range(256)) * 50
    sha = hashlib.sha256(data).hexdigest()
    assert blobs.append("document", sha, 0, data[:1000], len(data)) == 1000
    assert blobs.received("document", sha) == 1000
    # A chunk from the wrong place is not taken: the sender learns where to go on.
    assert blobs.append("document", sha, 5000, data[5000:6000], len(data)) == 1000
    assert blobs.append("document", sha, 1000, data[1000:], len(data)) == len(data)
    assert blobs.have("document", sha)
    assert blobs.final_path("document", sha).read_bytes() == data
    assert blobs.received("document", sha) == 0


def test_a_damaged_file_is_never_put_in_place():
    data = b"isi berkas lampiran" * 10
    sha = hashlib.sha256(data).hexdigest()
    broken = b"X" + data[1:]
    with pytest.raises(blobs.BlobProblem) as caught:
        blobs.append("attachment", sha, 0, broken, len(broken))
    assert "rusak" in str(caught.value)
    assert not blobs.have("attachment", sha)
    assert blobs.received("attachment", sha) == 0


def test_names_are_checked():
    with pytest.raises(blobs.BlobProblem):
        blobs.final_path("attachment", "../../etc/passwd")
    with pytest.raises(blobs.BlobProblem):
        blobs.final_path("secret", "a" * 64)
