"""The outbox: every email is a Notification row; an attempt is on record even when sending fails,
and the sweep tries again later with the same Message-ID."""

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import clocks, notify, tasks
from incidents.models import Notification
from tests.incidents.clock_helpers import received, report

pytestmark = pytest.mark.django_db

ATTEMPTED: list[str] = []  # Message-IDs the failing server was offered


class RefusingSMTPBackend(BaseEmailBackend):
    """An SMTP server that takes the message and then drops the connection."""

    def send_messages(self, messages):
        ATTEMPTED.extend(m.extra_headers["Message-ID"] for m in messages)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def smtp_down(settings):
    ATTEMPTED.clear()
    settings.EMAIL_BACKEND = f"{__name__}.RefusingSMTPBackend"
    return settings


def _escalation(cast):
    """One unsent message: the escalation of an overdue case (its reminders removed, for clear counts)."""
    incident = report(cast, at=received("2025-11-22 09:00"))
    clocks.deadlines_sweep(now=incident.response_due_at)
    Notification.objects.exclude(kind="escalation").delete()
    return Notification.objects.get(kind="escalation")


def test_a_failed_send_is_recorded_and_leaves_the_message_unsent(cast, smtp_down):
    notification = _escalation(cast)
    assert notify.notification_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert notification.last_attempt_at is not None
    assert notification.sent_at is None
    assert [notification.message_id] == ATTEMPTED


def test_the_sweep_retries_later_with_the_same_message_id(cast, smtp_down, settings):
    notification = _escalation(cast)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert tasks.sweep_outbox() == 0  # the server refuses: recorded, not sent
    assert Notification.objects.get(pk=notification.pk).attempts == 1

    with time_machine.travel(start + timedelta(minutes=1, seconds=30), tick=False):
        assert tasks.sweep_outbox() == 0  # too soon: the sweep waits before trying again
    assert Notification.objects.get(pk=notification.pk).attempts == 1

    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        assert tasks.sweep_outbox() == 0  # still down: a second attempt, recorded
    assert Notification.objects.get(pk=notification.pk).attempts == 2

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert tasks.sweep_outbox() == 1
        assert tasks.sweep_outbox() == 0  # and never again
    notification.refresh_from_db()
    assert notification.attempts == 3 and notification.sent_at is not None
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [notification.message_id]
    assert [notification.message_id] * 2 == ATTEMPTED


def test_one_failing_message_does_not_hold_up_the_rest_of_the_sweep(cast, settings):
    first = _escalation(cast)
    Notification.objects.filter(pk=first.pk).update(kind="no_such_message")  # fails to build
    second = report(cast, at=received("2025-11-22 09:05"))
    clocks.deadlines_sweep(now=second.response_due_at)
    assert Notification.objects.exclude(pk=first.pk).count() >= 1
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        assert tasks.sweep_outbox() >= 1
    assert Notification.objects.get(pk=first.pk).attempts == 1
    assert Notification.objects.get(pk=first.pk).sent_at is None
    assert not Notification.objects.filter(sent_at__isnull=True).exclude(pk=first.pk).exists()


def test_a_message_being_sent_is_not_taken_by_a_second_worker_until_its_lease_runs_out(cast):
    """A worker killed mid-send leaves the row claimed; after the lease the sweep sends it."""
    notification = _escalation(cast)
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        attempts=1, last_attempt_at=now, next_attempt_at=now + notify.SEND_LEASE
    )
    assert notify.notification_send(notification_id=notification.pk) is False
    assert notification.pk not in notify.outbox_pending_ids(older_than_seconds=0)
    with time_machine.travel(now + notify.SEND_LEASE + timedelta(seconds=1), tick=False):
        assert notify.outbox_pending_ids(older_than_seconds=0) == [notification.pk]
        assert notify.notification_send(notification_id=notification.pk) is True
    assert Notification.objects.get(pk=notification.pk).attempts == 2
    assert len(mail.outbox) == 1


def test_retries_back_off_and_are_capped():
    assert [notify.retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]


def test_a_case_message_without_a_case_is_refused_by_the_database(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(key="x", recipient=cast.helen, kind="escalation")
