import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import liveness, review, services
from .models import PolicyVersion

log = logging.getLogger(__name__)


@shared_task(name="policyhub.tasks.heartbeat")
def heartbeat(sent_at: str | None = None, countdown: int = 0) -> None:
    """Record that a worker ran a task (the liveness row); `make run` sends one with a countdown at start-up."""
    ran = timezone.now()
    sent = parse_datetime(sent_at) if sent_at else ran
    liveness.liveness_heartbeat_recorded(now=ran)
    log.info("Celery heartbeat ran: sent %s, countdown %ss, ran %s", sent, countdown, ran)


@shared_task(name="policyhub.tasks.send_acknowledgement_notices")
def send_acknowledgement_notices(version_id: int) -> int:
    """Right after a version is published (or adopted): tell its staff, once, that it needs acknowledging."""
    version = PolicyVersion.objects.filter(pk=version_id).first()
    if version is None:
        return 0
    today = timezone.localdate()
    user_ids = list(services.outstanding_acknowledgements(version).values_list("pk", flat=True))
    return sum(services.acknowledgement_reminder_send(user_id=u, version_id=version_id, today=today) for u in user_ids)


@shared_task(name="policyhub.tasks.send_acknowledgement_reminders")
def send_acknowledgement_reminders() -> int:
    """Beat: remind staff who have not acknowledged the policy in force (every few days, never twice a day)."""
    review.schedule_missing(timezone.now())  # a review date set outside the services gets its clock
    today = timezone.localdate()
    due = services.acknowledgement_reminders_due(today=today, interval_days=settings.POLICY_ACK_REMINDER_DAYS)
    return sum(services.acknowledgement_reminder_send(user_id=u, version_id=v, today=today) for u, v in due)
