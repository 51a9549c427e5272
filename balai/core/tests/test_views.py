import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory

from balai.core.errors import BalaiError, Conflict, NotFound
from balai.core.middleware import BalaiErrorMiddleware

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == connection.vendor
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_security_headers_on_every_response(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BalaiError("Berkas tidak dapat dibaca.", code="file_bad"), 400),
        (NotFound(), 404),
        (Conflict("Data sudah diubah petugas lain.", code="stale"), 409),
    ],
)
def test_a_domain_error_renders_as_an_indonesian_page(error, status):
    request = RequestFactory().get("/apa-saja/")
    request.user = AnonymousUser()
    response = BalaiErrorMiddleware(lambda r: None).process_exception(request, error)
    assert response.status_code == status
    body = response.content.decode()
    assert "Permintaan tidak dapat diproses" in body
    assert error.message in body
    assert error.code in body


def test_other_exceptions_are_left_to_django():
    request = RequestFactory().get("/")
    middleware = BalaiErrorMiddleware(lambda r: None)
    assert middleware.process_exception(request, ValueError("x")) is None


def test_the_api_renders_domain_and_validation_errors_as_one_shape(client):
    response = client.get("/api/v1/regions?level=provinsi")
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    assert body["code"] == "level_invalid"
    assert body["message"].startswith("Tingkat wilayah harus")
    response = client.post(
        "/api/v1/auth/token", {"username": "x"}, content_type="application/json"
    )
    body = response.json()
    assert (response.status_code, body["code"]) == (422, "validation_error")
    assert body["extra"]["fields"] == [{"field": "password", "error": "Field required"}]
