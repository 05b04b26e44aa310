"""Which real services this test run has (started by scripts/test.sh), and markers to skip without them."""

import os

import pytest

REQUIRED = os.environ.get("POLICYHUB_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("POLICYHUB_TEST_REDIS_URL")
REDIS_SERVER = os.environ.get("POLICYHUB_REDIS_SERVER")
CHROMIUM = os.environ.get("POLICYHUB_CHROMIUM")
POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

AVAILABLE = {"redis": bool(REDIS_URL), "browser": bool(CHROMIUM), "postgres": POSTGRES}
HOW = {
    "redis": "no Redis: run `make test` with redis-server installed",
    "browser": "no Chromium: run `make test` with chromium installed",
    "postgres": "no PostgreSQL: run `make test` with postgresql installed",
}


def apply_service_markers(items):
    for item in items:
        for name, available in AVAILABLE.items():
            if item.get_closest_marker(name) and not available:
                if REQUIRED:
                    raise pytest.UsageError(f"{item.nodeid} needs {name}, which this run requires: {HOW[name]}")
                item.add_marker(pytest.mark.skip(reason=HOW[name]))
