"""Loaded with `-p tests.testenv` so it runs before pytest-django imports the settings.

Tests never touch the developer's var/ folder (database, media, broker): they get their own
temporary one. Tests that need a broker start their own (tests/celery_helpers.py).
"""

import atexit
import os
import shutil
import tempfile

_var = tempfile.mkdtemp(prefix="policyhub-tests-")
atexit.register(shutil.rmtree, _var, ignore_errors=True)
os.environ["POLICYHUB_VAR_DIR"] = _var
os.environ["POLICYHUB_ENV"] = "development"
os.environ["CELERY_BROKER_URL"] = "memory://"
# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
