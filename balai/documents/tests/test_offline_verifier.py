"""The offline verifier page in Debian's Chromium: same answers as the server.

Every vector is verified by Python (the exported bundle) and by the page, once
with WebCrypto Ed25519 and once with the page's own JavaScript Ed25519, and
the answers must agree.
"""

import datetime as dt
import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.utils import timezone

from balai.documents import keys, payload, trust
from balai.documents.actions import issue_document, revoke_document
from balai.documents.offline import build_html
from balai.documents.tests.conftest import DESA
from balai.documents.verify import verify_text
from balai.regions.models import Office

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

VERIFY_ALL = """async (vectors) => {
  const out = {};
  for (const [name, text] of Object.entries(vectors)) {
    out[name] = await window.balaiVerifier.verify(text);
  }
  return out;
}"""


@pytest.fixture
def chromium(browser):
    """The worker's one headless Chromium (`balai.core.tests.browser`).

    A second Playwright in the same worker would find the first one's event
    loop running and refuse to start.
    """
    return browser


def _forge(signer, **facts):
    base = {
        "kind": "sktm",
        "number": "400.9/0099/DS-GS/XI/2026",
        "name": "PALSU",
        "nik_masked": "",
        "date": timezone.localdate(),
        "office_code": DESA,
        "key_id": signer.key_id,
        "signed_at": timezone.now().replace(microsecond=0),
    }
    base.update(facts)
    return payload.sign(
        facts=payload.Facts(**base),
        signer=signer,
        public_url="https://balai.kukarkab.go.id",
    ).url


@pytest.fixture
def vectors(root_key, desa_head, desa_clerk, make_staff, actor_of, subject):
    actor = actor_of(desa_clerk)
    office = Office.objects.get(code=DESA)

    def letter(**kw):
        return issue_document(
            actor=actor,
            kind=kw.pop("kind", "sktm"),
            office=office,
            subject={**subject, **kw},
            facts={},
        )

    good = letter()
    long_name = letter(kind="usaha", name="NUR’AINI ÉLÉONORE BINTI " * 6)
    revoked = letter(kind="domisili")
    revoke_document(actor=actor_of(desa_head), document=revoked, reason="Data keliru")
    # A Tabang node key, then revoked: documents before stay valid, after not.
    call_command("keys_issue_node", "--node", "64.02.12", stdout=io.StringIO())
    trust.invalidate()
    store = trust.build_server_trust()
    tabang_id = next(c.key_id for c in store.certs.values() if c.node == "64.02.12")
    tabang = keys.load_signer(
        node="64.02.12", certs=store.certs, revoked={}, at=timezone.now()
    )
    before = _forge(tabang, signed_at=timezone.now().replace(microsecond=0))
    revoked_at = timezone.now().replace(microsecond=0) + dt.timedelta(seconds=5)
    call_command(
        "keys_revoke",
        "--key-id",
        tabang_id,
        "--at",
        revoked_at.isoformat(),
        "--reason",
        "laptop hilang",
        stdout=io.StringIO(),
    )
    after = _forge(tabang, signed_at=revoked_at + dt.timedelta(seconds=10))
    wrong_office = _forge(
        tabang,
        office_code="MPP-64.02.01",
        signed_at=revoked_at - dt.timedelta(seconds=1),
    )
    stranger = keys.NodeSigner(
        private=Ed25519PrivateKey.generate(),
        cert=keys.make_certificate(
            root=Ed25519PrivateKey.generate(),
            public_raw=keys.raw_public(Ed25519PrivateKey.generate().public_key()),
            node="regency",
            not_before=timezone.now() - dt.timedelta(days=1),
            not_after=timezone.now() + dt.timedelta(days=1),
            issued_at=timezone.now(),
        ),
    )
    text = good.qr_text
    i = len(text) - 50
    tampered = text[:i] + ("Q" if text[i] != "Q" else "R") + text[i + 1 :]
    trust.invalidate()
    return {
        "valid": text,
        "valid_lower_wrapped": "  "
        + text.split("/V/")[1].lower()[:80]
        + "\n"
        + text.split("/V/")[1].lower()[80:],
        "long_name": long_name.qr_text,
        "revoked_document": revoked.qr_text,
        "key_revoked_before": before,
        "key_revoked_after": after,
        "wrong_node": wrong_office,
        "uncertified": _forge(stranger),
        "tampered": tampered,
        "truncated": text[:-7],
        "garbage": "hello, world",
        "json_bomb": '{"a":' * 300,
        "empty": "",
    }


def test_the_offline_page_agrees_with_python_in_both_engines(
    chromium, vectors, tmp_path
):
    bundle = trust.export_bundle()
    store = trust.bundle_trust(bundle)
    expected = {
        name: verify_text(text, store).as_dict() for name, text in vectors.items()
    }
    assert expected["valid"]["status"] == "valid"
    assert expected["long_name"]["status"] == "valid"
    assert expected["revoked_document"]["status"] == "revoked"
    assert expected["key_revoked_before"]["status"] == "valid"
    assert expected["key_revoked_after"]["code"] == "key_revoked"
    assert expected["wrong_node"]["code"] == "wrong_node"
    assert expected["uncertified"]["code"] == "unknown_key"
    assert expected["tampered"]["status"] == "invalid"

    page_file = tmp_path / "verifikator.html"
    call_command("export_offline_verifier", str(page_file), stdout=io.StringIO())
    context = chromium.new_context(offline=True)  # no network at all
    requests = []
    try:
        for engine in ("webcrypto", "js"):
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            errors = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            query = "?engine=js" if engine == "js" else ""
            page.goto(page_file.as_uri() + query)
            page.wait_for_function(
                "document.body.dataset.ready === '1'", timeout=60_000
            )
            assert page.evaluate("window.balaiVerifier.engine()") == engine
            got = page.evaluate(VERIFY_ALL, vectors)
            for name, want in expected.items():
                have = got[name]
                assert (have["status"], have["code"]) == (
                    want["status"],
                    want["code"],
                ), (
                    engine,
                    name,
                    have,
                )
                assert have["digest"] == (want["digest"] or have["digest"])
                if want["facts"]:
                    for key, value in want["facts"].items():
                        assert have["facts"][key] == value, (engine, name, key)
                assert have["revoked_at"] == want["revoked_at"], (engine, name)
                assert have["revocation_reason"] == want["revocation_reason"]
            # The page shows the date of the revocation list it holds.
            list_at = dt.datetime.fromisoformat(
                expected["valid"]["revocation_list_issued_at"].replace("Z", "+00:00")
            )
            wita = list_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
            shown = page.inner_text("#list-date")
            assert f"{wita:%H:%M} WITA" in shown
            assert str(wita.year) in shown
            # And the form works for a person, not only for the test.
            page.fill("#qr", vectors["revoked_document"])
            page.click("button[type=submit]")
            page.wait_for_selector("#result[data-status]")
            assert page.get_attribute("#result", "data-status") == "revoked"
            assert "Data keliru" in page.inner_text("#result")
            assert not errors, errors
            page.close()
    finally:
        context.close()
    assert all(u.startswith("file://") for u in requests), requests


def test_the_pure_javascript_hash_and_signature_match_python(chromium, tmp_path):
    """SHA-512 and Ed25519 of the fallback against Python on random inputs."""
    import hashlib
    import random

    rng = random.Random(7)
    root = Ed25519PrivateKey.generate()
    bundle = {
        "format": "balai-trust-v1",
        "exported_at": "2026-01-01T00:00:00Z",
        "root_public_key": keys.b64(keys.raw_public(root.public_key())),
        "certificates": [],
        "key_revocations": [],
        "revocation_list": None,
        "offices": {},
    }
    page_file = tmp_path / "v.html"
    page_file.write_text(build_html(bundle, regency_name="Uji"), encoding="utf-8")
    context = chromium.new_context(offline=True)
    try:
        page = context.new_page()
        page.goto(page_file.as_uri() + "?engine=js")
        page.wait_for_function("document.body.dataset.ready === '1'")
        for size in (0, 1, 111, 112, 127, 128, 129, 255, 1000):
            data = bytes(rng.randrange(256) for _ in range(size))
            got = page.evaluate(
                "(a) => Array.from(window.balaiVerifier.sha512(new Uint8Array(a)))",
                list(data),
            )
            assert bytes(got) == hashlib.sha512(data).digest(), size
    finally:
        context.close()
    assert json.dumps(bundle)
