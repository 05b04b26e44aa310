"""The one place the code hands work to Celery: tasks are queued by name, never by importing them.

Services, clocks and notifications call `queue` / `queue_after_commit` with a name below; the task
modules import the services, and nothing imports the task modules back, so there is no import circle
(tests/test_import_cycles.py). A name not listed here is refused, and a test checks that every name
is a registered task, so a typo cannot silently queue nothing.

Publishing fails fast (retry=False; the broker's transport options in settings.py give up within a
second): a request never waits for a broker that is down. The rows the caller committed are the
record, and a beat sweep delivers them later (deadlines: the minute sweep; emails: the outbox sweep;
acknowledgement notices: the reminder beat).

Countdowns: Redis redelivers a task held past its visibility timeout, and a worker holds ETA tasks
in memory, so nothing is ever queued further ahead than MAX_COUNTDOWN (well inside the timeout;
tests/incidents/test_clocks.py checks the margin). Anything later is left to a sweep.
"""

import logging
from datetime import timedelta
from functools import partial

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)

FIRE_DEADLINE = "incidents.tasks.fire_deadline"
SEND_NOTIFICATION = "incidents.tasks.send_notification"
SEND_ACKNOWLEDGEMENT_NOTICES = "policyhub.tasks.send_acknowledgement_notices"
HEARTBEAT = "policyhub.tasks.heartbeat"
TASK_NAMES = frozenset({FIRE_DEADLINE, SEND_NOTIFICATION, SEND_ACKNOWLEDGEMENT_NOTICES, HEARTBEAT})

MAX_COUNTDOWN = timedelta(minutes=5)


def queue(name: str, *, args=(), kwargs=None, countdown: float | None = None) -> bool:
    """Publish task `name` now. False (logged) if the broker is down: a sweep delivers the work later.

    Raises ValueError for a name not listed above or a countdown beyond MAX_COUNTDOWN: those are
    mistakes in the code, not outages.
    """
    if name not in TASK_NAMES:
        raise ValueError(f"{name!r} is not a task of the dispatch module.")
    if countdown is not None and countdown > MAX_COUNTDOWN.total_seconds():
        raise ValueError("Nothing is queued beyond the precision horizon: the sweep delivers it.")
    try:
        current_app.send_task(name, args=list(args), kwargs=kwargs, countdown=countdown, retry=False)
    except Exception:  # the broker is down: the committed rows are the record, a sweep delivers them
        log.warning("Broker unavailable; %s%s left for the sweep", name, tuple(args))
        return False
    return True


def queue_after_commit(name: str, *, args=(), kwargs=None) -> None:
    """Queue task `name` once the current transaction commits (at once outside one); never if it rolls back.

    robust: a callback that fails is logged and does not stop the other after-commit callbacks.
    """
    if name not in TASK_NAMES:
        raise ValueError(f"{name!r} is not a task of the dispatch module.")
    transaction.on_commit(partial(queue, name, args=args, kwargs=kwargs), robust=True)
