"""The embedded broker (filesystem://) under a worker that reads while the web server writes.

kombu's own filesystem transport creates a message's file and then writes into it; a worker that
lists the folder in between reads an empty file, dies with "Unrecoverable error: JSONDecodeError"
and the message is gone (found by bench/sqlite_soak.py after four minutes of reports). PolicyHub's
transport (policyhub.broker) writes the file under a name no queue matches and renames it into
place, so a reader sees a message whole or not at all."""

import sys
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
