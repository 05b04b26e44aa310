"""Reminders to acknowledge: content-free, every few days, never twice in one day to the same person.

They are outbox Notifications like case emails: `deliver` runs the outbox sweep the beat runs every minute.
"""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from incidents import tasks as incident_tasks
from incidents.models import Notification
from policyhub import services, tasks
from policyhub.emails import ACKNOWLEDGEMENT_REMINDER
from policyhub.models import AcknowledgementReminder
from tests.dispatch_helpers import published
from tests.policyhub.policy_data import trust_policy

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


def remind(today, interval=3):
    due = services.acknowledgement_reminders_due(today=today, interval_days=interval)
    return sum(services.acknowledgement_reminder_send(user_id=u, version_id=v, today=today) for u, v in due)


def deliver() -> int:
    """What the outbox sweep sends now (older_than_seconds=0: no need to wait for the hand-off)."""
    return incident_tasks.sweep_outbox(older_than_seconds=0)


def staff_emails(cast):
    return {"helen@oakfield.example.org", "dina@oakfield.example.org", "sam@oakfield.example.org",
            "olive@brookside.example.org", "bethan@brookside.example.org"}  # fmt: skip


def test_everyone_outstanding_is_reminded_once_with_no_policy_content(cast, django_capture_on_commit_callbacks):
    version = trust_policy(cast)
    services.acknowledgement_record(user=cast.sam, version=version)
    with published() as queued, django_capture_on_commit_callbacks(execute=True) as handed_off:
        sent = remind(DAY)
        assert queued == []  # nothing before the commit
    assert sent == 4
    assert len(handed_off) == 4  # each queued for a worker after commit
    notifications = Notification.objects.filter(kind=ACKNOWLEDGEMENT_REMINDER)
    assert sorted((p.name, p.args) for p in queued) == [
        ("incidents.tasks.send_notification", (pk,)) for pk in sorted(notifications.values_list("pk", flat=True))
    ]
    assert deliver() == 4
    assert {m.to[0] for m in mail.outbox} == staff_emails(cast) - {"sam@oakfield.example.org"}
    message = mail.outbox[0]
    assert "/policy/" in message.body
    assert "Clause" not in message.body and "pupils" not in message.body  # no policy text, no names
    assert cast.helen.full_name not in message.body
    assert notifications.count() == 4 and not notifications.filter(incident__isnull=False).exists()
    assert {m.extra_headers["Message-ID"] for m in mail.outbox} == {n.message_id for n in notifications}


def test_never_twice_in_one_day_even_when_the_beat_runs_again(cast):
    trust_policy(cast)
    first = remind(DAY)
    second = remind(DAY, interval=0)  # even with no interval at all
    assert deliver() == 5 and deliver() == 0
    assert first == 5 and second == 0 and len(mail.outbox) == 5


def test_two_workers_sending_the_same_reminder_send_it_once(cast):
    version = trust_policy(cast)
    results = [
        services.acknowledgement_reminder_send(user_id=cast.sam.pk, version_id=version.pk, today=DAY) for _ in range(2)
    ]
    deliver()
    assert results == [True, False] and len(mail.outbox) == 1


def test_the_database_refuses_a_second_reminder_row_for_the_same_day(cast):
    version = trust_policy(cast)
    AcknowledgementReminder.objects.create(user=cast.sam, version=version, sent_on=DAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        AcknowledgementReminder.objects.create(user=cast.sam, version=version, sent_on=DAY)


def test_reminders_repeat_after_the_interval_and_stop_once_acknowledged(cast):
    version = trust_policy(cast)
    assert remind(DAY) == 5
    assert remind(DAY + dt.timedelta(days=1)) == 0
    assert remind(DAY + dt.timedelta(days=2)) == 0
    services.acknowledgement_record(user=cast.sam, version=version)
    assert remind(DAY + dt.timedelta(days=3)) == 4
    assert not AcknowledgementReminder.objects.filter(user=cast.sam, sent_on=DAY + dt.timedelta(days=3)).exists()


def test_a_reminder_for_an_archived_version_is_not_sent(cast):
    version = trust_policy(cast)
    version.__class__.objects.filter(pk=version.pk).update(status="archived")
    assert not services.acknowledgement_reminder_send(user_id=cast.sam.pk, version_id=version.pk, today=DAY)


def test_beat_task_uses_the_configured_interval_and_todays_uk_date(cast, settings):
    trust_policy(cast)
    settings.POLICY_ACK_REMINDER_DAYS = 5
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)):
        assert tasks.send_acknowledgement_reminders() == 5
    with time_machine.travel(dt.datetime(2026, 3, 6, 9, 0, tzinfo=dt.UTC)):
        assert tasks.send_acknowledgement_reminders() == 0
    with time_machine.travel(dt.datetime(2026, 3, 7, 9, 0, tzinfo=dt.UTC)):
        assert tasks.send_acknowledgement_reminders() == 5
    assert set(AcknowledgementReminder.objects.values_list("sent_on", flat=True)) == {
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 7),
    }


def test_publish_notice_task_tells_each_outstanding_person_once(cast):
    version = trust_policy(cast)
    assert tasks.send_acknowledgement_notices(version.pk) == 5
    assert tasks.send_acknowledgement_notices(version.pk) == 0
    assert deliver() == 5
    assert len(mail.outbox) == 5


def test_a_reminder_the_mail_server_refused_is_retried_later_never_queued_twice(cast, settings):
    from tests.incidents.test_outbox import ATTEMPTED

    ATTEMPTED.clear()
    version = trust_policy(cast)
    assert services.acknowledgement_reminder_send(user_id=cast.sam.pk, version_id=version.pk, today=DAY)
    notification = Notification.objects.get(kind=ACKNOWLEDGEMENT_REMINDER)
    start = dt.datetime.now(dt.UTC)

    settings.EMAIL_BACKEND = "tests.incidents.test_outbox.RefusingSMTPBackend"
    with time_machine.travel(start, tick=False):
        assert deliver() == 0
    notification.refresh_from_db()
    assert notification.attempts == 1 and notification.sent_at is None
    # The hourly beat runs again the same day: the reminder is already on record, nothing new is queued.
    assert not services.acknowledgement_reminder_send(user_id=cast.sam.pk, version_id=version.pk, today=DAY)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        assert deliver() == 1
    assert [m.to for m in mail.outbox] == [[cast.sam.email]]
    assert mail.outbox[0].extra_headers["Message-ID"] == ATTEMPTED[0] == notification.message_id
    assert Notification.objects.filter(kind=ACKNOWLEDGEMENT_REMINDER).count() == 1
