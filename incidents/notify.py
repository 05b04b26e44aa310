"""Notifications: one row per message and recipient, sent after commit, at least once.

The row's unique `key` makes every effect idempotent: a retried task or a second sweep finds
the row and sends nothing new. Sending locks the row (skip_locked) so two workers never send the
same message at once, and each message carries a fixed Message-ID so a resend after a crash is
recognisably the same email.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .models import Notification

log = logging.getLogger(__name__)


def notify(*, recipient, kind: str, key: str, incident=None, deadline=None) -> Notification | None:
    """Record a message for `recipient` and queue it after commit. Returns None if `key` exists."""
    if incident is not None and incident.subject_id is not None and recipient.pk == incident.subject_id:
        raise ValueError("The subject of a case is never notified about it.")
    notification, created = Notification.objects.get_or_create(
        key=key, defaults={"recipient": recipient, "kind": kind, "incident": incident, "deadline": deadline}
    )
    if not created:
        return None
    transaction.on_commit(lambda: enqueue_send(notification.pk), robust=True)
    return notification


def enqueue_send(notification_id: int) -> None:
    """Hand the message to Celery. If the broker is down the outbox sweep sends it later."""
    from .tasks import send_notification

    try:
        send_notification.apply_async(args=[notification_id], retry=False)
    except Exception:  # the broker is down: the row is the record, the outbox sweep delivers it
        log.warning("Broker unavailable; notification %s left for the outbox sweep", notification_id)


def notification_send(*, notification_id: int) -> bool:
    """Send one notification unless it was sent already. True if this call sent it."""
    from .emails import build

    with transaction.atomic():
        notification = (
            # of=("self",): PostgreSQL cannot lock the nullable side of the joins below.
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "incident", "incident__school", "deadline")
            .filter(pk=notification_id, sent_at__isnull=True)
            .first()
        )
        if notification is None:
            return False  # already sent, or another worker is sending it now
        Notification.objects.filter(pk=notification.pk).update(attempts=notification.attempts + 1)
        subject, body = build(notification)
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.recipient.email],
            headers={"Message-ID": notification.message_id},
        )
        message.send()
        Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now())
    log.info("Sent notification %s (%s)", notification.pk, notification.kind)
    return True


def outbox_pending_ids(*, older_than_seconds: int = 30, limit: int = 500) -> list[int]:
    """Unsent notifications whose after-commit hand-off may have failed (broker down, worker killed)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        Notification.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
