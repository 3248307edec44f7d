"""Tests: real PostgreSQL and Redis on 127.0.0.1, as in production.

``DATABASE_URL=sqlite:///path/martech.sqlite3`` runs them on SQLite instead, with the embedded
default's own options (WAL, IMMEDIATE transactions); the test database is a file next to it,
``test_martech.sqlite3``, which the worker processes the tests start open as well.
"""

import os
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
SUPPRESSION_KEYS = env.list(
    "MARTECH_SUPPRESSION_KEYS", default=["test-suppression-key-not-for-production-0123456789"]
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and "DATABASE_URL" in os.environ:
    # The append-only tables' triggers step aside for the test runner's flush (see the backend).
    DATABASES["default"]["ENGINE"] = "tests.backends.sqlite3"
    _FILE = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_FILE.with_name(f"test_{_FILE.name}"))}
else:
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/martech")
    }
DATABASES["default"]["CONN_MAX_AGE"] = 0
# The audit log and the consent ledger refuse TRUNCATE unless the session allows it; the test
# runner empties every table with one TRUNCATE between transactional tests.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    _OPTIONS = DATABASES["default"].setdefault("OPTIONS", {})
    _OPTIONS["options"] = f"{_OPTIONS.get('options', '')} -c martech.allow_truncate=on".strip()
# Parallel test processes (pytest-xdist gw0, gw1, ...) each get their own Redis databases,
# so one process flushing its queue or cache never touches another's.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=f"redis://127.0.0.1:6379/{14 - 2 * _WORKER}")
CACHES = {
    "default": env.cache_url(
        "DJANGO_CACHE_URL", default=f"rediscache://127.0.0.1:6379/{13 - 2 * _WORKER}"
    )
}
# The vendor fakes and the warehouse under test listen on loopback; tests of the egress
# policy override this with pytest-django's settings fixture.
MARTECH_EGRESS_ALLOW = env.list("MARTECH_EGRESS_ALLOW", default=["127.0.0.0/8", "::1", "localhost"])
# Signed-in test clients (force_login) have no second factor; the tests of required MFA turn
# it on with the settings fixture.
MARTECH_MFA_REQUIRED = env.bool("MARTECH_MFA_REQUIRED", default=False)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Static files come from the finders; the (empty) root only has to exist.
STATIC_ROOT = VAR_DIR / "test-staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
