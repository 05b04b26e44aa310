"""Liveness: one row saying when the beat's deadline sweep last ran, and when a worker last ran the heartbeat.

The sweep runs every minute on a worker, from the beat's schedule, so a recent sweep shows that beat,
broker, worker and database all work; every deadline depends on it. /healthz and `manage.py liveness`
answer from the row:

- "ok": the last sweep finished at most MAX_AGE ago;
- "starting": no sweep yet, and the row (made by the first check or sweep on this database) is at most
  MAX_AGE old: a fresh installation gets five minutes for its first sweep;
- "stale": otherwise. After a restart the row keeps the old sweep time, so a deployment stays "stale"
  until its first sweep (about a minute); docker-compose's start_period covers that.
"""

import datetime as dt

from .models import Liveness

MAX_AGE = dt.timedelta(minutes=5)
HEALTHY = frozenset({"ok", "starting"})
ROW = 1


def _touch(field: str, now: dt.datetime) -> None:
    """One UPDATE of the single row (no new rows); the row is made once, by whoever comes first."""
    if Liveness.objects.filter(pk=ROW).update(**{field: now}) == 0:
        Liveness.objects.get_or_create(pk=ROW)
        Liveness.objects.filter(pk=ROW).update(**{field: now})


def liveness_sweep_recorded(*, now: dt.datetime) -> None:
    _touch("last_sweep_at", now)


def liveness_heartbeat_recorded(*, now: dt.datetime) -> None:
    _touch("last_heartbeat_at", now)


def liveness_state(*, now: dt.datetime, max_age: dt.timedelta = MAX_AGE) -> str:
    """ "ok", "starting" or "stale" (module docstring). Raises DatabaseError if the database does not answer."""
    row, _ = Liveness.objects.get_or_create(pk=ROW)
    if row.last_sweep_at is not None:
        return "ok" if now - row.last_sweep_at <= max_age else "stale"
    return "starting" if now - row.created_at <= max_age else "stale"
