"""The wire format: compressed JSON, signatures, versions, digests."""

import gzip

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from balai.sync import keys
from balai.sync.protocol import (
    ProtocolError,
    change_digest,
    check_version,
    decode_body,
    encode_body,
    signing_message,
)


def test_bodies_round_trip_and_bombs_are_refused():
    value = {"a": [1, 2, 3], "nama": "Siti Nurhaliza"}
    assert decode_body(encode_body(value)) == value
    with pytest.raises(ProtocolError):
        decode_body(b"not gzip at all")
    with pytest.raises(ProtocolError):
        decode_body(gzip.compress(b"{not json"))


def test_a_signature_covers_method_path_time_node_and_body():
    key = Ed25519PrivateKey.generate()
    public = keys.raw_public(key)
    parts = {
        "method": "POST",
        "path": "/api/v1/sync/push",
        "query": "",
        "timestamp": "1700000000.000",
        "node": "64.02.12",
        "body": b"isi",
    }
    signature = keys.sign(key, signing_message(**parts))
    assert keys.verify(public, signing_message(**parts), signature)
    for name, other in [("body", b"isi lain"), ("node", "64.02.05"), ("path", "/x")]:
        assert not keys.verify(
            public, signing_message(**{**parts, name: other}), signature
        )


def test_versions_other_than_ours_are_refused_with_a_clear_message():
    assert check_version("1", side="node") == 1
    with pytest.raises(ProtocolError) as caught:
        check_version("2", side="node")
    assert caught.value.status == 426
    assert "Tidak ada data yang dikirim atau diubah" in caught.value.message


def test_a_change_digest_ignores_key_order():
    assert change_digest("m", "1", "upsert", {"a": 1, "b": 2}) == change_digest(
        "m", "1", "upsert", {"b": 2, "a": 1}
    )
