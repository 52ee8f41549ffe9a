from .base import *  # noqa: F401,F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WAGTAILADMIN_BASE_URL = "http://testserver"
# Login throttling is exercised by its own test with AXES_ENABLED switched on.
AXES_ENABLED = False
# The page cache has its own tests (core/tests/test_pagecache.py), which switch it on.
PAGE_CACHE_SECONDS = 0
# modelsearch's own test models, for its backend contract suite (search/tests/contract/); tests only.
INSTALLED_APPS = [*INSTALLED_APPS, "modelsearch.test.testapp"]  # noqa: F405
# Its shipped migrations depend on the "modelsearch" app label, which Wagtail names "wagtailsearch".
MIGRATION_MODULES = {"searchtests": "search.tests.contract.migrations"}
