"""The documents API: verify (public, hostile input), revocation list, revoke."""

import json

import pytest
from django.core.cache import cache

from balai.accounts.actions import issue_api_token
from balai.documents import keys
from balai.documents.actions import issue_document
from balai.documents.tests.conftest import DESA
from balai.documents.trust import bundle_trust
from balai.documents.verify import read_revocation_list, verify_text
from balai.regions.models import Office

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/documents/verify"


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    settings.BALAI_VERIFY_RATE = "1000/60"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def bearer(actor_of):
    def make(user) -> dict:
        _, secret = issue_api_token(actor=actor_of(user), user=user, otp_verified=True)
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def document(root_key, desa_head, desa_clerk, actor_of, subject):
    return issue_document(
        actor=actor_of(desa_clerk),
        kind="domisili",
        office=Office.objects.get(code=DESA),
        subject=subject,
        facts={"purpose": "Melamar kerja"},
    )


def post(client, body, *, raw: bool = False):
    data = body if raw else json.dumps(body)
    return client.post(VERIFY, data=data, content_type="application/json")


def test_anyone_may_verify_a_good_document(client, document):
    response = post(client, {"qr_text": document.qr_text})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["code"]) == ("valid", "valid")
    assert body["facts"]["number"] == document.number
    assert body["facts"]["nik_masked"] == "6402********0012"
    assert body["facts"]["office_name"] == "Kantor Desa Gunung Sari"
    assert "6402125001900012" not in response.content.decode()


@pytest.mark.parametrize(
    ("qr_text", "code"),
    [
        ("", "empty"),
        ("halo", "bad_encoding"),
        ("A" * 5000, "too_long"),
        ('{"a":' * 1000, "too_long"),
        (["x"], "not_text"),
        ({"nested": True}, "not_text"),
        (10**30, "not_text"),
        (None, "not_text"),
        ("HTTPS://BALAI.KUKARKAB.GO.ID/V/" + "A" * 200, "bad_encoding"),
        ("https://evil.example/v/ÉÉÉ", "bad_encoding"),
    ],
)
def test_garbage_qr_text_is_invalid_with_a_reason(client, root_key, qr_text, code):
    response = post(client, {"qr_text": qr_text})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "invalid"
    assert body["reason"]
    assert body["facts"] is None
    if code != "bad_encoding":
        assert body["code"] == code


def test_a_changed_byte_is_invalid(client, document):
    text = document.qr_text
    index = len(text) - 40
    changed = text[:index] + ("B" if text[index] != "B" else "C") + text[index + 1 :]
    body = post(client, {"qr_text": changed}).json()
    assert body["status"] == "invalid"
    assert body["code"] in {"bad_signature", "bad_encoding"}


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00{",
        b"[" * 5000 + b"]" * 5000,
        b'{"qr_text": [' + b"[" * 3000 + b"]" * 3000 + b"]}",
        b'{"qr_text": 1' + b"0" * 6000 + b"}",
        b'{"qr_text": "x", "extra": 1}',
        b'{"qrtext": "x"}',
        b'"just a string"',
        b'{"qr_text": "' + b"A" * 70000 + b'"}',
    ],
)
def test_malformed_requests_get_400_never_500(client, root_key, raw):
    response = post(client, raw, raw=True)
    assert response.status_code == 400, response.content[:200]
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    assert body["code"] == "bad_request"


def test_verify_is_rate_limited_per_ip(client, settings, root_key):
    settings.BALAI_VERIFY_RATE = "3/60"
    cache.clear()
    codes = [post(client, {"qr_text": "x"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = client.post(
        VERIFY,
        data='{"qr_text": "x"}',
        content_type="application/json",
        REMOTE_ADDR="10.1.2.3",
    )
    assert other.status_code == 200, "another IP has its own budget"
    assert post(client, {"qr_text": "x"}).json()["code"] == "rate_limited"


def test_revocation_list_is_published_signed_and_verifiable(
    client, document, desa_head, bearer
):
    assert client.get("/api/v1/documents/revocations").status_code == 503
    response = client.post(
        f"/api/v1/documents/{document.pk}/revoke",
        data=json.dumps({"reason": "Alamat tidak sesuai"}),
        content_type="application/json",
        headers=bearer(desa_head),
    )
    assert response.status_code == 200, response.content
    published = client.get("/api/v1/documents/revocations")
    assert published.status_code == 200
    wrapper = published.json()
    bundle = client.get("/api/v1/documents/trust").json()
    store = bundle_trust(bundle)
    content = read_revocation_list(
        wrapper, root_public=keys.load_root_public(), certs=store.certs
    )
    assert content.documents[document.digest].reason == "Alamat tidak sesuai"
    verdict = verify_text(document.qr_text, store)
    assert verdict.status == "revoked"
    api_verdict = post(client, {"qr_text": document.qr_text}).json()
    assert api_verdict["status"] == "revoked"
    assert api_verdict["revocation_reason"] == "Alamat tidak sesuai"
    assert api_verdict["revoked_at"]


def test_revoke_endpoint_anonymous_wrong_role_right_role(
    client, document, desa_head, desa_clerk, bearer
):
    url = f"/api/v1/documents/{document.pk}/revoke"
    body = json.dumps({"reason": "Salah ketik nama"})
    anonymous = client.post(url, data=body, content_type="application/json")
    assert anonymous.status_code == 401
    clerk = client.post(
        url, data=body, content_type="application/json", headers=bearer(desa_clerk)
    )
    assert clerk.status_code == 403
    assert clerk.json()["code"] == "forbidden"
    head = client.post(
        url, data=body, content_type="application/json", headers=bearer(desa_head)
    )
    assert head.status_code == 200
    assert head.json()["reason"] == "Salah ketik nama"
    again = client.post(
        url, data=body, content_type="application/json", headers=bearer(desa_head)
    )
    assert again.status_code == 409
    missing = client.post(
        "/api/v1/documents/not-a-uuid/revoke",
        data=body,
        content_type="application/json",
        headers=bearer(desa_head),
    )
    assert missing.status_code == 404


def test_trust_bundle_is_public_and_self_checking(client, document):
    bundle = client.get("/api/v1/documents/trust").json()
    assert bundle["format"] == "balai-trust-v1"
    assert DESA in bundle["offices"]
    store = bundle_trust(bundle)
    assert verify_text(document.qr_text, store).status == "valid"


def test_openapi_documents_the_verify_body(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/documents/verify"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["qr_text"]


def test_without_keys_the_trust_bundle_and_list_are_unavailable(client):
    for path in ("/api/v1/documents/trust", "/api/v1/documents/revocations"):
        response = client.get(path)
        assert response.status_code == 503
        assert set(response.json()) == {"message", "code", "extra"}
    verdict = post(client, {"qr_text": "HTTPS://X/V/" + "A" * 160}).json()
    assert verdict["status"] == "invalid"
