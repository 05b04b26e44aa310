"""A real Celery worker for tests, on a broker of the test's choosing (Redis or the filesystem)."""

import time
from contextlib import contextmanager

from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.db import close_old_connections


def make_app(broker_url: str, transport_options: dict | None = None) -> Celery:
    """A fresh app configured like policyhub's but on another broker; shared tasks bind to it."""
    from django.conf import settings

    app = Celery("policyhub-test", set_as_current=False)
    conf = {
        name[len("CELERY_") :].lower(): getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")
    }
    if transport_options is None:
        transport_options = settings.REDIS_BROKER_TRANSPORT_OPTIONS if broker_url.startswith("redis") else {}
    conf.update(broker_url=broker_url, broker_transport_options=transport_options)
    app.conf.update(conf)
    app.autodiscover_tasks(["policyhub", "incidents", "accounts"], force=True)
    assert app.conf.broker_url == broker_url, "CELERY_BROKER_URL in the environment overrides the test broker"
    return app


@contextmanager
def running_worker(app: Celery):
    """An in-process worker thread. It makes `app` the default, so tasks queued by the code under
    test (shared tasks, `.apply_async`) go to this app's broker too; restored afterwards."""
    from policyhub.celery import app as project_app

    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        project_app.set_current()
        project_app.set_default()
        close_old_connections()


class RedisServer:
    """A throwaway redis-server of our own, so a test can stop and restart it."""

    def __init__(self, binary: str, directory):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.binary, self.directory, self.process = binary, str(directory), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        import subprocess

        import redis

        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
        )
        assert wait_for(lambda: _pings(redis.Redis(port=self.port)), timeout=10), "redis-server did not start"
        return self

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
