"""Who is acting right now, so database-change audit events can name them.

The PostgreSQL triggers (accounts/audit_triggers.py) read three session settings:
`policyhub.actor_id` and `policyhub.actor_email` (a person) or `policyhub.actor` (a system actor,
e.g. `system:task:incidents.tasks.sweep_deadlines`). Django runs in autocommit, so `SET LOCAL`
would last one statement's transaction: `acting_as()` sets them for the session instead and puts
back what was there before on the way out, whatever happens. Connections outlive requests
(persistent connections, the test client), so a reset that fails closes the connection rather
than leave a name behind for the next request or task.

On SQLite the signals record row changes (accounts/signals.py); they read `current_actor()`.

Used by AuditMiddleware (each request, after authentication), the Celery task signals below
(every task) and manage.py (every command but the servers).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# Commands whose database work is done on behalf of the people using them (their requests say who).
SERVER_COMMANDS = frozenset({"runserver", "testserver"})


@dataclass(frozen=True)
class Actor:
    user: object | None  # the User, for record(); None for a system actor
    user_id: int | None
    email: str
    label: str  # "system:task:NAME" / "system:command:NAME"; "" for a person

    def settings(self) -> tuple[str, str, str]:
        return (str(self.user_id) if self.user_id is not None else "", self.email, self.label)


NOBODY = ("", "", "")
_current: ContextVar[Actor | None] = ContextVar("policyhub_actor", default=None)


def current_actor() -> Actor | None:
    return _current.get()


def _actor(user, system: str) -> Actor | None:
    if user is not None and getattr(user, "is_authenticated", False):
        return Actor(user, user.pk, getattr(user, "email", "") or "", "")
    if system:
        return Actor(None, None, "", f"system:{system}")
    return None


@contextmanager
def acting_as(user=None, *, system: str = ""):
    """Changes made inside are recorded as made by `user` (a signed-in person) or, without one, by
    the system actor `system` (e.g. "task:NAME"). Anonymous: no actor. Nests; restores on exit."""
    actor = _actor(user, system)
    token = _current.set(actor)
    _apply(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
        _apply(_current.get())


@contextmanager
def command_actor(argv):
    """manage.py: the command's changes are recorded as `system:command:NAME`."""
    name = argv[1] if len(argv) > 1 else ""
    if not name or name.startswith("-") or name in SERVER_COMMANDS:
        yield None
        return
    with acting_as(system=f"command:{name}") as actor:
        yield actor


def _apply(actor: Actor | None, connections=None) -> None:
    """Put the actor in the session settings of every open PostgreSQL connection of this thread.
    A connection not opened yet gets it when it opens (`_connection_opened`)."""
    from django.apps import apps

    if not apps.ready:
        return  # manage.py before django.setup(): no connection can be open yet
    if connections is None:
        from django.db import connections as handler

        connections = handler.all(initialized_only=True)
    values = actor.settings() if actor is not None else NOBODY
    for conn in connections:
        if conn.vendor != "postgresql" or conn.connection is None:
            continue
        raw = id(conn.connection)
        if values == NOBODY and getattr(conn, "_policyhub_actor", (raw, NOBODY)) == (raw, NOBODY):
            continue  # a fresh session, or one already reset: nothing to clear, no query
        try:
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('policyhub.actor_id', %s, false),"
                    " set_config('policyhub.actor_email', %s, false),"
                    " set_config('policyhub.actor', %s, false)",
                    list(values),
                )
        except Exception:
            # A session that might still carry someone's name must not be used again.
            conn.close()
            if actor is not None:
                raise
            continue
        conn._policyhub_actor = (raw, values)


def _connection_opened(sender, connection, **kwargs) -> None:
    actor = _current.get()
    if actor is not None:
        _apply(actor, [connection])


# --- Celery: every task runs as its own system actor ---------------------------------------------

_task_scopes: dict = {}


def _task_started(sender=None, task_id=None, task=None, **kwargs) -> None:
    scope = acting_as(system=f"task:{getattr(task, 'name', sender)}")
    scope.__enter__()
    _task_scopes[task_id] = scope


def _task_finished(sender=None, task_id=None, **kwargs) -> None:
    scope = _task_scopes.pop(task_id, None)
    if scope is not None:
        scope.__exit__(None, None, None)


def connect() -> None:
    """Called from AccountsConfig.ready()."""
    from celery.signals import task_postrun, task_prerun
    from django.db.backends.signals import connection_created

    connection_created.connect(_connection_opened, dispatch_uid="policyhub-actor-connection")
    task_prerun.connect(_task_started, dispatch_uid="policyhub-actor-task-start")
    task_postrun.connect(_task_finished, dispatch_uid="policyhub-actor-task-end")
