"""Settings for the test suite: the real stack, pointed at throwaway places.

Redis: database 15 of REDIS_URL's server (TEST_REDIS_URL overrides), flushed by each test.
DATABASE_URL picks SQLite (default) or PostgreSQL, as in production.
"""

import os
import tempfile

os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="funasr-portal-test-"))
os.environ["MODELS_DIR"] = os.path.join(os.environ["VAR_DIR"], "models")  # empty: nothing fetched

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A file, not memory, for the SQLite test database: the browser tests serve the portal from a
# daphne subprocess, which must see the same database as the test.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
