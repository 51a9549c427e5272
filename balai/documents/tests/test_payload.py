"""The QR payload codec alone: canonical, strict, and within QR version 10-M."""

import base64
import contextlib
import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from balai.documents import payload
from balai.documents.keys import DOCUMENT_DOMAIN, key_id_of, raw_public
from balai.documents.payload import Facts, PayloadError

URL = "https://balai.kukarkab.go.id"


class Signer:
    def __init__(self):
        self.private = Ed25519PrivateKey.generate()
        self.key_id = key_id_of(raw_public(self.private.public_key()))

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def facts(**overrides) -> Facts:
    signer_id = overrides.pop("key_id", "0a1b2c3d")
    base = {
        "kind": "sktm",
        "number": "470/0001/DS-BKG/XI/2026",
        "name": "SITI AMINAH",
        "nik_masked": "6402********0012",
        "date": dt.date(2026, 11, 12),
        "office_code": "DESA-64.02.12.2001",
        "key_id": signer_id,
        "signed_at": dt.datetime(2026, 11, 12, 1, 2, 3, tzinfo=dt.UTC),
    }
    return Facts(**{**base, **overrides})


def signed(**overrides):
    signer = Signer()
    return signer, payload.sign(
        facts=facts(key_id=signer.key_id, **overrides), signer=signer, public_url=URL
    )


def test_mask_nik_keeps_four_and_four():
    assert payload.mask_nik("6402125001900012") == "6402********0012"
    assert payload.mask_nik("640212") == ""
    assert payload.mask_nik("64021250019000１２") == "", "non-ASCII digits refused"


def test_round_trip_keeps_every_fact():
    signer, result = signed()
    parsed = payload.decode(result.url)
    assert parsed.facts == result.facts
    assert parsed.digest == result.digest
    assert parsed.facts.nik_masked == "6402********0012"
    assert parsed.facts.signed_at == dt.datetime(2026, 11, 12, 1, 2, 3, tzinfo=dt.UTC)
    signer.private.public_key().verify(parsed.signature, parsed.message)
    assert parsed.message == DOCUMENT_DOMAIN + parsed.body


def test_qr_text_is_an_upper_case_url_in_the_alphanumeric_set():
    _, result = signed()
    assert result.url.startswith("HTTPS://BALAI.KUKARKAB.GO.ID/V/")
    assert set(result.url) <= payload.ALNUM
    qr = payload.make_qr(result.url)
    assert qr.mode == "alphanumeric"
    assert qr.error == "M"
    assert qr.version <= 10


def test_bare_payload_lower_case_and_line_breaks_are_accepted():
    _, result = signed()
    text = result.payload.lower()
    wrapped = "\n".join(text[i : i + 60] for i in range(0, len(text), 60))
    assert payload.decode(wrapped).facts == result.facts


def test_no_nik_is_carried_as_none():
    _, result = signed(nik_masked="")
    assert payload.decode(result.url).facts.nik_masked == ""


@pytest.mark.parametrize("name_length", [40, 60, 90, 150])
def test_long_names_are_cut_to_fit_version_10_and_flagged(name_length):
    long_name = ("MUHAMMAD RIZKY FIRMANSYAH ABDULLAH " * 5)[:name_length].strip()
    _, result = signed(
        name=long_name,
        number="470.1.2.3/0001234/KEL-SMG-ULU/XII/2026",
        office_code="KEL-64.02.06.1011",
    )
    qr = payload.make_qr(result.url)
    assert qr.version <= 10, f"version {qr.version} for a {name_length}-char name"
    parsed = payload.decode(result.url)
    assert long_name.startswith(parsed.facts.name)
    assert parsed.facts.name_truncated == (parsed.facts.name != long_name)


def test_a_long_public_address_still_fits_version_10():
    signer = Signer()
    result = payload.sign(
        facts=facts(key_id=signer.key_id, name="A" * 150),
        signer=signer,
        public_url="https://layanan-publik.kutaikartanegarakab.go.id",
    )
    assert payload.make_qr(result.url).version <= 10


def test_unicode_name_is_cut_on_a_character_boundary():
    _, result = signed(name="NUR’AINI ÉLÉONORE " * 10)
    parsed = payload.decode(result.url)
    assert parsed.facts.name_truncated
    assert "\ufffd" not in parsed.facts.name


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        (12345, "not_text"),
        (None, "not_text"),
        ("A" * 3000, "too_long"),
        ("HTTPS://X/V/abc!", "bad_encoding"),
        ("https://example.org/v/ÄÖÜ", "bad_encoding"),
        ('{"a":' * 300, "bad_encoding"),
        ("AAAAAAAA", "truncated"),
        ("A", "truncated"),
    ],
)
def test_garbage_is_refused_with_a_reason(text, code):
    with pytest.raises(PayloadError) as info:
        payload.decode(text)
    assert info.value.code == code


def _tamper(url: str, position: int, new: str) -> str:
    return url[:position] + new + url[position + 1 :]


def test_truncated_text_is_refused():
    _, result = signed()
    for cut in (1, 5, 13, 40, 100):
        with pytest.raises(PayloadError):
            payload.decode(result.url[:-cut])


def test_trailing_bytes_and_non_canonical_base32_are_refused():
    signer, result = signed()
    raw = base64.b32decode(result.payload + "=" * (-len(result.payload) % 8))
    body = raw[:-64] + b"X"
    sig = signer.sign(DOCUMENT_DOMAIN + body)
    with pytest.raises(PayloadError) as info:
        payload.decode(payload.b32(body + sig))
    assert info.value.code == "trailing"
    # 101 bytes end in a base32 character with 2 spare bits: they must be 0.
    text = payload.b32(bytes(range(101)))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    twin = alphabet[alphabet.index(text[-1]) ^ 1]
    with pytest.raises(PayloadError) as info:
        payload.decode(text[:-1] + twin)
    assert info.value.code == "bad_encoding"


def test_unknown_version_and_kind_are_refused():
    signer, result = signed()
    raw = bytearray(base64.b32decode(result.payload + "=" * (-len(result.payload) % 8)))
    for index, value, code in ((0, 2, "version"), (1, 9, "kind_unknown")):
        changed = bytearray(raw)
        changed[index] = value
        body = bytes(changed[:-64])
        text = payload.b32(body + signer.sign(DOCUMENT_DOMAIN + body))
        with pytest.raises(PayloadError) as info:
            payload.decode(text)
        assert info.value.code == code


def test_control_characters_in_strings_are_refused():
    with pytest.raises(PayloadError):
        payload.encode_body(facts(name="SITI\x00AMINAH"))
    signer = Signer()
    body = bytearray(payload.encode_body(facts(key_id=signer.key_id)))
    body[-3] = 0x07  # inside the name
    text = payload.b32(bytes(body) + signer.sign(DOCUMENT_DOMAIN + bytes(body)))
    with pytest.raises(PayloadError) as info:
        payload.decode(text)
    assert info.value.code == "bad_text"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_decode_never_raises_anything_but_payload_error(text):
    with contextlib.suppress(PayloadError):
        payload.decode(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_random_bytes_in_base32_never_crash_the_decoder(data):
    with contextlib.suppress(PayloadError):
        payload.decode(payload.b32(data))
