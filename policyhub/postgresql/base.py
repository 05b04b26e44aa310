"""PostgreSQL (psycopg2) whose connections prepare the SELECTs they run again and again.

Why: at the bench's size PostgreSQL spent more time planning most pages' queries than running
them (the case page 5.5 ms against 1.0, home 3.3 against 1.1; docs/performance.md), and it plans
the same few statements on every request. A server-side prepared statement is parsed once per
connection and, once PostgreSQL finds its generic plan no worse than planning each time, not
planned again. psycopg 3 does this by itself; psycopg2 (the stack's driver) does not.

What it does, per connection (`Statements`):
- A SELECT run with a list of parameters is counted by its text and its parameters' types. The
  `threshold`-th time it is run (setting `DATABASE_PREPARE_THRESHOLD`, 0 turns this off), it is prepared as
  `PREPARE ph_N AS <the text, %s written $1, $2...>`, and run as `EXECUTE ph_N (<parameters>)`
  from then on. The parameters are still sent by psycopg2, quoted as before.
- Each parameter is declared with the type PostgreSQL gives the literal psycopg2 writes for it in
  the plain statement (`param_type`: `7` integer, `true` boolean, `'...'::timestamptz`...; a
  string or NULL is an untyped literal, declared `unknown`, which PostgreSQL types from where it
  stands, as it does the literal). So the prepared statement means what the plain one means: left
  to itself PostgreSQL would type `SELECT %s` with a number as text. A value of any other kind, or
  a statement PostgreSQL cannot prepare, keeps that text and those types plain for good.
- Inside a transaction the PREPARE runs in a savepoint: one that fails is rolled back to it, and
  the text runs plainly. A prepared statement outlives a rollback (it belongs to the session).
- At most `size` statements per connection (`DATABASE_PREPARED_MAX`), the least recently used
  deallocated first; texts seen and texts kept plain are remembered up to 4 × size each.
- An EXECUTE that fails (e.g. a migration changed a table under a plan) forgets the statement;
  outside a transaction the text is run again plainly, inside one the error goes up as any error.
- `cursor.query` (Django's record of the last query, e.g. in `CaptureQueriesContext`) is still the
  plain statement with its parameters.

Not for connection poolers in transaction mode (PgBouncer's): prepared statements belong to one
server session. Set `DATABASE_PREPARE_THRESHOLD=0` there.

Every cursor also sends the audit actor's settings with each statement that may write
(`ActingCursor`, accounts/actor.py).

Each connection also turns PostgreSQL's JIT compiler off (`SET jit = off`, unless `DATABASE_JIT`):
see `init_connection_state`.

A kept connection is checked at the start of each request (settings: `conn_health_checks`) without
a round trip when it is idle and the server has sent nothing: see `is_usable`.
"""

import datetime
import decimal
import itertools
import math
import re
import select
import uuid
from collections import OrderedDict

from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import Jsonb
from psycopg2 import Error as DriverError
from psycopg2 import extensions
from psycopg2.extras import Json

from accounts.actor import SETTINGS_SQL, statement_settings

_MARK = re.compile(r"%(.)", re.S)
_NAMES = itertools.count(1)  # names unique in the process, whichever connection they are made on

_INT4 = range(-(2**31), 2**31)
_INT8 = range(-(2**63), 2**63)
_BY_TYPE = {  # psycopg2 writes these as literals of one type (`'2026-01-01'::date`, `true`...)
    bool: "boolean",
    decimal.Decimal: "numeric",
    datetime.date: "date",
    datetime.timedelta: "interval",
    uuid.UUID: "uuid",
    bytes: "bytea",
    memoryview: "bytea",
    Jsonb: "jsonb",
    Json: "unknown",
}


def _int_type(value: int) -> str:
    return "integer" if value in _INT4 else "bigint" if value in _INT8 else "numeric"


def param_type(value) -> str | None:
    """The type PostgreSQL gives `value` as psycopg2 writes it into a plain statement, declared for
    the prepared parameter so that both statements mean the same; None when not sure (the text is
    then never prepared). A string or NULL is an untyped literal: "unknown", which PostgreSQL types
    from where it stands, the same way for a parameter as for a literal."""
    if value is None or isinstance(value, str):
        return "unknown"
    kind = type(value)
    if kind is int:
        return _int_type(value)
    if kind is float:
        return "numeric" if math.isfinite(value) else "double precision"
    if kind is datetime.datetime:
        return "timestamp with time zone" if value.tzinfo is not None else "timestamp without time zone"
    if kind is datetime.time:
        return "time without time zone" if value.tzinfo is None else None
    if kind is list:
        items = [item for item in value if item is not None]
        if not value:
            return "unknown"  # '{}'
        if all(type(item) is int for item in items) and items:
            widest = max(items, key=lambda item: ("integer", "bigint", "numeric").index(_int_type(item)))
            return f"{_int_type(widest)}[]"  # ARRAY[...] takes its elements' widest type
        if all(isinstance(item, str) for item in items):
            return "text[]"
        return None
    return _BY_TYPE.get(kind)


def numbered(sql: str, count: int) -> str | None:
    """`sql` with psycopg2's `%s` written `$1`, `$2`... and `%%` written `%`, as psycopg2 would
    read it; None when it has other marks or not `count` parameters."""
    n = 0
    bad = False

    def mark(match):
        nonlocal n, bad
        char = match.group(1)
        if char == "s":
            n += 1
            return f"${n}"
        if char == "%":
            return "%"
        bad = True
        return match.group(0)

    text = _MARK.sub(mark, sql)
    return None if bad or n != count else text


class Statements:
    """One server session's prepared statements (a new connection starts a new one), by key: the
    text and its parameters' declared types (5 and 5,000,000,000 make two statements)."""

    def __init__(self, threshold: int, size: int):
        self.threshold = threshold
        self.size = size
        self.seen: OrderedDict[tuple, int] = OrderedDict()  # key -> times run, not prepared yet
        self.prepared: OrderedDict[tuple, str] = OrderedDict()  # key -> name, least recently used first
        self.plain: OrderedDict[tuple, None] = OrderedDict()  # keys never to prepare
        self.stale: list[str] = []  # names to deallocate with the next PREPARE

    def name_for(self, key):
        """The statement's name if prepared, "" if it should be prepared now, None to run plainly."""
        name = self.prepared.get(key)
        if name is not None:
            self.prepared.move_to_end(key)
            return name
        if key in self.plain:
            return None
        times = self.seen.pop(key, 0) + 1
        if times >= self.threshold:
            return ""
        self.seen[key] = times
        _bound(self.seen, 4 * self.size)
        return None

    def keep(self, key, name: str) -> None:
        self.prepared[key] = name
        if len(self.prepared) > self.size:
            self.stale.append(self.prepared.popitem(last=False)[1])

    def never(self, key) -> None:
        self.plain[key] = None
        _bound(self.plain, 4 * self.size)

    def forget(self, key) -> None:
        name = self.prepared.pop(key, None)
        if name is not None:
            self.stale.append(name)

    def new_name(self) -> str:
        return f"ph_{next(_NAMES)}"


def _bound(remembered: OrderedDict, size: int) -> None:
    if len(remembered) > size:
        remembered.popitem(last=False)


# Statements that fire no row trigger (the audit triggers are FOR EACH ROW of INSERT, UPDATE and
# DELETE), by their first word: sent without the actor's settings. Several of them (CREATE DATABASE,
# VACUUM, CREATE INDEX CONCURRENTLY) cannot run inside a transaction, which sending the settings in
# front would make. Any other first word (INSERT, UPDATE, DELETE, WITH, MERGE, COPY, EXPLAIN,
# EXECUTE, a comment...), and any text holding several statements, is sent with them.
_NO_ROW_TRIGGER = frozenset(
    """
    SELECT SAVEPOINT RELEASE ROLLBACK BEGIN START COMMIT SET RESET SHOW DISCARD CREATE ALTER
    DROP TRUNCATE VACUUM ANALYZE REINDEX CLUSTER REFRESH COMMENT GRANT REVOKE LOCK LISTEN UNLISTEN
    NOTIFY DEALLOCATE DECLARE FETCH MOVE CLOSE CHECKPOINT
    """.split()  # noqa: SIM905 (a list of words)
)
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)\b")


def _reads_only(query) -> bool:
    """Whether `query` is one statement that fires no row trigger."""
    if type(query) is not str:
        query = query.decode() if isinstance(query, bytes) else None
    if query is None or ";" in query:
        return False
    if query.startswith("SELECT "):  # Django's reads: the common case
        return True
    first = _FIRST_WORD.match(query)
    return first is not None and first.group(1).upper() in _NO_ROW_TRIGGER


_LITERAL = r"E?'(?:[^']|'')*'"
_SETTINGS_SENT = re.compile(
    rf"SELECT set_config\('policyhub\.actor_id', {_LITERAL}, true\),"
    rf" set_config\('policyhub\.actor_email', {_LITERAL}, true\),"
    rf" set_config\('policyhub\.actor', {_LITERAL}, true\); "
)


def as_written(sql: str) -> str:
    """A statement as recorded (`cursor.query`, `connection.queries`) without the actor's settings
    sent in front of it, as the code wrote it: e.g. to tell writes from reads by the first word."""
    sent = _SETTINGS_SENT.match(sql)
    return sql[sent.end() :] if sent else sql


class ActingCursor(extensions.cursor):
    """Every statement that may write is sent with the settings naming who is acting
    (accounts/actor.py), in front of it in the same round trip, so the audit triggers name them; one
    that fires no row trigger (a lone SELECT, SET, a savepoint, DDL: `_reads_only`) is sent as it is.
    Writes are few on a page (usually its audit row alone): setting the actor for the session at the
    start of every request and clearing it at the end cost two statements on every page. Django's
    record of the statement (`cursor.query`) is the text sent, settings included."""

    def _acting(self, query, vars):
        settings_sql = self.mogrify(SETTINGS_SQL, statement_settings()).decode()
        if vars is not None:
            settings_sql = settings_sql.replace("%", "%%")  # psycopg2 reads the whole text's marks
        if isinstance(query, bytes):
            return settings_sql.encode() + b"; " + query
        if not isinstance(query, str):  # psycopg2.sql.Composed
            query = query.as_string(self)
        return f"{settings_sql}; {query}"

    def execute(self, query, vars=None):
        if not _reads_only(query):
            query = self._acting(query, vars)
        return super().execute(query, vars)

    def executemany(self, query, vars_list):
        if not _reads_only(query):
            query = self._acting(query, ())
        return super().executemany(query, vars_list)


_plain = extensions.cursor.execute  # the prepared statements' own SELECTs and commands, as they are


class PreparingCursor(ActingCursor):
    statements: Statements | None = None
    _shown = None  # (sql, params) of the plain statement when it ran as EXECUTE

    @property
    def query(self):
        if self._shown is not None:
            return self.mogrify(*self._shown)
        return extensions.cursor.query.__get__(self)

    def execute(self, query, vars=None):
        self._shown = None
        statements = self.statements
        if (
            statements is None
            or type(vars) not in (list, tuple)
            or type(query) is not str
            or not query.startswith("SELECT ")
            or ";" in query
        ):
            return super().execute(query, vars)
        types = tuple(param_type(value) for value in vars)
        key = (query, types)  # a text with other parameter types (5 then 5,000,000,000) is another statement
        name = statements.name_for(key)
        if name == "":
            name = self._prepare(key, vars)
        if not name:
            return super().execute(query, vars)
        call = f"EXECUTE {name} ({', '.join(['%s'] * len(vars))})" if vars else f"EXECUTE {name}"
        try:
            result = _plain(self, call, vars)
        except DriverError:
            statements.forget(key)
            if self.connection.get_transaction_status() != extensions.TRANSACTION_STATUS_IDLE:
                raise
            return super().execute(query, vars)
        self._shown = (query, vars)
        return result

    def _prepare(self, key, vars):
        statements = self.statements
        query, types = key
        text = numbered(query, len(vars))
        if text is None or ";" in query or None in types:
            statements.never(key)
            return None
        status = self.connection.get_transaction_status()
        if status == extensions.TRANSACTION_STATUS_INERROR:
            return None  # the plain statement will report the aborted transaction
        name = statements.new_name()
        stale, statements.stale = statements.stale, []
        drop = "".join(f"DEALLOCATE {old}; " for old in stale)
        prepare = f"PREPARE {name} ({', '.join(types)}) AS {text}" if types else f"PREPARE {name} AS {text}"
        in_transaction = status != extensions.TRANSACTION_STATUS_IDLE
        try:
            if in_transaction:
                _plain(self, f"SAVEPOINT ph_prepare; {drop}{prepare}; RELEASE SAVEPOINT ph_prepare")
            else:
                _plain(self, f"{drop}{prepare}")
        except DriverError:
            if in_transaction:
                _plain(self, "ROLLBACK TO SAVEPOINT ph_prepare; RELEASE SAVEPOINT ph_prepare")
            statements.never(key)
            return None
        statements.keep(key, name)
        return name


def _readable(connection) -> bool:
    """Whether the server has sent something on `connection` that nobody has read (or closed it)."""
    poll = select.poll()  # not select.select, which refuses descriptors above 1023
    poll.register(connection.fileno(), select.POLLIN)
    return bool(poll.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        """Django's health check (a `SELECT 1` round trip), asked by the first statement of each
        request that reuses a kept connection, only when the connection may be broken.

        Between requests an idle connection receives nothing: a server that ends it (a restart, an
        administrator's pg_terminate_backend, idle_session_timeout, a proxy closing it) sends its
        last message, or closes the stream, which makes the socket readable; a connection that
        psycopg2 saw fail is `closed`. So: closed, unusable; idle with nothing to read, usable;
        anything else (a notice waiting, a transaction left open, an error on the socket), Django's
        `SELECT 1` decides. A server that vanished without a word (a crashed host) gives no sign
        either way: `SELECT 1` would wait for TCP as the page's own query does.
        tests/policyhub/test_connection_health.py. The round trip was 4 % of the case page's time
        in its web process (docs/performance.md)."""
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            quiet = connection.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE and not _readable(
                connection
            )
        except (OSError, ValueError, DriverError):
            quiet = False
        return True if quiet else super().is_usable()

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        threshold = settings.DATABASE_PREPARE_THRESHOLD
        self._statements = Statements(threshold, settings.DATABASE_PREPARED_MAX) if threshold > 0 else None
        return connection

    def init_connection_state(self):
        super().init_connection_state()
        if not settings.DATABASE_JIT:
            # PostgreSQL compiles a query with its JIT when the query's *estimated* cost is high
            # (jit_above_cost). A page's short queries can be estimated high (the person's stamp at
            # 1,000,000 cases: estimated 204,000, run in 0.1 ms) and then spent 9 ms compiling on
            # every run (docs/performance.md). Set as Django sets the time zone.
            with self.connection.cursor() as cursor:
                cursor.execute("SET jit = off")
            if not self.get_autocommit():
                self.connection.commit()

    def create_cursor(self, name=None):
        if name:  # a server-side cursor (QuerySet.iterator()): a SELECT, DECLAREd by psycopg2
            return super().create_cursor(name)
        statements = getattr(self, "_statements", None)
        cursor = self.connection.cursor(cursor_factory=PreparingCursor if statements is not None else ActingCursor)
        cursor.tzinfo_factory = self.tzinfo_factory if settings.USE_TZ else None
        cursor.statements = statements
        return cursor
