"""Thin Celery tasks: load ids, call a service. The logic lives in clocks.py and notify.py."""

from celery import shared_task
from django.utils import timezone

from policyhub.liveness import liveness_sweep_recorded

from . import clocks, notify


@shared_task(name="incidents.tasks.sweep_deadlines")
def sweep_deadlines() -> int:
    """Beat, every minute. A sweep that finishes is recorded: /healthz fails when none has for 5 minutes."""
    fired = clocks.deadlines_sweep(now=timezone.now())
    liveness_sweep_recorded(now=timezone.now())
    return fired


@shared_task(name="incidents.tasks.fire_deadline")
def fire_deadline(deadline_id: int) -> bool:
    return clocks.deadline_fire(deadline_id=deadline_id, now=timezone.now())


@shared_task(name="incidents.tasks.send_notification")
def send_notification(notification_id: int) -> bool:
    """A failed send is recorded with its retry time on the row; the outbox sweep retries it."""
    return notify.notification_send(notification_id=notification_id)


@shared_task(name="incidents.tasks.sweep_outbox")
def sweep_outbox(older_than_seconds: int = 30) -> int:
    """Send what the after-commit hand-off could not (broker down, worker killed)."""
    pending = notify.outbox_pending_ids(older_than_seconds=older_than_seconds)
    return sum(notify.notification_send(notification_id=pk) for pk in pending)
