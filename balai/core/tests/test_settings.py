"""Production settings, checked in a fresh interpreter with a production
environment (debug off, no demo), the way a server starts Balai."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
HOST = "balai.kukarkab.go.id"

PROBE = textwrap.dedent(
    f"""
    import json
    import django
    django.setup()
    from django.conf import settings
    from django.test import Client

    client = Client()
    secure = client.get("/healthz", HTTP_HOST="{HOST}", secure=True)
    plain = client.get("/healthz", HTTP_HOST="{HOST}")
    # Pages need collected static files; only ask for one when it redirects.
    page = (
        client.get("/akun/masuk/", HTTP_HOST="{HOST}")
        if settings.SECURE_SSL_REDIRECT
        else None
    )
    db = settings.DATABASES["default"]
    print(json.dumps({{
        "secure": {{"status": secure.status_code, "body": secure.json(),
                    "headers": dict(secure.headers)}},
        "plain": {{"status": plain.status_code, "headers": dict(plain.headers)}},
        "page": page and {{"status": page.status_code,
                          "location": page.get("Location")}},
        "settings": {{
            "DEBUG": settings.DEBUG,
            "BALAI_DEMO": settings.BALAI_DEMO,
            "BALAI_REQUIRE_OTP": settings.BALAI_REQUIRE_OTP,
            "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
            "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
            "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
            "hasher": settings.PASSWORD_HASHERS[0],
            "AXES_FAILURE_LIMIT": settings.AXES_FAILURE_LIMIT,
            "engine": db["ENGINE"],
            "db": str(db["NAME"]),
            "secret": settings.SECRET_KEY,
        }},
    }}))
    """
)


def run_balai(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BALAI_", "DJANGO_", "DATABASE_URL"))
    }
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "balai.settings",
            "BALAI_DATA_DIR": str(tmp_path / "data"),
            "BALAI_DEBUG": "0",
            "BALAI_DEMO": "0",
            "BALAI_ALLOWED_HOSTS": HOST,
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(tmp_path: Path, **env: str) -> tuple[dict, list[dict]]:
    result = run_balai(
        PROBE,
        tmp_path,
        BALAI_SECRET_KEY="rahasia-uji-" + "x" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        **env,
    )
    assert result.returncode == 0, result.stderr
    logs = [
        json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")
    ]
    return json.loads(result.stdout.strip().splitlines()[-1]), logs


def test_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_balai("import django; django.setup()", tmp_path)
    assert result.returncode != 0
    assert "BALAI_SECRET_KEY belum diatur" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_demo_mode_starts_without_a_secret_and_without_second_factor(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.BALAI_REQUIRE_OTP, bool(settings.SECRET_KEY))"
    )
    result = run_balai(code, tmp_path, BALAI_DEMO="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_production_behind_https(tmp_path):
    probe, logs = production(tmp_path, BALAI_HTTPS="1", BALAI_LOGIN_FAILURE_LIMIT="3")
    conf = probe["settings"]
    assert conf["DEBUG"] is False
    assert conf["BALAI_DEMO"] is False
    assert conf["BALAI_REQUIRE_OTP"] is True, "second factor on outside demo mode"
    assert conf["secret"].startswith("rahasia-uji-")
    assert conf["hasher"].endswith("Argon2PasswordHasher")
    assert conf["AXES_FAILURE_LIMIT"] == 3
    assert (conf["engine"], conf["db"]) == (
        "django.db.backends.sqlite3",
        str(tmp_path / "prod.sqlite3"),
    ), "DATABASE_URL is honoured"
    assert conf["SESSION_COOKIE_SECURE"]
    assert conf["CSRF_COOKIE_SECURE"]

    secure = probe["secure"]
    assert secure["status"] == 200
    assert secure["body"] == {"status": "ok", "database": "sqlite"}
    headers = {k.lower(): v for k, v in secure["headers"].items()}
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    # Plain HTTP: pages go to HTTPS, the health check answers as is.
    assert probe["plain"]["status"] == 200
    assert probe["page"]["status"] == 301
    assert probe["page"]["location"] == f"https://{HOST}/akun/masuk/"
    # One JSON log line per request.
    request_logs = [r for r in logs if r.get("message") == "request"]
    assert {
        (r["method"], r["path"], r["status"], r["level"]) for r in request_logs
    } >= {("GET", "/healthz", 200, "INFO")}
    assert all("ms" in r and "time" in r for r in request_logs)


def test_production_without_https_sends_no_hsts(tmp_path):
    probe, _ = production(tmp_path)
    headers = {k.lower(): v for k, v in probe["secure"]["headers"].items()}
    assert "strict-transport-security" not in headers
    assert headers["x-frame-options"] == "DENY"
    assert probe["settings"]["SECURE_HSTS_SECONDS"] == 0
    assert probe["settings"]["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("value", ["abc", ""])
def test_checkpoint_minutes_come_from_the_environment(tmp_path, value):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.BALAI_AUDIT_CHECKPOINT_MINUTES)"
    )
    result = run_balai(
        code, tmp_path, BALAI_DEMO="1", BALAI_AUDIT_CHECKPOINT_MINUTES="15"
    )
    assert result.stdout.strip() == "15"
    if value:
        bad = run_balai(
            code, tmp_path, BALAI_DEMO="1", BALAI_AUDIT_CHECKPOINT_MINUTES=value
        )
        assert bad.returncode != 0


@pytest.mark.parametrize(("threshold", "expected"), [(None, 5), ("0", None)])
def test_postgresql_statements_are_prepared_unless_turned_off(
    tmp_path, threshold, expected
):
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    )
    env = {"BALAI_DEMO": "1", "DATABASE_URL": "postgres://u@127.0.0.1:1/balai"}
    if threshold is not None:
        env["BALAI_DB_PREPARE_THRESHOLD"] = threshold
    result = run_balai(code, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.strip().splitlines()[-1])
    assert options == {"server_side_binding": True, "prepare_threshold": expected}
