"""Balai's settings: one module, configured from the environment.

Defaults are the safe ones (debug off, second factor on). `make run` turns on
demo mode through the environment; production sets `BALAI_SECRET_KEY` and
`DATABASE_URL`.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured


def env_flag(name: str, *, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "ya"}


PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent
DATA_DIR = Path(os.environ.get("BALAI_DATA_DIR") or BASE_DIR / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_flag("BALAI_DEBUG")
# Demo mode seeds demo data and lets staff in without a second factor.
BALAI_DEMO = env_flag("BALAI_DEMO")

SECRET_KEY = os.environ.get("BALAI_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or BALAI_DEMO:
        SECRET_KEY = "balai-insecure-development-key-never-use-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            "BALAI_SECRET_KEY belum diatur. Atur variabel lingkungan ini sebelum "
            "menjalankan Balai tanpa mode debug (BALAI_SECRET_KEY is not set)."
        )

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("BALAI_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("BALAI_CSRF_ORIGINS", "").split(",") if o.strip()
]

# --- Balai's own settings -------------------------------------------------------
# The regency this installation serves, as a Kemendagri code.
BALAI_REGENCY = os.environ.get("BALAI_REGENCY", "64.02")
# Which node this is: "regency" or a kecamatan code such as "64.02.12".
BALAI_NODE = os.environ.get("BALAI_NODE", "regency")
# Who issues NIK and KK numbers: "siak" (Dukcapil) or "local" (Balai itself).
BALAI_NUMBERS = os.environ.get("BALAI_NUMBERS", "siak")
if BALAI_NUMBERS not in {"siak", "local"}:
    raise ImproperlyConfigured("BALAI_NUMBERS harus 'siak' atau 'local'.")
# Staff who may read personal data must pass a second factor, except in demo mode.
BALAI_REQUIRE_OTP = env_flag("BALAI_REQUIRE_OTP", default=not BALAI_DEMO)
# Where signing keys live: outside the repository and outside the database.
BALAI_KEY_DIR = Path(os.environ.get("BALAI_KEY_DIR") or DATA_DIR / "keys")
BALAI_AUDIT_CHECKPOINT_MINUTES = int(
    os.environ.get("BALAI_AUDIT_CHECKPOINT_MINUTES", "60")
)

# Notifications (balai.notify): the sender of each channel ("console" logs and
# counts as delivered; "gateway" posts JSON to an SMS/WhatsApp gateway; "email"
# uses Django's e-mail backend), the gateways, and the shared secret gateways
# present on delivery receipts. See docs/decisions/0006-notify-and-queue.md.
BALAI_NOTIFY_SENDERS = {
    "sms": os.environ.get("BALAI_NOTIFY_SMS_SENDER", "console"),
    "whatsapp": os.environ.get("BALAI_NOTIFY_WHATSAPP_SENDER", "console"),
    "email": os.environ.get("BALAI_NOTIFY_EMAIL_SENDER", "console"),
}
BALAI_NOTIFY_GATEWAYS = {
    channel: {
        "URL": os.environ.get(f"BALAI_NOTIFY_{channel.upper()}_URL", ""),
        "TOKEN": os.environ.get(f"BALAI_NOTIFY_{channel.upper()}_TOKEN", ""),
        "TIMEOUT": float(os.environ.get("BALAI_NOTIFY_GATEWAY_TIMEOUT", "10")),
    }
    for channel in ("sms", "whatsapp")
}
BALAI_NOTIFY_CALLBACK_SECRET = os.environ.get("BALAI_NOTIFY_CALLBACK_SECRET", "")
BALAI_NOTIFY_PHONE_CHANNEL = os.environ.get("BALAI_NOTIFY_PHONE_CHANNEL", "sms")
BALAI_NOTIFY_RETRY_MINUTES = (1, 5, 25, 125)
BALAI_NOTIFY_MAX_ATTEMPTS = 5
BALAI_NOTIFY_FROM_EMAIL = os.environ.get(
    "BALAI_NOTIFY_FROM_EMAIL", "Balai Kukar <noreply@localhost>"
)
EMAIL_HOST = os.environ.get("BALAI_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("BALAI_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("BALAI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("BALAI_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_flag("BALAI_EMAIL_TLS")
EMAIL_TIMEOUT = 10
# Counter queue (balai.antrian): kiosk tickets allowed per IP per minute, and
# whether the kiosk refuses tickets outside office hours (off in demo mode).
BALAI_KIOSK_RATE_PER_MINUTE = int(os.environ.get("BALAI_KIOSK_RATE_PER_MINUTE", "30"))
BALAI_ANTRIAN_ENFORCE_HOURS = env_flag(
    "BALAI_ANTRIAN_ENFORCE_HOURS", default=not BALAI_DEMO
)
# Issued documents (balai.documents, docs/decisions/0007): the public address
# printed in QR codes, an administrator's letter-template folder searched before
# the built-in one, and the kecamatan that run a node of their own (the regency
# node serves every other office; balai.core.nodes).
BALAI_PUBLIC_URL = os.environ.get("BALAI_PUBLIC_URL", "http://localhost:8000")
BALAI_LETTER_TEMPLATE_DIR = os.environ.get("BALAI_LETTER_TEMPLATE_DIR", "")
BALAI_KECAMATAN_NODES = os.environ.get("BALAI_KECAMATAN_NODES", "")
# Sync between a kecamatan node and the regency (balai.sync, decision 0008):
# a node refuses staff logins after this many days without a successful sync
# (revoked staff must not work on forever); a round runs every few minutes;
# changes per pushed batch and per pulled page.
BALAI_NODE_MAX_DAYS_OFFLINE = int(os.environ.get("BALAI_NODE_MAX_DAYS_OFFLINE", "7"))
BALAI_SYNC_INTERVAL_MINUTES = int(os.environ.get("BALAI_SYNC_INTERVAL_MINUTES", "5"))
BALAI_SYNC_BATCH = int(os.environ.get("BALAI_SYNC_BATCH", "2000"))
BALAI_SYNC_PAGE = int(os.environ.get("BALAI_SYNC_PAGE", "2000"))
# Register imports (docs/decisions/0009-digitisation.md): the largest file a
# page accepts, and the largest the command line reads (never below 1 GB).
BALAI_IMPORT_MAX_UPLOAD_BYTES = int(
    os.environ.get("BALAI_IMPORT_MAX_UPLOAD_BYTES", str(50 * 1000 * 1000))
)
BALAI_IMPORT_MAX_FILE_BYTES = int(
    os.environ.get("BALAI_IMPORT_MAX_FILE_BYTES", str(4 * 1000 * 1000 * 1000))
)
# An import reads and checks its file in a second process (where there is a
# second core), beside the one writing to the database; "0": in a thread.
BALAI_IMPORT_READER_PROCESS = os.environ.get("BALAI_IMPORT_READER_PROCESS", "1") == "1"
# Where SIAK PDFs and issued letters are kept (content-addressed, outside the
# web root), and how many verifications one IP may ask for ("count/seconds").
BALAI_DOCUMENT_STORE = os.environ.get("BALAI_DOCUMENT_STORE", "")
BALAI_VERIFY_RATE = os.environ.get("BALAI_VERIFY_RATE", "30/60")

# --- Applications -----------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # django-ninja as an app: its docs page then uses its own static Swagger UI
    # and no inline script, instead of a CDN copy (CSP, offline kecamatan nodes).
    "ninja",
    "balai.core",
    "balai.regions",
    "balai.accounts",
    "balai.audit",
    "balai.registry",
    "balai.services",
    "balai.notify",
    "balai.antrian",
    "balai.documents",
    "balai.sync",
    "balai.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "balai.core.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Indonesian first: ignore the browser's Accept-Language (docs/decisions/0001).
    "balai.core.i18n.IndonesianFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "balai.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "balai.core.middleware.BalaiErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "balai.urls"
WSGI_APPLICATION = "balai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "balai.core.context_processors.balai",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
    # one failing with "database is locked" halfway through a transaction.
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=30000;"
        "PRAGMA temp_store=MEMORY;"
        "PRAGMA mmap_size=268435456;"
        "PRAGMA cache_size=-65536;"
    ),
}
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Parameters bound by the server and statements prepared after their
        # fifth run: planning was most of PostgreSQL's time on a submission
        # (docs/decisions/0011). 0 turns preparing off (behind a pooler in
        # transaction mode, for instance).
        _prepare = int(os.environ.get("BALAI_DB_PREPARE_THRESHOLD", "5"))
        DATABASES["default"]["OPTIONS"] = {
            "server_side_binding": True,
            "prepare_threshold": _prepare or None,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "balai.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------
# Rate limits (tracking, sign-up, one-time codes, verification) count in the
# cache. The default (local memory) is per process: with several gunicorn
# workers set BALAI_CACHE_URL to share the counts: "redis://host:6379/0"
# (needs the redis package) or "file:///srv/balai/cache" (a folder on this
# server, no extra dependency); "file:" alone uses $BALAI_DATA_DIR/cache.
BALAI_CACHE_URL = os.environ.get("BALAI_CACHE_URL", "").strip()
if BALAI_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": BALAI_CACHE_URL,
        }
    }
elif BALAI_CACHE_URL.startswith("file:"):
    _cache_dir = BALAI_CACHE_URL.removeprefix("file:").removeprefix("//")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(_cache_dir or DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
elif BALAI_CACHE_URL:
    raise ImproperlyConfigured(
        "BALAI_CACHE_URL: use redis://..., rediss://..., unix://... or file:..."
    )
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "balai",
        }
    }

# --- Auth -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # A kecamatan node too long without sync refuses staff logins.
    "balai.sync.auth.StaleNodeGuard",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
_VALIDATORS = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": _VALIDATORS + "UserAttributeSimilarityValidator"},
    {
        "NAME": _VALIDATORS + "MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": _VALIDATORS + "CommonPasswordValidator"},
    {"NAME": _VALIDATORS + "NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:staff-home"
LOGOUT_REDIRECT_URL = "core:home"

AXES_FAILURE_LIMIT = int(os.environ.get("BALAI_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "balai.accounts.views.locked_out"
OTP_TOTP_ISSUER = "Balai"

SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Makassar"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "media"},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security ---------------------------------------------------------------------
BALAI_HTTPS = env_flag("BALAI_HTTPS")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if BALAI_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # The load balancer's health check speaks plain HTTP on the inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Background work --------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if DEBUG else "json",
        }
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("BALAI_LOG_LEVEL", "INFO"),
    },
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # WeasyPrint logs every rendering step at INFO (balai.documents).
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
