"""Fixtures of the documents tests: keys in a temporary folder, signers posted."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from balai.documents import keys, trust

DESA = "DESA-64.02.12.2001"  # Gunung Sari, Kecamatan Tabang


@pytest.fixture(autouse=True)
def _document_dirs(settings, tmp_path):
    settings.BALAI_KEY_DIR = tmp_path / "keys"
    settings.BALAI_DOCUMENT_STORE = tmp_path / "store"
    settings.BALAI_PUBLIC_URL = "https://balai.kukarkab.go.id"
    settings.BALAI_NODE = "regency"
    settings.BALAI_KECAMATAN_NODES = ""
    settings.BALAI_LETTER_TEMPLATE_DIR = ""
    trust.invalidate()
    yield
    trust.invalidate()


@pytest.fixture
def root_key(db):
    """A root key and a certified regency key, made by the real command."""
    call_command("keys_init_root", verbosity=0, stdout=io.StringIO())
    trust.invalidate()
    return keys.load_root_key()


@pytest.fixture
def desa_head(make_staff):
    return make_staff(
        office=DESA,
        role="leader",
        position="Kepala Desa Gunung Sari",
        is_head=True,
        start_date=dt.date(2024, 1, 1),
        nip="",
        username="kades.gunungsari",
    )


@pytest.fixture
def desa_clerk(make_staff):
    return make_staff(office=DESA, role="counter_officer", position="Kaur Umum")


@pytest.fixture
def subject():
    return {
        "name": "SITI AMINAH",
        "nik": "6402125001900012",
        "birth_place": "Tabang",
        "birth_date": "1990-01-10",
        "sex": "Perempuan",
        "religion": "Islam",
        "occupation": "Petani/Pekebun",
        "address": "RT 002, Desa Gunung Sari, Kecamatan Tabang",
    }
