"""A kept PostgreSQL connection is checked at the start of each request without a round trip when it
is idle and the server has sent nothing (policyhub/postgresql/base.DatabaseWrapper.is_usable); a
connection the server has ended is replaced before the request's first statement, as Django's
`SELECT 1` check would."""

import time

import psycopg2
import pytest
from django.db import close_old_connections, connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class _Counting:
    """The driver's connection, counting the cursors opened on it (Django's check opens one)."""

    def __init__(self, real):
        self.real, self.cursors = real, 0

    def cursor(self, *args, **kwargs):
        self.cursors += 1
        return self.real.cursor(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _kept():
    """This test's connection, kept across requests as in production (a minute) and checked."""
    connection.ensure_connection()
    connection.close_at = time.monotonic() + 60
    connection.health_check_enabled = True
    return connection


def _next_request():
    """What Django does when a request starts: the kept connection's checks are due again."""
    close_old_connections()


def _from_elsewhere(sql: str, *params) -> None:
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        other.close()


def _wait_until_readable(conn, seconds: float = 5.0) -> None:
    from policyhub.postgresql.base import _readable

    deadline = time.monotonic() + seconds
    while not _readable(conn.connection):
        assert time.monotonic() < deadline, "the server's message never arrived"
        time.sleep(0.01)


def test_a_quiet_kept_connection_is_reused_without_a_round_trip():
    kept = _kept()
    pid = _backend_pid()
    counting = kept.connection = _Counting(kept.connection)
    try:
        for _ in range(3):
            _next_request()
            assert kept.connection is counting, "the kept connection was dropped"
            with kept.cursor() as cursor:  # the request's first statement: the check runs here
                cursor.execute("SELECT 41 + 1")
                assert cursor.fetchone() == (42,)
        # One cursor per request, the request's own: Django's check would have opened a second.
        assert counting.cursors == 3
    finally:
        if kept.connection is counting:
            kept.connection = counting.real
    assert _backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it():
    kept = _kept()
    pid = _backend_pid()
    _from_elsewhere("SELECT pg_terminate_backend(%s)", pid)  # as a restart or an administrator does
    _wait_until_readable(kept)
    _next_request()
    assert _backend_pid() != pid  # a new connection, and the request's statement ran on it
    _next_request()
    with kept.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user")
        assert cursor.fetchone() == (0,)


def test_a_healthy_connection_with_a_message_waiting_is_asked_and_kept():
    kept = _kept()
    pid = _backend_pid()
    with kept.cursor() as cursor:
        cursor.execute("LISTEN policyhub_health_test")
    _from_elsewhere("NOTIFY policyhub_health_test")
    _wait_until_readable(kept)
    counting = kept.connection = _Counting(kept.connection)
    try:
        _next_request()
        assert _backend_pid() == pid  # asked (Django's SELECT 1) and kept
        assert counting.cursors == 2  # the check's cursor, then the statement's
    finally:
        kept.connection = counting.real
        with kept.cursor() as cursor:
            cursor.execute("UNLISTEN *")
