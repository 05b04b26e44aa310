"""Reminders due while PolicyHub was off are skipped (and recorded), not sent all at once on start
with a wrong "due in 240 minutes" text; the deadline itself still fires and escalates."""

from datetime import timedelta

import pytest

from incidents import clocks
from incidents.models import Notification, TimelineEntry, TimelineKind
from tests.incidents.clock_helpers import received, report

pytestmark = pytest.mark.django_db


def test_reminders_whose_moment_passed_while_off_are_skipped_and_recorded(cast):
    incident = report(cast, at=received("2025-11-19 10:30"))
    due = incident.response_due_at
    # The server was off from just after the report until two minutes before the deadline.
    clocks.deadlines_sweep(now=due - timedelta(minutes=2))
    assert not Notification.objects.filter(kind="reminder").exists()
    skipped = TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.REMINDER)
    assert skipped.count() == 2 and all(e.data.get("skipped") for e in skipped)
    assert all(e.internal for e in skipped)  # never shown to the reporter
    assert all("not sent" in e.note for e in skipped)
    # A minute later nothing more is sent; at the deadline the escalation still goes out.
    clocks.deadlines_sweep(now=due - timedelta(minutes=1))
    assert not Notification.objects.filter(kind="reminder").exists()
    clocks.deadlines_sweep(now=due)
    assert Notification.objects.filter(kind="escalation").exists()


def test_a_reminder_on_time_or_slightly_late_is_still_sent(cast):
    incident = report(cast, at=received("2025-11-19 10:30"))
    due = incident.response_due_at
    clocks.deadlines_sweep(now=due - timedelta(minutes=240) + timedelta(minutes=3))
    assert Notification.objects.filter(kind="reminder", recipient=cast.helen).count() == 1
    clocks.deadlines_sweep(now=due - timedelta(minutes=60))
    assert Notification.objects.filter(kind="reminder", recipient=cast.helen).count() == 2
