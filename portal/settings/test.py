import os
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import tasks_config

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WAGTAILADMIN_BASE_URL = "http://testserver"
# Login throttling is exercised by its own test with AXES_ENABLED switched on.
AXES_ENABLED = False
# The page cache has its own tests (core/tests/test_pagecache.py), which switch it on.
PAGE_CACHE_SECONDS = 0
# Tasks run inside the request unless a test switches to the database backend and runs the real worker
# (core/tests/worker.py); a worker subprocess gets TASKS_BACKEND=database.
TASKS = tasks_config(os.environ.get("TASKS_BACKEND", "immediate"))
JOB_RETRY_DELAY = 0
# The search log appends in the request (inside the test's transaction); roll-ups only where a test starts them.
SEARCH_LOG_FLUSH_SECONDS = 0
SEARCH_LOG_ROLLUP_SECONDS = 0
JOB_FILES_DIR = Path(os.environ.get("JOB_FILES_DIR", VAR_DIR / "test-exports"))  # noqa: F405
# A file, not :memory:, so a worker subprocess can open the test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
# modelsearch's own test models, for its backend contract suite (search/tests/contract/); tests only.
INSTALLED_APPS = [*INSTALLED_APPS, "modelsearch.test.testapp"]  # noqa: F405
# Its shipped migrations depend on the "modelsearch" app label, which Wagtail names "wagtailsearch".
MIGRATION_MODULES = {"searchtests": "search.tests.contract.migrations"}
