"""The verifier against a trust store in memory: every way a QR can be wrong."""

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from balai.documents import keys, payload
from balai.documents.keys import DOCUMENT_DOMAIN, NodeSigner
from balai.documents.verify import (
    DocRevocation,
    TrustStore,
    read_revocation_list,
    verify_text,
)

URL = "https://balai.kukarkab.go.id"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
SIGNED = dt.datetime(2026, 11, 12, 1, 0, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
OFFICES = {
    "DESA-64.02.12.2001": ("64.02.12.2001", "Kantor Desa Gunung Sari"),
    "MPP-64.02.01": ("64.02.01", "Mal Pelayanan Publik Kecamatan Muara Muntai"),
    "DISDUKCAPIL": ("64.02", "Dinas Kependudukan dan Pencatatan Sipil"),
}


def node_key(root, node, *, not_before=T0, not_after=T1):
    private = Ed25519PrivateKey.generate()
    cert = keys.make_certificate(
        root=root,
        public_raw=keys.raw_public(private.public_key()),
        node=node,
        not_before=not_before,
        not_after=not_after,
        issued_at=not_before,
    )
    return NodeSigner(private=private, cert=cert)


@pytest.fixture
def world():
    root = Ed25519PrivateKey.generate()
    regency = node_key(root, "regency")
    tabang = node_key(root, "64.02.12")
    store = TrustStore(
        root_public=keys.raw_public(root.public_key()),
        certs={regency.key_id: regency.cert, tabang.key_id: tabang.cert},
        offices=dict(OFFICES),
    )
    return {"root": root, "regency": regency, "tabang": tabang, "store": store}


def issue(signer, *, office="DESA-64.02.12.2001", signed_at=SIGNED, **kw):
    facts = payload.Facts(
        kind=kw.get("kind", "domisili"),
        number=kw.get("number", "470/0007/DS-GS/XI/2026"),
        name=kw.get("name", "SITI AMINAH"),
        nik_masked="6402********0012",
        date=signed_at.date(),
        office_code=office,
        key_id=signer.key_id,
        signed_at=signed_at,
    )
    return payload.sign(facts=facts, signer=signer, public_url=URL)


def check(text, store):
    return verify_text(text, store, now=NOW)


def test_a_good_document_is_valid_with_its_facts(world):
    doc = issue(world["tabang"])
    verdict = check(doc.url, world["store"])
    assert (verdict.status, verdict.code) == ("valid", "valid")
    assert verdict.facts["number"] == "470/0007/DS-GS/XI/2026"
    assert verdict.facts["nik_masked"] == "6402********0012"
    assert verdict.facts["office_name"] == "Kantor Desa Gunung Sari"
    assert verdict.node == "64.02.12"
    assert verdict.digest == doc.digest


def test_any_changed_payload_byte_is_invalid(world):
    doc = issue(world["tabang"])
    raw = bytearray(payload.decode(doc.url).body + payload.decode(doc.url).signature)
    for index in (0, 1, 5, 9, 13, 20, 40, len(raw) - 70, len(raw) - 1):
        changed = bytearray(raw)
        changed[index] ^= 0x01
        verdict = check(payload.b32(bytes(changed)), world["store"])
        assert verdict.status == "invalid", f"byte {index} changed, still valid"
        assert verdict.facts is None, "unsigned facts are never shown"


def test_a_changed_name_fails_the_signature(world):
    doc = issue(world["tabang"], name="SITI AMINAH")
    parsed = payload.decode(doc.url)
    forged_body = parsed.body.replace(b"SITI AMINAH", b"SITI AMINAA")
    verdict = check(payload.b32(forged_body + parsed.signature), world["store"])
    assert (verdict.status, verdict.code) == ("invalid", "bad_signature")


def test_a_key_id_pointing_at_another_certified_key_is_invalid(world):
    # Signed by the Tabang key but claiming the regency key's id.
    signer = NodeSigner(private=world["tabang"].private, cert=world["regency"].cert)
    verdict = check(issue(signer).url, world["store"])
    assert (verdict.status, verdict.code) == ("invalid", "bad_signature")


def test_an_uncertified_key_is_invalid(world):
    stranger_root = Ed25519PrivateKey.generate()
    stranger = node_key(stranger_root, "64.02.12")
    verdict = check(issue(stranger).url, world["store"])
    assert (verdict.status, verdict.code) == ("invalid", "unknown_key")


def test_a_certificate_signed_by_another_root_is_refused(world):
    stranger = node_key(Ed25519PrivateKey.generate(), "regency")
    with pytest.raises(keys.KeyProblem):
        keys.parse_certificate(
            stranger.cert.text,
            stranger.cert.signature,
            root_public=world["store"].root_public,
        )


def test_signing_outside_the_certificate_validity_is_invalid(world):
    early = node_key(
        world["root"], "regency", not_before=T0, not_after=T0 + dt.timedelta(days=30)
    )
    world["store"].certs[early.key_id] = early.cert
    verdict = check(issue(early).url, world["store"])
    assert (verdict.status, verdict.code) == ("invalid", "outside_validity")


def test_a_kecamatan_key_cannot_sign_for_another_kecamatan(world):
    verdict = check(issue(world["tabang"], office="MPP-64.02.01").url, world["store"])
    assert (verdict.status, verdict.code) == ("invalid", "wrong_node")
    assert check(
        issue(world["regency"], office="MPP-64.02.01").url, world["store"]
    ).is_valid


def test_unknown_office_is_invalid(world):
    verdict = check(
        issue(world["regency"], office="DESA-99.99.99.2001").url, world["store"]
    )
    assert verdict.code == "unknown_office"


def test_a_revoked_key_keeps_what_it_signed_before_and_loses_what_after(world):
    revoked_at = SIGNED + dt.timedelta(hours=1)
    statement = keys.make_key_revocation(
        root=world["root"],
        key_id=world["tabang"].key_id,
        revoked_at=revoked_at,
        reason="laptop kecamatan hilang",
        issued_at=revoked_at,
    )
    world["store"].key_revocations[statement.key_id] = statement
    before = issue(world["tabang"], signed_at=SIGNED)
    after = issue(world["tabang"], signed_at=revoked_at + dt.timedelta(seconds=1))
    assert check(before.url, world["store"]).status == "valid"
    verdict = check(after.url, world["store"])
    assert (verdict.status, verdict.code) == ("invalid", "key_revoked")
    assert verdict.revoked_at == revoked_at
    assert verdict.revocation_reason == "laptop kecamatan hilang"


def test_a_revoked_document_answers_revoked_with_date_and_reason(world):
    doc = issue(world["tabang"])
    at = SIGNED + dt.timedelta(days=2)
    world["store"].doc_revocations[doc.digest] = DocRevocation(at, "data tidak benar")
    verdict = check(doc.url, world["store"])
    assert (verdict.status, verdict.code) == ("revoked", "revoked")
    assert verdict.revoked_at == at
    assert verdict.revocation_reason == "data tidak benar"
    assert verdict.facts["number"] == "470/0007/DS-GS/XI/2026"


def test_a_signature_from_the_far_future_is_invalid(world):
    doc = issue(world["regency"], signed_at=NOW + dt.timedelta(days=30))
    assert check(doc.url, world["store"]).code == "future"


def test_no_trust_anchor_means_invalid(world):
    doc = issue(world["regency"])
    verdict = check(doc.url, TrustStore(root_public=None, offices=OFFICES))
    assert verdict.code == "no_trust_anchor"


def test_truncated_text_is_invalid(world):
    doc = issue(world["regency"])
    for cut in (1, 2, 10, 80, len(doc.payload) - 5):
        verdict = check(doc.url[:-cut], world["store"])
        assert verdict.status == "invalid"


def test_a_signature_made_for_another_purpose_is_refused(world):
    """A certificate-domain signature over a document body does not verify."""
    signer = world["tabang"]
    body = payload.encode_body(
        payload.Facts(
            kind="sktm",
            number="1",
            name="X",
            nik_masked="",
            date=SIGNED.date(),
            office_code="DESA-64.02.12.2001",
            key_id=signer.key_id,
            signed_at=SIGNED,
        )
    )
    wrong = signer.private.sign(keys.CERT_DOMAIN + body)
    assert check(payload.b32(body + wrong), world["store"]).code == "bad_signature"
    right = signer.private.sign(DOCUMENT_DOMAIN + body)
    assert check(payload.b32(body + right), world["store"]).is_valid


def _list(signer_sign, signer_name, body):
    text = keys.canonical_json(body)
    return {
        "list": text,
        "signature": keys.b64(signer_sign(keys.REVOCATION_LIST_DOMAIN + text.encode())),
        "signer": signer_name,
    }


def test_revocation_lists_must_be_signed_by_root_or_a_regency_key(world):
    body = {
        "documents": [
            {
                "digest": "ab" * 16,
                "reason": "salah",
                "revoked_at": "2026-11-13T00:00:00Z",
            }
        ],
        "issued_at": "2026-11-14T00:00:00Z",
        "keys": [],
        "seq": 3,
        "version": 1,
    }
    store = world["store"]
    by_root = _list(world["root"].sign, "root", body)
    content = read_revocation_list(
        by_root, root_public=store.root_public, certs=store.certs
    )
    assert content.seq == 3
    assert "ab" * 16 in content.documents
    by_regency = _list(world["regency"].sign, world["regency"].key_id, body)
    assert read_revocation_list(
        by_regency, root_public=store.root_public, certs=store.certs
    )
    by_kecamatan = _list(world["tabang"].sign, world["tabang"].key_id, body)
    with pytest.raises(keys.KeyProblem):
        read_revocation_list(
            by_kecamatan, root_public=store.root_public, certs=store.certs
        )
    forged = dict(by_root, list=by_root["list"].replace("salah", "benar"))
    with pytest.raises(keys.KeyProblem):
        read_revocation_list(forged, root_public=store.root_public, certs=store.certs)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=800),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=0, max_size=400),
        st.binary(max_size=300).map(payload.b32),
        st.binary(max_size=300).map(
            lambda b: "HTTPS://BALAI.KUKARKAB.GO.ID/V/" + payload.b32(b)
        ),
        st.integers(),
        st.none(),
        st.lists(st.text(max_size=5)),
    )
)
def test_fuzz_the_verifier_never_raises_and_random_input_is_invalid(data):
    root = Ed25519PrivateKey.generate()
    store = TrustStore(root_public=keys.raw_public(root.public_key()), offices=OFFICES)
    verdict = verify_text(data, store, now=NOW)
    assert verdict.status == "invalid"
    assert verdict.reason
