"""Settings for the test suite: demo data off, fast hashing, tasks run inline.

Tests that exercise the secure path (second factor, debug off) override
`BALAI_REQUIRE_OTP` and friends themselves.
"""

import os
import tempfile

os.environ.setdefault("BALAI_DEBUG", "0")
os.environ.setdefault("BALAI_DEMO", "1")
os.environ.setdefault("BALAI_DATA_DIR", tempfile.mkdtemp(prefix="balai-test-"))

from balai.settings import *  # noqa: F403
from balai.settings import DATA_DIR, STORAGES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
BALAI_KEY_DIR = DATA_DIR / "keys"
AXES_ENABLED = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
