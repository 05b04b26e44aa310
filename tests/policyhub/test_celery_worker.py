"""A real worker really delivers a countdown task: on the embedded broker and on Redis."""

import time

import pytest
from django.utils import timezone

from policyhub.models import Liveness
from tests.celery_helpers import make_app, running_worker, wait_for
from tests.services import REDIS_URL

pytestmark = pytest.mark.django_db(transaction=True)


def _send_heartbeat(app, countdown):
    sent = timezone.now()
    app.send_task(
        "policyhub.tasks.heartbeat", kwargs={"sent_at": sent.isoformat(), "countdown": countdown}, countdown=countdown
    )
    return sent


def _assert_delivered_after_countdown(app, countdown=2):
    started = time.monotonic()
    sent = _send_heartbeat(app, countdown)
    with running_worker(app):
        assert wait_for(
            lambda: Liveness.objects.filter(last_heartbeat_at__isnull=False).exists(), timeout=countdown + 15
        )
    ran_at = Liveness.objects.get().last_heartbeat_at
    assert (ran_at - sent).total_seconds() >= countdown - 0.05
    assert time.monotonic() - started >= countdown - 0.05


def test_filesystem_broker_delivers_a_countdown_task(tmp_path):
    folder = tmp_path / "broker"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(tmp_path / "ctl")}
    app = make_app("filesystem://", options)
    _assert_delivered_after_countdown(app)


@pytest.mark.redis
def test_redis_broker_delivers_a_countdown_task():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    app = make_app(REDIS_URL)
    _assert_delivered_after_countdown(app)


def test_beat_schedules_the_heartbeat():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == "policyhub.tasks.heartbeat"


def test_tasks_are_acked_late_in_json_without_a_result_backend():
    from policyhub.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.result_backend is None
