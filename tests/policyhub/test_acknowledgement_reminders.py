"""Reminders to acknowledge: content-free, every few days, never twice in one day to the same person."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from policyhub import services, tasks
from policyhub.models import AcknowledgementReminder
from tests.policyhub.policy_data import trust_policy

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


def remind(today, interval=3):
    due = services.acknowledgement_reminders_due(today=today, interval_days=interval)
    return sum(services.acknowledgement_reminder_send(user_id=u, version_id=v, today=today) for u, v in due)


def staff_emails(cast):
    return {"helen@oakfield.example.org", "dina@oakfield.example.org", "sam@oakfield.example.org",
            "olive@brookside.example.org", "bethan@brookside.example.org"}  # fmt: skip


def test_everyone_outstanding_is_reminded_once_with_no_policy_content(cast, django_capture_on_commit_callbacks):
    version = trust_policy(cast)
    services.acknowledgement_record(user=cast.sam, version=version)
    with django_capture_on_commit_callbacks(execute=True):
        sent = remind(DAY)
    assert sent == 4
    assert {m.to[0] for m in mail.outbox} == staff_emails(cast) - {"sam@oakfield.example.org"}
    message = mail.outbox[0]
    assert "/policy/" in message.body
    assert "Clause" not in message.body and "pupils" not in message.body  # no policy text, no names
    assert cast.helen.full_name not in message.body


def test_never_twice_in_one_day_even_when_the_beat_runs_again(cast, django_capture_on_commit_callbacks):
    trust_policy(cast)
    with django_capture_on_commit_callbacks(execute=True):
        first = remind(DAY)
        second = remind(DAY, interval=0)  # even with no interval at all
    assert first == 5 and second == 0 and len(mail.outbox) == 5


def test_two_workers_sending_the_same_reminder_send_it_once(cast, django_capture_on_commit_callbacks):
    version = trust_policy(cast)
    with django_capture_on_commit_callbacks(execute=True):
        results = [
            services.acknowledgement_reminder_send(user_id=cast.sam.pk, version_id=version.pk, today=DAY)
            for _ in range(2)
        ]
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


def test_publish_notice_task_tells_each_outstanding_person_once(cast, django_capture_on_commit_callbacks):
    version = trust_policy(cast)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_acknowledgement_notices(version.pk) == 5
        assert tasks.send_acknowledgement_notices(version.pk) == 0
    assert len(mail.outbox) == 5
