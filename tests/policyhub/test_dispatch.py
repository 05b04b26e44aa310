"""policyhub/dispatch.py: tasks queued by name, only registered names, countdowns capped, failing fast."""

import logging
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from policyhub import dispatch
from policyhub.celery import app as project_app
from tests.celery_helpers import make_app
from tests.dispatch_helpers import published


def _registered() -> set[str]:
    project_app.loader.import_default_modules()  # what a worker does at start: autodiscover the tasks
    return set(project_app.tasks)


def test_every_name_in_the_dispatch_module_is_a_registered_task():
    names = {v for k, v in vars(dispatch).items() if k.isupper() and isinstance(v, str)}
    assert names == dispatch.TASK_NAMES, "a name constant is missing from TASK_NAMES"
    registered = _registered()
    assert registered >= dispatch.TASK_NAMES, dispatch.TASK_NAMES - registered
    assert "incidents.tasks.fire_deadlines" not in registered  # a typo would be caught


def test_every_beat_entry_is_a_registered_task():
    registered = _registered()
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= registered


def test_a_name_not_in_the_dispatch_module_is_refused():
    with published() as sent:
        with pytest.raises(ValueError, match="not a task"):
            dispatch.queue("incidents.tasks.fire_deadlines", args=[1])
        with pytest.raises(ValueError, match="not a task"):
            dispatch.queue_after_commit("incidents.tasks.send_notifications", args=[1])
    assert sent == []


def test_nothing_is_queued_beyond_the_horizon():
    limit = dispatch.MAX_COUNTDOWN.total_seconds()
    with published() as sent:
        with pytest.raises(ValueError, match="precision horizon"):
            dispatch.queue(dispatch.FIRE_DEADLINE, args=[1], countdown=limit + 1)
        assert dispatch.queue(dispatch.FIRE_DEADLINE, args=[1], countdown=limit) is True
    assert [(p.name, p.args, p.countdown) for p in sent] == [(dispatch.FIRE_DEADLINE, (1,), limit)]


@pytest.mark.django_db
def test_queue_after_commit_queues_by_name_after_commit_and_never_on_rollback(django_capture_on_commit_callbacks):
    from django.db import transaction

    with published() as sent, django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            dispatch.queue_after_commit(dispatch.SEND_NOTIFICATION, args=[7])
            raise RuntimeError("rolled back")
        dispatch.queue_after_commit(dispatch.SEND_NOTIFICATION, args=[8])
        assert sent == []
    assert [(p.name, p.args) for p in sent] == [(dispatch.SEND_NOTIFICATION, (8,))]


def test_a_broker_that_is_down_fails_fast_and_is_logged(caplog):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(f"redis://127.0.0.1:{port}/0")
    app.set_current()
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="policyhub.dispatch"):
            assert dispatch.queue(dispatch.SEND_NOTIFICATION, args=[42]) is False
        assert time.monotonic() - started < 5
    finally:
        project_app.set_current()
    assert "Broker unavailable; incidents.tasks.send_notification(42,) left for the sweep" in caplog.text


def test_the_heartbeat_command_queues_by_name_and_refuses_a_long_countdown():
    with published() as sent:
        call_command("send_heartbeat", "--countdown", "5")
        with pytest.raises(CommandError, match="precision horizon"):
            call_command("send_heartbeat", "--countdown", str(int(timedelta(hours=2).total_seconds())))
    assert [(p.name, p.countdown) for p in sent] == [(dispatch.HEARTBEAT, 5)]
    assert sent[0].kwargs["countdown"] == 5 and sent[0].kwargs["sent_at"]
