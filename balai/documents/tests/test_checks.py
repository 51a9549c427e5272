"""The key folder check: outside debug mode, keys live outside the source
tree and private keys are readable by their owner only."""

import os

import pytest
from django.conf import settings as django_settings
from django.core import checks


def _findings() -> list[checks.CheckMessage]:
    """What `balai check` reports about the key folder (the registered check)."""
    return [
        m
        for m in checks.run_checks(tags=[checks.Tags.security])
        if m.id and m.id.startswith("documents.")
    ]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.BALAI_DEMO = False
    return settings


def test_a_key_folder_inside_the_source_tree_is_an_error(production):
    production.BALAI_KEY_DIR = django_settings.BASE_DIR / "var" / "keys"
    found = _findings()
    assert [m.id for m in found] == ["documents.E001"]
    assert found[0].level == checks.ERROR
    assert "di dalam folder kode" in found[0].msg
    assert "Atur BALAI_KEY_DIR" in found[0].hint


def test_keys_outside_the_source_tree_with_0600_pass(production, root_key):
    private = list(django_settings.BALAI_KEY_DIR.rglob("*.pem"))
    assert private  # the root key and the regency's signing key
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in private)
    assert _findings() == []


def test_a_private_key_readable_by_others_is_an_error(production, root_key):
    root = django_settings.BALAI_KEY_DIR / "documents" / "root" / "root-ed25519.pem"
    os.chmod(root, 0o644)
    found = _findings()
    assert [m.id for m in found] == ["documents.E002"]
    assert found[0].level == checks.ERROR
    assert "root-ed25519.pem" in found[0].msg
    assert "0644" in found[0].msg
    assert "chmod 600" in found[0].hint


def test_debug_mode_keeps_the_development_default(settings):
    settings.DEBUG = True
    settings.BALAI_KEY_DIR = django_settings.BASE_DIR / "var" / "keys"
    assert _findings() == []


def test_demo_mode_with_debug_off_only_warns(settings):
    settings.DEBUG = False
    settings.BALAI_DEMO = True
    settings.BALAI_KEY_DIR = django_settings.BASE_DIR / "var" / "keys"
    found = _findings()
    assert [m.id for m in found] == ["documents.W001"]
    assert found[0].level == checks.WARNING
