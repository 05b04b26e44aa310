"""Liveness: one row the sweep and the heartbeat update; /healthz and `manage.py liveness` read it."""

import ast
import datetime as dt
import subprocess
import sys
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
import time_machine
import yaml
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone

from incidents import tasks as incident_tasks
from policyhub import tasks
from policyhub.models import Liveness

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(minutes=0, seconds=0):
    return time_machine.travel(T0 + dt.timedelta(minutes=minutes, seconds=seconds), tick=False)


def healthz(client):
    response = client.get("/healthz")
    return response.status_code, response.content.decode()


def liveness_command(max_age=300):
    out = StringIO()
    call_command("liveness", "--max-age", str(max_age), stdout=out)
    return out.getvalue()


# --- The row --------------------------------------------------------------------------------------


def test_the_sweep_and_the_heartbeat_update_one_row():
    with at(0):
        incident_tasks.sweep_deadlines()
    with at(1):
        incident_tasks.sweep_deadlines()
        tasks.heartbeat()
    with at(2):
        incident_tasks.sweep_deadlines()
    row = Liveness.objects.get()  # one row, however often they run
    assert row.last_sweep_at == T0 + dt.timedelta(minutes=2)
    assert row.last_heartbeat_at == T0 + dt.timedelta(minutes=1)


def test_a_sweep_that_fails_is_not_recorded():
    with at(0):
        incident_tasks.sweep_deadlines()
    failing = mock.patch("incidents.clocks.deadlines_sweep", side_effect=OperationalError("gone"))
    with at(1), failing, pytest.raises(OperationalError):
        incident_tasks.sweep_deadlines()
    assert Liveness.objects.get().last_sweep_at == T0


def test_the_database_allows_one_row_only():
    from django.db import IntegrityError, transaction

    Liveness.objects.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Liveness.objects.create(id=2)


# --- /healthz -------------------------------------------------------------------------------------


def test_healthz_is_ok_while_the_sweep_is_fresh_and_503_once_it_is_stale(client):
    with at(0):
        incident_tasks.sweep_deadlines()
    with at(5):
        assert healthz(client) == (200, "ok\n")
    with at(5, 1):
        assert healthz(client) == (503, "stale\n")
    with at(6):
        incident_tasks.sweep_deadlines()  # the beat is back
        assert healthz(client) == (200, "ok\n")


def test_a_new_installation_is_starting_for_five_minutes_then_stale_without_a_sweep(client):
    with at(0):
        assert healthz(client) == (200, "starting\n")
    with at(5):
        assert healthz(client) == (200, "starting\n")
    with at(5, 1):
        assert healthz(client) == (503, "stale\n")


def test_a_heartbeat_alone_does_not_make_healthz_ok(client):
    with at(0):
        healthz(client)
    with at(10):
        tasks.heartbeat()
        assert healthz(client) == (503, "stale\n")


def test_healthz_is_503_when_the_database_does_not_answer(client):
    with mock.patch.object(Liveness.objects, "get_or_create", side_effect=OperationalError("down")):
        assert healthz(client) == (503, "unavailable\n")


def test_healthz_is_open_uncached_and_says_nothing_else(client, cast):
    with at(0):
        incident_tasks.sweep_deadlines()
        response = client.get("/healthz")
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"] and not response.cookies
    client.force_login(cast.helen)  # signed in: the same word
    with at(1):
        assert healthz(client) == (200, "ok\n")


def _production_redirect_exempt():
    code = "from django.conf import settings as s; print(repr(s.SECURE_REDIRECT_EXEMPT))"
    env = {
        "PATH": "/usr/bin:/bin",
        "POLICYHUB_ENV": "production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "policyhub.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout)


def test_in_production_healthz_answers_over_plain_http_while_pages_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = _production_redirect_exempt()
    settings.ALLOWED_HOSTS = ["policyhub.example.org"]
    with at(0):
        incident_tasks.sweep_deadlines()
        assert client.get("/healthz", HTTP_HOST="policyhub.example.org").status_code == 200
        assert client.get("/", HTTP_HOST="policyhub.example.org").status_code == 301


# --- manage.py liveness ----------------------------------------------------------------------------


def test_the_command_exits_0_when_fresh_and_1_when_stale():
    with at(0):
        incident_tasks.sweep_deadlines()
    with at(2):
        assert liveness_command(300).startswith("ok: last sweep")
        with pytest.raises(CommandError, match="stale: no deadline sweep in the last 60 seconds") as refused:
            liveness_command(60)
    assert refused.value.returncode == 1
    with at(6), pytest.raises(CommandError, match="stale"):
        liveness_command()


def test_the_command_gives_a_new_installation_five_minutes():
    with at(0):
        assert liveness_command().startswith("starting")
    with at(6), pytest.raises(CommandError, match="stale"):
        liveness_command()


def test_the_command_fails_when_the_database_does_not_answer():
    down = mock.patch.object(Liveness.objects, "get_or_create", side_effect=OperationalError("down"))
    with down, pytest.raises(CommandError, match="unavailable"):
        liveness_command()


def test_the_command_refuses_a_nonsense_age():
    with pytest.raises(CommandError, match="at least 1"):
        liveness_command(0)


# --- docker compose runs these ----------------------------------------------------------------------


def _compose_web_check(url: str) -> list[str]:
    test = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:8000/healthz" in test[3]
    return [sys.executable, "-c", test[3].replace("http://127.0.0.1:8000", url)]


@pytest.mark.django_db(transaction=True)
def test_the_web_containers_check_passes_when_fresh_and_fails_when_stale(live_server, settings):
    settings.ALLOWED_HOSTS = ["policyhub.example.org"]  # as in production: Host must be one of these
    env = {"PATH": "/usr/bin:/bin", "ALLOWED_HOSTS": "policyhub.example.org,www.policyhub.example.org"}
    check = _compose_web_check(live_server.url)
    incident_tasks.sweep_deadlines()
    assert subprocess.run(check, env=env, capture_output=True).returncode == 0
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        result = subprocess.run(check, env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "503" in result.stderr
