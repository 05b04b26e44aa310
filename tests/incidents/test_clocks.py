"""Deadline rows: computed from the school's rule, fired once by the sweep, stopped by acknowledgement."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail

from incidents import clocks
from incidents.models import (
    Category,
    CategoryWindow,
    Deadline,
    DeadlineKind,
    DeadlineState,
    Notification,
    ResponsePolicy,
    SchoolClosure,
    TimelineEntry,
    TimelineKind,
)
from incidents.notify import notification_send
from policyhub import dispatch
from tests.dispatch_helpers import published
from tests.incidents.clock_helpers import acknowledge, received, report

pytestmark = pytest.mark.django_db


def _send_all():
    for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        notification_send(notification_id=pk)


def test_saturday_report_is_due_monday_close_of_business_with_reminders(cast):
    incident = report(cast, at=received("2025-11-22 09:00"))
    assert incident.response_due_at == received("2025-11-24 17:00")
    assert incident.response_due_reason.startswith("due Mon 24 Nov 17:00 — received Sat 22 Nov 09:00")
    kinds = list(Deadline.objects.filter(incident=incident).values_list("kind", "due_at"))
    assert kinds == [
        (DeadlineKind.REMINDER, received("2025-11-24 13:00")),
        (DeadlineKind.REMINDER, received("2025-11-24 16:00")),
        (DeadlineKind.RESPONSE, received("2025-11-24 17:00")),
    ]


def test_school_closure_pushes_the_deadline(cast):
    SchoolClosure.objects.create(school=cast.oakfield, date=received("2025-11-24 00:00").date(), label="INSET day")
    incident = report(cast, at=received("2025-11-22 09:00"))
    assert incident.response_due_at == received("2025-11-25 17:00")
    assert "school closure: INSET day" in incident.response_due_reason


def test_a_tighter_category_window_runs_through_the_weekend(cast):
    CategoryWindow.objects.create(
        school=cast.oakfield, category=Category.SAFEGUARDING, window_minutes=60, working_days_only=False
    )
    incident = report(cast, at=received("2025-11-22 09:00"), category=Category.SAFEGUARDING)
    assert incident.response_due_at == received("2025-11-22 10:00")
    # Reminders longer than the window make no sense and are not created.
    assert not Deadline.objects.filter(incident=incident, kind=DeadlineKind.REMINDER).exists()


def test_changing_the_rule_affects_new_deadlines_only(cast):
    before = report(cast, at=received("2025-11-19 10:30"))
    ResponsePolicy.objects.create(school=cast.oakfield, window_hours=12, reminder_minutes=[30])
    after = report(cast, at=received("2025-11-19 10:30"))
    before.refresh_from_db()
    assert before.response_due_at == received("2025-11-20 10:30")
    assert after.response_due_at == received("2025-11-19 22:30")
    assert list(
        Deadline.objects.filter(incident=after, kind=DeadlineKind.REMINDER).values_list("due_at", flat=True)
    ) == [received("2025-11-19 22:00")]


def test_unacknowledged_case_escalates_once_to_chair_and_trust(cast):
    incident = report(cast, at=received("2025-11-22 09:00"))
    due = incident.response_due_at
    assert clocks.deadlines_sweep(now=due - timedelta(seconds=1)) == 2  # the two reminders
    assert clocks.deadlines_sweep(now=due) == 1
    assert clocks.deadlines_sweep(now=due + timedelta(minutes=5)) == 0
    incident.refresh_from_db()
    assert incident.overdue_at == due and incident.escalated_at == due
    kinds = list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))
    assert kinds.count(TimelineKind.OVERDUE) == 1 and kinds.count(TimelineKind.ESCALATED) == 1
    recipients = set(Notification.objects.filter(kind__startswith="escalation").values_list("recipient", "kind"))
    assert recipients == {(cast.carol.pk, "escalation"), (cast.tom.pk, "escalation_trust")}
    _send_all()
    _send_all()
    assert sorted(m.to[0] for m in mail.outbox if "overdue" in m.subject or "missed" in m.subject) == sorted(
        [cast.carol.email, cast.tom.email]
    )


def test_acknowledged_case_never_escalates_even_a_second_before(cast):
    incident = report(cast, at=received("2025-11-22 09:00"))
    due = incident.response_due_at
    acknowledge(incident, by=cast.helen, now=due - timedelta(seconds=1))
    assert clocks.deadlines_sweep(now=due + timedelta(hours=1)) == 0
    states = dict(Deadline.objects.filter(incident=incident).values_list("kind", "state").distinct())
    assert states == {DeadlineKind.RESPONSE: DeadlineState.DONE, DeadlineKind.REMINDER: DeadlineState.CANCELLED}
    assert not Notification.objects.exists()


def test_reminders_go_to_the_owner_and_dsl_before_the_deadline(cast):
    incident = report(cast, at=received("2025-11-19 10:30"), category=Category.SAFEGUARDING)
    type(incident).objects.filter(pk=incident.pk).update(dsl=cast.dina)
    clocks.deadlines_sweep(now=received("2025-11-20 06:30"))
    assert set(Notification.objects.values_list("recipient", "kind")) == {
        (cast.helen.pk, "reminder"),
        (cast.dina.pk, "reminder"),
    }


def test_the_subject_is_never_notified_even_as_chair(cast):
    """Carol the chair is the subject: escalation goes to the trust, not to her."""
    incident = report(cast, at=received("2025-11-22 09:00"), category=Category.STAFF_CONDUCT, subject=cast.carol)
    clocks.deadlines_sweep(now=incident.response_due_at)
    assert not Notification.objects.filter(recipient=cast.carol).exists()
    assert Notification.objects.filter(recipient=cast.tom, kind="escalation_trust").exists()


def test_firing_the_same_deadline_twice_fires_once(cast):
    incident = report(cast, at=received("2025-11-22 09:00"))
    response = Deadline.objects.get(incident=incident, kind=DeadlineKind.RESPONSE)
    now = incident.response_due_at
    assert clocks.deadline_fire(deadline_id=response.pk, now=now) is True
    assert clocks.deadline_fire(deadline_id=response.pk, now=now) is False
    assert Notification.objects.filter(kind="escalation").count() == 1


def test_a_deadline_is_not_fired_early(cast):
    incident = report(cast, at=received("2025-11-22 09:00"))
    response = Deadline.objects.get(incident=incident, kind=DeadlineKind.RESPONSE)
    assert clocks.deadline_fire(deadline_id=response.pk, now=incident.response_due_at - timedelta(seconds=1)) is False


def test_a_restarted_clock_cancels_the_old_generation(cast):
    incident = report(cast, at=received("2025-11-22 09:00"))
    old = Deadline.objects.get(incident=incident, kind=DeadlineKind.RESPONSE)
    clocks.clocks_start_response(incident=incident, now=received("2025-11-22 10:00"))
    new = Deadline.objects.get(incident=incident, kind=DeadlineKind.RESPONSE, state=DeadlineState.PENDING)
    assert (old.generation, new.generation) == (1, 2)
    old.refresh_from_db()
    assert old.state == DeadlineState.CANCELLED
    assert clocks.deadline_fire(deadline_id=old.pk, now=incident.response_due_at) is False


def test_notifications_carry_a_reference_never_content(cast):
    incident = report(cast, at=received("2025-11-22 09:00"), category=Category.STAFF_CONDUCT, subject=cast.dina)
    clocks.deadlines_sweep(now=incident.response_due_at)
    _send_all()
    assert mail.outbox
    for message in mail.outbox:
        text = message.subject + message.body
        assert incident.reference in text
        assert "CANARY" not in text and "photos" not in text
        assert cast.dina.full_name not in text and cast.sam.full_name not in text
        assert message.extra_headers["Message-ID"].startswith("<notification-")


def test_a_sent_notification_is_not_sent_again(cast):
    incident = report(cast, at=received("2025-11-22 09:00"))
    clocks.deadlines_sweep(now=incident.response_due_at)
    pk = Notification.objects.filter(kind="escalation").values_list("pk", flat=True).get()
    assert notification_send(notification_id=pk) is True
    assert notification_send(notification_id=pk) is False
    assert len(mail.outbox) == 1


def test_countdown_tasks_are_never_scheduled_beyond_the_horizon():
    with pytest.raises(ValueError, match="precision horizon"):
        clocks.enqueue_fire(1, clocks.timezone_now() + clocks.PRECISION_HORIZON + timedelta(minutes=1))


def test_the_horizon_is_well_inside_the_broker_visibility_timeout():
    from django.conf import settings

    visibility = settings.REDIS_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert clocks.PRECISION_HORIZON == dispatch.MAX_COUNTDOWN
    assert dispatch.MAX_COUNTDOWN.total_seconds() * 4 <= visibility


def test_a_deadline_due_soon_is_queued_by_name_with_its_countdown(cast):
    incident = report(cast, at=received("2025-11-22 09:00"))
    deadline = Deadline.objects.filter(incident=incident).first()
    due = clocks.timezone_now() + timedelta(seconds=90)
    with published() as sent:
        clocks.enqueue_fire(deadline.pk, due)
    assert [(p.name, p.args) for p in sent] == [("incidents.tasks.fire_deadline", (deadline.pk,))]
    assert 85 < sent[0].countdown <= 90


def test_only_the_dispatch_module_hands_tasks_to_the_broker():
    """Every task is queued by name through policyhub/dispatch.py, where countdowns are capped."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [*root.glob("incidents/**/*.py"), *root.glob("policyhub/**/*.py"), *root.glob("accounts/**/*.py")]:
        rel = path.relative_to(root).as_posix()
        publishes = re.search(r"\.(apply_async|delay|send_task|signature|s)\(", path.read_text())
        if publishes and rel != "policyhub/dispatch.py":
            offenders.append(rel)
    assert offenders == []
