"""Deadlines delivered by a real Celery worker on a real Redis, with faults: exactly once.

The database is the source of truth: a report saved while Redis is down still gets its deadline,
two sweeps at once fire once, and a worker killed mid-sweep leaves nothing fired twice.
"""

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from threading import Thread

import pytest
from django.core import mail
from django.db import close_old_connections, connection

from incidents import clocks
from incidents.models import Deadline, DeadlineKind, DeadlineState, Notification, TimelineEntry, TimelineKind
from policyhub.models import Liveness
from tests.celery_helpers import RedisServer, make_app, running_worker, wait_for
from tests.incidents.clock_helpers import acknowledge, received, report
from tests.services import REDIS_SERVER

# xdist_group: real workers killed mid-sweep, timed waits; never beside another real-process test.
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("real-processes")]
ROOT = Path(__file__).resolve().parents[2]
LONG_AGO = "2025-11-19 10:30"  # due 2025-11-20 10:30: overdue whenever the test runs


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(REDIS_SERVER, tmp_path).start()
    yield server
    server.stop()


def _drain(app):
    """Wait until the worker has processed everything queued before this call (solo pool: in order)."""
    before = Liveness.objects.values_list("last_heartbeat_at", flat=True).first()
    app.send_task("policyhub.tasks.heartbeat")

    def caught_up():
        now = Liveness.objects.values_list("last_heartbeat_at", flat=True).first()
        return now is not None and (before is None or now > before)

    assert wait_for(caught_up, timeout=30), "worker did not catch up"


def _escalations():
    return Notification.objects.filter(kind="escalation")


def test_unacknowledged_case_escalates_once_through_a_real_worker(cast, redis_server):
    incident = report(cast, at=received(LONG_AGO))
    app = make_app(redis_server.url)
    with running_worker(app):
        app.send_task("incidents.tasks.sweep_deadlines")
        app.send_task("incidents.tasks.sweep_deadlines")
        _drain(app)
        assert wait_for(lambda: not Notification.objects.filter(sent_at__isnull=True).exists())
    assert _escalations().count() == 1
    assert TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.ESCALATED).count() == 1
    overdue_mail = [m for m in mail.outbox if "overdue" in m.subject]
    assert [m.to for m in overdue_mail] == [[cast.carol.email]]


def test_acknowledged_case_never_escalates_through_a_real_worker(cast, redis_server):
    incident = report(cast, at=received(LONG_AGO))
    acknowledge(incident, by=cast.helen, now=received("2025-11-20 10:29"))
    app = make_app(redis_server.url)
    with running_worker(app):
        app.send_task("incidents.tasks.sweep_deadlines")
        _drain(app)
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_deadline_due_soon_fires_on_time_from_its_countdown_task(cast, redis_server):
    from django.utils import timezone

    app = make_app(redis_server.url)
    with running_worker(app):
        incident = report(cast, at=received(LONG_AGO))
        # Move the response deadline to 2 seconds from now; the countdown task (no sweep) fires it.
        response = Deadline.objects.get(incident=incident, kind=DeadlineKind.RESPONSE)
        Deadline.objects.filter(incident=incident).exclude(pk=response.pk).update(state=DeadlineState.CANCELLED)
        due = timezone.now() + timezone.timedelta(seconds=2)
        Deadline.objects.filter(pk=response.pk).update(due_at=due)
        clocks.enqueue_fire(response.pk, due)
        assert wait_for(lambda: _escalations().filter(sent_at__isnull=False).exists(), timeout=20)
    response.refresh_from_db()
    assert response.state == DeadlineState.FIRED
    assert response.closed_at >= due


@pytest.mark.postgres
def test_two_sweeps_racing_fire_each_deadline_once(cast):
    incidents = [report(cast, at=received(LONG_AGO)) for _ in range(60)]
    due = incidents[0].response_due_at
    results = []

    def sweep():
        try:
            results.append(clocks.deadlines_sweep(now=due))
        finally:
            close_old_connections()

    threads = [Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 3 * 60  # response + two reminders each, fired by one sweep or the other
    assert Deadline.objects.filter(state=DeadlineState.FIRED).count() == 3 * 60
    assert _escalations().count() == 60
    assert TimelineEntry.objects.filter(kind=TimelineKind.ESCALATED).count() == 60


def test_reports_saved_while_redis_is_down_all_fire_once_when_it_returns(cast, redis_server):
    app = make_app(redis_server.url)
    app.set_current()
    app.set_default()
    redis_server.stop()
    try:
        started = time.monotonic()
        incidents = [report(cast, at=received(LONG_AGO)) for _ in range(50)]
        assert time.monotonic() - started < 30, "saving reports must not wait for the broker"
    finally:
        from policyhub.celery import app as project_app

        project_app.set_current()
        project_app.set_default()
    assert len(incidents) == 50 and Deadline.objects.filter(kind=DeadlineKind.RESPONSE).count() == 50
    redis_server.start()
    with running_worker(app):
        app.send_task("incidents.tasks.sweep_deadlines")
        app.send_task("incidents.tasks.sweep_deadlines")
        _drain(app)
        assert wait_for(lambda: not Notification.objects.filter(sent_at__isnull=True).exists(), timeout=60)
    assert _escalations().count() == 50
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox if "overdue" in m.subject}) == 50
    assert len([m for m in mail.outbox if "overdue" in m.subject]) == 50


def _worker_process(redis_url: str, mail_dir: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "policyhub", "worker", "--concurrency=1", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: we kill the whole worker, pool child included
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.postgres
def test_worker_killed_mid_sweep_fires_every_deadline_once(cast, redis_server, tmp_path):
    count = 120
    for _ in range(count):
        report(cast, at=received(LONG_AGO))
    app = make_app(redis_server.url)
    mail_dir = tmp_path / "mail"
    worker = _worker_process(redis_server.url, mail_dir)
    try:
        app.send_task("incidents.tasks.sweep_deadlines")
        # Kill at a random point once the sweep is under way.
        assert wait_for(lambda: Deadline.objects.filter(state=DeadlineState.FIRED).exists(), timeout=60)
        time.sleep(random.uniform(0, 0.5))
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        fired_at_kill = Deadline.objects.filter(state=DeadlineState.FIRED).count()
        worker = _worker_process(redis_server.url, mail_dir)
        app.send_task("incidents.tasks.sweep_deadlines")
        app.send_task("incidents.tasks.sweep_outbox", kwargs={"older_than_seconds": 0})
        assert wait_for(lambda: _escalations().count() == count, timeout=120), _escalations().count()
        app.send_task("incidents.tasks.sweep_outbox", kwargs={"older_than_seconds": 0})
        assert wait_for(lambda: not Notification.objects.filter(sent_at__isnull=True).exists(), timeout=120)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    assert fired_at_kill < 3 * count, "the kill came too late to interrupt the sweep"
    assert Deadline.objects.filter(kind=DeadlineKind.RESPONSE, state=DeadlineState.FIRED).count() == count
    assert TimelineEntry.objects.filter(kind=TimelineKind.ESCALATED).count() == count
    # Email is at least once: a message interrupted between sending and recording may go again,
    # with the same Message-ID. At most the one in flight when the worker died.
    ids = [m for f in mail_dir.iterdir() for m in re.findall(r"^Message-ID: (\S+)", f.read_text(), re.M)]
    escalation_ids = {n.message_id for n in _escalations()}
    assert escalation_ids <= set(ids)
    assert len(ids) - len(set(ids)) <= 1
