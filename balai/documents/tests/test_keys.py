"""Keys and their commands: root, node keys, rotation, revocation, the CLI verifier."""

import datetime as dt
import io
import json
import os
import stat
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from balai.core.errors import BalaiError
from balai.documents import keys, storage, trust
from balai.documents.actions import issue_document, revoke_document
from balai.documents.models import KeyCertificate, KeyRevocation, RevocationList
from balai.documents.selectors import verify
from balai.documents.tests.conftest import DESA
from balai.regions.models import Office

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    trust.invalidate()
    return out.getvalue()


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def letter(actor, subject, office_code=DESA, kind="sktm"):
    return issue_document(
        actor=actor,
        kind=kind,
        office=Office.objects.get(code=office_code),
        subject=subject,
        facts={},
    )


def test_init_root_writes_private_keys_0600_and_certifies_the_regency(db):
    output = run("keys_init_root")
    root_path = keys.root_key_path()
    assert mode(root_path) == 0o600
    assert keys.load_root_public() is not None
    cert = KeyCertificate.objects.get()
    assert cert.node == "regency"
    node_key = keys.node_dir("regency") / f"{cert.key_id}.pem"
    assert mode(node_key) == 0o600
    assert mode(node_key.parent) & 0o077 == 0
    private_pem = root_path.read_text()
    body = "".join(private_pem.splitlines()[1:-1])
    assert body not in output, "never print a private key"
    assert "PRIVATE" not in output
    with pytest.raises(CommandError):
        run("keys_init_root")
    before = root_path.read_bytes()
    assert "sudah ada" in run("keys_init_root", "--if-missing")
    assert root_path.read_bytes() == before
    assert KeyCertificate.objects.count() == 1


def test_a_key_file_readable_by_others_is_refused(root_key):
    path = next(iter(keys.node_private_keys("regency").values()))
    os.chmod(path, 0o644)
    store = trust.build_server_trust()
    with pytest.raises(keys.KeyProblem, match="0600"):
        keys.load_signer(
            node="regency", certs=store.certs, revoked={}, at=timezone.now()
        )


def test_issue_node_key_for_a_kecamatan_and_sign_there(
    root_key, make_staff, actor_of, subject, settings
):
    output = run("keys_issue_node", "--node", "64.02.12")
    cert = KeyCertificate.objects.get(node="64.02.12")
    assert cert.key_id in output
    assert mode(keys.node_dir("64.02.12") / f"{cert.key_id}.pem") == 0o600
    settings.BALAI_NODE = "64.02.12"
    settings.BALAI_KECAMATAN_NODES = "64.02.12"
    make_staff(office=DESA, role="leader", is_head=True, position="Kepala Desa")
    clerk = actor_of(make_staff(office=DESA, role="counter_officer"))
    doc = letter(clerk, subject)
    assert doc.key_id == cert.key_id
    verdict = verify(text=doc.qr_text)
    assert (verdict.status, verdict.node) == ("valid", "64.02.12")
    with pytest.raises(CommandError):
        run("keys_issue_node", "--node", "64.02.99")
    with pytest.raises(CommandError):
        run("keys_issue_node", "--node", "../etc")


def test_a_node_without_its_key_cannot_sign(
    root_key, make_staff, actor_of, subject, settings
):
    settings.BALAI_NODE = "64.02.12"
    settings.BALAI_KECAMATAN_NODES = "64.02.12"
    make_staff(office=DESA, role="leader", is_head=True, position="Kepala Desa")
    clerk = actor_of(make_staff(office=DESA, role="counter_officer"))
    with pytest.raises(BalaiError) as info:
        letter(clerk, subject)
    assert info.value.code == "no_signing_key"


def test_certificates_arrive_by_database_and_forged_ones_are_ignored(root_key):
    """A certificate row (e.g. synced from the regency) counts only if root-signed."""
    stranger = Ed25519PrivateKey.generate()
    public = keys.raw_public(Ed25519PrivateKey.generate().public_key())
    now = timezone.now().replace(microsecond=0)
    forged = keys.make_certificate(
        root=stranger,
        public_raw=public,
        node="regency",
        not_before=now,
        not_after=now + dt.timedelta(days=9),
        issued_at=now,
    )
    KeyCertificate.objects.create(
        key_id=forged.key_id,
        node="regency",
        public_key=keys.b64(public),
        not_before=now,
        not_after=now,
        issued_at=now,
        certificate=forged.text,
        signature=forged.signature,
    )
    store = trust.build_server_trust()
    assert forged.key_id not in store.certs
    assert len(store.certs) == 1


def test_rotation_signs_with_the_new_key_and_old_documents_stay_valid(
    root_key, desa_head, desa_clerk, actor_of, subject
):
    actor = actor_of(desa_clerk)
    old_doc = letter(actor, subject)
    old_key = old_doc.key_id
    run("keys_rotate")
    assert old_key not in keys.node_private_keys("regency"), "old private key removed"
    assert KeyCertificate.objects.filter(key_id=old_key).exists(), "old cert kept"
    new_doc = letter(actor, subject)
    assert new_doc.key_id != old_key
    assert verify(text=old_doc.qr_text).status == "valid"
    assert verify(text=new_doc.qr_text).status == "valid"


def test_revoking_a_key_invalidates_only_what_it_signed_afterwards(
    root_key, desa_head, desa_clerk, actor_of, subject
):
    actor = actor_of(desa_clerk)
    before = letter(actor, subject)
    key_id = before.key_id
    at = before.signed_at + dt.timedelta(seconds=1)
    output = run(
        "keys_revoke",
        "--key-id",
        key_id,
        "--at",
        at.isoformat(),
        "--reason",
        "server dicuri",
    )
    assert key_id in output
    revocation = KeyRevocation.objects.get(key_id=key_id)
    assert revocation.revoked_at == at
    published = RevocationList.objects.order_by("-seq").first()
    assert published.signer == "root"
    assert key_id in published.body
    assert verify(text=before.qr_text).status == "valid"
    # The only regency key is revoked: nothing more can be signed.
    while timezone.now() < at:
        time.sleep(0.05)
    with pytest.raises(BalaiError) as info:
        letter(actor, subject)
    assert info.value.code == "no_signing_key"
    # A document that claims to be signed after the revocation is invalid.
    signer = keys.load_signer(
        node="regency",
        certs=trust.build_server_trust().certs,
        revoked={},
        at=at - dt.timedelta(seconds=1),
    )
    from balai.documents import payload

    late = payload.sign(
        facts=payload.Facts(
            kind="sktm",
            number="X/1",
            name="SITI AMINAH",
            nik_masked="",
            date=at.date(),
            office_code=DESA,
            key_id=key_id,
            signed_at=at + dt.timedelta(minutes=5),
        ),
        signer=signer,
        public_url="https://balai.kukarkab.go.id",
    )
    verdict = verify(text=late.url)
    assert (verdict.status, verdict.code) == ("invalid", "key_revoked")
    assert verdict.revocation_reason == "server dicuri"
    with pytest.raises(CommandError):
        run("keys_revoke", "--key-id", key_id, "--at", "now")
    with pytest.raises(CommandError):
        run("keys_revoke", "--key-id", "ffffffff", "--at", "now")


def test_the_root_key_may_live_elsewhere(db, tmp_path):
    offline = tmp_path / "usb" / "root.pem"
    run("keys_init_root", "--root-key", str(offline), "--no-node-key")
    assert offline.exists()
    assert not keys.root_key_path().exists()
    with pytest.raises(CommandError):
        run("keys_issue_node", "--node", "regency")
    run("keys_issue_node", "--node", "regency", "--root-key", str(offline))
    assert KeyCertificate.objects.filter(node="regency").count() == 1


def test_verify_document_command_answers_with_exit_codes(
    root_key, desa_head, desa_clerk, actor_of, subject, tmp_path
):
    actor = actor_of(desa_clerk)
    good = letter(actor, subject)
    out = run("verify_document", "--qr-text", good.qr_text)
    assert out.startswith("SAH")
    assert good.number in out
    tampered = (
        good.qr_text[:-10]
        + ("A" if good.qr_text[-10] != "A" else "B")
        + good.qr_text[-9:]
    )
    with pytest.raises(CommandError) as info:
        run("verify_document", "--qr-text", tampered)
    assert info.value.returncode == 1
    pdf_path = tmp_path / "surat.pdf"
    pdf_path.write_bytes(storage.get(good.pdf_sha256))
    as_json = json.loads(run("verify_document", "--pdf", str(pdf_path), "--json"))
    assert as_json["status"] == "valid"
    assert as_json["facts"]["number"] == good.number
    revoke_document(actor=actor_of(desa_head), document=good, reason="salah data")
    with pytest.raises(CommandError) as info:
        run("verify_document", "--qr-text", good.qr_text)
    assert info.value.returncode == 2


def test_verify_document_with_an_exported_bundle_needs_no_key_folder(
    root_key, desa_head, desa_clerk, actor_of, subject, tmp_path, settings
):
    actor = actor_of(desa_clerk)
    good = letter(actor, subject)
    revoked = letter(actor, subject)
    revoke_document(actor=actor_of(desa_head), document=revoked, reason="dibatalkan")
    bundle = tmp_path / "trust.json"
    bundle.write_text(json.dumps(trust.export_bundle()), encoding="utf-8")
    settings.BALAI_KEY_DIR = tmp_path / "empty"  # no keys here at all
    trust.invalidate()
    assert run(
        "verify_document", "--qr-text", good.qr_text, "--bundle", str(bundle)
    ).startswith("SAH")
    with pytest.raises(CommandError) as info:
        run("verify_document", "--qr-text", revoked.qr_text, "--bundle", str(bundle))
    assert info.value.returncode == 2
    # Without the bundle this node has no trust anchor: nothing verifies.
    with pytest.raises(CommandError) as info:
        run("verify_document", "--qr-text", good.qr_text)
    assert info.value.returncode == 1


def test_export_offline_verifier_writes_one_self_contained_page(
    root_key, desa_head, desa_clerk, actor_of, subject, tmp_path
):
    doc = letter(actor_of(desa_clerk), subject)
    revoke_document(actor=actor_of(desa_head), document=doc, reason="dibatalkan")
    out = tmp_path / "verifikator.html"
    run("export_offline_verifier", str(out))
    html = out.read_text(encoding="utf-8")
    assert keys.b64(keys.load_root_public()) in html
    assert doc.digest in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "<script src" not in html
    assert "Kutai Kartanegara" in html
