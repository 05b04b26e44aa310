import logging

from celery import shared_task
from django.utils.dateparse import parse_datetime

from .models import WorkerHeartbeat

log = logging.getLogger(__name__)


@shared_task(name="policyhub.tasks.heartbeat")
def heartbeat(sent_at: str | None = None, countdown: int = 0) -> None:
    """Record that the worker ran a task; `make run` sends one with a countdown at start-up."""
    from django.utils import timezone

    sent = parse_datetime(sent_at) if sent_at else timezone.now()
    beat = WorkerHeartbeat.objects.create(sent_at=sent, countdown=countdown)
    log.info("Celery heartbeat ran: sent %s, countdown %ss, ran %s", beat.sent_at, countdown, beat.ran_at)
