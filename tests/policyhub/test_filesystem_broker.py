"""The embedded broker (filesystem://) under a worker that reads while the web server writes.

kombu's own filesystem transport creates a message's file and then writes into it; a worker that
lists the folder in between reads an empty file, dies with "Unrecoverable error: JSONDecodeError"
and the message is gone (found by bench/sqlite_soak.py after four minutes of reports). PolicyHub's
transport (policyhub.broker) writes the file under a name no queue matches and renames it into
place, so a reader sees a message whole or not at all."""

import base64
import json
import sys
import threading
import time
from queue import Empty

import pytest
from kombu import Connection
from kombu.transport import filesystem

from policyhub import broker


def _channel(transport, folder):
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    return Connection("filesystem://", transport=transport, transport_options=options).channel()


def _read_while_writing(transport, folder):
    """Publish one message; the worker polls the queue at the worst moment, while it is written."""
    producer, consumer = _channel(transport, folder), _channel(transport, folder)
    module = sys.modules[producer._put.__func__.__module__]
    real_dumps = module.dumps
    seen = []

    def dumps_while_worker_polls(payload):
        try:
            seen.append(consumer._get("celery"))
        except Empty:
            seen.append("empty")
        return real_dumps(payload)

    module.dumps = dumps_while_worker_polls
    try:
        producer._put("celery", {"body": "hello"})
    finally:
        module.dumps = real_dumps
    return seen, consumer


def test_kombus_own_transport_hands_the_worker_a_half_written_message(tmp_path):
    """The fault itself, so this test notices if kombu fixes it (then policyhub.broker can go)."""
    with pytest.raises(ValueError, match="Expecting value"):
        _read_while_writing(filesystem.Transport, tmp_path)


def test_policyhub_transport_shows_a_message_whole_or_not_at_all(tmp_path):
    seen, consumer = _read_while_writing(broker.Transport, tmp_path)
    assert seen == ["empty"]  # not there yet while it is being written
    assert consumer._get("celery") == {"body": "hello"}  # then there, whole
    with pytest.raises(Empty):
        consumer._get("celery")
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_filesystem_urls_use_policyhubs_transport():
    from policyhub.celery import app

    with app.connection_for_write("filesystem://") as connection:
        assert isinstance(connection.transport, broker.Transport)


def _consume(channel):
    """Consume the "celery" queue as a worker does; returns the list each message body lands in."""
    delivered = []
    channel.basic_consume("celery", True, lambda message: delivered.append(message.body), "test")
    return delivered


def _payloads(folder):
    return [base64.b64decode(json.loads(path.read_text())["body"]) for path in sorted(folder.glob("*.celery.msg"))]


def _publish(channel, body):
    channel.basic_publish(channel.prepare_message(body, content_type="text/plain"), exchange="", routing_key="celery")


@pytest.fixture
def stopping():
    """The worker has been told to stop (what Celery's worker_shutting_down signal does)."""
    from celery.signals import worker_ready, worker_shutting_down

    worker_shutting_down.send(sender="celery@test", sig="SIGTERM", how="Warm", exitcode=0)
    yield
    worker_ready.send(sender=None)
    assert broker._stopping is False


def test_a_stopping_worker_takes_no_more_messages(tmp_path, stopping):
    """Celery's solo pool polls once more after it is told to stop, and would run what it found."""
    producer, consumer = _channel(broker.Transport, tmp_path), _channel(broker.Transport, tmp_path)
    _publish(producer, "later")
    delivered = _consume(consumer)
    with pytest.raises(TimeoutError):
        consumer.connection.drain_events(consumer.connection, timeout=2.0)
    assert delivered == []
    assert _payloads(tmp_path) == [b"later"]  # left for the next start


def test_a_poll_in_progress_returns_as_soon_as_the_worker_is_told_to_stop(tmp_path):
    """Ctrl-C while the worker waits on an empty queue: it does not sit out kombu's poll."""
    consumer = _channel(broker.Transport, tmp_path)
    consumer.connection.polling_interval = 30  # a look every 30 s, with nothing to see
    outcome = []

    def poll():
        try:
            consumer.connection.drain_events(consumer.connection, timeout=60)
        except TimeoutError:
            outcome.append("returned")

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive()  # polling: the queue is empty
    broker.stop_polling()
    try:
        thread.join(timeout=5)  # far less than the 30 s it would otherwise sleep
        assert outcome == ["returned"]
    finally:
        broker.resume_polling()


def test_a_poll_gives_up_at_its_timeout_and_delivers_what_arrives(tmp_path):
    """Unchanged from kombu: a message is delivered; an empty queue times out when asked to."""
    producer, consumer = _channel(broker.Transport, tmp_path), _channel(broker.Transport, tmp_path)
    consumer.connection.polling_interval = 0.05
    delivered = _consume(consumer)
    with pytest.raises(TimeoutError):
        consumer.connection.drain_events(consumer.connection, timeout=0.2)
    _publish(producer, "now")
    consumer.connection.drain_events(consumer.connection, timeout=2.0)
    assert delivered == [b"now"]
    assert _payloads(tmp_path) == []
