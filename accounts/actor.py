"""Who is acting right now, so database-change audit events can name them.

The PostgreSQL triggers (accounts/audit_triggers.py) read three settings: `policyhub.actor_id` and
`policyhub.actor_email` (a person) or `policyhub.actor` (a system actor, e.g.
`system:task:incidents.tasks.sweep_deadlines`). Every statement that may write is sent with them:
policyhub/postgresql/base.py puts `statement_settings()` (`SELECT set_config(..., true)` of the
actor acting now, or of nobody) in front of it, in the same round trip. `true` makes each setting
last until the end of the transaction the statement runs in: in autocommit, the statement's own
(several statements sent at once run as one transaction), so the session never carries a name
into the next request or task; inside `atomic()`, until it ends, and every later write in it sends
its own actor again (a rollback to a savepoint that undid one changes nothing). A page that writes
nothing but its audit row sends no extra statement at all.

On SQLite the signals record row changes (accounts/signals.py); they read `current_actor()`.

Set by AuditMiddleware (each request, after authentication), the Celery task signals below
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
    try:
        yield actor
    finally:
        _current.reset(token)


SETTINGS_SQL = (
    "SELECT set_config('policyhub.actor_id', %s, true),"
    " set_config('policyhub.actor_email', %s, true),"
    " set_config('policyhub.actor', %s, true)"
)


def statement_settings() -> tuple[str, str, str]:
    """The values of the three settings for a statement run now: the current actor's, or empty."""
    actor = _current.get()
    return actor.settings() if actor is not None else NOBODY


@contextmanager
def command_actor(argv):
    """manage.py: the command's changes are recorded as `system:command:NAME`."""
    name = argv[1] if len(argv) > 1 else ""
    if not name or name.startswith("-") or name in SERVER_COMMANDS:
        yield None
        return
    with acting_as(system=f"command:{name}") as actor:
        yield actor


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

    task_prerun.connect(_task_started, dispatch_uid="policyhub-actor-task-start")
    task_postrun.connect(_task_finished, dispatch_uid="policyhub-actor-task-end")
