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


def _site_url(**env):
    import os
    import subprocess
    import sys
    from pathlib import Path

    clean = {k: v for k, v in os.environ.items() if k not in {"PORT", "SITE_URL", "DJANGO_SETTINGS_MODULE"}}
    code = "from django.conf import settings as s; print(s.SITE_URL)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**clean, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_email_links_follow_the_port_unless_site_url_is_given():
    assert _site_url() == "http://127.0.0.1:8000"
    assert _site_url(PORT="8101") == "http://127.0.0.1:8101"
    assert _site_url(PORT="8101", SITE_URL="https://policyhub.example.org") == "https://policyhub.example.org"


def test_run_refuses_a_busy_port_before_starting_anything_or_printing_the_url(tmp_path):
    import os
    import socket
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    started = tmp_path / "started"
    # MAKE is a stand-in that records any process the script would start.
    fake_make = tmp_path / "make"
    fake_make.write_text(f'#!/bin/sh\necho "$@" >> {started}\n')
    fake_make.chmod(0o755)
    try:
        result = subprocess.run(
            ["scripts/run.sh"],
            cwd=root,
            env={**os.environ, "PORT": str(port), "MAKE": str(fake_make), "BIN": str(root / ".venv/bin")},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        busy.close()
    assert result.returncode == 1
    assert f"Port {port} is already in use" in result.stderr
    assert "PolicyHub: http" not in result.stdout
    assert not started.exists()
