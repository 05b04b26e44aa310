"""`make run` starts quietly: the embedded broker (filesystem://) no longer makes kombu warn
"No hostname was supplied" (four times on every start), and still delivers."""

import logging

from kombu import Connection

from policyhub import broker


def _connection(folder, transport=broker.Transport):
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    return Connection("filesystem://", transport=transport, transport_options=options)


def test_describing_the_embedded_broker_connection_logs_no_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="kombu"), _connection(tmp_path) as connection:
        connection.info()  # what celery does when it starts and when it prints its banner
        connection.as_uri()
        channel = connection.channel()
        channel._put("celery", {"body": "hello"})
        assert channel._get("celery") == {"body": "hello"}
    assert not [r for r in caplog.records if "hostname" in r.getMessage()], caplog.text


def test_the_celery_app_connection_logs_no_warning(caplog):
    from policyhub.celery import app

    with caplog.at_level(logging.WARNING, logger="kombu"), app.connection_for_write() as connection:
        connection.info()
    assert not [r for r in caplog.records if "hostname" in r.getMessage()], caplog.text
