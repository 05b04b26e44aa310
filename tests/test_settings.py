import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from policyhub.env import env_bool, env_choice, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parent.parent


def test_env_bool_accepts_common_spellings(monkeypatch):
    monkeypatch.setenv("X_FLAG", "Yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "off")
    assert env_bool("X_FLAG", True) is False


def test_env_bool_fails_loudly_on_nonsense(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG must be true or false"):
        env_bool("X_FLAG")


def test_env_int_fails_loudly_on_nonsense(monkeypatch):
    monkeypatch.setenv("X_NUM", "twelve")
    with pytest.raises(ImproperlyConfigured, match="X_NUM must be a whole number"):
        env_int("X_NUM", 1)


def test_env_str_without_default_requires_the_variable(monkeypatch):
    monkeypatch.delenv("X_MISSING", raising=False)
    with pytest.raises(ImproperlyConfigured, match="Set the X_MISSING"):
        env_str("X_MISSING")


def test_env_list_and_choice(monkeypatch):
    monkeypatch.setenv("X_LIST", "a.example, b.example,,")
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("X_CHOICE", "staging")
    with pytest.raises(ImproperlyConfigured, match="X_CHOICE must be one of"):
        env_choice("X_CHOICE", "development", {"development", "production"})


def _clean_env(*drop):
    drop = {*drop, "DJANGO_ALLOW_ASYNC_UNSAFE"}  # set for Playwright in tests; check --deploy rightly refuses it
    return {k: v for k, v in os.environ.items() if k not in drop}


def _manage(*args, **env):
    base = _clean_env("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def _shell(code: str, *, drop=(), **env) -> list[str]:
    """What `code` prints, run by `manage.py shell` with `drop` taken out of the environment and `env` added."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code],
        cwd=ROOT,
        env={**_clean_env(*drop), **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        POLICYHUB_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="policyhub.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", POLICYHUB_ENV="production", ALLOWED_HOSTS="policyhub.example.org")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_deploy_check_rejects_the_development_key():
    result = _manage(
        "check",
        "--deploy",
        POLICYHUB_ENV="production",
        SECRET_KEY="dev-insecure-" + "x" * 60,
        ALLOWED_HOSTS="policyhub.example.org",
    )
    assert result.returncode != 0
    assert "policyhub.E001" in result.stderr


def test_defaults_are_sqlite_filesystem_broker_console_email_and_no_debug():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.DEBUG)"
    )
    assert _shell(code, drop=("DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_BACKEND")) == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.mail.backends.console.EmailBackend",
        "False",
    ]


def test_database_url_selects_postgresql():
    code = "from django.conf import settings as s; d=s.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['NAME'])"
    assert _shell(code, DATABASE_URL="postgres://u:p@db.internal:5432/policyhub") == [
        "policyhub.postgresql",  # Django's backend, preparing repeated statements (policyhub/postgresql)
        "db.internal",
        "policyhub",
    ]


def test_postgresql_connections_are_kept_for_a_minute_and_checked_sqlite_ones_are_not():
    """A new PostgreSQL connection per request cost more than the page (docs/performance.md)."""
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default'];"
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )

    def conn(**env):
        return _shell(code, drop=("DATABASE_URL", "DATABASE_CONN_MAX_AGE"), **env)

    postgres = "postgres://u:p@db.internal:5432/policyhub"
    assert conn(DATABASE_URL=postgres) == ["60", "True"]
    assert conn(DATABASE_URL=postgres, DATABASE_CONN_MAX_AGE="0") == ["0", "True"]
    assert conn() == ["0", "True"]  # SQLite: one connection per request, as before


def test_sqlite_uses_wal_takes_the_write_lock_up_front_and_waits_for_it(tmp_path):
    code = (
        "from django.db import connection as c\n"
        "cur = c.cursor()\n"
        "for pragma in ('journal_mode', 'busy_timeout', 'synchronous'):\n"
        "    cur.execute('PRAGMA ' + pragma); print(cur.fetchone()[0])\n"
        "print(c.transaction_mode)\n"
    )
    # WAL; a writer waits 20 s for the lock; FULL (2) fsyncs every commit; BEGIN IMMEDIATE.
    assert _shell(code, drop=("DATABASE_URL",), POLICYHUB_VAR_DIR=str(tmp_path)) == ["wal", "20000", "2", "IMMEDIATE"]


def _worker_pool(**env):
    code = "from policyhub.celery import app; print(app.conf.worker_pool)"
    return " ".join(_shell(code, drop=("DATABASE_URL", "CELERY_BROKER_URL"), **env))


def test_embedded_worker_runs_one_task_at_a_time_and_postgresql_with_redis_keeps_prefork():
    assert _worker_pool() == "solo"  # SQLite and the filesystem broker (make run)
    assert _worker_pool(CELERY_BROKER_URL="redis://127.0.0.1:6379/0") == "solo"  # still SQLite
    assert _worker_pool(DATABASE_URL="postgres://u:p@db.internal:5432/policyhub") == "solo"  # filesystem broker
    production_like = {"DATABASE_URL": "postgres://u:p@db:5432/p", "CELERY_BROKER_URL": "redis://redis:6379/0"}
    assert _worker_pool(**production_like) == "prefork"


def test_every_environment_variable_is_documented():
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', (ROOT / "policyhub" / "settings.py").read_text()))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    documented_in_docs = (ROOT / "docs" / "configuration.md").read_text()
    assert read - documented == set()
    assert {name for name in read if f"`{name}`" not in documented_in_docs} == set()


def test_seed_demo_refuses_to_run_in_production():
    result = _manage(
        "seed_demo", POLICYHUB_ENV="production", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="x.example"
    )
    assert result.returncode != 0
    assert "demo data" in result.stderr.lower()
