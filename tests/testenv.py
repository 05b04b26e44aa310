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
# On PostgreSQL every SELECT a connection runs is prepared from its first run (production: the
# fifth), so the whole suite runs through prepared statements (policyhub/postgresql/base.py).
os.environ.setdefault("DATABASE_PREPARE_THRESHOLD", "1")
# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def _worker_redis_url(url: str, worker: str) -> str:
    """Under pytest-xdist (`scripts/test.sh` runs two workers) each worker gets its own database
    number on the shared test Redis (gw0 → 1, gw1 → 2, …; a serial run keeps 0), so one worker's
    FLUSHDB or Celery queues never touch the other's. Queue and fanout keys live per database."""
    if not url or not worker.startswith("gw"):
        return url
    base, _, _db = url.rpartition("/")
    return f"{base}/{int(worker[2:]) % 15 + 1}"


# pytest-xdist sets PYTEST_XDIST_WORKER in each worker before its plugins (this module) load.
if os.environ.get("POLICYHUB_TEST_REDIS_URL"):
    os.environ["POLICYHUB_TEST_REDIS_URL"] = _worker_redis_url(
        os.environ["POLICYHUB_TEST_REDIS_URL"], os.environ.get("PYTEST_XDIST_WORKER", "")
    )
