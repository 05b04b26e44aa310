"""Loaded with `-p tests.testenv` so it runs before pytest-django imports the settings.

Tests never touch the developer's var/ folder (database, media, broker): they get their own
temporary one.
"""

import atexit
import os
import shutil
import tempfile

_var = tempfile.mkdtemp(prefix="policyhub-tests-")
atexit.register(shutil.rmtree, _var, ignore_errors=True)
os.environ["POLICYHUB_VAR_DIR"] = _var
os.environ["POLICYHUB_ENV"] = "development"
# Celery reads CELERY_BROKER_URL from the environment before any configuration, so it must not be
# set here: tests get the embedded filesystem broker (in the temporary folder above) by default,
# and tests that need Redis build their own app (tests/celery_helpers.py).
os.environ.pop("CELERY_BROKER_URL", None)
# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
