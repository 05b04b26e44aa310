"""A real Celery worker for tests, on a broker of the test's choosing (Redis or the filesystem)."""

import time
from contextlib import contextmanager

from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.db import close_old_connections


def make_app(broker_url: str, transport_options: dict | None = None) -> Celery:
    """A fresh app configured like policyhub's but on another broker; shared tasks bind to it."""
    app = Celery("policyhub-test")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = broker_url
    app.conf.broker_transport_options = transport_options or {}
    app.autodiscover_tasks(["policyhub", "incidents", "accounts"], force=True)
    return app


@contextmanager
def running_worker(app: Celery):
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    close_old_connections()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
