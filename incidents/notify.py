"""Notifications: one row per message and recipient, sent after commit, at least once.

The row's unique `key` makes every effect idempotent: a retried task or a second sweep finds
the row and sends nothing new. Sending locks the row (skip_locked) so two workers never send the
same message at once, and each message carries a fixed Message-ID so a resend after a crash is
recognisably the same email.

Every email goes through here: case messages (incidents/emails.py) and policy acknowledgement reminders
(policyhub/emails.py). Each attempt is counted in its own committed transaction before sending, so a
failed send is on record, and the outbox sweep retries it later with a growing delay.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from policyhub import dispatch

from .emails import build
from .models import Notification

log = logging.getLogger(__name__)


def notify(*, recipient, kind: str, key: str, incident=None, deadline=None, target=None) -> Notification | None:
    """Record a message for `recipient` and queue it after commit. Returns None if `key` exists.

    `target` names what a message that is not about a case is about (an official account, a declaration)."""
    if incident is not None and incident.subject_id is not None and recipient.pk == incident.subject_id:
        raise ValueError("The subject of a case is never notified about it.")
    notification, created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "recipient": recipient,
            "kind": kind,
            "incident": incident,
            "deadline": deadline,
            "target": target,
        },
    )
    if not created:
        return None
    # If the broker is down the row is the record and the outbox sweep sends it later.
    dispatch.queue_after_commit(dispatch.SEND_NOTIFICATION, args=[notification.pk])
    return notification


# How long a claimed message belongs to the worker sending it. Far longer than EMAIL_TIMEOUT, so only a
# worker that died mid-send loses its claim; the sweep then sends the message again (same Message-ID).
SEND_LEASE = timezone.timedelta(minutes=10)
RETRY_FIRST = timezone.timedelta(minutes=1)
RETRY_MAX = timezone.timedelta(hours=1)


def retry_delay(attempts: int) -> timezone.timedelta:
    """After the `attempts`-th failure: 1, 2, 4 ... minutes, at most an hour. Retries never stop."""
    return min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)


def _due(now):
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def notification_send(*, notification_id: int) -> bool:
    """Send one notification unless it was sent already, or is being sent, or waits for its retry.

    True if this call sent it. The attempt is committed before the message goes out, so a send that
    fails, or a worker that dies, is on record; a failure sets the time of the next try (the outbox
    sweep makes it) and returns False rather than raising, so one bad message never holds up the rest.
    """
    now = timezone.now()
    with transaction.atomic():
        notification = (
            # of=("self",): PostgreSQL cannot lock the nullable side of the joins below.
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "incident", "incident__school", "deadline")
            .filter(_due(now), pk=notification_id, sent_at__isnull=True)
            .first()
        )
        if notification is None:
            return False  # already sent, being sent by another worker, or waiting for its retry
        notification.attempts += 1
        Notification.objects.filter(pk=notification.pk).update(
            attempts=notification.attempts, last_attempt_at=now, next_attempt_at=now + SEND_LEASE
        )
    # Committed: the claim keeps other workers off this row while it is sent, outside any transaction.
    try:
        subject, body = build(notification)
        EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.recipient.email],
            headers={"Message-ID": notification.message_id},
        ).send()
    except Exception as exc:  # SMTP down, address refused, a message that cannot be built: try again later
        retry_at = timezone.now() + retry_delay(notification.attempts)
        Notification.objects.filter(pk=notification.pk, sent_at__isnull=True).update(next_attempt_at=retry_at)
        # The exception's class only: an SMTP error's text can carry the recipient's address.
        log.warning(
            "Notification %s not sent (attempt %s, %s); next try at %s",
            notification.pk,
            notification.attempts,
            type(exc).__name__,
            retry_at.isoformat(timespec="seconds"),
        )
        return False
    Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now(), next_attempt_at=None)
    log.info("Sent notification %s (%s)", notification.pk, notification.kind)
    return True


def outbox_pending_ids(*, older_than_seconds: int = 30, limit: int = 500) -> list[int]:
    """Unsent notifications to try now: the after-commit hand-off failed (broker down, worker killed), a
    send failed and its retry is due, or the worker sending it died and its lease ran out."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        Notification.objects.filter(_due(timezone.now()), sent_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
